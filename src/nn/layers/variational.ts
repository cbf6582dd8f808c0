// Variational layers (Kingma, Salimans & Welling 2015; Molchanov, Ashukha & Vetrov 2017): weights
// with a fully factorised Gaussian posterior q(w) = N(θ, σ²) trained through the local
// reparameterisation trick (LRT), Gaussian dropout with a learned rate α in its types A and B,
// the two approximations of KL(q‖p) under the log-uniform prior, and pruning by log α.
import { noGrad } from '../../torch/autograd.js';
import { full, ones, randn, randnLike } from '../../torch/creation.js';
import { GenlabError } from '../../torch/errors.js';
import { addcmul } from '../../torch/generated/ops.js';
import type { Generator } from '../../torch/random.js';
import type { Tensor } from '../../torch/tensor.js';
import * as F from '../functional.js';
import * as init from '../init.js';
import { Module } from '../module.js';
import { Parameter } from '../parameter.js';
import { type FactoryOptions, newParameter, pair } from './common.js';
import { uniformBias } from './linear.js';

/** Which approximation of KL(q(w)‖p(w)) under the log-uniform prior a layer uses. */
export type KlApproximation = 'kingma2015' | 'molchanov2017';

/** Kingma et al. 2015, eq. (10)'s fit: −KL ≈ const + ½ log α + c1·α + c2·α² + c3·α³, for α ≤ 1. */
export const KINGMA2015_C = [1.16145124, -1.50204118, 0.58629921] as const;
/** Molchanov et al. 2017, eq. (14)'s fit: −KL ≈ k1·σ(k2 + k3·log α) − ½ log(1 + 1/α) − k1. */
export const MOLCHANOV2017_K = [0.63576, 1.8732, 1.48695] as const;

/**
 * KL per weight by Kingma et al.'s polynomial, without its constant (the prior is improper, so the
 * KL is defined up to one): −(½ log α + c1·α + c2·α² + c3·α³). Valid for log α ≤ 0.
 */
export function klKingma2015(logAlpha: Tensor): Tensor {
  const [c1, c2, c3] = KINGMA2015_C;
  const a = logAlpha.exp();
  // Horner: c1·α + c2·α² + c3·α³ = α·(c1 + α·(c2 + α·c3)).
  const poly = a.mul(a.mul(a.mul(c3).add(c2)).add(c1));
  return logAlpha.mul(0.5).add(poly).neg();
}

/**
 * KL per weight by Molchanov et al.'s sigmoid fit, which holds for every α and tends to 0 as
 * α → ∞: k1 − k1·σ(k2 + k3·log α) + ½·log(1 + 1/α), with log(1 + 1/α) = softplus(−log α).
 */
export function klMolchanov2017(logAlpha: Tensor): Tensor {
  const [k1, k2, k3] = MOLCHANOV2017_K;
  // Six ops (it runs every step on every weight): k1·(1 − σ(u)) = k1·σ(−u), and ½·softplus(−log α)
  // = −½·s with s = softplus(log α; β = −1) = −log(1 + 1/α).
  const a = pipe(
    logAlpha.mul(-k3),
    (u) => u.add(-k2),
    (u) => u.sigmoid(),
    (sig) => sig.mul(k1),
  );
  return pipe(F.softplus(logAlpha, { beta: -1 }), (s) => pipe(a, (t) => t.sub(s, { alpha: 0.5 })));
}

/**
 * Applies fs in turn to a temporary, freeing each intermediate's handle as soon as the next op has
 * used it: autograd still holds what backward needs, and the rest goes back to the allocator at
 * once, so the next weight-sized temporary reuses memory that is still in cache (a scope would free
 * them only when it ends). The first tensor must be the caller's own temporary.
 */
function pipe(first: Tensor, ...fs: ((t: Tensor) => Tensor)[]): Tensor {
  let t = first;
  for (const f of fs) {
    const next = f(t);
    t.dispose();
    t = next;
  }
  return t;
}

/** How a training forward pass draws its noise (an evaluation pass uses the posterior mean). */
export type WeightSampling = 'lrt' | 'batch' | 'example';

export interface VariationalOptions extends FactoryOptions {
  bias?: boolean;
  /** The KL approximation, and with it the range of log α: [−8, 8] for 2017, [−8, 0] for 2015. */
  kl?: KlApproximation;
  /** Initial log σ² of every weight (Molchanov et al. start at −10). */
  logSigma2Init?: number;
  /** Initial log α of every weight instead (log σ² = log α + log θ²), as Gaussian dropout starts. */
  logAlphaInit?: number;
  /**
   * 'lrt' samples pre-activations (the local reparameterisation trick), 'batch' one weight matrix per
   * minibatch, 'example' one per example; the last two exist to measure gradient variance.
   */
  sampling?: WeightSampling;
  /** Source of the training noise; the global generator when omitted. */
  generator?: Generator;
}

