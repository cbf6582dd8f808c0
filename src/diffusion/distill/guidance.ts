// The algebra of guided distillation (Meng et al. 2023, "On Distillation of Guided Diffusion
// Models"; progressive distillation of Salimans & Ho 2022), on z_t = α_t x + σ_t ε with α² + σ² = 1.
// Coefficients are numbers (one time for the batch, as in sampling) or tensors broadcast over the
// example (one time per example, as in training).
import type { Tensor } from '../../torch/tensor.js';

export type Coef = Tensor | number;

/** What the network predicts: v = α ε − σ x, or x itself. */
export const PARAMETERISATIONS = ['v', 'x'] as const;
export type Parameterisation = (typeof PARAMETERISATIONS)[number];

const mul = (t: Tensor, c: Coef): Tensor => t.mul(c as Tensor);

/** x̂ from the network's output: x̂ = o (x-parameterisation) or x̂ = α z − σ v̂ (v-parameterisation). */
export function xFromOutput(out: Tensor, z: Tensor, alpha: Coef, sigma: Coef, param: Parameterisation): Tensor {
  return param === 'x' ? out : mul(z, alpha).sub(mul(out, sigma));
}

/** ε̂ = (z − α x̂) / σ: the noise that x̂ implies. */
export function epsFromX(z: Tensor, xHat: Tensor, alpha: Coef, sigma: Coef): Tensor {
  return z.sub(mul(xHat, alpha)).div(sigma as Tensor);
}

/**
 * Classifier-free guidance in x-space (the paper's eq. 2): x̂ʷ = (1 + w) x̂_c − w x̂_u. Written as
 * x̂_c + w (x̂_c − x̂_u), so w = 0 gives x̂_c exactly.
 */
export function guidedCombination(xCond: Tensor, xUncond: Tensor, w: Coef): Tensor {
  return xCond.add(mul(xCond.sub(xUncond), w));
}

/** One DDIM step t → s (η = 0): z_s = α_s x̂ + σ_s (z_t − α_t x̂) / σ_t. */
export function ddimStep(z: Tensor, xHat: Tensor, t: AlphaSigmaAt, s: AlphaSigmaAt): Tensor {
  return mul(xHat, s.alpha).add(mul(epsFromX(z, xHat, t.alpha, t.sigma), s.sigma));
}

/**
 * The progressive-distillation target: the x̃ whose single DDIM step t → t″ lands on the z″ that two
 * teacher DDIM steps t → t′ → t″ reached, x̃ = (z″ − (σ″/σ) z) / (α″ − (σ″/σ) α).
 */
export function distillationTarget(z: Tensor, z2: Tensor, t: AlphaSigmaAt, t2: AlphaSigmaAt): Tensor {
  if (typeof t2.sigma === 'number' && typeof t.sigma === 'number') {
    const r = t2.sigma / t.sigma;
    return z2.sub(z.mul(r)).div((t2.alpha as number) - r * (t.alpha as number));
  }
  const ratio = (t2.sigma as Tensor).div(t.sigma as Tensor);
  return z2.sub(z.mul(ratio)).div((t2.alpha as Tensor).sub(ratio.mul(t.alpha as Tensor)));
}

/** α and σ of one time: numbers, or tensors broadcast over the examples. */
export interface AlphaSigmaAt {
  alpha: Coef;
  sigma: Coef;
}

/**
 * The target of progressive distillation from a teacher's x̂: two teacher DDIM steps t → t′ → t″,
 * then the x̃ that one DDIM step t → t″ needs to land on the same z″.
 */
export function twoStepTarget<T extends AlphaSigmaAt>(
  teacher: (z: Tensor, at: T) => Tensor,
  z: Tensor,
  t: T,
  t1: T,
  t2: T,
): Tensor {
  const z1 = ddimStep(z, teacher(z, t), t, t1);
  const z2 = ddimStep(z1, teacher(z1, t1), t1, t2);
  return distillationTarget(z, z2, t, t2);
}

/**
 * The "truncated SNR" weight of an x-space squared error: max(‖x − x̂‖², ‖ε − ε̂‖²) = max(1, SNR)‖x − x̂‖²,
 * since ε − ε̂ = (α/σ)(x̂ − x).
 */
export function truncatedSnrWeight(alpha: Tensor, sigma: Tensor): Tensor {
  return alpha.square().div(sigma.square()).clamp(1);
}

/**
 * The forward process from s up to t > s, q(z_t | z_s): z_t = (α_t/α_s) z_s + √(σ_t² − (α_t/α_s)² σ_s²) ε;
 * the stochastic sampler's "one step of noise back up".
 */
export function noiseUp(
  zs: Tensor,
  s: { alpha: number; sigma: number },
  t: { alpha: number; sigma: number },
  eps: Tensor,
) {
  const a = t.alpha / s.alpha;
  const v = Math.max(0, t.sigma * t.sigma - a * a * s.sigma * s.sigma);
  return zs.mul(a).add(eps.mul(Math.sqrt(v)));
}
