// Inception Score (Salimans et al. 2016): exp(E_x KL(p(y|x) || p(y))), with p(y) the mean of
// p(y|x) over the set. High when each prediction is confident and the classes are balanced;
// it lies in [1, K].
import { noGrad } from '../torch/autograd.js';
import * as ops from '../torch/generated/ops.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';

export interface InceptionScore {
  /** Mean of the per-split scores (the score itself when splits = 1). */
  mean: number;
  /** Population standard deviation over splits, as in the reference code; 0 for one split. */
  std: number;
  /** The score of each split. */
  scores: number[];
}

/**
 * Inception Score from class probabilities [N, K]. With `splits` > 1 the rows are cut into
 * contiguous parts of ⌊N/splits⌋ or so (part i is rows ⌊iN/s⌋ … ⌊(i+1)N/s⌋) and scored apart.
 */
export function inceptionScore(probs: Tensor, opts: { splits?: number } = {}): InceptionScore {
  const splits = opts.splits ?? 1;
  if (probs.ndim !== 2) throw new Error(`inceptionScore: probabilities must be [N, K], got [${probs.shape}]`);
  const n = probs.size(0);
  if (!Number.isInteger(splits) || splits < 1 || splits > n) {
    throw new Error(`inceptionScore: splits must be an integer in [1, ${n}], got ${splits}`);
  }
  const scores = noGrad(() =>
    tidy(() => {
      const p = probs.detach().to('float64');
      checkProbabilities(p);
      const out: number[] = [];
      for (let i = 0; i < splits; i++) {
        const start = Math.floor((i * n) / splits);
        const end = Math.floor(((i + 1) * n) / splits);
        out.push(tidy(() => splitScore(p.narrow(0, start, end - start))));
      }
      return out;
    }),
  );
  const mean = scores.reduce((s, v) => s + v, 0) / splits;
  const std = Math.sqrt(scores.reduce((s, v) => s + (v - mean) ** 2, 0) / splits);
  return { mean, std, scores };
}

function splitScore(p: Tensor): number {
  const marginal = p.mean(0, { keepdim: true });
  // xlogy makes 0·log 0 = 0, so one-hot rows are fine.
  const kl = ops.xlogy_Tensor(p, p).sub(ops.xlogy_Tensor(p, marginal)).sum(1);
  return Math.exp(kl.mean().item());
}

/** Catches logits passed by mistake: rows must be non-negative and sum to 1. */
function checkProbabilities(p: Tensor): void {
  tidy(() => {
    const minimum = p.min().item();
    const rowError = p.sum(1).sub(1).abs().max().item();
    if (minimum < 0 || rowError > 1e-3) {
      throw new Error(
        `inceptionScore: expects probabilities (rows ≥ 0 summing to 1); got min ${minimum}, ` +
          `largest |row sum − 1| ${rowError}. Apply softmax to logits first.`,
      );
    }
  });
}
