// DataLoader: seeded, resumable batching over a Dataset.
//
// The order of epoch e is a pure function of (seed, e), and a transform's randomness is seeded from
// (seed, epoch, batch). So the loader's whole position is three integers, saved as JSON, and a
// restored loader yields bit-for-bit the batches the interrupted one would have.
import { tensor } from '../torch/creation.js';
import { Generator } from '../torch/random.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import * as tensorModule from '../torch/tensor.js';
import { type Batch, collate, type Dataset, isBatched } from './dataset.js';
import { DataError } from './errors.js';
import { deriveSeed, Rng } from './rng.js';

/** What a transform may use: a torch Generator already seeded for this batch, and where it is. */
export interface TransformContext {
  generator: Generator;
  epoch: number;
  batch: number;
}

/** Maps a whole batch; runs inside tidy(), so intermediate tensors are freed. */
export type BatchTransform = (batch: Batch, ctx: TransformContext) => Batch;

export interface LoaderOptions {
  batchSize: number;
  /** Reshuffle every epoch (default false, as in PyTorch). */
  shuffle?: boolean;
  /** Skip the last, smaller batch of an epoch. */
  dropLast?: boolean;
  /** Seed of the order and of transforms (default 0). */
  seed?: number;
  transform?: BatchTransform | BatchTransform[];
}

/** The loader's position, JSON-able; the settings are stored to refuse a mismatched resume. */
export interface LoaderState {
  seed: number;
  epoch: number;
  /** Batches already produced in this epoch. */
  batch: number;
  length: number;
  batchSize: number;
  shuffle: boolean;
  dropLast: boolean;
}

/** Whether the garbage collector alone owns t: made outside every scope, and not kept. */
function ownedByGc(t: Tensor): boolean {
  // The torch layer's accessor where it has one; before it, Tensor's numeric state (1: backstop).
  const accessor = (tensorModule as unknown as { tensorState?: (t: Tensor) => string }).tensorState;
  if (typeof accessor === 'function') return accessor(t) === 'gc';
  return (t as unknown as { state?: number }).state === 1;
}

/** Frees the tensors of a batch that nobody else frees: not a scope's, not kept. */
function release(b: Batch): void {
  for (const t of [b.x, b.y, ...(b.rest ?? [])]) if (!t.isDisposed && ownedByGc(t)) t.dispose();
}

// Distinguishes the transform stream from the order stream derived from the same seed.
const TRANSFORM_STREAM = 0x7472;

/**
 * Two ways to take batches:
 * - `next()` yields batches forever across epochs (for step-based training). Its batch belongs to
 *   the caller: call next() inside the training step's tidy(), or dispose the batch.
 * - Iterating (`for (const {x, y} of loader)`) yields the rest of the current epoch, then moves to
 *   the next. As in PyTorch, a batch lives until the loop takes the next one: when it is made outside
 *   every tidy() scope, the loader frees its tensors when the next batch is taken or the loop ends
 *   (also by break or throw), unless they were kept with keep(). So
 *   `for (const {x, y} of loader) tidy(() => step(x, y))` holds one batch at a time. Inside a tidy()
 *   the scope owns the batches, as it owns any tensor made there, and frees them when it ends.
 *   To hold on to a batch past its turn, keep() its tensors (then dispose them) or use next().
 */
export class DataLoader implements Iterable<Batch> {
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly seed: number;
  private readonly transforms: BatchTransform[];
  private _epoch = 0;
  private _batch = 0;
  private cached: { epoch: number; order: Int32Array } | null = null;
  // The epoch's order as an int64 tensor, narrowed per batch (index_select is fastest with int64 indices).
  private orderTensor: { epoch: number; t: Tensor } | null = null;
  private generator: Generator | null = null;

