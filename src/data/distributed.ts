// Data for distributed training: each rank reads its own disjoint shard of every epoch.
//
// DistributedSampler follows PyTorch's: epoch e's order is one seeded permutation shared by all
// ranks, cut to a multiple of the world size (the tail is dropped, PyTorch's drop_last=True, so
// every rank takes the same number of steps), and rank r takes positions r, r + W, r + 2W, … So the
// W batches of step t together are exactly batch t of one process with a W times larger batch, and
// W ranks with batch B train on what one rank with batch W·B would.

import type { Dataset } from './dataset.js';
import { DataError } from './errors.js';
import { DataLoader, type LoaderOptions, type LoaderState } from './loader.js';
import { deriveSeed, Rng } from './rng.js';

export interface DistributedSamplerOptions {
  /** Number of ranks (getWorldSize()). */
  numReplicas: number;
  /** This rank, in [0, numReplicas) (getRank()). */
  rank: number;
  /** Shuffle every epoch with `seed` (default true, as PyTorch). */
  shuffle?: boolean;
  seed?: number;
}

/** The indices each rank visits in each epoch: seeded, disjoint across ranks, equal in number. */
export class DistributedSampler {
  readonly numReplicas: number;
  readonly rank: number;
  readonly shuffle: boolean;
  readonly seed: number;
  /** Examples per rank and epoch. */
  readonly numSamples: number;
  private cached: { epoch: number; indices: Int32Array } | null = null;

  constructor(
    readonly length: number,
    opts: DistributedSamplerOptions,
  ) {
    const { numReplicas, rank } = opts;
    if (!Number.isInteger(numReplicas) || numReplicas < 1)
      throw new DataError(`DistributedSampler: bad numReplicas ${numReplicas}`);
    if (!Number.isInteger(rank) || rank < 0 || rank >= numReplicas) {
      throw new DataError(`DistributedSampler: rank ${rank} is not in [0, ${numReplicas})`);
    }
    this.numReplicas = numReplicas;
    this.rank = rank;
    this.shuffle = opts.shuffle ?? true;
    this.seed = opts.seed ?? 0;
    this.numSamples = Math.floor(length / numReplicas);
    if (this.numSamples === 0) throw new DataError(`DistributedSampler: ${length} examples for ${numReplicas} ranks`);
  }

  /** The dataset indices this rank visits in epoch `epoch`, in order. */
  indices(epoch: number): Int32Array {
    if (this.cached?.epoch === epoch) return this.cached.indices;
    let order: Int32Array;
    if (this.shuffle) order = new Rng(deriveSeed(this.seed, epoch)).permutation(this.length);
    else order = Int32Array.from({ length: this.length }, (_, i) => i);
    const mine = new Int32Array(this.numSamples);
    for (let k = 0; k < this.numSamples; k++) mine[k] = order[this.rank + k * this.numReplicas];
    this.cached = { epoch, indices: mine };
    return mine;
  }
}

/** The position of a distributed loader: a DataLoader's, plus the world size it was saved at. */
export interface DistributedLoaderState extends LoaderState {
  worldSize?: number;
}

/**
 * A DataLoader over one rank's shard (batchSize is per rank). Its saved position can be restored at
 * another world size: the examples already seen in the epoch are counted globally and mapped to
 * this world size's batches.
 */
export class DistributedLoader extends DataLoader {
  readonly sampler: DistributedSampler;

  constructor(
    dataset: Dataset,
    opts: Omit<LoaderOptions, 'shuffle'> & DistributedSamplerOptions & { shuffle?: boolean },
  ) {
    const sampler = new DistributedSampler(dataset.length, { ...opts, seed: opts.seed ?? 0 });
    // The base class takes its order from order() below; its own shuffle stays off.
    pendingSampler = sampler;
    try {
      super(dataset, { ...opts, shuffle: false });
    } finally {
      pendingSampler = null;
    }
    this.sampler = sampler;
  }

  private get shard(): DistributedSampler {
    // During the base constructor the field is not assigned yet.
    return this.sampler ?? (pendingSampler as DistributedSampler);
  }

  override get batchesPerEpoch(): number {
    const n = this.shard.numSamples;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  override order(epoch: number): Int32Array {
    return this.shard.indices(epoch);
  }

  override state(): DistributedLoaderState {
    return { ...super.state(), shuffle: this.shard.shuffle, worldSize: this.shard.numReplicas };
  }

  override setState(s: DistributedLoaderState): void {
    const saved = s.worldSize ?? 1;
    // Examples of the epoch already used by all ranks together, in this world size's batches.
    const seen = s.batch * s.batchSize * saved;
    const batch = Math.floor(seen / (this.batchSize * this.shard.numReplicas));
    const mine = this.state();
    for (const key of ['seed', 'length'] as const) {
      if (s[key] !== mine[key])
        throw new DataError(
          `DistributedLoader.setState: saved ${key} ${s[key]} differs from this loader's ${mine[key]}`,
        );
    }
    super.setState({ ...mine, epoch: s.epoch, batch: Math.min(batch, this.batchesPerEpoch - 1) });
  }
}

let pendingSampler: DistributedSampler | null = null;
