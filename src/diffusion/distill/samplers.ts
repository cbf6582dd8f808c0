// Samplers of a guided or distilled model, from its x̂ on a uniform time grid t_k = t_start·k/N:
//   DDIM (deterministic):  z_{k−1} = DDIM(z_k, x̂(z_k, t_k), t_k → t_{k−1})
//   the paper's stochastic N-step sampler: DDIM two steps down t_k → t_{k−2}, then the forward
//   process one step back up t_{k−2} → t_{k−1} with fresh noise; the last step t_1 → 0 is DDIM.
// Either takes N evaluations of the denoiser.
import { noGrad } from '../../torch/autograd.js';
import { randn } from '../../torch/creation.js';
import * as ops from '../../torch/generated/ops.js';
import type { Generator } from '../../torch/random.js';
import { tidy } from '../../torch/scope.js';
import type { Tensor } from '../../torch/tensor.js';
import { ddimStep, noiseUp } from './guidance.js';

export const SAMPLER_KINDS = ['ddim', 'stochastic'] as const;
export type DistillSampler = (typeof SAMPLER_KINDS)[number];

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * The cosine schedule in log-SNR, −log SNR(t) = γ(t) = 2 log tan(a t + b), truncated to
 * [γ_min, γ_max] (schedules.ts's CosineSchedule, without its slope), as numbers (sampling) and as
 * tensors (training).
 */
export class LogSnrCosine {
  private readonly a: number;
  private readonly b: number;

  constructor(
    readonly gammaMin: number,
    readonly gammaMax: number,
  ) {
    this.b = Math.atan(Math.exp(gammaMin / 2));
    this.a = Math.atan(Math.exp(gammaMax / 2)) - this.b;
  }

  gamma(t: number): number {
    return 2 * Math.log(Math.tan(this.a * t + this.b));
  }

  /** α_t = √sigmoid(−γ), σ_t = √sigmoid(γ). */
  at(t: number): { alpha: number; sigma: number } {
    const g = this.gamma(t);
    return { alpha: Math.sqrt(sigmoid(-g)), sigma: Math.sqrt(sigmoid(g)) };
  }

  /** α and σ of times t [B], shaped [B, 1, …] to broadcast over examples of `ndim` dimensions. */
  atTensor(t: Tensor, ndim: number): { alpha: Tensor; sigma: Tensor } {
    const g = ops
      .tan(t.mul(this.a).add(this.b))
      .log()
      .mul(2)
      .reshape([t.shape[0], ...Array(ndim - 1).fill(1)]);
    return { alpha: g.neg().sigmoid().sqrt(), sigma: g.sigmoid().sqrt() };
  }
}

/** x̂ of a batch at one time t of the grid; one call is one network evaluation (two when guided). */
export type Denoiser = (z: Tensor, t: number) => Tensor;

/** The time-to-(α, σ) map a sampler needs. */
export interface AlphaSigma {
  at(t: number): { alpha: number; sigma: number };
}

export interface GridSampleOptions {
  steps: number;
  sampler?: DistillSampler;
  /** Top of the grid (1 to sample; below 1 for SDEdit-style editing from a noised image). */
  tStart?: number;
  generator?: Generator;
  /** Applied to the latent at each grid time before it is denoised (inpainting's known region). */
  project?: (z: Tensor, t: number) => Tensor;
  onStep?: (done: number) => void;
}

/** Runs a sampler from the latent `z` at t_start down to t = 0; returns z_0. */
export function sampleGrid(denoise: Denoiser, sched: AlphaSigma, z: Tensor, opts: GridSampleOptions): Tensor {
  const n = opts.steps;
  if (!Number.isInteger(n) || n < 1) throw new Error(`sampler: steps must be a positive integer, got ${n}`);
  const top = opts.tStart ?? 1;
  const kind = opts.sampler ?? 'ddim';
  const time = (k: number) => (top * k) / n;
  const at = (k: number) => sched.at(time(k));
  return noGrad(() => {
    let cur = z.clone();
    let k = n;
    let done = 0;
    const advance = (next: Tensor) => {
      cur.dispose();
      cur = next;
      opts.onStep?.(++done);
    };
    while (k >= 1) {
      const stochastic = kind === 'stochastic' && k >= 2;
      advance(
        tidy(() => {
          const zk = opts.project ? opts.project(cur, time(k)) : cur;
          const xHat = denoise(zk, time(k));
          if (!stochastic) return ddimStep(zk, xHat, at(k), at(k - 1));
          const down = ddimStep(zk, xHat, at(k), at(k - 2));
          const eps = randn(zk.shape, { generator: opts.generator, dtype: zk.dtype });
          return noiseUp(down, at(k - 2), at(k - 1), eps);
        }),
      );
      k--;
    }
    return cur;
  });
}
