// The variational lower bound of a VDM, per example, in nats:
//   −log p(x) ≤ L_recon + L_prior + L_diff,
// with L_diff in continuous time ½ γ′(t) ‖ε − ε̂‖², or for T steps ½ T expm1(γ_t − γ_s) ‖ε − ε̂‖².
// Everything here is a plain function of tensors, so the tests can feed an exact denoiser.
import { arange, rand, randn, randnLike, tensor } from '../torch/creation.js';
import * as ops from '../torch/generated/ops.js';
import type { Generator } from '../torch/random.js';
import type { Tensor } from '../torch/tensor.js';
import { type BatchShard, shardRows } from '../train/shard.js';
import type { NoiseSchedule } from './schedules.js';

/** ε̂(z_t; γ_t): the noise predicted from a latent z [B, ...] and its γ [B]. */
export type EpsFn = (z: Tensor, gammaT: Tensor) => Tensor;

/** The schedule's values for one batch, each [B]. */
export interface ScheduleValues {
  g0: Tensor;
  g1: Tensor;
  gammaT: Tensor;
  /** γ′(t) in continuous time, T·expm1(γ_t − γ_s) in discrete time. */
  weight: Tensor;
}

/** Per-example terms [B] in nats; total = recon + prior + diff. */
export interface VLBTerms {
  recon: Tensor;
  prior: Tensor;
  diff: Tensor;
  total: Tensor;
}

/** B times in [0, 1): antithetic t_i = (u + i/B) mod 1 (lower variance), or independent uniforms. */
export function sampleTimes(batch: number, opts: { antithetic?: boolean; generator?: Generator } = {}): Tensor {
  if (opts.antithetic ?? true) {
    const u = rand([1], { generator: opts.generator });
    return arange(batch).div(batch).add(u).remainder(1);
  }
  return rand([batch], { generator: opts.generator });
}

/**
 * γ(0), γ(1), γ(t) and the diffusion weight for times t [B]. With T > 0 steps, t is rounded up to
 * the grid {1/T, …, 1} and s = t − 1/T, as the discrete-time loss needs.
 */
export function scheduleValues(schedule: NoiseSchedule, t: Tensor, timesteps = 0): ScheduleValues {
  const b = t.shape[0];
  const ends = schedule.gamma(tensor([0, 1], { dtype: t.dtype }));
  const g0 = ends.select(0, 0).expand([b]);
  const g1 = ends.select(0, 1).expand([b]);
  if (timesteps === 0) {
    const { gamma, slope } = schedule.gammaAndSlope(t);
    return { g0, g1, gammaT: gamma, weight: slope };
  }
  const T = timesteps;
  const tq = t.mul(T).ceil().clampMin(1).div(T);
  const gammaT = schedule.gamma(tq);
  const gammaS = schedule.gamma(tq.sub(1 / T));
  return { g0, g1, gammaT, weight: gammaT.sub(gammaS).expm1().mul(T) };
}

/** Grey levels k ∈ {0, …, K−1} to the centres of K equal bins of (−1, 1): 2(k + ½)/K − 1. */
export function levelsToCentres(k: Tensor, levels: number): Tensor {
  return k
    .add(0.5)
    .mul(2 / levels)
    .sub(1);
}

/** Broadcasts a [B] tensor against x [B, ...]. */
function perExample(v: Tensor, like: Tensor): Tensor {
  return v.reshape([v.shape[0], ...Array(like.ndim - 1).fill(1)]);
}

function sumPerExample(x: Tensor): Tensor {
  return x.ndim === 1 ? x : x.flatten(1).sum(1);
}

/** The level whose centre is nearest to z (the decoder's most likely level), as a float tensor. */
export function nearestLevel(z: Tensor, levels: number): Tensor {
  return z
    .add(1)
    .mul(levels / 2)
    .sub(0.5)
    .round()
    .clamp(0, levels - 1);
}

/**
 * −log p(x | z₀) of discrete data x (integer levels k [B, ...], float) given z₀ as z₀/α₀ = f + e^{γ₀/2} ε₀.
 * Each dimension is a categorical over the K centres with logits −½((z₀/α₀ − x_k) e^{−γ₀/2})².
 *
 * The normaliser is summed over the levels within 8 standard deviations of z₀/α₀ only: every other
 * term is below e^{−32} of the largest, so the result is exact in float32, and 256-level images need a
 * handful of logits per pixel instead of 256 (at γ₀ = −13.3, 7 of them).
 */
