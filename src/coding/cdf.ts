// Exact integer CDFs of the distributions bits-back coding of a VDM needs, computed in float64 in
// JavaScript with a fixed sequence of operations, so that the encoder and the decoder get the same
// integers from the same inputs on any machine (V8's Math.exp is a deterministic software routine).
// Only the inputs come from libtorch (the network's ε̂ and the schedule's γ); docs/compression.md
// says what libtorch must guarantee for those.
//
// Every symbol gets at least frequency 1: the cumulative frequency of symbol k is
//   start(k) = ⌊F(k)·(M − n)⌋ + (k − lo),
// with F the distribution's CDF at the symbol's lower edge (F(lo) = 0, F(hi + 1) = 1) and n symbols.
// It is strictly increasing whenever F is non-decreasing, and it is computed point-wise, so a
// Gaussian over 2¹⁴ buckets costs two CDF evaluations per push and a binary search per pop.
import { type IntegerCdf, M } from './rans.js';

/** An integer CDF that also knows the log-probability (nats) its unquantised distribution gives k. */
export interface MeasuredCdf extends IntegerCdf {
  logMass(k: number): number;
}

/**
 * erfc(z) for z ≥ 0 with relative error below 1.2·10⁻⁷ (the Chebyshev-fitted form of Press et al.,
 * Numerical Recipes, §6.2), divided by its value at 0 so that erfc(0) = 1 exactly and Φ below is
 * continuous (and monotone) where its two branches meet.
 */
function erfcRaw(z: number): number {
  const t = 1 / (1 + 0.5 * z);
  const p =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return t * Math.exp(-z * z + p);
}
const ERFC0 = erfcRaw(0);

/** Φ(u), the standard normal CDF, accurate in relative terms in the lower tail. */
export function normalCdf(u: number): number {
  const x = -u * Math.SQRT1_2;
  if (x >= 0) return (0.5 * erfcRaw(x)) / ERFC0;
  return 1 - (0.5 * erfcRaw(-x)) / ERFC0;
}

/** The grid latents are coded on: buckets of width 2^−bits centred on k·2^−bits, |z| < 2^range. */
export interface LatentGrid {
  /** Precision: bucket width δ = 2^−bits. */
  bits: number;
  /** Range: buckets k ∈ [−2^(range+bits), 2^(range+bits)). */
  range: number;
}

export function gridBounds(g: LatentGrid): { lo: number; hi: number; delta: number } {
  const half = 2 ** (g.range + g.bits);
  return { lo: -half, hi: half - 1, delta: 2 ** -g.bits };
}

/** The bucket of a value: round(z/δ), clamped to the grid. */
export function toBucket(z: number, g: LatentGrid): number {
  const { lo, hi, delta } = gridBounds(g);
  return Math.min(hi, Math.max(lo, Math.round(z / delta)));
}

/**
 * N(mean, std²) discretised on the grid: bucket k has the mass of [(k − ½)δ, (k + ½)δ), renormalised
 * over the grid. Mean or std that are not finite, or a mass on the grid below 10⁻¹⁰ (a wild network
 * output), fall back to the uniform distribution; the coder stays correct, only the rate suffers.
 *
 * With `window` w, the support is only the buckets within mean ± w·std (clamped to the grid; the
 * whole grid if that leaves none). A distribution that is only ever popped from the message and
 * pushed back by the decoder (the posteriors q of bits-back) can be narrowed so: every symbol still
 * needs frequency ≥ 1, and on the whole grid that floor gives each pop a chance of n/M (2¹⁴/2³² at
 * the default grid) of landing on a bucket far out in the tail, a latent the model then treats as
 * noise. Inside ±8 std the floor's share is about 2⁻²³ and the Gaussian mass outside is 10⁻¹⁵.
 */
export function gaussianCdf(mean: number, std: number, g: LatentGrid, window?: number): MeasuredCdf {
  const grid = gridBounds(g);
  const { delta } = grid;
  let { lo, hi } = grid;
  if (window !== undefined && Number.isFinite(mean) && std > 0 && Number.isFinite(std)) {
    const a = Math.max(lo, Math.floor((mean - window * std) / delta));
    const b = Math.min(hi, Math.ceil((mean + window * std) / delta));
    if (a <= b) [lo, hi] = [a, b];
  }
  const n = hi - lo + 1;
  const A = M - n;
  const u = (k: number) => ((k - 0.5) * delta - mean) / std;
  const pLo = normalCdf(u(lo));
  const den = normalCdf(u(hi + 1)) - pLo;
  if (!(Number.isFinite(mean) && std > 0 && Number.isFinite(std) && den > 1e-10)) {
    return { lo, hi, start: (k) => Math.floor(((k - lo) / n) * A) + (k - lo), logMass: () => -Math.log(n) };
  }
  // The density at the bucket's centre times its width: what the ELBO's continuous latents would cost.
  const logNorm = Math.log(delta / (std * Math.sqrt(2 * Math.PI)));
  return {
    lo,
    hi,
    start: (k) => (k > hi ? M : Math.floor(((normalCdf(u(k)) - pLo) / den) * A) + (k - lo)),
    logMass: (k) => logNorm - 0.5 * ((k * delta - mean) / std) ** 2,
  };
}

/**
 * A categorical over 0 … K−1 from logits (any finite reals; −Infinity allowed for impossible ones):
 * softmax in float64, its cumulative sums, then the floor-plus-one quantisation.
 */
export function categoricalCdf(logits: ArrayLike<number>): MeasuredCdf {
  const K = logits.length;
  let max = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < K; k++) if (logits[k] > max) max = logits[k];
  const cum = new Float64Array(K + 1);
  for (let k = 0; k < K; k++) {
    const e = Number.isFinite(max) ? Math.exp(logits[k] - max) : 1;
    cum[k + 1] = cum[k] + (Number.isNaN(e) ? 0 : e);
  }
  const total = cum[K];
  const A = M - K;
  const starts = new Float64Array(K + 1);
  for (let k = 0; k <= K; k++) {
    const F = total > 0 ? cum[k] / total : k / K;
    starts[k] = Math.floor(F * A) + k;
  }
  starts[K] = M;
  const logTotal = Math.log(total);
  return {
    lo: 0,
    hi: K - 1,
    start: (k) => starts[k],
    logMass: (k) => (total > 0 ? logits[k] - max - logTotal : -Math.log(K)),
  };
}

/** The probability the quantised CDF gives symbol k. */
export function quantisedProb(cdf: IntegerCdf, k: number): number {
  return (cdf.start(k + 1) - cdf.start(k)) / M;
}
