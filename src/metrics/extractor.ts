// The network behind FID and IS is pluggable: any object with these two methods will do.
import { inferenceMode } from '../torch/autograd.js';
import { cat } from '../torch/functions.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';

/** A feature network for sample-quality metrics, e.g. a small classifier trained on the data. */
export interface FeatureExtractor {
  /** Embedding [N, D] used by FID and precision/recall. */
  features(x: Tensor): Tensor;
  /** Class probabilities [N, K] (rows sum to 1) used by the Inception Score. */
  probs(x: Tensor): Tensor;
}

/**
 * Runs `extractor[kind]` over x in batches under inference mode (no autograd records at all) and
 * joins the rows outside it, so the caller gets an ordinary tensor.
 */
export function extractBatched(
  extractor: FeatureExtractor,
  x: Tensor,
  kind: 'features' | 'probs',
  opts: { batchSize?: number } = {},
): Tensor {
  const batchSize = opts.batchSize ?? 256;
  return tidy(() => {
    const parts: Tensor[] = [];
    inferenceMode(() => {
      for (let start = 0; start < x.size(0); start += batchSize) {
        const rows = x.narrow(0, start, Math.min(batchSize, x.size(0) - start));
        parts.push(tidy(() => extractor[kind](rows).detach()));
      }
    });
    return cat(parts);
  });
}