const LOG_ALPHA_MIN = -8;
const LOG_ALPHA_MAX: Record<KlApproximation, number> = { molchanov2017: 8, kingma2015: 0 };
const KLS: KlApproximation[] = ['kingma2015', 'molchanov2017'];
const SAMPLINGS: WeightSampling[] = ['lrt', 'batch', 'example'];

function checkChoice<T extends string>(what: string, value: T, allowed: T[]): T {
  if (!allowed.includes(value)) {
    throw new GenlabError('usage', `${what} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got '${value}'`);
  }
  return value;
}

/**
 * The common part of VariationalLinear and VariationalConv2d: parameters `weight` (θ), `log_sigma2`
 * and `bias`, and a persistent buffer `weight_mask` (ones until pruned).
 */
export abstract class VariationalLayer extends Module<[Tensor], Tensor> {
  readonly weight: Parameter;
  readonly logSigma2: Parameter;
  readonly bias: Parameter | null;
  readonly weightMask: Tensor;
  readonly kl: KlApproximation;
  sampling: WeightSampling;
  readonly generator: Generator | undefined;

  constructor(shape: number[], outFeatures: number, opts: VariationalOptions) {
    super();
    this.kl = checkChoice('kl', opts.kl ?? 'molchanov2017', KLS);
    this.sampling = checkChoice('sampling', opts.sampling ?? 'lrt', SAMPLINGS);
    this.generator = opts.generator;
    const logSigma2Init = opts.logSigma2Init ?? -10;
    if (!Number.isFinite(logSigma2Init)) {
      throw new GenlabError('usage', `logSigma2Init must be a finite number, got ${logSigma2Init}`);
    }
    this.weight = this.registerParameter('weight', newParameter(shape, opts));
    this.logSigma2 = this.registerParameter(
      'log_sigma2',
      Parameter.adopt(full(shape, logSigma2Init, { dtype: opts.dtype, device: opts.device })),
    );
    this.bias = this.registerParameter('bias', opts.bias === false ? null : newParameter([outFeatures], opts));
    this.weightMask = this.registerBuffer('weight_mask', ones(shape, { dtype: opts.dtype, device: opts.device }));
    init.kaimingUniform_(this.weight, { a: Math.sqrt(5), generator: opts.generator });
    if (this.bias) uniformBias(this.bias, this.weight, opts);
    const logAlphaInit = opts.logAlphaInit;
    if (logAlphaInit !== undefined) {
      if (!Number.isFinite(logAlphaInit)) {
        throw new GenlabError('usage', `logAlphaInit must be a finite number, got ${logAlphaInit}`);
      }
      noGrad(() => this.logSigma2.copy_(this.weight.square().add(1e-8).log().add(logAlphaInit)));
    }
  }

  /** log α = log σ² − log θ², clipped to the approximation's range. */
  logAlpha(): Tensor {
    return this.logAlphaOf(this.weight.square());
  }

  /** logAlpha from θ², which the LRT needs as well. */
  private logAlphaOf(weight2: Tensor): Tensor {
    return pipe(
      weight2.add(1e-8),
      (t) => t.log(),
      (t) => this.logSigma2.sub(t),
      (t) => t.clamp(LOG_ALPHA_MIN, LOG_ALPHA_MAX[this.kl]),
    );
  }

  /** The posterior variance σ² = α·θ², with α clipped as in logAlpha. */
  variance(): Tensor {
    return pipe(this.weight.square(), (weight2) =>
      pipe(
        this.logAlphaOf(weight2),
        (la) => la.exp(),
        (a) => a.mul(weight2),
      ),
    );
  }

  /** KL(q‖p) summed over the layer's unpruned weights. */
  klDivergence(): Tensor {
    return pipe(
      this.logAlpha(),
      (la) => (this.kl === 'kingma2015' ? klKingma2015(la) : klMolchanov2017(la)),
      (kl) => kl.mul(this.weightMask),
      (kl) => kl.sum(),
    );
  }

  /** The posterior-mean weights with pruned ones set to zero: what evaluation uses. */
  meanWeight(): Tensor {
    return this.weight.mul(this.weightMask);
  }

