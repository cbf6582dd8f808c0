// Classifier metrics: accuracy, confusion matrix, ROC-AUC and expected calibration error.
// Small and exact: counts are integers, AUC uses midranks for ties, and everything else is float64.
import { noGrad } from '../torch/autograd.js';
import { tensor } from '../torch/creation.js';
import { stack } from '../torch/functions.js';
import * as ops from '../torch/generated/ops.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';

/** Class labels [N] from labels [N] (returned as int64) or from scores/probabilities [N, K] (argmax). */
export function toLabels(pred: Tensor): Tensor {
  if (pred.ndim === 2) return pred.argmax(1);
  if (pred.ndim === 1) return pred.to('int64');
  throw new Error(`expected labels [N] or scores [N, K], got [${pred.shape}]`);
}

/** Share of predictions equal to the targets; `pred` is labels [N] or scores [N, K]. */
export function accuracy(pred: Tensor, target: Tensor): number {
  return noGrad(() =>
    tidy(() => {
      const p = toLabels(pred);
      checkSameLength('accuracy', p, target);
      return p.eq(target.to('int64')).sum().item() / p.size(0);
    }),
  );
}

/**
 * Confusion matrix [K, K] (int64): entry [i, j] counts samples of true class i predicted as j,
 * as in scikit-learn. K defaults to 1 + the largest label seen.
 */
export function confusionMatrix(pred: Tensor, target: Tensor, numClasses?: number): Tensor {
  return noGrad(() =>
    tidy(() => {
      const p = toLabels(pred);
      const t = target.to('int64');
      checkSameLength('confusionMatrix', p, t);
      const seen = Math.max(p.max().item(), t.max().item()) + 1;
      const k = numClasses ?? seen;
      if (Math.min(p.min().item(), t.min().item()) < 0 || seen > k) {
        throw new Error(`confusionMatrix: labels must lie in [0, ${k}), got up to ${seen - 1}`);
      }
      return ops.bincount(t.mul(k).add(p), { minlength: k * k }).reshape(k, k);
    }),
  );
}

/**
 * Area under the ROC curve of scores [N] for binary labels [N] (0/1 or bool), by ranks
 * (Mann–Whitney U): AUC = (R₊ − n₊(n₊+1)/2) / (n₊ n₋), where R₊ sums the ranks of the positives.
 * Tied scores share their mean rank, so a positive–negative tie counts one half.
 */
export function rocAuc(scores: Tensor, labels: Tensor): number {
  if (scores.ndim !== 1) throw new Error(`rocAuc: scores must be [N], got [${scores.shape}]`);
  return noGrad(() =>
    tidy(() => {
      checkSameLength('rocAuc', scores, labels);
      const s = scores.detach().to('float64');
      if (s.isnan().any().item()) throw new Error('rocAuc: scores contain NaN');
      const y = labels.to('float64');
      if (y.ne(0).logicalAnd(y.ne(1)).any().item()) throw new Error('rocAuc: labels must be 0 or 1');
      const nPos = y.sum().item();
      const nNeg = y.size(0) - nPos;
      if (nPos === 0 || nNeg === 0) throw new Error('rocAuc: needs both positive and negative samples');
      const [sorted, order] = s.sort(0);
      const [, group, counts] = ops.uniqueConsecutive(sorted, { returnInverse: true, returnCounts: true });
      // A run of tied values at 1-based ranks a..b gets the midrank (a + b) / 2 = b − (count − 1) / 2.
      const last = counts.cumsum(0).to('float64');
      const midrank = last.sub(counts.to('float64').sub(1).mul(0.5));
      const rankSumPos = midrank
        .index([group])
        .mul(y.index([order]))
        .sum()
        .item();
      return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
    }),
  );
}

export interface CalibrationBins {
  /** Samples whose confidence falls in each bin ((b/B, (b+1)/B], the first also holding 0). */
  counts: number[];
  /** Mean confidence per bin (0 for an empty bin). */
  confidence: number[];
  /** Accuracy per bin (0 for an empty bin). */
  accuracy: number[];
}

/**
 * Reliability-diagram data: predictions binned by confidence max_k p_k into equal-width bins.
 * `probs` is [N, K], or [N] for the positive-class probability of a binary classifier.
 */
export function calibrationBins(probs: Tensor, labels: Tensor, opts: { bins?: number } = {}): CalibrationBins {
  const bins = opts.bins ?? 15;
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`calibrationBins: bins must be a positive integer`);
  return noGrad(() =>
    tidy(() => {
      const p64 = probs.detach().to('float64');
      const p = p64.ndim === 1 ? stack([p64.rsub(1), p64], 1) : p64;
      if (p.ndim !== 2) throw new Error(`calibrationBins: probabilities must be [N, K] or [N], got [${probs.shape}]`);
      checkSameLength('calibrationBins', p, labels);
      const [confidence, predicted] = p.max(1);
      const correct = predicted.eq(labels.to('int64')).to('float64');
      // Inner edges 1/B … (B−1)/B; bucketize's default puts a value equal to an edge in the lower bin.
      const edges = tensor(
        Array.from({ length: bins - 1 }, (_, i) => (i + 1) / bins),
        { dtype: 'float64' },
      );
      const bin = ops.bucketize_Tensor(confidence, edges);
      const count = ops.bincount(bin, { minlength: bins });
      const confSum = ops.bincount(bin, { weights: confidence, minlength: bins });
      const hitSum = ops.bincount(bin, { weights: correct, minlength: bins });
      const n = Array.from(count.toTypedArray() as BigInt64Array, Number);
      const conf = Array.from(confSum.toTypedArray() as Float64Array);
      const hits = Array.from(hitSum.toTypedArray() as Float64Array);
      return {
        counts: n,
        confidence: conf.map((c, b) => (n[b] > 0 ? c / n[b] : 0)),
        accuracy: hits.map((h, b) => (n[b] > 0 ? h / n[b] : 0)),
      };
    }),
  );
}

/** Expected calibration error Σ_b (n_b / N) |acc_b − conf_b| over equal-width confidence bins (15 by default). */
export function expectedCalibrationError(probs: Tensor, labels: Tensor, opts: { bins?: number } = {}): number {
  const { counts, confidence, accuracy: acc } = calibrationBins(probs, labels, opts);
  const total = counts.reduce((s, c) => s + c, 0);
  return counts.reduce((s, c, b) => s + (c / total) * Math.abs(acc[b] - confidence[b]), 0);
}

function checkSameLength(name: string, a: Tensor, b: Tensor): void {
  if (b.ndim !== 1 || a.size(0) !== b.size(0)) {
    throw new Error(`${name}: expected ${a.size(0)} labels [N], got [${b.shape}]`);
  }
}
