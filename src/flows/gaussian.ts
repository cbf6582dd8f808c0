// Diagonal Gaussians parameterised by mean and log standard deviation, as the reference's gaussian_diag.
import type { Tensor } from '../torch/tensor.js';

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * log N(x; mean, exp(logs)²) summed over every dim but the batch ([B]), together with the
 * standardised value eps = (x − mean) e^{−logs} that it is computed from.
 */
export function gaussianLogp(x: Tensor, mean: Tensor, logs: Tensor): { logp: Tensor; eps: Tensor } {
  const eps = x.sub(mean).mul(logs.neg().exp());
  const d = x.numel() / x.shape[0];
  // −½ Σ eps² − Σ logs − ½ D log 2π; logs may be [1, …] and then broadcasts over the batch.
  const logp = eps
    .square()
    .sum([1, 2, 3])
    .mul(-0.5)
    .sub(logs.sum([1, 2, 3]))
    .sub(0.5 * d * LOG_2PI);
  return { logp, eps };
}

/** log N(x; 0, I) summed over every dim but the batch: [B]. */
export function standardLogp(x: Tensor): Tensor {
  const d = x.numel() / x.shape[0];
  return x
    .square()
    .sum([1, 2, 3])
    .add(d * LOG_2PI)
    .mul(-0.5);
}

/** mean + e^{logs} eps: from a standardised latent back to the variable. */
export function fromEps(eps: Tensor, mean: Tensor, logs: Tensor): Tensor {
  return eps.mul(logs.exp()).add(mean);
}
