// Datasets: the item-by-item protocol, and in-memory tensor datasets that gather whole batches at once.
import { tensor } from '../torch/creation.js';
import { isFloating } from '../torch/dtype.js';
import { stack } from '../torch/functions.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';

/** One example: features (a flat Float32Array or a tensor) and an integer label. */
export interface Item {
  x: Float32Array | Tensor;
  y: number;
}

/** A batch: x is [B, ...item shape], y is int64 [B]. */
export interface Batch {
  x: Tensor;
  y: Tensor;
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
}

/**
 * Examples held as one tensor x [N, ...] and labels y [N]; batches are one index_select each.
 * The dataset owns its tensors (they are kept outside tidy scopes) until dispose().
 */
export class TensorDataset implements BatchedDataset {
  readonly x: Tensor;
  readonly y: Tensor;
  readonly divisor: number | undefined;
  readonly classes: string[] | undefined;
  readonly name: string;

  constructor(x: Tensor, y?: Tensor, opts: TensorDatasetOptions = {}) {
    const n = x.shape[0];
    if (x.ndim < 1) throw new Error('TensorDataset: x must have a leading example dimension');
    if (y && (y.ndim !== 1 || y.shape[0] !== n)) {
      throw new Error(`TensorDataset: y has shape [${y.shape}] but x holds ${n} examples`);
    }
    this.x = x.keep();
    let labels = y ?? tensor(new BigInt64Array(n));
    if (labels.dtype !== 'int64') {
      const given = labels;
      labels = given.to('int64');
      given.dispose(); // the dataset owns what it was given
    }
    this.y = labels.keep();
    this.divisor = opts.divisor;
    this.classes = opts.classes;
    this.name = opts.name ?? 'tensors';
  }

  get length(): number {
    return this.x.shape[0];
  }

  /** The item shape. */
  get shape(): number[] {
    return this.x.shape.slice(1);
  }

  get(i: number): Item {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) {
      throw new RangeError(`${this.name}: index ${i} out of range for ${this.length} examples`);
    }
    return tidy(() => {
      const x = this.convert(this.x.select(0, i)).contiguous();
      return { x: x.toTypedArray() as Float32Array, y: Number(this.y.select(0, i).item()) };
    });
  }

  batch(indices: Tensor): Batch {
    return tidy(() => ({ x: this.convert(this.x.indexSelect(0, indices)), y: this.y.indexSelect(0, indices) }));
  }

  /** The labels as a JS array. */
  labels(): Int32Array {
    return Int32Array.from(this.y.toTypedArray() as BigInt64Array, Number);
  }

  /** A new dataset holding copies of the chosen examples, in the given order. */
  subset(indices: ArrayLike<number>): this {
    return tidy(() => {
      const idx = tensor(Int32Array.from(indices));
      return this.withTensors(this.x.indexSelect(0, idx), this.y.indexSelect(0, idx));
    });
  }

  dispose(): void {
    this.x.dispose();
    this.y.dispose();
  }

  /** Subclasses return their own kind so subset() keeps metadata. */
  protected withTensors(x: Tensor, y: Tensor): this {
    return new TensorDataset(x, y, { divisor: this.divisor, classes: this.classes, name: this.name }) as this;
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
}

/**
 * Images kept as integer levels (uint8 [N, C, H, W]); batches are float32 in [0, 1], i.e. level/(levels−1).
 * Keeping uint8 makes Fashion-MNIST 47 MB instead of 188 MB.
 */
export class ImageDataset extends TensorDataset {
  readonly levels: number;

  constructor(raw: Tensor, labels: Tensor, opts: ImageDatasetOptions) {
    if (raw.ndim !== 4) throw new Error(`ImageDataset: images must be [N, C, H, W], got [${raw.shape}]`);
    super(raw, labels, { divisor: opts.levels - 1, classes: opts.classes, name: opts.name ?? 'images' });
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

  protected override withTensors(x: Tensor, y: Tensor): this {
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
