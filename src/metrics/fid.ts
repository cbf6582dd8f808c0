// Fréchet distance between Gaussians fitted to network features (FID, Heusel et al. 2017).
//
//   d² = ||mu1 − mu2||² + tr(S1 + S2 − 2 (S1^{1/2} S2 S1^{1/2})^{1/2})
//
// S1^{1/2} S2 S1^{1/2} is symmetric positive semi-definite and has the same eigenvalues as S1 S2,
// so the trace of its square root is a sum of square roots of eigenvalues from eigh. That avoids
// the non-symmetric sqrtm of S1 S2 and its complex round-off. Everything runs in float64.
import { noGrad } from '../torch/autograd.js';
import { linalg } from '../torch/functions.js';
import * as ops from '../torch/generated/ops.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';

/** Mean [D] and covariance [D, D] of a feature set, in float64; cache them for reference data. */
export interface GaussianStats {
  mu: Tensor;
  sigma: Tensor;
}

/** Mean and unbiased covariance (divisor N − 1) of features [N, D], in float64. */
export function featureStats(feats: Tensor): GaussianStats {
  if (feats.ndim !== 2) throw new Error(`featureStats: features must be [N, D], got [${feats.shape}]`);
  const n = feats.size(0);
  if (n < 2) throw new Error(`featureStats: need at least 2 samples for a covariance, got ${n}`);
  return noGrad(() =>
    tidy(() => {
      const x = feats.detach().to('float64');
      const mu = x.mean(0);
      const centred = x.sub(mu);
      const sigma = centred
        .t()
        .mm(centred)
        .div(n - 1);
      return { mu, sigma };
    }),
  );
}

/** Symmetric PSD square root V diag(√max(w, 0)) Vᵀ; tiny negative eigenvalues are round-off. */
export function sqrtPsd(a: Tensor): Tensor {
  return tidy(() => {
    const [w, v] = linalg.eigh(symmetrize(a));
    return v.mul(w.clampMin(0).sqrt()).mm(v.t());
  });
}

/** Fréchet distance between N(mu1, S1) and N(mu2, S2); clamped at 0 against round-off. */
export function frechetDistance(a: GaussianStats, b: GaussianStats): number {
  const d = a.mu.numel();
  for (const [name, s] of [
    ['a', a],
    ['b', b],
  ] as const) {
    if (s.mu.ndim !== 1 || s.mu.numel() !== d || s.sigma.ndim !== 2 || s.sigma.size(0) !== d || s.sigma.size(1) !== d) {
      throw new Error(
        `frechetDistance: ${name} has mu [${s.mu.shape}] and sigma [${s.sigma.shape}], expected [${d}] and [${d}, ${d}]`,
      );
    }
  }
  return noGrad(() =>
    tidy(() => {
      const mu1 = a.mu.to('float64');
      const mu2 = b.mu.to('float64');
      const s1 = a.sigma.to('float64');
      const s2 = b.sigma.to('float64');
      const meanTerm = mu1.sub(mu2).square().sum().item();
      const root1 = sqrtPsd(s1);
      const middle = symmetrize(root1.mm(s2).mm(root1));
      const traceSqrt = ops.linalgEigvalsh(middle).clampMin(0).sqrt().sum().item();
      const value = meanTerm + ops.trace(s1).item() + ops.trace(s2).item() - 2 * traceSqrt;
      return Math.max(value, 0);
    }),
  );
}

/** FID between two feature sets [N, D] and [M, D]. */
export function fidFromFeatures(featsA: Tensor, featsB: Tensor): number {
  return tidy(() => frechetDistance(featureStats(featsA), featureStats(featsB)));
}

function symmetrize(a: Tensor): Tensor {
  return tidy(() => a.add(a.t()).mul(0.5));
}
