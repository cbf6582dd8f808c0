// Datasets: the item-by-item protocol, and in-memory tensor datasets that gather whole batches at once.
import { tensor } from '../torch/creation.js';
import { isFloating } from '../torch/dtype.js';
import { indexSelectDivide, stack } from '../torch/functions.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';

/** One example: features (a flat Float32Array or a tensor) and its label or target (a number). */
export interface Item {
  x: Float32Array | Tensor;
  y: number;
}

/**
 * A batch: x is [B, ...item shape]; y is [B, ...] (int64 class labels for genlab's data sets, zeros
 * when a data set has none); `rest` holds the batch of each further tensor of a TensorDataset made
 * from more than two, in order.
 */
export interface Batch {
  x: Tensor;
  y: Tensor;
  rest?: Tensor[];
}

/** Anything indexable. `shape` is the item shape (used to shape Float32Array items into batches). */
export interface Dataset {
  readonly length: number;
  get(i: number): Item;
  readonly shape?: number[];
}

/** A dataset that can build a batch from an index tensor in one gather; the DataLoader prefers this. */
export interface BatchedDataset extends Dataset {
  batch(indices: Tensor): Batch;
}

export function isBatched(d: Dataset): d is BatchedDataset {
  return typeof (d as Partial<BatchedDataset>).batch === 'function';
}

export interface TensorDatasetOptions {
  /**
   * When set, x is stored as is (e.g. uint8 levels) and batches come out as float32 x / divisor.
   * Dividing (not multiplying by 1/divisor) makes each value the correctly rounded float32, and the top level exactly 1.
   */
  divisor?: number;
  /** Names of the classes, indexed by label. */
  classes?: string[];
  name?: string;
  /**
   * Whether the dataset owns the tensors it is given: keeps them past every tidy() scope and frees them
   * in dispose(). Default: true when an options object is given (the `(x, y, options)` form genlab's
   * own loaders use), false for the bare form `new TensorDataset(a, b, …)`, which, like PyTorch's,
   * only refers to the caller's tensors.
   */
  own?: boolean;
}

function isTensorArg(v: unknown): v is Tensor {
  return typeof v === 'object' && v !== null && typeof (v as Tensor).indexSelect === 'function';
}

/**
 * Examples held as tensors that share their first dimension, like PyTorch's `TensorDataset(*tensors)`:
 * `new TensorDataset(x)`, `new TensorDataset(x, y)`, `new TensorDataset(x, y, w, …)`, each optionally
 * followed by an options object. x is the first tensor and y the second (int64 zeros when there is
 * none); batches take one index_select per tensor and keep every dtype (float regression targets stay
 * float; an [N, k] target gives [B, k]). Further tensors come out in `Batch.rest`.
 *
 * Ownership: the caller keeps its tensors (and must keep them alive while the dataset is used) unless
 * the dataset owns them (option `own`; the default with an options object, see TensorDatasetOptions).
 * A dataset that owns its tensors keeps them outside tidy scopes until dispose().
 */
export class TensorDataset implements BatchedDataset {
  readonly x: Tensor;
  readonly y: Tensor;
  /** The tensors the dataset was given, in order (x, then y when given, then the rest). */
  readonly tensors: readonly Tensor[];
  readonly divisor: number | undefined;
  readonly classes: string[] | undefined;
  readonly name: string;
  /** Whether dispose() frees `tensors`. */
  readonly owns: boolean;
  /** The zero labels made for a dataset given no y; always the dataset's own. */
  private readonly madeY: Tensor | null;

  constructor(...tensors: [Tensor, ...Tensor[]]);
  constructor(x: Tensor, y: Tensor | undefined, opts: TensorDatasetOptions);
  constructor(...args: [Tensor, ...Tensor[], TensorDatasetOptions]);
  constructor(...given: (Tensor | TensorDatasetOptions | undefined)[]) {
    // An options argument passed as undefined is no options.
    const args = given.slice();
    while (args.length > 1 && args[args.length - 1] === undefined) args.pop();
    const last = args[args.length - 1];
    const hasOpts = args.length > 1 && last !== undefined && !isTensorArg(last);
    const opts = (hasOpts ? last : {}) as TensorDatasetOptions;
    let list = (hasOpts ? args.slice(0, -1) : args) as (Tensor | undefined)[];
    // (x, undefined, options): the older form of a dataset without labels.
    if (list.length === 2 && list[1] === undefined) list = list.slice(0, 1);
    list.forEach((t, i) => {
      if (!isTensorArg(t)) throw new TypeError(`TensorDataset: argument ${i} is not a Tensor`);
    });
    const ts = list as Tensor[];
    if (ts.length === 0) throw new TypeError('TensorDataset: give at least one tensor');
    const name = opts.name ?? 'tensors';
    const n = ts[0].ndim < 1 ? -1 : ts[0].shape[0];
    if (n < 0) throw new Error(`${name}: TensorDataset: x must have a leading example dimension`);
    ts.forEach((t, i) => {
      if (t.ndim < 1 || t.shape[0] !== n) {
        const which = i === 1 ? 'y' : `tensor ${i}`;
        throw new Error(`${name}: TensorDataset: ${which} has shape [${t.shape}] but x holds ${n} examples`);
      }
    });
    this.owns = opts.own ?? hasOpts;
    if (this.owns) for (const t of ts) t.keep();
    this.tensors = ts;
    this.x = ts[0];
    this.madeY = ts.length > 1 ? null : tensor(new BigInt64Array(n)).keep();
    this.y = ts[1] ?? (this.madeY as Tensor);
    this.divisor = opts.divisor;
    this.classes = opts.classes;
    this.name = name;
  }

  get length(): number {
    return this.x.shape[0];
  }

