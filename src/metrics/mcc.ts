// Mean correlation coefficient (MCC), the identifiability score of nonlinear ICA (iVAE and after):
// the absolute correlations between true and recovered sources, paired one-to-one by the Hungarian
// algorithm so that permutations, rescalings and sign flips don't count, then averaged.
import { noGrad } from '../torch/autograd.js';
import { empty } from '../torch/creation.js';
import { stack } from '../torch/functions.js';
import * as ops from '../torch/generated/ops.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import { linearSumAssignment } from './hungarian.js';

export type CorrelationMethod = 'pearson' | 'spearman';

/** Ranks 1..N of one column, tied values sharing their mean rank (as scipy.stats.rankdata). */
function midranks(col: Tensor): Tensor {
  return tidy(() => {
    const [sorted, order] = col.sort(0);
    const [, group, counts] = ops.uniqueConsecutive(sorted, { returnInverse: true, returnCounts: true });
    const last = counts.cumsum(0).to('float64');
    const mid = last.sub(counts.to('float64').sub(1).mul(0.5));
    const ranks = empty([col.size(0)], { dtype: 'float64' });
    return ranks.indexPut_([order], mid.index([group]));
  });
}

function rankColumns(x: Tensor): Tensor {
  return tidy(() => stack(x.unbind(1).map(midranks), 1));
}

/**
 * Correlations [da, db] between the columns of a [N, da] and b [N, db], in float64. A column with no
 * variance correlates 0 with everything (rather than NaN).
 */
export function crossCorrelation(a: Tensor, b: Tensor, method: CorrelationMethod = 'pearson'): Tensor {
  if (a.ndim !== 2 || b.ndim !== 2 || a.size(0) !== b.size(0)) {
    throw new Error(`crossCorrelation: expected [N, da] and [N, db], got [${a.shape}] and [${b.shape}]`);
  }
  if (method !== 'pearson' && method !== 'spearman') throw new Error(`crossCorrelation: unknown method '${method}'`);
  return noGrad(() =>
    tidy(() => {
      let x = a.detach().to('float64');
      let y = b.detach().to('float64');
      if (method === 'spearman') {
        x = rankColumns(x);
        y = rankColumns(y);
      }
      const xc = x.sub(x.mean(0, { keepdim: true }));
      const yc = y.sub(y.mean(0, { keepdim: true }));
      const nx = xc.norm(2, 0);
      const ny = yc.norm(2, 0);
      const denom = nx.unsqueeze(1).mul(ny.unsqueeze(0));
      const cov = xc.t().matmul(yc);
      return cov.div(denom.clampMin(1e-300)).maskedFill(denom.eq(0), 0);
    }),
  );
}

export interface MccResult {
  /** Mean of the matched absolute correlations. */
  mcc: number;
  /** For each matched pair, the true-source index, the recovered index and |corr|. */
  pairs: { source: number; latent: number; corr: number }[];
  /** The full |correlation| matrix [sources × latents]. */
  matrix: number[][];
}

/**
 * MCC between true sources s [N, d] and recovered latents z [N, k]: min(d, k) pairs matched to
 * maximise the total absolute correlation.
 */
export function mccDetails(s: Tensor, z: Tensor, opts: { method?: CorrelationMethod } = {}): MccResult {
  const matrix = tidy(
    () =>
      crossCorrelation(s, z, opts.method ?? 'pearson')
        .abs()
        .toArray() as number[][],
  );
  const { rowInd, colInd, total } = linearSumAssignment(matrix, { maximize: true });
  const pairs = rowInd.map((r, k) => ({ source: r, latent: colInd[k], corr: matrix[r][colInd[k]] }));
  return { mcc: pairs.length === 0 ? 0 : total / pairs.length, pairs, matrix };
}

/** The mean correlation coefficient of recovered latents z against true sources s (both [N, ·]). */
export function meanCorrCoef(s: Tensor, z: Tensor, opts: { method?: CorrelationMethod } = {}): number {
  return mccDetails(s, z, opts).mcc;
}
