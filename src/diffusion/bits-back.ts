// Bits-back coding with a VDM through its discrete-time chain of T steps (Kingma et al. 2021,
// following the bits-back ANS construction of Townsend et al. 2019). The latents are z_i = z(i/T),
// i = 0 … T; the generative model is p(z_T) = N(0, I), p(z_{i−1} | z_i) = q(z_{i−1} | z_i, x = x̂(z_i)),
// p(x | z_0) the discretised decoder; the inference model is q(z_T | x) q(z_{T−1} | z_T, x) … q(z_0 | z_1, x).
//
// Encoding an image pops z_T, z_{T−1}, …, z_0 from the message under q (taking about −log₂ q bits
// from it), then pushes x under p(x | z_0) and z_0, …, z_{T−1}, z_T under p; the net cost is
// −log₂ p(x, z) + log₂ q(z | x), a one-sample estimate of the discrete-time negative ELBO,
//   L_prior + Σ_i KL(q(z_{i−1} | z_i, x) ‖ p(z_{i−1} | z_i)) + L_recon,
// whose diffusion terms are the ½ (SNR(s) − SNR(t)) ‖x − x̂‖² of the paper's discrete-time loss.
// Decoding runs every step backwards: pop z_T … z_0 under p, pop x, push the latents back under q.
// The first pops run past the bottom of the empty message: those are the initial bits, drawn from a
// fixed generator, counted, and checked when decoding gives them back.
//
// Images are coded in batches of m (one network call per step for the batch); the decoder makes the
// same calls on the same batches, so the network sees identical inputs on both sides.
import { categoricalCdf, gaussianCdf, gridBounds, type LatentGrid, type MeasuredCdf } from '../coding/cdf.js';
import { byteSource, PRECISION_BITS, popSymbol, pushSymbol, RansStack, randomState } from '../coding/rans.js';
import { GenlabError } from '../torch/errors.js';

/** What the coder needs of a VDM: the γ grid, and ε̂ on a batch of latents at a step of the grid. */
export interface ChainModel {
  /** Grey levels K of the data. */
  levels: number;
  /** Dimensions D of one image. */
  dims: number;
  /** γ(i/T) for i = 0 … T, as float32 values. */
  gammas: number[];
  /** ε̂(z, γ_i) for m latents [m·D] (float32 values) at step i ∈ 1 … T. */
  eps(z: Float32Array, m: number, i: number): Float32Array;
}

/**
 * The order of the pops and pushes. 'bbans': the paper's construction, all latents popped top-down
 * under the posteriors q(z_{i−1} | z_i, x) before anything is pushed. 'bitswap' (Kingma, Abbeel and
 * Ho 2019): the latents are popped bottom-up under the forward process q(z_i | z_{i−1}), each pop
 * right after the push it can draw on, so the first image borrows far fewer initial bits; the joint
 * q(z | x) and so the expected rate are the same.
 */
export type ChainOrder = 'bbans' | 'bitswap';
export const CHAIN_ORDERS = ['bbans', 'bitswap'] as const;

/** Which distribution a symbol is coded under (for the accounting of `onSymbol`). */
export type SymbolKind = 'qTop' | 'q' | 'forward' | 'qBottom' | 'prior' | 'p' | 'pixel';

/**
 * One coded symbol: pushed (its cost added) or popped (its bits taken back), with the bits its
 * integer frequency stands for, −log₂(f/M), and what the unquantised density says, −log₂(p(z)·δ)
 * (for latents) or −log₂ P(x) (pixels).
 */
export interface SymbolEvent {
  kind: SymbolKind;
  op: 'push' | 'pop';
  bits: number;
  idealBits: number;
}

export interface BitsBackSettings {
  grid: LatentGrid;
  /** Called for every pop and push, for measurements (slower: two more CDF evaluations each). */
  onSymbol?: (e: SymbolEvent) => void;
  /** Images coded together (one network call per step for all of them). */
  batch: number;
  /** Default 'bbans'. */
  order?: ChainOrder;
}