  /** The item shape. */
  get shape(): number[] {
    return this.x.shape.slice(1);
  }

  /** Example i with y as a number; only for datasets whose y holds one value per example. */
  get(i: number): Item {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) {
      throw new RangeError(`${this.name}: index ${i} out of range for ${this.length} examples`);
    }
    if (this.y.ndim !== 1) {
      throw new Error(`${this.name}: get(): y holds [${this.y.shape.slice(1)}] per example, not a number; use batch()`);
    }
    return tidy(() => {
      const x = this.convert(this.x.select(0, i)).contiguous();
      return { x: x.toTypedArray() as Float32Array, y: Number(this.y.select(0, i).item()) };
    });
  }

  batch(indices: Tensor): Batch {
    // No tidy() of its own (this runs every step, and a scope costs more than the gather itself):
    // the one temporary, the gathered unconverted rows, is freed here. Integer levels with a divisor
    // take the fused gather-and-divide, which makes no temporary at all.
    let x: Tensor;
    if (this.divisor !== undefined && !isFloating(this.x.dtype)) x = indexSelectDivide(this.x, indices, this.divisor);
    else {
      const raw = this.x.indexSelect(0, indices);
      x = this.convert(raw);
      if (x !== raw) raw.dispose();
    }
    const b: Batch = { x, y: this.y.indexSelect(0, indices) };
    if (this.tensors.length > 2) b.rest = this.tensors.slice(2).map((t) => t.indexSelect(0, indices));
    return b;
  }

  /** The labels as a JS array; y must hold one integer label per example. */
  labels(): Int32Array {
    if (this.y.ndim !== 1 || isFloating(this.y.dtype)) {
      throw new Error(`${this.name}: labels(): y is ${this.y.dtype} [${this.y.shape}], not integer class labels`);
    }
    return Int32Array.from(this.y.toTypedArray() as ArrayLike<number | bigint>, Number);
  }

  /** A new dataset holding copies of the chosen examples, in the given order; it owns the copies. */
  subset(indices: ArrayLike<number>): this {
    return tidy(() => {
      const idx = tensor(Int32Array.from(indices));
      return this.withTensors(this.tensors.map((t) => t.indexSelect(0, idx)));
    });
  }

  /** Frees the tensors the dataset owns (the zero labels it made; the given tensors when it owns them). */
  dispose(): void {
    this.madeY?.dispose();
    if (this.owns) for (const t of this.tensors) t.dispose();
  }

  /** Subclasses return their own kind so subset() keeps metadata; the new dataset owns `tensors`. */
  protected withTensors(tensors: Tensor[]): this {
    const opts = { divisor: this.divisor, classes: this.classes, name: this.name, own: true };
    return new TensorDataset(...(tensors as [Tensor, ...Tensor[]]), opts) as this;
  }

  protected convert(x: Tensor): Tensor {
    if (this.divisor === undefined) return x;
    // True division of an integer tensor yields float32 in one op; other floats convert first.
    const d = x.dtype;
    return (d === 'float32' || !isFloating(d) ? x : x.to('float32')).div(this.divisor);
  }
}

export interface ImageDatasetOptions {
  /** Grey levels per channel: 256 for 8-bit images, 17 for the UCI digits. */
  levels: number;
  classes?: string[];
  name?: string;
  /** Whether the dataset owns (keeps, and frees in dispose()) the tensors; default true. */
  own?: boolean;
}

/**
 * Images kept as integer levels (uint8 [N, C, H, W]); batches are float32 in [0, 1], i.e. level/(levels−1).
 * Keeping uint8 makes Fashion-MNIST 47 MB instead of 188 MB.
 */
export class ImageDataset extends TensorDataset {
  readonly levels: number;

  constructor(raw: Tensor, labels: Tensor, opts: ImageDatasetOptions) {
    if (raw.ndim !== 4) throw new Error(`ImageDataset: images must be [N, C, H, W], got [${raw.shape}]`);
    super(raw, labels, {
      divisor: opts.levels - 1,
      classes: opts.classes,
      name: opts.name ?? 'images',
      own: opts.own ?? true,
    });
    this.levels = opts.levels;
  }

  /** The integer levels, uint8 [N, C, H, W] (owned by the dataset: don't dispose). */
  get raw(): Tensor {
    return this.x;
  }

  /** All images as a new float32 [N, C, H, W] tensor in [0, 1]. */
  images(): Tensor {
    return this.convert(this.x);
  }

  protected override withTensors(tensors: Tensor[]): this {
    const [x, y] = tensors;
    return new ImageDataset(x, y, { levels: this.levels, classes: this.classes, name: this.name }) as this;
  }
}

/** Stacks items from any Dataset into a batch (the slow path, for datasets without batch()). */
export function collate(dataset: Dataset, indices: ArrayLike<number>): Batch {
  return tidy(() => {
    const n = indices.length;
    const ys = new BigInt64Array(n);
    const items: Item[] = [];
    for (let k = 0; k < n; k++) {
      const it = dataset.get(indices[k]);
      items.push(it);
      ys[k] = BigInt(it.y);
    }
    const y = tensor(ys);
    if (n > 0 && !(items[0].x instanceof Float32Array)) return { x: stack(items.map((it) => it.x as Tensor)), y };
    const shape = dataset.shape ?? [n > 0 ? (items[0].x as Float32Array).length : 0];
    const size = shape.reduce((a, b) => a * b, 1);
    const flat = new Float32Array(n * size);
    items.forEach((it, k) => {
      const x = it.x as Float32Array;
      if (x.length !== size) throw new Error(`collate: item ${indices[k]} has ${x.length} values, expected ${size}`);
      flat.set(x, k * size);
    });
    return { x: tensor(flat, { shape: [n, ...shape] }), y };
  });
}
