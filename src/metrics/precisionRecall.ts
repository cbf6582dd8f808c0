// Improved precision and recall (Kynkäänniemi et al. 2019). Each feature set approximates its
// manifold by balls around its points, each reaching the point's k-th nearest neighbour in the
// same set. Precision: the share of generated points inside the real manifold. Recall: the share
// of real points inside the generated manifold.
import { noGrad } from '../torch/autograd.js';
import { cat, cdist } from '../torch/functions.js';
import * as ops from '../torch/generated/ops.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';

export interface PrecisionRecallOptions {
  /** Neighbour that sets each ball's radius; 3 in the paper. */
  k?: number;
  /** Rows per distance block, to bound memory (a block is batchSize × N float64 values). */
  batchSize?: number;
}

/** Precision and recall of generated features [M, D] against real features [N, D]. */
export function precisionRecall(
  real: Tensor,
  generated: Tensor,
  opts: PrecisionRecallOptions = {},
): { precision: number; recall: number } {
  const k = opts.k ?? 3;
  const batchSize = opts.batchSize ?? 1024;
  if (real.ndim !== 2 || generated.ndim !== 2 || real.size(1) !== generated.size(1)) {
    throw new Error(
      `precisionRecall: expects [N, D] and [M, D] features, got [${real.shape}] and [${generated.shape}]`,
    );
  }
  for (const [name, t] of [
    ['real', real],
    ['generated', generated],
  ] as const) {
    if (t.size(0) <= k)
      throw new Error(`precisionRecall: ${name} set needs more than k = ${k} points, got ${t.size(0)}`);
  }
  return noGrad(() =>
    tidy(() => {
      const r = real.detach().to('float64');
      const g = generated.detach().to('float64');
      const realRadii = kthNeighbourRadii(r, k, batchSize);
      const genRadii = kthNeighbourRadii(g, k, batchSize);
      return {
        precision: coveredFraction(g, r, realRadii, batchSize),
        recall: coveredFraction(r, g, genRadii, batchSize),
      };
    }),
  );
}

/** Distance from each point to its k-th nearest neighbour in the same set (itself excluded). */
export function kthNeighbourRadii(x: Tensor, k: number, batchSize = 1024): Tensor {
  return tidy(() => {
    const parts: Tensor[] = [];
    for (let start = 0; start < x.size(0); start += batchSize) {
      const rows = x.narrow(0, start, Math.min(batchSize, x.size(0) - start));
      // The point itself is the smallest distance (0), so the k-th neighbour is the (k+1)-th value.
      parts.push(tidy(() => ops.kthvalue(cdist(rows, x), k + 1, { dim: 1 })[0]));
    }
    return cat(parts);
  });
}

/** Share of the query points that fall in at least one ball (centre, radius) of the reference set. */
export function coveredFraction(query: Tensor, centres: Tensor, radii: Tensor, batchSize = 1024): number {
  return tidy(() => {
    let inside = 0;
    for (let start = 0; start < query.size(0); start += batchSize) {
      const rows = query.narrow(0, start, Math.min(batchSize, query.size(0) - start));
      inside += tidy(() =>
        ops
          .any_dim(cdist(rows, centres).le(radii.unsqueeze(0)), 1)
          .sum()
          .item(),
      );
    }
    return inside / query.size(0);
  });
}