/**
 * The posteriors q, which encoding only pops and decoding pushes back, are coded on mean ± 8 std
 * (cdf.ts: gaussianCdf's window); the priors p must cover the whole grid, since they code whatever
 * q drew. Part of the format.
 */
export const POSTERIOR_WINDOW = 8;

/** Seed of the generator that supplies the initial bits; part of the format. */
export const INITIAL_BITS_SEED = 0x5eed_b175;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Per step i = 1 … T, the coefficients of q(z_{i−1} | z_i, x) and p(z_{i−1} | z_i), in float64. */
interface Step {
  /** q's mean = qz·z_i + qx·f. */
  qz: number;
  qx: number;
  /** p's mean = pz·(z_i − pe·ε̂). */
  pz: number;
  pe: number;
  /** Shared standard deviation σ_s √c, c = −expm1(γ_s − γ_t). */
  std: number;
  /** The forward process q(z_i | z_{i−1}) = N(fz·z_{i−1}, fstd²): α_{t|s} and σ_t √c. */
  fz: number;
  fstd: number;
}

function chainSteps(g: number[]): Step[] {
  const steps: Step[] = [];
  for (let i = 1; i < g.length; i++) {
    const gt = g[i];
    const gs = g[i - 1];
    const a2t = sigmoid(-gt);
    const a2s = sigmoid(-gs);
    const s2t = sigmoid(gt);
    const s2s = sigmoid(gs);
    const c = -Math.expm1(gs - gt);
    steps.push({
      qz: Math.sqrt(a2t / a2s) * (s2s / s2t),
      qx: Math.sqrt(a2s) * c,
      pz: Math.sqrt(a2s / a2t),
      pe: Math.sqrt(s2t) * c,
      std: Math.sqrt(s2s * c),
      fz: Math.sqrt(a2t / a2s),
      fstd: Math.sqrt(s2t * c),
    });
  }
  return steps;
}

/** Centre of level k of K in (−1, 1): 2(k + ½)/K − 1 (as the VDM's encoding of discrete data). */
function centre(k: number, K: number): number {
  return (2 * (k + 0.5)) / K - 1;
}

/** p(x | z_0) of one pixel: logits −½((z_0/α_0 − c_k) e^{−γ_0/2})² over the K levels. */
function pixelLogits(z0: number, alpha0: number, invStd: number, K: number, out: Float64Array): Float64Array {
  const zr = z0 / alpha0;
  for (let k = 0; k < K; k++) {
    const d = (zr - centre(k, K)) * invStd;
    out[k] = -0.5 * d * d;
  }
  return out;
}

class Chain {
  readonly steps: Step[];
  readonly T: number;
  readonly D: number;
  readonly K: number;
  readonly alpha1: number;
  readonly sigma1: number;
  readonly alpha0: number;
  readonly sigma0: number;
  readonly invStd0: number;
  readonly delta: number;
  private readonly logits: Float64Array;
  /**
   * Σ −log p over pushes minus Σ −log q over pops, in nats, with the unquantised densities (times
   * the bucket width): the chain sample's own negative ELBO, which the coded length should match.
   */
  ideal = 0;

  private pop(stack: RansStack, cdf: MeasuredCdf, kind: SymbolKind): number {
    const k = popSymbol(stack, cdf);
    this.ideal += cdf.logMass(k);
    this.settings.onSymbol?.(symbolEvent(kind, 'pop', cdf, k));
    return k;
  }

  private push(stack: RansStack, cdf: MeasuredCdf, k: number, kind: SymbolKind): void {
    pushSymbol(stack, cdf, k);
    this.ideal -= cdf.logMass(k);
    this.settings.onSymbol?.(symbolEvent(kind, 'push', cdf, k));
  }

