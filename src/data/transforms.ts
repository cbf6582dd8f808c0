// Batch transforms for DataLoader. Each takes the randomness it needs from the context's generator,
// so augmented batches are reproducible and resume exactly.
import { rand, randLike } from '../torch/creation.js';
import { where } from '../torch/functions.js';
import type { Batch } from './dataset.js';
import type { BatchTransform } from './loader.js';

/** Mirrors each image left–right with probability p (x is [B, C, H, W]). */
export function randomHorizontalFlip(p = 0.5): BatchTransform {
  return ({ x, y }, { generator }) => {
    const mask = rand([x.shape[0], 1, 1, 1], { generator }).lt(p);
    return { x: where(mask, x.flip(-1), x), y };
  };
}

/**
 * Uniform dequantisation for likelihood models: x in [0, 1] holding `levels` grey levels becomes
 * (level + u) / levels with u ~ U[0, 1), a continuous value in [0, 1).
 */
export function dequantize(levels: number): BatchTransform {
  return ({ x, y }, { generator }) => {
    const u = randLike(x, { generator });
    return {
      x: x
        .mul(levels - 1)
        .round()
        .add(u)
        .div(levels),
      y,
    };
  };
}

/** Maps [0, 1] linearly onto [lo, hi], e.g. [-1, 1] for diffusion models. */
export function rescale(lo: number, hi: number): BatchTransform {
  return ({ x, y }) => ({ x: x.mul(hi - lo).add(lo), y });
}

/** Flattens each example to a vector: [B, ...] → [B, D]. */
export function flatten(): BatchTransform {
  return ({ x, y }: Batch) => ({ x: x.flatten(1), y });
}