export function discreteReconstruction(k: Tensor, zRescaled: Tensor, g0: Tensor, levels: number): Tensor {
  const invStd = perExample(g0.mul(-0.5).exp(), zRescaled);
  const own = zRescaled.sub(levelsToCentres(k, levels)).mul(invStd).square().mul(-0.5);
  const std = Math.exp(g0.detach().max().item() / 2);
  const half = Math.ceil(4 * std * levels) + 1; // 8 std over a spacing of 2/K, plus one
  let js: Tensor;
  if (2 * half + 1 >= levels) js = arange(levels, undefined, 1, { dtype: zRescaled.dtype });
  else {
    const offsets = arange(-half, half + 1, 1, { dtype: zRescaled.dtype });
    js = nearestLevel(zRescaled.detach(), levels).unsqueeze(-1).add(offsets);
  }
  let logits = zRescaled.unsqueeze(-1).sub(levelsToCentres(js, levels)).mul(invStd.unsqueeze(-1)).square().mul(-0.5);
  if (js.ndim > 1) logits = logits.maskedFill(js.lt(0).logicalOr(js.gt(levels - 1)), -Infinity);
  return sumPerExample(own.sub(logits.logsumexp(-1))).neg();
}

/** The decoder's logits [B, ..., K] over all K levels (for sampling from p(x | z₀) rather than its mode). */
export function decoderLogits(zRescaled: Tensor, g0: Tensor, levels: number): Tensor {
  const centres = levelsToCentres(arange(levels, undefined, 1, { dtype: zRescaled.dtype }), levels);
  return zRescaled.unsqueeze(-1).sub(centres).mul(g0.mul(-0.5).exp()).square().mul(-0.5);
}

export interface VLBInputs {
  /** The data as the diffusion sees it: centres of the levels for discrete data, x itself otherwise. */
  f: Tensor;
  /** Integer levels (discrete data) or null for continuous data with a Gaussian decoder. */
  k: Tensor | null;
  levels: number | null;
  values: ScheduleValues;
  eps: EpsFn;
  /** Optional fixed noise (tests use common random numbers). */
  noise?: { eps0?: Tensor; eps?: Tensor };
  generator?: Generator;
  /** Under genlab launch: the noise is this rank's rows of the global batch's (src/train/shard.ts). */
  shard?: BatchShard;
}

/** Standard normal noise shaped like f: drawn for the global batch and cut to this rank's rows under a shard. */
function noiseLike(f: Tensor, inp: VLBInputs): Tensor {
  const generator = inp.generator;
  if (inp.shard === undefined) return randnLike(f, { generator });
  const [rows, ...rest] = f.shape;
  return shardRows(inp.shard, rows, (n) => randn([n, ...rest], { dtype: f.dtype, device: f.device, generator }));
}

/** The three VLB terms of each example of a batch. */
export function vlbTerms(inp: VLBInputs): VLBTerms {
  const { f, k, levels, values } = inp;
  const { g0, g1, gammaT, weight } = values;

  // 1. Reconstruction: z₀/α₀ = f + e^{γ₀/2} ε₀.
  const eps0 = inp.noise?.eps0 ?? noiseLike(f, inp);
  const zRescaled = f.add(eps0.mul(perExample(g0.mul(0.5).exp(), f)));
  let recon: Tensor;
  if (k !== null && levels !== null) recon = discreteReconstruction(k, zRescaled, g0, levels);
  else {
    // Continuous data: p(x | z₀) = N(z₀/α₀, e^{γ₀}), so −log p = ½(log 2π + γ₀ + ε₀²) per dimension.
    const perDim = eps0
      .square()
      .add(perExample(g0, f))
      .add(Math.log(2 * Math.PI))
      .mul(0.5);
    recon = sumPerExample(perDim);
  }

  // 2. Prior: KL(N(α₁ f, σ₁²) ‖ N(0, 1)) = ½ Σ (α₁² f² + σ₁² − log σ₁² − 1).
  const s1 = perExample(g1.sigmoid(), f);
  const logS1 = perExample(ops.logSigmoid(g1), f);
  const prior = sumPerExample(s1.rsub(1).mul(f.square()).add(s1).sub(logS1).sub(1).mul(0.5));

  // 3. Diffusion: z_t = α_t f + σ_t ε, weighted squared error of ε̂.
  const eps = inp.noise?.eps ?? noiseLike(f, inp);
  const alphaT = perExample(gammaT.neg().sigmoid().sqrt(), f);
  const sigmaT = perExample(gammaT.sigmoid().sqrt(), f);
  const zt = f.mul(alphaT).add(eps.mul(sigmaT));
  const mse = sumPerExample(eps.sub(inp.eps(zt, gammaT)).square());
  const diff = mse.mul(weight).mul(0.5);

  return { recon, prior, diff, total: recon.add(prior).add(diff) };
}