  constructor(
    readonly model: ChainModel,
    readonly settings: BitsBackSettings,
  ) {
    const g = model.gammas;
    this.T = g.length - 1;
    if (this.T < 1) throw new Error('bits-back: need at least one step');
    this.steps = chainSteps(g);
    this.D = model.dims;
    this.K = model.levels;
    this.alpha1 = Math.sqrt(sigmoid(-g[this.T]));
    this.sigma1 = Math.sqrt(sigmoid(g[this.T]));
    this.alpha0 = Math.sqrt(sigmoid(-g[0]));
    this.sigma0 = Math.sqrt(sigmoid(g[0]));
    this.invStd0 = Math.exp(-g[0] / 2);
    this.delta = gridBounds(settings.grid).delta;
    this.logits = new Float64Array(this.K);
  }

  /** Latent buckets as the float32 network input z = k·δ (exact: |k| < 2²⁴, δ a power of 2). */
  private values(z: Int32Array): Float32Array {
    const out = new Float32Array(z.length);
    for (let j = 0; j < z.length; j++) out[j] = z[j] * this.delta;
    return out;
  }

  private qTop(f: number) {
    return gaussianCdf(this.alpha1 * f, this.sigma1, this.settings.grid, POSTERIOR_WINDOW);
  }

  private q(i: number, zi: number, f: number) {
    const s = this.steps[i - 1];
    return gaussianCdf(s.qz * zi * this.delta + s.qx * f, s.std, this.settings.grid, POSTERIOR_WINDOW);
  }

  private p(i: number, zi: number, eps: number) {
    const s = this.steps[i - 1];
    return gaussianCdf(s.pz * (zi * this.delta - s.pe * eps), s.std, this.settings.grid);
  }

  private forward(i: number, zs: number) {
    const s = this.steps[i - 1];
    return gaussianCdf(s.fz * zs * this.delta, s.fstd, this.settings.grid, POSTERIOR_WINDOW);
  }

  private qBottom(f: number) {
    return gaussianCdf(this.alpha0 * f, this.sigma0, this.settings.grid, POSTERIOR_WINDOW);
  }

  private pixel(z0: number) {
    return categoricalCdf(pixelLogits(z0 * this.delta, this.alpha0, this.invStd0, this.K, this.logits));
  }

  /** Codes images [m·D] (levels) onto the stack. */
  encode(stack: RansStack, x: Uint8Array, m: number): void {
    const { T, D, K } = this;
    const n = m * D;
    const f = new Float64Array(n);
    for (let j = 0; j < n; j++) f[j] = centre(x[j], K);
    const z: Int32Array[] = Array.from({ length: T + 1 }, () => new Int32Array(n));
    // Pop the latents under q, from the top of the chain down.
    for (let j = 0; j < n; j++) z[T][j] = this.pop(stack, this.qTop(f[j]), 'qTop');
    for (let i = T; i >= 1; i--)
      for (let j = 0; j < n; j++) z[i - 1][j] = this.pop(stack, this.q(i, z[i][j], f[j]), 'q');
    // Push the data and the latents under p, in the reverse of the order the decoder pops them.
    for (let j = n - 1; j >= 0; j--) this.push(stack, this.pixel(z[0][j]), x[j], 'pixel');
    for (let i = 1; i <= T; i++) {
      const eps = this.model.eps(this.values(z[i]), m, i);
      for (let j = n - 1; j >= 0; j--) this.push(stack, this.p(i, z[i][j], eps[j]), z[i - 1][j], 'p');
    }
    const prior = gaussianCdf(0, 1, this.settings.grid);
    for (let j = n - 1; j >= 0; j--) this.push(stack, prior, z[T][j], 'prior');
  }