  constructor(dataset: Dataset, opts: LoaderOptions) {
    const { batchSize } = opts;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`DataLoader: bad batchSize ${batchSize}`);
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = opts.shuffle ?? false;
    this.dropLast = opts.dropLast ?? false;
    this.seed = opts.seed ?? 0;
    if (!Number.isSafeInteger(this.seed) || this.seed < 0) throw new Error(`DataLoader: bad seed ${this.seed}`);
    this.transforms = opts.transform === undefined ? [] : [opts.transform].flat();
    if (this.batchesPerEpoch === 0) {
      throw new Error(`DataLoader: ${dataset.length} examples give no batch of ${batchSize} with dropLast`);
    }
  }

  get batchesPerEpoch(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** Same as batchesPerEpoch, like len(DataLoader). */
  get length(): number {
    return this.batchesPerEpoch;
  }

  get epoch(): number {
    return this._epoch;
  }

  /** Batches already produced in the current epoch. */
  get batchIndex(): number {
    return this._batch;
  }

  /** The order in which epoch `epoch` visits the examples. */
  order(epoch: number): Int32Array {
    if (this.cached?.epoch === epoch) return this.cached.order;
    const n = this.dataset.length;
    let order: Int32Array;
    if (this.shuffle) order = new Rng(deriveSeed(this.seed, epoch)).permutation(n);
    else {
      order = new Int32Array(n);
      for (let i = 0; i < n; i++) order[i] = i;
    }
    this.cached = { epoch, order };
    return order;
  }

  /** The next batch, moving to the next epoch after the last batch of this one. */
  next(): Batch {
    const epoch = this._epoch;
    const b = this._batch;
    const start = b * this.batchSize;
    const count = Math.min(this.batchSize, this.dataset.length - start);
    // Advance first so a throwing transform does not replay the same batch forever.
    this._batch++;
    if (this._batch >= this.batchesPerEpoch) {
      this._epoch++;
      this._batch = 0;
    }
    if (this.transforms.length === 0 && isBatched(this.dataset)) {
      // The common case without a scope of its own: the index view is the only temporary.
      const sel = this.epochIndices(epoch).narrow(0, start, count);
      const batch = this.dataset.batch(sel);
      if (batch.x !== sel && batch.y !== sel && !batch.rest?.includes(sel)) sel.dispose();
      return batch;
    }
    return tidy(() => {
      let batch: Batch;
      if (isBatched(this.dataset)) {
        batch = this.dataset.batch(this.epochIndices(epoch).narrow(0, start, count));
      } else batch = collate(this.dataset, this.order(epoch).subarray(start, start + count));
      const rest = batch.rest;
      if (this.transforms.length > 0) {
        this.generator ??= new Generator(0);
        this.generator.manualSeed(deriveSeed(this.seed, epoch, b, TRANSFORM_STREAM));
        for (const t of this.transforms) batch = t(batch, { generator: this.generator, epoch, batch: b });
        // Transforms map x and y; a dataset's further tensors pass through unless a transform set them.
        if (rest !== undefined && batch.rest === undefined) batch = { x: batch.x, y: batch.y, rest };
      }
      return batch;
    });
  }

  private epochIndices(epoch: number): Tensor {
    if (this.orderTensor?.epoch !== epoch) {
      this.orderTensor?.t.dispose();
      const t = tidy(() => tensor(this.order(epoch)).to('int64').keep());
      this.orderTensor = { epoch, t };
    }
    return this.orderTensor.t;
  }

  /** Frees the cached index tensor (the dataset is not the loader's to free). */
  dispose(): void {
    this.orderTensor?.t.dispose();
    this.orderTensor = null;
  }

  /** Yields the remaining batches of the current epoch; see the class comment for who frees them. */
  *[Symbol.iterator](): Iterator<Batch> {
    const epoch = this._epoch;
    let previous: Batch | null = null;
    try {
      while (this._epoch === epoch) {
        // The loop asked for another batch: it is done with the previous one. Free it first, so two
        // batches never coexist.
        if (previous !== null) release(previous);
        previous = this.next();
        yield previous;
      }
    } finally {
      if (previous !== null) release(previous);
    }
  }

  state(): LoaderState {
    return {
      seed: this.seed,
      epoch: this._epoch,
      batch: this._batch,
      length: this.dataset.length,
      batchSize: this.batchSize,
      shuffle: this.shuffle,
      dropLast: this.dropLast,
    };
  }

  /** Restores a position from state(); refuses one saved with other data or settings. */
  setState(s: LoaderState): void {
    const mine = this.state();
    for (const key of ['seed', 'length', 'batchSize', 'shuffle', 'dropLast'] as const) {
      if (s[key] !== mine[key]) {
        throw new DataError(`DataLoader.setState: saved ${key} ${s[key]} differs from this loader's ${mine[key]}`);
      }
    }
    if (!Number.isInteger(s.epoch) || s.epoch < 0 || !Number.isInteger(s.batch) || s.batch < 0) {
      throw new DataError(`DataLoader.setState: bad position epoch ${s.epoch}, batch ${s.batch}`);
    }
    if (s.batch >= this.batchesPerEpoch) {
      throw new DataError(`DataLoader.setState: batch ${s.batch} is past the ${this.batchesPerEpoch} of an epoch`);
    }
    this._epoch = s.epoch;
    this._batch = s.batch;
  }
}