  /** Prunes every weight with log α ≥ threshold (they stay zero from now on); returns its report. */
  prune(threshold = 3): SparsityRow {
    checkThreshold(threshold);
    noGrad(() => {
      const keep = this.logAlpha().lt(threshold).to(this.weightMask.dtype);
      this.weightMask.mul_(keep);
    });
    return this.sparsity(threshold);
  }

  /** What pruning at `threshold` keeps (already-pruned weights count as pruned). */
  sparsity(threshold = 3): SparsityRow {
    checkThreshold(threshold);
    const kept = noGrad(() =>
      this.logAlpha().lt(threshold).to(this.weightMask.dtype).mul(this.weightMask).sum().item(),
    );
    const weights = this.weight.numel();
    return {
      layer: '',
      weights,
      kept,
      sparsity: 1 - kept / weights,
      compression: kept === 0 ? Number.POSITIVE_INFINITY : weights / kept,
    };
  }

  /** Standard normal noise shaped like `like`, drawn from the layer's generator. */
  protected noise(like: Tensor): Tensor {
    return randnLike(like, { generator: this.generator });
  }

  /** Mean and variance of the pre-activations under q, from the layer's linear map. */
  protected lrt(x: Tensor, map: (input: Tensor, weight: Tensor, bias: Tensor | null) => Tensor): Tensor {
    // Every temporary is freed as soon as it is used (see pipe).
    const mean = pipe(this.meanWeight(), (w) => map(x, w, this.bias));
    const std = pipe(
      this.variance(),
      (v) => v.mul(this.weightMask),
      (v) => pipe(x.square(), (x2) => map(x2, v, null)),
      (v) => v.add(1e-8),
      (v) => v.sqrt(),
    );
    return pipe(this.noise(mean), (eps) => pipe(std, (s) => pipe(mean, (m) => addcmul(m, s, eps))));
  }

  /** One weight draw θ + σ·ε (masked). */
  protected sampleWeight(shape: number[]): Tensor {
    const eps = randn(shape, { dtype: this.weight.dtype, device: this.weight.device, generator: this.generator });
    return this.weight.add(this.variance().sqrt().mul(eps)).mul(this.weightMask);
  }
}

function checkThreshold(threshold: number): void {
  if (!Number.isFinite(threshold)) throw new GenlabError('usage', `prune threshold must be finite, got ${threshold}`);
}

/** y = x·Wᵀ + b with W ~ N(θ, σ²) per weight; at evaluation W = θ (masked). */
export class VariationalLinear extends VariationalLayer {
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: VariationalOptions = {},
  ) {
    super([outFeatures, inFeatures], outFeatures, opts);
  }

  forward(x: Tensor): Tensor {
    const linear = (input: Tensor, weight: Tensor, bias: Tensor | null) => F.linear(input, weight, { bias });
    if (!this.training) return linear(x, this.meanWeight(), this.bias);
    if (this.sampling === 'lrt') return this.lrt(x, linear);
    if (this.sampling === 'batch') return linear(x, this.sampleWeight(this.weight.shape), this.bias);
    if (x.ndim !== 2) throw new GenlabError('usage', `sampling 'example' needs [N, features] input, got [${x.shape}]`);
    // One weight matrix per example: [N, 1, in] @ [N, in, out].
    const w = this.sampleWeight([x.shape[0], ...this.weight.shape]);
    const y = x.unsqueeze(1).bmm(w.transpose(1, 2)).squeeze(1);
    return this.bias ? y.add(this.bias) : y;
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, kl='${this.kl}', sampling='${this.sampling}'`;
  }
}

export interface VariationalConv2dOptions extends VariationalOptions {
  stride?: number | number[];
  padding?: number | number[];
  dilation?: number | number[];
}

/** Conv2d (groups 1, zero padding) with W ~ N(θ, σ²) per weight; the LRT uses conv(x², σ²). */
export class VariationalConv2d extends VariationalLayer {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: number | number[],
    opts: VariationalConv2dOptions = {},
  ) {
    const k = pair(kernelSize);
    super([outChannels, inChannels, k[0], k[1]], outChannels, opts);
    this.kernelSize = k;
    this.stride = pair(opts.stride ?? 1);
    this.padding = pair(opts.padding ?? 0);
    this.dilation = pair(opts.dilation ?? 1);
  }

  private conv(x: Tensor, weight: Tensor, bias: Tensor | null, groups = 1): Tensor {
    return F.conv2d(x, weight, { bias, stride: this.stride, padding: this.padding, dilation: this.dilation, groups });
  }

  forward(x: Tensor): Tensor {
    const conv = (input: Tensor, weight: Tensor, bias: Tensor | null) => this.conv(input, weight, bias);
    if (!this.training) return conv(x, this.meanWeight(), this.bias);
    if (this.sampling === 'lrt') return this.lrt(x, conv);
    if (this.sampling === 'batch') return conv(x, this.sampleWeight(this.weight.shape), this.bias);
    // One kernel per example, as a grouped convolution of the batch folded into channels.
    const [n, c, h, w] = x.shape;
    const kernels = this.sampleWeight([n, ...this.weight.shape]).flatten(0, 1);
    const y = this.conv(x.reshape([1, n * c, h, w]), kernels, null, n);
    const out = y.reshape([n, this.outChannels, y.shape[2], y.shape[3]]);
    return this.bias ? out.add(this.bias.view([1, -1, 1, 1])) : out;
  }

  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernelSize=[${this.kernelSize}], stride=[${this.stride}], kl='${this.kl}'`;
  }
}

