// A training step's random draws and whole-batch terms under data parallelism (genlab launch).
//
// With W ranks of batch B, rank r's batch holds rows r, r + W, r + 2W, … of the global batch of W·B
// that one process with batch W·B would take (the DistributedSampler's strided shards). So that the
// W ranks also draw what that one process would, a per-example draw (noise, times, including
// low-discrepancy ones that depend on the batch size) is made for the whole global batch, from the
// generator state every rank shares (all are seeded alike and draw alike), and each rank keeps its
// rows. A term over the whole batch (a mean that scales a gradient, a logged loss) is all-reduced.
// With one rank every function here is the plain code path: draw(B), and no collective.

import { allReduce, getRank, getWorldSize } from '../torch/distributed.js';
import type { Tensor } from '../torch/tensor.js';

/** Which part of a step's global batch this process holds. */
export interface BatchShard {
  readonly rank: number;
  readonly worldSize: number;
}

/** This process's shard: its rank and the world size of the default group (0 of 1 without one). */
export function batchShard(): BatchShard {
  return { rank: getRank(), worldSize: getWorldSize() };
}

/**
 * `draw(rows)` as one process with the global batch would make it, cut to this rank's rows: with W
 * ranks, `draw(rows·W)` (dimension 0 indexes examples) and rows r, r + W, …; with one, `draw(rows)`.
 * Every rank must call it at the same point of its step, with the same generator state.
 */
export function shardRows(shard: BatchShard | undefined, rows: number, draw: (rows: number) => Tensor): Tensor {
  if (shard === undefined || shard.worldSize === 1) return draw(rows);
  const { rank, worldSize } = shard;
  const all = draw(rows * worldSize);
  // Global row j·W + r is [j, r] of a [rows, W, …] view.
  return all
    .reshape([rows, worldSize, ...all.shape.slice(1)])
    .select(1, rank)
    .contiguous();
}

/**
 * Turns this rank's means over its shard into the global batch's means, in place (an all-reduced
 * average: the shards have equal sizes). With one rank, `means` as it is, without a collective.
 */
export async function globalMeans(shard: BatchShard | undefined, means: Tensor): Promise<Tensor> {
  if (shard !== undefined && shard.worldSize > 1) await allReduce(means, 'avg');
  return means;
}