  /** Bit-Swap order: pop z_0 | x, push x; then for each step pop z_i | z_{i−1}, push z_{i−1} | z_i. */
  encodeBitSwap(stack: RansStack, x: Uint8Array, m: number): void {
    const { T, D, K } = this;
    const n = m * D;
    let zs = new Int32Array(n);
    for (let j = 0; j < n; j++) zs[j] = this.pop(stack, this.qBottom(centre(x[j], K)), 'qBottom');
    for (let j = n - 1; j >= 0; j--) this.push(stack, this.pixel(zs[j]), x[j], 'pixel');
    for (let i = 1; i <= T; i++) {
      const zt = new Int32Array(n);
      for (let j = 0; j < n; j++) zt[j] = this.pop(stack, this.forward(i, zs[j]), 'forward');
      const eps = this.model.eps(this.values(zt), m, i);
      for (let j = n - 1; j >= 0; j--) this.push(stack, this.p(i, zt[j], eps[j]), zs[j], 'p');
      zs = zt;
    }
    const prior = gaussianCdf(0, 1, this.settings.grid);
    for (let j = n - 1; j >= 0; j--) this.push(stack, prior, zs[j], 'prior');
  }

  /** Undoes encodeBitSwap, step by step in reverse. */
  decodeBitSwap(stack: RansStack, m: number): Uint8Array {
    const { T, D, K } = this;
    const n = m * D;
    const prior = gaussianCdf(0, 1, this.settings.grid);
    let zt = new Int32Array(n);
    for (let j = 0; j < n; j++) zt[j] = this.pop(stack, prior, 'prior');
    for (let i = T; i >= 1; i--) {
      const eps = this.model.eps(this.values(zt), m, i);
      const zs = new Int32Array(n);
      for (let j = 0; j < n; j++) zs[j] = this.pop(stack, this.p(i, zt[j], eps[j]), 'p');
      for (let j = n - 1; j >= 0; j--) this.push(stack, this.forward(i, zs[j]), zt[j], 'forward');
      zt = zs;
    }
    const x = new Uint8Array(n);
    for (let j = 0; j < n; j++) x[j] = this.pop(stack, this.pixel(zt[j]), 'pixel');
    for (let j = n - 1; j >= 0; j--) this.push(stack, this.qBottom(centre(x[j], K)), zt[j], 'qBottom');
    return x;
  }

  /** Decodes m images (levels [m·D]) from the stack, giving back the bits their latents took. */
  decode(stack: RansStack, m: number): Uint8Array {
    const { T, D } = this;
    const n = m * D;
    const z: Int32Array[] = Array.from({ length: T + 1 }, () => new Int32Array(n));
    const prior = gaussianCdf(0, 1, this.settings.grid);
    for (let j = 0; j < n; j++) z[T][j] = this.pop(stack, prior, 'prior');
    for (let i = T; i >= 1; i--) {
      const eps = this.model.eps(this.values(z[i]), m, i);
      for (let j = 0; j < n; j++) z[i - 1][j] = this.pop(stack, this.p(i, z[i][j], eps[j]), 'p');
    }
    const x = new Uint8Array(n);
    for (let j = 0; j < n; j++) x[j] = this.pop(stack, this.pixel(z[0][j]), 'pixel');
    const f = new Float64Array(n);
    for (let j = 0; j < n; j++) f[j] = centre(x[j], this.K);
    for (let i = 1; i <= T; i++)
      for (let j = n - 1; j >= 0; j--) this.push(stack, this.q(i, z[i][j], f[j]), z[i - 1][j], 'q');
    for (let j = n - 1; j >= 0; j--) this.push(stack, this.qTop(f[j]), z[T][j], 'qTop');
    return x;
  }
}

function symbolEvent(kind: SymbolKind, op: 'push' | 'pop', cdf: MeasuredCdf, k: number): SymbolEvent {
  const f = cdf.start(k + 1) - cdf.start(k);
  return { kind, op, bits: PRECISION_BITS - Math.log2(f), idealBits: -cdf.logMass(k) / Math.LN2 };
}

/** The batches [start, end) that N images are coded in; encoder and decoder use the same ones. */
export function batches(count: number, batch: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < count; s += batch) out.push([s, Math.min(count, s + batch)]);
  return out;
}