export interface GaussianDropoutOptions extends FactoryOptions {
  /** 'A': multiplicative noise on the inputs; 'B': independent noise on each weight, sampled by the LRT. */
  type?: 'A' | 'B';
  /** Initial dropout rate α ∈ (0, 1] (α = p/(1 − p) matches Bernoulli dropout at rate p). */
  alpha?: number;
  /** One α per input unit (input feature, or input channel of a convolution; true) or one for the layer. */
  perUnit?: boolean;
  bias?: boolean;
  generator?: Generator;
}

/**
 * Gaussian dropout whose rate α is learned (variational dropout, Kingma et al. 2015 §3.3), with the
 * 2015 KL fit (so α stays ≤ 1), over a linear map (`map`: a Linear's or a Conv2d's). Type A puts
 * ξ ~ N(1, α) on each input element of each example, the weights that read it sharing its noise;
 * type B gives every weight its own noise (σ² = α·θ²) and samples the pre-activations by the LRT,
 * with mean map(x, θ) + b and variance map(α·x², θ²). Evaluation uses θ.
 */
export abstract class GaussianDropoutLayer extends Module<[Tensor], Tensor> {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly logAlphaParam: Parameter;
  readonly type: 'A' | 'B';
  readonly generator: Generator | undefined;
  /** How α of the input units lines up with an input: [−1] for features, [−1, 1, 1] for channels. */
  protected abstract readonly unitView: number[];

  /** `shape` is the weight's, with the input units along dimension 1. */
  constructor(shape: number[], opts: GaussianDropoutOptions) {
    super();
    this.type = checkChoice('type', opts.type ?? 'B', ['A', 'B']);
    const alpha = opts.alpha ?? 0.5;
    if (!(alpha > 0 && alpha <= 1)) {
      throw new GenlabError(
        'usage',
        `Gaussian dropout: alpha must be in (0, 1], got ${alpha}`,
        "the 2015 KL approximation holds for α ≤ 1; use a variational layer (kl 'molchanov2017') for larger α",
      );
    }
    this.generator = opts.generator;
    this.weight = this.registerParameter('weight', newParameter(shape, opts));
    this.bias = this.registerParameter('bias', opts.bias === false ? null : newParameter([shape[0]], opts));
    this.logAlphaParam = this.registerParameter(
      'log_alpha',
      Parameter.adopt(
        full(opts.perUnit === false ? [1] : [shape[1]], Math.log(alpha), { dtype: opts.dtype, device: opts.device }),
      ),
    );
    init.kaimingUniform_(this.weight, { a: Math.sqrt(5), generator: opts.generator });
    if (this.bias) uniformBias(this.bias, this.weight, opts);
  }

  /** The layer's linear map. */
  protected abstract map(input: Tensor, weight: Tensor, bias: Tensor | null): Tensor;

  /** log α, kept ≤ 0 (α ≤ 1) where the 2015 approximation holds. */
  logAlpha(): Tensor {
    return this.logAlphaParam.clamp(LOG_ALPHA_MIN, 0);
  }

  /** KL summed over the weights: each weight carries its input unit's α. */
  klDivergence(): Tensor {
    const perUnit = klKingma2015(this.logAlpha());
    return perUnit.sum().mul(this.weight.numel() / this.logAlphaParam.numel());
  }

  forward(x: Tensor): Tensor {
    if (!this.training) return this.map(x, this.weight, this.bias);
    const logAlpha = this.logAlpha();
    const view = logAlpha.numel() === 1 ? logAlpha : logAlpha.view(this.unitView);
    if (this.type === 'A') {
      // x·ξ = x + x·(√α·ε).
      const noise = randnLike(x, { generator: this.generator }).mul(view.mul(0.5).exp());
      return this.map(addcmul(x, x, noise), this.weight, this.bias);
    }
    const mean = this.map(x, this.weight, this.bias);
    const variance = this.map(x.square().mul(view.exp()), this.weight.square(), null);
    return addcmul(mean, variance.add(1e-8).sqrt(), randnLike(mean, { generator: this.generator }));
  }
}

