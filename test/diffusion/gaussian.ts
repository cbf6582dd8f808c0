// Gaussian data x ~ N(μ, s²) per dimension: the exact ε-predictor and the VLB in closed form.
import type { EpsFn } from '../../src/diffusion/vlb.js';
import type { Tensor } from '../../src/torch/tensor.js';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * E[ε | z_t] for z = α x + σ ε: (z, ε) are jointly Gaussian with Var z = α² s² + σ² and
 * Cov(ε, z) = σ, so the optimal predictor is linear, σ (z − α μ) / (α² s² + σ²).
 */
export function optimalEps(mu: number, s: number): EpsFn {
  return (z: Tensor, g: Tensor) => {
    const a2 = g.neg().sigmoid();
    const s2 = g.sigmoid();
    const shape = [g.shape[0], ...Array(z.ndim - 1).fill(1)];
    const alpha = a2.sqrt().reshape(shape);
    const sigma = s2.sqrt().reshape(shape);
    const v = a2
      .mul(s * s)
      .add(s2)
      .reshape(shape);
    return z.sub(alpha.mul(mu)).mul(sigma).div(v);
  };
}

/** −log N(x; μ, s²) of one dimension. */
export function gaussianNll(x: number, mu: number, s: number): number {
  return 0.5 * Math.log(2 * Math.PI * s * s) + (0.5 * (x - mu) ** 2) / (s * s);
}

/**
 * E over (t, ε₀, ε) of the VLB of one dimension x under the optimal predictor, with endpoints γ₀, γ₁
 * and the Gaussian decoder N(z₀/α₀, e^{γ₀}):
 *   recon = ½(log 2π + γ₀ + 1),   prior = ½(α₁² x² + σ₁² − log σ₁² − 1),
 *   diff  = ½ ∫ E‖ε − ε̂‖² dγ = ½ [F(u₀) − F(u₁)],  F(u) = ln u + 1/u − c/u,
 * with u = SNR·s² + 1 and c = (x − μ)²/s² (substitute u in ∫ (SNR s⁴ + (x−μ)²)/(SNR s² + 1)² dSNR).
 */
export function expectedVlb(x: number, mu: number, s: number, g0: number, g1: number): number {
  const recon = 0.5 * (Math.log(2 * Math.PI) + g0 + 1);
  const s1 = sigmoid(g1);
  const prior = 0.5 * ((1 - s1) * x * x + s1 - Math.log(s1) - 1);
  const c = (x - mu) ** 2 / (s * s);
  const F = (g: number) => {
    const u = Math.exp(-g) * s * s + 1;
    return Math.log(u) + 1 / u - c / u;
  };
  return recon + prior + 0.5 * (F(g0) - F(g1));
}
