// Samplers: from z₁ ~ N(0, I) down a grid t = 1, (N−1)/N, …, 0 of any number N of steps.
//   ancestral (VDM):  z_s = (α_s/α_t)(z_t − σ_t c ε̂) + √((1 − α_s²) c) ε,  c = −expm1(γ_s − γ_t)
//   DDIM (η = 0):     z_s = α_s x̂ + σ_s ε̂,  x̂ = (z_t − σ_t ε̂)/α_t
import { inferenceMode } from '../torch/autograd.js';
import { full, linspace, randn } from '../torch/creation.js';
import type { Generator } from '../torch/random.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import type { NoiseSchedule } from './schedules.js';
import type { EpsFn } from './vlb.js';

export type SamplerKind = 'ancestral' | 'ddim';

export interface SampleOptions {
  steps: number;
  sampler?: SamplerKind;
  generator?: Generator;
  /** The starting latent z₁; N(0, I) of `shape` when omitted. */
  z1?: Tensor;
  /** Called after each step with the number of steps done (progress). */
  onStep?: (done: number) => void;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** γ on the sampling grid, as numbers: γ[i] = γ(i / steps). */
export function gammaGrid(schedule: NoiseSchedule, steps: number): number[] {
  return inferenceMode(() =>
    tidy(() => Array.from(schedule.gamma(linspace(0, 1, steps + 1)).toTypedArray() as Float32Array)),
  );
}

/** Runs the reverse process; returns z₀ (kept out of the caller's scopes only if it returns it). */
export function sampleLatent(eps: EpsFn, schedule: NoiseSchedule, shape: number[], opts: SampleOptions): Tensor {
  const { steps } = opts;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`sampler: steps must be a positive integer, got ${steps}`);
  const kind = opts.sampler ?? 'ancestral';
  if (kind !== 'ancestral' && kind !== 'ddim') throw new Error(`unknown sampler '${kind}' (ancestral or ddim)`);
  const g = gammaGrid(schedule, steps);
  const batch = shape[0];
  return inferenceMode(() => {
    let z = opts.z1 ? opts.z1.clone() : randn(shape, { generator: opts.generator });
    for (let i = steps; i >= 1; i--) {
      const gt = g[i];
      const gs = g[i - 1];
      const next = tidy(() => {
        const epsHat = eps(z, full([batch], gt, { dtype: z.dtype }));
        const at2 = sigmoid(-gt);
        const as2 = sigmoid(-gs);
        const st = Math.sqrt(sigmoid(gt));
        if (kind === 'ddim') {
          const xHat = z.sub(epsHat.mul(st)).div(Math.sqrt(at2));
          return xHat.mul(Math.sqrt(as2)).add(epsHat.mul(Math.sqrt(sigmoid(gs))));
        }
        const c = -Math.expm1(gs - gt);
        const mean = z.sub(epsHat.mul(st * c)).mul(Math.sqrt(as2 / at2));
        return mean.add(randn(shape, { generator: opts.generator, dtype: z.dtype }).mul(Math.sqrt((1 - as2) * c)));
      });
      z.dispose();
      z = next;
      opts.onStep?.(steps - i + 1);
    }
    return z;
  });
}