export interface EncodeResult {
  /** The message: the rANS stack's bytes and state. */
  payload: Uint8Array;
  /** Bits the first pops borrowed: the random starting state and the bytes taken past the bottom. */
  initialBits: number;
  /** Information in the final message, in bits (8·bytes + log₂ state). */
  messageBits: number;
  /** messageBits − initialBits: what the images cost. */
  netBits: number;
  /** Net bits after each batch (cumulative). */
  netAfterBatch: number[];
  /**
   * The chain sample's negative ELBO after each batch (cumulative, bits): −log₂ p(x, z) + log₂ q(z | x)
   * with the unquantised densities at the coded latents. netAfterBatch minus this is what the coding
   * itself adds (latent grid, integer frequencies, rANS).
   */
  sampleAfterBatch: number[];
}

/**
 * Codes N images of D levels each (x: levels [N·D], values < K) into one message. `onImages` is
 * called after each batch with the number of images done.
 */
export function encodeBitsBack(
  model: ChainModel,
  x: Uint8Array,
  count: number,
  settings: BitsBackSettings,
  onImages?: (done: number) => void,
): EncodeResult {
  const chain = new Chain(model, settings);
  const D = model.dims;
  if (x.length !== count * D) throw new Error(`bits-back: ${x.length} levels for ${count} images of ${D}`);
  const source = byteSource(INITIAL_BITS_SEED);
  const x0 = randomState(source);
  const stack = new RansStack({ state: x0, source });
  const netAfterBatch: number[] = [];
  const sampleAfterBatch: number[] = [];
  const initial = () => Math.log2(x0) + 8 * stack.borrowed;
  for (const [s, e] of batches(count, settings.batch)) {
    if (settings.order === 'bitswap') chain.encodeBitSwap(stack, x.subarray(s * D, e * D), e - s);
    else chain.encode(stack, x.subarray(s * D, e * D), e - s);
    netAfterBatch.push(stack.bits - initial());
    sampleAfterBatch.push(chain.ideal / Math.LN2);
    onImages?.(e);
  }
  const initialBits = initial();
  return {
    payload: stack.toBytes(),
    initialBits,
    messageBits: stack.bits,
    netBits: stack.bits - initialBits,
    netAfterBatch,
    sampleAfterBatch,
  };
}

/**
 * Decodes N images from a message made by encodeBitsBack with the same model and settings, and
 * checks that the initial bits come back exactly (a wrong model or a damaged message fails here at
 * the latest).
 */
export function decodeBitsBack(
  model: ChainModel,
  payload: Uint8Array,
  count: number,
  settings: BitsBackSettings,
  onImages?: (done: number) => void,
): Uint8Array {
  const chain = new Chain(model, settings);
  const D = model.dims;
  const stack = RansStack.fromBytes(payload);
  const out = new Uint8Array(count * D);
  const all = batches(count, settings.batch);
  let done = 0;
  for (let b = all.length - 1; b >= 0; b--) {
    const [s, e] = all[b];
    try {
      out.set(settings.order === 'bitswap' ? chain.decodeBitSwap(stack, e - s) : chain.decode(stack, e - s), s * D);
    } catch (err) {
      if (err instanceof GenlabError) throw err;
      // A latent outside its posterior's window, or a slot outside every interval: not this message.
      throw new GenlabError(
        'data',
        `the message does not decode (${(err as Error).message}): the file is damaged or was made by another model or machine`,
      );
    }
    done += e - s;
    onImages?.(done);
  }
  // What is left must be the initial bits: the generator's state and the bytes it lent.
  const source = byteSource(INITIAL_BITS_SEED);
  const x0 = randomState(source);
  const lent = stack.remaining();
  let ok = stack.state === x0;
  for (let i = lent.length - 1; ok && i >= 0; i--) ok = lent[i] === source();
  if (!ok) {
    throw new GenlabError(
      'data',
      'the decoded message does not end in its initial bits: the file is damaged or was made by another model or machine',
    );
  }
  return out;
}
