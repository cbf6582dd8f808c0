// Log-densities and the Gaussian KL the VAE family needs, elementwise unless said otherwise.
import * as F from '../nn/functional.js';
import { where } from '../torch/functions.js';
import type { Tensor } from '../torch/tensor.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** log N(x; mean, exp(logVar)). */
export function normalLogProb(x: Tensor, mean: Tensor | number, logVar: Tensor | number): Tensor {
  const diff = typeof mean === 'number' ? x.sub(mean) : x.sub(mean);
  if (typeof logVar === 'number')
    return diff
      .square()
      .mul(-0.5 * Math.exp(-logVar))
      .sub(0.5 * (LOG_2PI + logVar));
  return diff.square().mul(logVar.neg().exp()).add(logVar).add(LOG_2PI).mul(-0.5);
}

/** KL(N(mean, e^logVar) ‖ N(0, e^priorLogVar)) per dimension; a null prior log-variance means N(0, 1). */
export function klNormal(mean: Tensor, logVar: Tensor, priorLogVar: Tensor | null): Tensor {
  if (priorLogVar === null) return logVar.exp().add(mean.square()).sub(logVar).sub(1).mul(0.5);
  return logVar.exp().add(mean.square()).mul(priorLogVar.neg().exp()).add(priorLogVar).sub(logVar).sub(1).mul(0.5);
}

/** log Bernoulli(x; σ(logits)), stable for large logits. */
export function bernoulliLogProb(x: Tensor, logits: Tensor): Tensor {
  const [l, t] = logits.ndim > x.ndim ? [logits, x.expandAs(logits)] : [logits, x];
  return F.binaryCrossEntropyWithLogits(l, t, { reduction: 'none' }).neg();
}

/**
 * log P(x) for x on the grid k/(levels−1), k = 0..levels−1, under a logistic(loc, e^logScale) whose
 * mass is binned to the grid; the end bins take the tails (PixelCNN++'s discretised logistic).
 */
export function discretizedLogisticLogProb(x: Tensor, loc: Tensor, logScale: Tensor, levels: number): Tensor {
  const half = 0.5 / (levels - 1);
  const invScale = logScale.neg().exp();
  const centred = x.sub(loc);
  const plusIn = centred.add(half).mul(invScale);
  const minIn = centred.sub(half).mul(invScale);
  const logCdfPlus = F.logsigmoid(plusIn); // log σ(plus): the lowest bin's log mass
  const logSfMin = F.softplus(minIn).neg(); // log(1 − σ(min)): the highest bin's
  // log(σ(plus) − σ(min)) = log σ(plus) + log(1 − e^{log σ(min) − log σ(plus)}), stable for narrow bins.
  const logMid = logCdfPlus.add(F.logsigmoid(minIn).sub(logCdfPlus).clampMax(-1e-6).expm1().neg().log());
  const low = x.lt(half);
  const high = x.gt(1 - half);
  return where(low, logCdfPlus, where(high, logSfMin, logMid));
}