/** A linear layer with learned Gaussian dropout (GaussianDropoutLayer); α per input feature. */
export class GaussianDropoutLinear extends GaussianDropoutLayer {
  protected readonly unitView = [-1];

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: GaussianDropoutOptions = {},
  ) {
    super([outFeatures, inFeatures], opts);
  }

  protected map(input: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
    return F.linear(input, weight, { bias });
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, type=${this.type}`;
  }
}

export interface GaussianDropoutConv2dOptions extends GaussianDropoutOptions {
  stride?: number | number[];
  padding?: number | number[];
  dilation?: number | number[];
}

/**
 * A Conv2d (groups 1, zero padding) with learned Gaussian dropout (GaussianDropoutLayer); α per
 * input channel. Type A multiplies every input element by its own ξ ~ N(1, α_c), shared by all the
 * output channels and kernel positions that read it; type B samples each output element from
 * N(conv(x, θ) + b, conv(α·x², θ²)), the LRT in conv form (noise independent across outputs).
 */
export class GaussianDropoutConv2d extends GaussianDropoutLayer {
  protected readonly unitView = [-1, 1, 1];
  /** Kernel size, stride, padding and dilation, each as [height, width]. */
  readonly geometry: Record<'kernelSize' | 'stride' | 'padding' | 'dilation', [number, number]>;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: number | number[],
    opts: GaussianDropoutConv2dOptions = {},
  ) {
    const k = pair(kernelSize);
    super([outChannels, inChannels, k[0], k[1]], opts);
    this.geometry = {
      kernelSize: k,
      stride: pair(opts.stride ?? 1),
      padding: pair(opts.padding ?? 0),
      dilation: pair(opts.dilation ?? 1),
    };
  }

  protected map(input: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
    const { stride, padding, dilation } = this.geometry;
    return F.conv2d(input, weight, { bias, stride, padding, dilation });
  }

  override extraRepr(): string {
    const { kernelSize, stride } = this.geometry;
    return `${this.inChannels}, ${this.outChannels}, kernelSize=[${kernelSize}], stride=[${stride}], type=${this.type}`;
  }
}

/** One row of a sparsity report. */
export interface SparsityRow {
  layer: string;
  weights: number;
  kept: number;
  /** Fraction of weights pruned. */
  sparsity: number;
  /** weights / kept. */
  compression: number;
}

function variationalLayers(model: Module): [string, VariationalLayer][] {
  return model.namedModules().filter((e): e is [string, VariationalLayer] => e[1] instanceof VariationalLayer);
}

/** The KL term of a model: the sum over its variational layers (a zero tensor if it has none). */
export function klDivergence(model: Module): Tensor {
  let total: Tensor | null = null;
  for (const m of model.modules()) {
    if (m instanceof VariationalLayer || m instanceof GaussianDropoutLayer) {
      const kl = m.klDivergence();
      total = total === null ? kl : total.add(kl);
    }
  }
  return total ?? full([], 0);
}

function checkVariational(model: Module, what: string): [string, VariationalLayer][] {
  const layers = variationalLayers(model);
  if (layers.length === 0) {
    throw new GenlabError(
      'usage',
      `${what}: ${model.constructor.name} is not a variational layer and holds none`,
      'pruning by log α needs VariationalLinear or VariationalConv2d layers',
    );
  }
  return layers;
}

/** Prunes every variational layer of `model` (or the layer itself) at log α ≥ threshold. */
export function pruneVariational(model: Module, opts: { threshold?: number } = {}): SparsityRow[] {
  return checkVariational(model, 'prune').map(([name, layer]) => ({ ...layer.prune(opts.threshold), layer: name }));
}

/** Per-layer sparsity and compression at a threshold, plus a 'total' row, without pruning. */
export function sparsityReport(model: Module, opts: { threshold?: number } = {}): SparsityRow[] {
  const rows = checkVariational(model, 'sparsity report').map(([name, layer]) => ({
    ...layer.sparsity(opts.threshold),
    layer: name,
  }));
  const weights = rows.reduce((s, r) => s + r.weights, 0);
  const kept = rows.reduce((s, r) => s + r.kept, 0);
  rows.push({
    layer: 'total',
    weights,
    kept,
    sparsity: 1 - kept / weights,
    compression: kept === 0 ? Number.POSITIVE_INFINITY : weights / kept,
  });
  return rows;
}
