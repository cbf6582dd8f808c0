// The Tensor class: a handle to a libtorch tensor, with PyTorch's methods in camelCase.
import {
  type Device,
  type DType,
  dtypeCode,
  dtypeName,
  type MemoryFormat,
  memoryFormatCode,
  type TypedArray,
  viewBytes,
} from './dtype.js';
import { inGenlabTerms } from './errors.js';
import * as ops from './generated/ops.js';
import { N } from './native.js';
import type { Generator } from './random.js';
import { disposeTracked, keepTracked, track } from './scope.js';

/** A plain number or boolean where an op takes a scalar operand. */
export type Scalar = number | boolean;
/** A number, a boolean or nested arrays of them: what torch.tensor() reads and toArray() gives back. */
export type NestedArray = number | boolean | NestedArray[];

/** Who frees a tensor: its tidy() scope, the garbage collector's backstop, or (after keep()) its owner or the backstop. */
export type TensorState = 'scope' | 'gc' | 'kept';

// Internal accessors for the torch layer (scope, autograd, format, safetensors), assigned in the
// class's static block so they can read its private fields. Not exported from src/torch/index.ts.
/** The addon handle of a tensor (-1 once disposed). Internal to the torch layer. */
export let handle!: (t: Tensor) => number;
/** Internal to scope.ts. */
export let tensorState!: (t: Tensor) => TensorState;
/** Internal to scope.ts. */
export let setTensorState!: (t: Tensor, s: TensorState) => void;
/** Internal to scope.ts: marks a tensor freed (its handle is -1 from now on). */
export let markFreed!: (t: Tensor) => void;
/** For the generated wrappers: a tensor argument as its handle (null and undefined pass through). */
export let th!: (x: Tensor | null | undefined) => number | null | undefined | string;

/**
 * A handle to a libtorch tensor, with PyTorch's methods in camelCase; ops return new tensors unless
 * their name ends in `_` (in place).
 */
export class Tensor {
  /** Index into the addon's tensor table; -1 once disposed. */
  #h: number;
  #state: TensorState;

  /**
   * `new Tensor(t)`: a second handle to the same tensor as t (same data, same autograd identity),
   * owned by the current tidy() scope, or by the garbage collector outside scopes. Subclasses such as
   * nn.Parameter build on it; to make tensors, use torch.tensor(), torch.zeros() and the like.
   */
  constructor(source: Tensor);
  constructor(source: Tensor | number) {
    this.#h = typeof source === 'number' ? source : N.alias(source.#h);
    this.#state = 'scope';
    track(this);
  }

  static {
    handle = (t) => t.#h;
    tensorState = (t) => t.#state;
    setTensorState = (t, s) => {
      t.#state = s;
    };
    markFreed = (t) => {
      t.#h = -1;
    };
    th = (x) => {
      if (x instanceof Tensor) return x.#h;
      return x === null || x === undefined ? x : 'not a tensor';
    };
  }

  // ---- metadata ----
  /** The size of each dimension; [] for a 0-d tensor. */
  get shape(): number[] {
    return N.shape(this.#h);
  }
  /** The size of dimension dim (negative counts from the end), or the whole shape without an argument. */
  size(dim?: number): number;
  size(): number[];
  size(dim?: number): number | number[] {
    const s = N.shape(this.#h);
    if (dim === undefined) return s;
    const d = dim < 0 ? dim + s.length : dim;
    if (d < 0 || d >= s.length) throw new Error(`size(): dimension ${dim} out of range for a ${s.length}-d tensor`);
    return s[d];
  }
  /** The number of dimensions. */
  get ndim(): number {
    return N.dim(this.#h);
  }
  /** The number of dimensions (0 for a scalar tensor), like ndim. */
  dim(): number {
    return N.dim(this.#h);
  }
  /** The number of elements: the product of the shape. */
  numel(): number {
    return N.numel(this.#h);
  }
  /** The element type, such as 'float32'. */
  get dtype(): DType {
    return dtypeName(N.dtype(this.#h));
  }
  /** Where the data lives: 'cpu' or 'cuda:N'. */
  get device(): Device {
    return N.device(this.#h);
  }
  /** The stride of each dimension in elements: how far to step in storage to move one index along it. */
  stride(): number[] {
    return N.strides(this.#h);
  }
  /**
   * Whether the elements lie in storage with no gaps, in row-major order or, given 'channelsLast',
   * in the order [N, H, W, C] of a 4-d [N, C, H, W] tensor.
   */
  isContiguous(memoryFormat: Exclude<MemoryFormat, 'preserve'> = 'contiguous'): boolean {
    return N.isContiguous(this.#h, memoryFormatCode(memoryFormat));
  }
  /** Whether the tensor has been freed. */
  get isDisposed(): boolean {
    return this.#h < 0;
  }

  // ---- memory ----
  /** Frees the libtorch tensor now rather than at the end of its tidy() scope; later use throws. */
  dispose(): void {
    disposeTracked(this);
  }
  /** Frees the tensor at the end of a `using` block, as dispose() does. */
  [Symbol.dispose](): void {
    disposeTracked(this);
  }
  /** Survives enclosing tidy() scopes. */
  keep(): this {
    keepTracked(this);
    return this;
  }

  // ---- autograd ----
  /** Whether autograd records ops on this tensor; settable on leaves. */
  get requiresGrad(): boolean {
    return N.requiresGrad(this.#h);
  }
  set requiresGrad(v: boolean) {
    N.setRequiresGrad(this.#h, v);
  }
  /** Turns gradient recording for this tensor on (or off, with false) in place; returns the tensor. */
  requiresGrad_(v = true): this {
    N.setRequiresGrad(this.#h, v);
    return this;
  }
  /** The accumulated gradient, or null. Each read returns a new handle to the same tensor. */
  get grad(): Tensor | null {
    const g = N.getGrad(this.#h);
    return g === null ? null : wrap(g);
  }
  /** Sets (or clears, with null) the gradient; refuses one of another shape, dtype or device, as PyTorch does. */
  set grad(g: Tensor | null) {
    if (g !== null) checkGrad(this, g);
    N.setGrad(this.#h, g === null ? null : g.#h);
  }
  /** Whether the tensor was made by the user rather than by a recorded op (gradients accumulate on leaves). */
  get isLeaf(): boolean {
    return N.isLeaf(this.#h);
  }
  /** The name of the autograd node that made this tensor, or null for a leaf. */
  get gradFn(): string | null {
    return N.gradFn(this.#h);
  }
  /** Keeps the gradient of this non-leaf tensor in grad after backward(); by default only leaves keep theirs. */
  retainGrad(): this {
    N.retainGrad(this.#h);
    return this;
  }
  /**
   * Backpropagates from this tensor, accumulating into the grad of the leaves; gradient is required
   * unless the tensor has one element.
   */
  backward(gradient?: Tensor, opts: { retainGraph?: boolean; createGraph?: boolean; inputs?: Tensor[] } = {}): void {
    try {
      N.backward(
        this.#h,
        gradient ? gradient.#h : null,
        opts.retainGraph,
        opts.createGraph ?? false,
        opts.inputs?.map((t) => t.#h),
      );
    } catch (e) {
      inGenlabTerms(e);
    }
  }
  /** A new tensor sharing this one's storage but cut off from the autograd graph. */
  detach(): Tensor {
    return ops.detach(this);
  }
  /** This tensor's data outside autograd, as PyTorch's `.data`: a new handle sharing storage, like detach(). */
  get data(): Tensor {
    return ops.detach(this);
  }
  /**
   * Makes this tensor hold src's data (shape, dtype and device may change), as PyTorch's `x.data = src`.
   * The object, its requiresGrad and its place in optimizers stay; src keeps its own handle.
   */
  set data(src: Tensor) {
    if (!(src instanceof Tensor)) throw new TypeError('data: expected a Tensor');
    N.setData(this.#h, src.#h);
  }
  /** Cuts this tensor off from the autograd graph in place, making it a leaf without requiresGrad. */
  detach_(): this {
    ops.detach_(this);
    return this;
  }

  // ---- readback ----
  /** A copy of the elements in row-major order; float16/bfloat16 come back as float32. */
  toTypedArray(): TypedArray {
    const d = this.dtype;
    if (d === 'float16' || d === 'bfloat16') {
      const f = ops._toCopy(this, { dtype: 'float32' });
      try {
        return new Float32Array(N.toBuffer(f.#h));
      } finally {
        f.dispose();
      }
    }
    return viewBytes(N.toBuffer(this.#h), d);
  }
  /** A copy of the elements' raw bytes in row-major order, in the machine's byte order (16-bit floats as bits). */
  toBytes(): Uint8Array {
    return new Uint8Array(N.toBuffer(this.#h));
  }
  /**
   * Nested JS arrays of numbers (booleans for bool tensors); a number for a 0-d tensor. Throws on
   * int64 values beyond 2^53, which numbers cannot hold exactly (toTypedArray() gives BigInts).
   */
  toArray(): NestedArray {
    const flat = this.toTypedArray();
    const isBool = this.dtype === 'bool';
    const values: (number | boolean)[] = Array.from(flat as ArrayLike<number | bigint>, (v) =>
      isBool ? v !== 0 : typeof v === 'bigint' ? safeNumber(v) : v,
    );
    const shape = this.shape;
    if (shape.length === 0) return values[0];
    let pos = 0;
    const build = (d: number): NestedArray[] => {
      const out: NestedArray[] = [];
      for (let i = 0; i < shape[d]; i++) out.push(d === shape.length - 1 ? values[pos++] : build(d + 1));
      return out;
    };
    return build(0);
  }
  /** The value of a one-element tensor; bool tensors give 0 or 1. Throws on int64 values beyond 2^53. */
  item(): number {
    return Number(N.item(this.#h));
  }
  /** The tensor's values printed PyTorch-style, under the current print options. */
  toString(): string {
    return formatHook(this);
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return formatHook(this);
  }

  // ---- conversion ----
  /** `to('float64')`, `to('cuda')`, or `to({dtype, device})`; a new handle to the same data when nothing changes. */
  to(target: DType | Device | { dtype?: DType; device?: Device; copy?: boolean }): Tensor {
    const t = typeof target === 'string' ? (isDType(target) ? { dtype: target } : { device: target }) : target;
    const dtype = t.dtype ?? this.dtype;
    const device = t.device ?? this.device;
    return ops.to_dtype_layout(this, { dtype, device, copy: t.copy ?? false });
  }
  /** This tensor as float32. */
  float(): Tensor {
    return this.to('float32');
  }
  /** This tensor as float64. */
  double(): Tensor {
    return this.to('float64');
  }
  /** This tensor as float16. */
  half(): Tensor {
    return this.to('float16');
  }
  /** This tensor as int64. */
  long(): Tensor {
    return this.to('int64');
  }
  /** This tensor as int32. */
  int(): Tensor {
    return this.to('int32');
  }
  /** This tensor as bool (non-zero is true). */
  bool(): Tensor {
    return this.to('bool');
  }
  /** This tensor on the CPU (a new handle to the same data if it is there already). */
  cpu(): Tensor {
    return this.to({ device: 'cpu' });
  }
  /** This tensor on CUDA device index (default 0). */
  cuda(index = 0): Tensor {
    return this.to({ device: `cuda:${index}` });
  }
  /** A copy with its own storage; gradients flow back to this tensor. */
  clone(): Tensor {
    return ops.clone(this);
  }
  /**
   * This tensor laid out in row-major order, or in the given memory format ('channelsLast': the
   * channels of each pixel next to each other), copying only when it is not already.
   */
  contiguous(memoryFormat: Exclude<MemoryFormat, 'preserve'> = 'contiguous'): Tensor {
    return ops.contiguous(this, { memoryFormat });
  }

  // ---- arithmetic ----
  /** Elementwise this + alpha × other (alpha defaults to 1), broadcasting. */
  add(other: Tensor | number, opts?: { alpha?: number }): Tensor {
    return ops.add(this, other, opts);
  }
  /** Elementwise this − alpha × other (alpha defaults to 1), broadcasting. */
  sub(other: Tensor | number, opts?: { alpha?: number }): Tensor {
    return ops.sub(this, other, opts);
  }
  /** Elementwise product, broadcasting. */
  mul(other: Tensor | number): Tensor {
    return ops.mul(this, other);
  }
  /** Elementwise true division, or rounded toward zero ('trunc') or down ('floor') with roundingMode. */
  div(other: Tensor | number, opts?: { roundingMode?: 'trunc' | 'floor' }): Tensor {
    return opts?.roundingMode ? ops.div_mode(this, other, opts.roundingMode) : ops.div(this, other);
  }
  /** other − this, for a number on the left. */
  rsub(other: Tensor | number): Tensor {
    return ops.rsub(this, other);
  }
  /** Elementwise power this ** exponent, broadcasting. */
  pow(exponent: Tensor | number): Tensor {
    return ops.pow(this, exponent);
  }
  /** Elementwise remainder of division, with the sign of the divisor (Python's %). */
  remainder(other: Tensor | number): Tensor {
    return ops.remainder(this, other);
  }
  /** Elementwise larger of this and other, broadcasting; NaN wins. */
  maximum(other: Tensor): Tensor {
    return ops.maximum(this, other);
  }
  /** Elementwise smaller of this and other, broadcasting; NaN wins. */
  minimum(other: Tensor): Tensor {
    return ops.minimum(this, other);
  }
  /** Elementwise angle of the point (other, this) in radians, in [−π, π]: atan(this / other) with the quadrant kept. */
  atan2(other: Tensor): Tensor {
    return ops.atan2(this, other);
  }
  /** Elementwise negation. */
  neg(): Tensor {
    return ops.neg(this);
  }
  /** Elementwise absolute value. */
  abs(): Tensor {
    return ops.abs(this);
  }
  /** Elementwise sign: −1, 0 or 1. */
  sign(): Tensor {
    return ops.sign(this);
  }
  /** Elementwise e^x. */
  exp(): Tensor {
    return ops.exp(this);
  }
  /** Elementwise e^x − 1, accurate near 0. */
  expm1(): Tensor {
    return ops.expm1(this);
  }
  /** Elementwise natural logarithm. */
  log(): Tensor {
    return ops.log(this);
  }
  /** Elementwise log(1 + x), accurate near 0. */
  log1p(): Tensor {
    return ops.log1p(this);
  }
  /** Elementwise base-2 logarithm. */
  log2(): Tensor {
    return ops.log2(this);
  }
  /** Elementwise square root. */
  sqrt(): Tensor {
    return ops.sqrt(this);
  }
  /** Elementwise 1 / sqrt(x). */
  rsqrt(): Tensor {
    return ops.rsqrt(this);
  }
  /** Elementwise x². */
  square(): Tensor {
    return ops.square(this);
  }
  /** Elementwise 1 / x. */
  reciprocal(): Tensor {
    return ops.reciprocal(this);
  }
  /** Elementwise sine (radians). */
  sin(): Tensor {
    return ops.sin(this);
  }
  /** Elementwise cosine (radians). */
  cos(): Tensor {
    return ops.cos(this);
  }
  /** Elementwise hyperbolic tangent. */
  tanh(): Tensor {
    return ops.tanh(this);
  }
  /** Elementwise logistic sigmoid 1 / (1 + e^−x). */
  sigmoid(): Tensor {
    return ops.sigmoid(this);
  }
  /** Elementwise max(x, 0). */
  relu(): Tensor {
    return ops.relu(this);
  }
  /** Elementwise Gauss error function. */
  erf(): Tensor {
    return ops.erf(this);
  }
  /** Elementwise natural logarithm of the absolute value of the gamma function. */
  lgamma(): Tensor {
    return ops.lgamma(this);
  }
  /** Elementwise rounding down. */
  floor(): Tensor {
    return ops.floor(this);
  }
  /** Elementwise rounding up. */
  ceil(): Tensor {
    return ops.ceil(this);
  }
  /** Elementwise rounding to the nearest integer, halves to even. */
  round(): Tensor {
    return ops.round(this);
  }
  /** Elementwise clipping into [min, max]; a missing or null bound is open. */
  clamp(min?: number | null, max?: number | null): Tensor {
    return ops.clamp(this, { min: min ?? null, max: max ?? null });
  }
  /** Elementwise max(x, min). */
  clampMin(min: number): Tensor {
    return ops.clampMin(this, min);
  }
  /** Elementwise min(x, max). */
  clampMax(max: number): Tensor {
    return ops.clampMax(this, max);
  }
  /** Matrix product with broadcasting over batch dimensions (1-d operands act as vectors). */
  matmul(other: Tensor): Tensor {
    return ops.matmul(this, other);
  }
  /** Product of two 2-d matrices, [n, m] × [m, p] → [n, p], without broadcasting. */
  mm(other: Tensor): Tensor {
    return ops.mm(this, other);
  }
  /** Batched matrix product, [b, n, m] × [b, m, p] → [b, n, p]. */
  bmm(other: Tensor): Tensor {
    return ops.bmm(this, other);
  }
  /** Inner product of two 1-d tensors of the same length, as a 0-d tensor. */
  dot(other: Tensor): Tensor {
    return ops.dot(this, other);
  }
  /** Outer product of two 1-d tensors: [n] and [m] give [n, m]. */
  outer(other: Tensor): Tensor {
    return ops.outer(this, other);
  }
  /** Linear interpolation this + weight × (end − this), elementwise. */
  lerp(end: Tensor, weight: number | Tensor): Tensor {
    return ops.lerp(this, end, weight);
  }

  // ---- in place ----
  /** In place: this += alpha × other (alpha defaults to 1). */
  add_(other: Tensor | number, opts?: { alpha?: number }): this {
    ops.add_(this, other, opts);
    return this;
  }
  /** In place: this −= alpha × other (alpha defaults to 1). */
  sub_(other: Tensor | number, opts?: { alpha?: number }): this {
    ops.sub_(this, other, opts);
    return this;
  }
  /** In place: this *= other. */
  mul_(other: Tensor | number): this {
    ops.mul_(this, other);
    return this;
  }
  /** In place: this /= other (true division). */
  div_(other: Tensor | number): this {
    ops.div_(this, other);
    return this;
  }
  /** In place: this += value × t1 × t2 (value defaults to 1). */
  addcmul_(t1: Tensor, t2: Tensor, opts?: { value?: number }): this {
    ops.addcmul_(this, t1, t2, opts);
    return this;
  }
  /** In place: this += value × t1 / t2 (value defaults to 1). */
  addcdiv_(t1: Tensor, t2: Tensor, opts?: { value?: number }): this {
    ops.addcdiv_(this, t1, t2, opts);
    return this;
  }
  /** In place: moves this toward end by the fraction weight. */
  lerp_(end: Tensor, weight: number): this {
    ops.lerp__Scalar(this, end, weight);
    return this;
  }
  /** In place: elementwise square root. */
  sqrt_(): this {
    ops.sqrt_(this);
    return this;
  }
  /** In place: clips into [min, max]; a missing or null bound is open. */
  clamp_(min?: number | null, max?: number | null): this {
    ops.clamp_(this, { min: min ?? null, max: max ?? null });
    return this;
  }
  /** In place: copies src's values into this tensor, broadcasting and converting dtype and device. */
  copy_(src: Tensor): this {
    ops.copy_(this, src);
    return this;
  }
  /** In place: sets every element to 0. */
  zero_(): this {
    ops.zero_(this);
    return this;
  }
  /** In place: sets every element to value (a number or a 0-d tensor). */
  fill_(value: number | Tensor): this {
    ops.fill_(this, value);
    return this;
  }
  /**
   * In place: fills with uniform draws from [from, to) (default [0, 1)), from the given generator
   * or the default one.
   */
  uniform_(from = 0, to = 1, opts?: { generator?: Generator }): this {
    ops.uniform_(this, { from, to, generator: opts?.generator ?? null });
    return this;
  }
  /** In place: fills with normal draws of the given mean and standard deviation (default 0 and 1). */
  normal_(mean = 0, std = 1, opts?: { generator?: Generator }): this {
    ops.normal_(this, { mean, std, generator: opts?.generator ?? null });
    return this;
  }
  /** In place: sets the elements where the bool mask is true to value. */
  maskedFill_(mask: Tensor, value: number): this {
    ops.maskedFill__Scalar(this, mask, value);
    return this;
  }

  // ---- reductions ----
  /**
   * Sum of all elements, or along dim (one or several) with keepdim to keep them as size 1; dtype
   * sets the accumulation type.
   */
  sum(dim?: number | number[] | null, opts?: { keepdim?: boolean; dtype?: DType }): Tensor {
    if (dim === undefined || dim === null) return ops.sum(this, { dtype: opts?.dtype });
    return ops.sum_dim_IntList(this, toDims(dim), opts);
  }
  /** Mean of all elements, or along dim (one or several) with keepdim to keep them as size 1. */
  mean(dim?: number | number[] | null, opts?: { keepdim?: boolean; dtype?: DType }): Tensor {
    if (dim === undefined || dim === null) return ops.mean(this, { dtype: opts?.dtype });
    return ops.mean_dim(this, toDims(dim), opts);
  }
  /** Product of all elements, or along one dimension. */
  prod(dim?: number, opts?: { keepdim?: boolean }): Tensor {
    return dim === undefined ? ops.prod(this) : ops.prod_dim_int(this, dim, opts);
  }
  /** Unbiased by default, like PyTorch; pass {correction: 0} for the population value. */
  var(dim?: number | number[] | null, opts?: { keepdim?: boolean; correction?: number }): Tensor {
    return ops.var_correction(
      this,
      dim === undefined || dim === null ? null : toDims(dim),
      opts?.correction ?? 1,
      opts,
    );
  }
  /** Standard deviation over everything or along dim; unbiased by default, {correction: 0} for the population value. */
  std(dim?: number | number[] | null, opts?: { keepdim?: boolean; correction?: number }): Tensor {
    return ops.std_correction(
      this,
      dim === undefined || dim === null ? null : toDims(dim),
      opts?.correction ?? 1,
      opts,
    );
  }
  /** Vector p-norm (default 2) of all elements, or along dim. */
  norm(p = 2, dim?: number | number[], opts?: { keepdim?: boolean }): Tensor {
    return ops.linalgVectorNorm(this, { ord: p, dim: dim === undefined ? null : toDims(dim), keepdim: opts?.keepdim });
  }
  /** log(sum(exp(x))) along dim, computed without overflow. */
  logsumexp(dim: number | number[], opts?: { keepdim?: boolean }): Tensor {
    return ops.logsumexp(this, toDims(dim), opts);
  }
  /** Over everything: the maximum. Along a dimension: [values, indices]. */
  max(): Tensor;
  max(dim: number, opts?: { keepdim?: boolean }): [Tensor, Tensor];
  max(dim?: number, opts?: { keepdim?: boolean }): Tensor | [Tensor, Tensor] {
    return dim === undefined ? ops.max(this) : ops.max_dim(this, dim, opts);
  }
  /** Over everything: the minimum. Along a dimension: [values, indices]. */
  min(): Tensor;
  min(dim: number, opts?: { keepdim?: boolean }): [Tensor, Tensor];
  min(dim?: number, opts?: { keepdim?: boolean }): Tensor | [Tensor, Tensor] {
    return dim === undefined ? ops.min(this) : ops.min_dim(this, dim, opts);
  }
  /** Maximum along one or several dimensions, values only (max() also gives indices). */
  amax(dim: number | number[], opts?: { keepdim?: boolean }): Tensor {
    return ops.amax(this, { dim: toDims(dim), keepdim: opts?.keepdim });
  }
  /** Index of the largest element, in the flattened tensor or along dim (int64). */
  argmax(dim?: number, opts?: { keepdim?: boolean }): Tensor {
    return ops.argmax(this, { dim: dim ?? null, keepdim: opts?.keepdim });
  }
  /** Index of the smallest element, in the flattened tensor or along dim (int64). */
  argmin(dim?: number, opts?: { keepdim?: boolean }): Tensor {
    return ops.argmin(this, { dim: dim ?? null, keepdim: opts?.keepdim });
  }
  /** Running sum along dim. */
  cumsum(dim: number): Tensor {
    return ops.cumsum(this, dim);
  }
  /** Whether every element is non-zero, overall or along dim (a bool tensor). */
  all(dim?: number, opts?: { keepdim?: boolean }): Tensor {
    return dim === undefined ? ops.all(this) : ops.all_dim(this, dim, opts);
  }
  /** Whether any element is non-zero, overall or along dim (a bool tensor). */
  any(dim?: number, opts?: { keepdim?: boolean }): Tensor {
    return dim === undefined ? ops.any(this) : ops.any_dim(this, dim, opts);
  }
  /** Sum of the main diagonal of a 2-d tensor. */
  trace(): Tensor {
    return ops.trace(this);
  }

  // ---- comparison ----
  /** Elementwise this == other, as a bool tensor. */
  eq(other: Tensor | number): Tensor {
    return ops.eq(this, other);
  }
  /** Elementwise this != other, as a bool tensor. */
  ne(other: Tensor | number): Tensor {
    return ops.ne(this, other);
  }
  /** Elementwise this < other, as a bool tensor. */
  lt(other: Tensor | number): Tensor {
    return ops.lt(this, other);
  }
  /** Elementwise this <= other, as a bool tensor. */
  le(other: Tensor | number): Tensor {
    return ops.le(this, other);
  }
  /** Elementwise this > other, as a bool tensor. */
  gt(other: Tensor | number): Tensor {
    return ops.gt(this, other);
  }
  /** Elementwise this >= other, as a bool tensor. */
  ge(other: Tensor | number): Tensor {
    return ops.ge(this, other);
  }
  /** Elementwise test for NaN, as a bool tensor. */
  isnan(): Tensor {
    return ops.isnan(this);
  }
  /** Elementwise test for a finite value (not NaN nor ±infinity), as a bool tensor. */
  isfinite(): Tensor {
    return ops.isfinite(this);
  }
  /** Elementwise logical not (zero is false), as a bool tensor. */
  logicalNot(): Tensor {
    return ops.logicalNot(this);
  }
  /** Elementwise logical and (zero is false), as a bool tensor. */
  logicalAnd(other: Tensor): Tensor {
    return ops.logicalAnd(this, other);
  }
  /** Elementwise logical or (zero is false), as a bool tensor. */
  logicalOr(other: Tensor): Tensor {
    return ops.logicalOr(this, other);
  }
  /** Whether every element satisfies |this − other| ≤ atol + rtol × |other| (defaults 1e-8 and 1e-5). */
  allclose(other: Tensor, opts?: { rtol?: number; atol?: number }): boolean {
    return ops.allclose(this, other, opts);
  }
  /** Whether both tensors have the same shape and the same elements. */
  equal(other: Tensor): boolean {
    return ops.equal(this, other);
  }

  // ---- shape and views ----
  /** The same elements in a new shape (−1 infers one size); a view when possible, else a copy. */
  reshape(...shape: number[] | [number[]]): Tensor {
    return ops.reshape(this, flatShape(shape));
  }
  /** A view of the same storage in a new shape (−1 infers one size); throws when the strides do not allow it. */
  view(...shape: number[] | [number[]]): Tensor {
    return ops.view(this, flatShape(shape));
  }
  /** A view of this tensor in other's shape. */
  viewAs(other: Tensor): Tensor {
    return ops.viewAs(this, other);
  }
  /** A view with the dimensions reordered: dimension i of the result is dimension dims[i] of this. */
  permute(...dims: number[] | [number[]]): Tensor {
    return ops.permute(this, flatShape(dims));
  }
  /** A view with dimensions dim0 and dim1 swapped. */
  transpose(dim0: number, dim1: number): Tensor {
    return ops.transpose_int(this, dim0, dim1);
  }
  /** Transpose of a 2-d tensor. */
  t(): Tensor {
    return ops.t(this);
  }
  /** Transpose of the last two dimensions. */
  get mT(): Tensor {
    return ops.transpose_int(this, -2, -1);
  }
  /** A view without the size-1 dimensions, or without dim only if its size is 1. */
  squeeze(dim?: number): Tensor {
    return dim === undefined ? ops.squeeze(this) : ops.squeeze_dim(this, dim);
  }
  /** A view with a new size-1 dimension inserted at dim. */
  unsqueeze(dim: number): Tensor {
    return ops.unsqueeze(this, dim);
  }
  /** A view broadcasting size-1 dimensions to the given shape without copying (−1 keeps a size). */
  expand(...shape: number[] | [number[]]): Tensor {
    return ops.expand(this, flatShape(shape));
  }
  /** A view broadcast to other's shape. */
  expandAs(other: Tensor): Tensor {
    return ops.expandAs(this, other);
  }
  /** Merges dimensions startDim to endDim (default all) into one. */
  flatten(startDim = 0, endDim = -1): Tensor {
    return ops.flatten_using_ints(this, { startDim, endDim });
  }
  /** Splits dimension dim into several of the given sizes. */
  unflatten(dim: number, sizes: number[]): Tensor {
    return ops.unflatten_int(this, dim, sizes);
  }
  /** Tiles the tensor: a copy repeated repeats[i] times along each dimension. */
  repeat(...repeats: number[] | [number[]]): Tensor {
    return ops.repeat(this, flatShape(repeats));
  }
  /** A copy with the order of elements reversed along the given dimensions. */
  flip(...dims: number[] | [number[]]): Tensor {
    return ops.flip(this, flatShape(dims));
  }
  /** Shifts elements circularly by shifts along dims (or over the flattened tensor without dims). */
  roll(shifts: number | number[], dims?: number | number[]): Tensor {
    return ops.roll(this, toDims(shifts), { dims: dims === undefined ? [] : toDims(dims) });
  }
  /** The lower triangle of the last two dimensions, elements above the given diagonal set to 0. */
  tril(diagonal = 0): Tensor {
    return ops.tril(this, { diagonal });
  }
  /** The upper triangle of the last two dimensions, elements below the given diagonal set to 0. */
  triu(diagonal = 0): Tensor {
    return ops.triu(this, { diagonal });
  }
  /** A view of the diagonal at offset over dimensions dim1 and dim2 (default 0 and 1), as a new last dimension. */
  diagonal(opts?: { offset?: number; dim1?: number; dim2?: number }): Tensor {
    return ops.diagonal(this, opts);
  }
  /**
   * For a 1-d tensor, the square matrix with it on the given diagonal; for a 2-d tensor, that
   * diagonal as a 1-d tensor.
   */
  diag(diagonal = 0): Tensor {
    return ops.diag(this, { diagonal });
  }

  // ---- indexing ----
  /** A view of length elements along dim, from start. */
  narrow(dim: number, start: number, length: number): Tensor {
    return ops.narrow(this, dim, start, length);
  }
  /** A view of one index along dim, with that dimension removed. */
  select(dim: number, index: number): Tensor {
    return ops.select_int(this, dim, index);
  }
  /** Advanced indexing, as `x[i0, i1, ...]` with index tensors; null leaves a dimension whole. */
  index(indices: (Tensor | null)[]): Tensor {
    return ops.index_Tensor(this, indices);
  }
  /** In place: writes values at the positions the index tensors pick (adding with accumulate). */
  indexPut_(indices: (Tensor | null)[], values: Tensor, opts?: { accumulate?: boolean }): this {
    ops.indexPut_(this, indices, values, opts);
    return this;
  }
  /** A copy of the entries along dim at the positions in the 1-d int64 index. */
  indexSelect(dim: number, index: Tensor): Tensor {
    return ops.indexSelect(this, dim, index);
  }
  /** A copy with value where the bool mask is true. */
  maskedFill(mask: Tensor, value: number | Tensor): Tensor {
    return ops.maskedFill(this, mask, value);
  }
  /** The elements where the bool mask is true, as a 1-d tensor. */
  maskedSelect(mask: Tensor): Tensor {
    return ops.maskedSelect(this, mask);
  }
  /** Picks along dim at the positions in index (same number of dimensions); the result has index's shape. */
  gather(dim: number, index: Tensor): Tensor {
    return ops.gather(this, dim, index);
  }
  /** A copy with src's values (or a number) written along dim at the positions in index. */
  scatter(dim: number, index: Tensor, src: Tensor | number): Tensor {
    return ops.scatter(this, dim, index, src);
  }
  /** A copy with src's values added along dim at the positions in index; repeated positions sum. */
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return ops.scatterAdd(this, dim, index, src);
  }
  /** Splits into chunks views of equal size along dim (the last may be smaller). */
  chunk(chunks: number, dim = 0): Tensor[] {
    return ops.chunk(this, chunks, { dim });
  }
  /** Splits into views along dim: pieces of one size (the last may be smaller), or of the listed sizes. */
  split(sizes: number | number[], dim = 0): Tensor[] {
    return typeof sizes === 'number'
      ? ops.split_Tensor(this, sizes, { dim })
      : ops.splitWithSizes(this, sizes, { dim });
  }
  /** The slices along dim, each with that dimension removed. */
  unbind(dim = 0): Tensor[] {
    return ops.unbind_int(this, { dim });
  }
  /** [values, indices] sorted along dim (default the last), ascending unless descending. */
  sort(dim = -1, opts?: { descending?: boolean }): [Tensor, Tensor] {
    return ops.sort(this, { dim, descending: opts?.descending });
  }
  /** The indices that sort along dim (default the last), ascending unless descending. */
  argsort(dim = -1, opts?: { descending?: boolean }): Tensor {
    return ops.argsort(this, { dim, descending: opts?.descending });
  }
  /** [values, indices] of the k largest (or smallest, with largest: false) along dim (default the last). */
  topk(k: number, dim = -1, opts?: { largest?: boolean; sorted?: boolean }): [Tensor, Tensor] {
    return ops.topk(this, k, { dim, ...opts });
  }
  /** This tensor where condition is true, other elsewhere, broadcasting. */
  where(condition: Tensor, other: Tensor | number): Tensor {
    return ops.where_TensorOrScalar(condition, this, other);
  }
  /** Softmax along dim: exponentials normalised to sum to 1. */
  softmax(dim: number): Tensor {
    return ops.softmax_int(this, dim);
  }
  /** Log of the softmax along dim, computed stably. */
  logSoftmax(dim: number): Tensor {
    return ops.logSoftmax_int(this, dim);
  }
}

/** Wraps a fresh handle from the addon; the new tensor belongs to the current scope. */
export function wrap(h: number): Tensor {
  return new Tensor(h as never);
}

export function wrapAll(hs: number[]): Tensor[] {
  return hs.map(wrap);
}

// ---- argument helpers used by the generated wrappers ----

export function ths(xs: (Tensor | null)[] | undefined | null): (number | null | string)[] | undefined | null {
  if (xs === undefined || xs === null) return xs;
  if (!Array.isArray(xs)) return 'not an array' as never;
  return xs.map((x) => (x instanceof Tensor ? handle(x) : x === null || x === undefined ? null : 'not a tensor'));
}
export function dt(d: DType | null | undefined): number | null | undefined {
  return d === null || d === undefined ? d : dtypeCode(d);
}
export function mf(m: MemoryFormat | null | undefined): number | null | undefined {
  return m === null || m === undefined ? m : memoryFormatCode(m);
}
export function gen(g: Generator | null | undefined): number | null | undefined {
  return g === null || g === undefined ? g : g.id;
}

function isDType(s: string): s is DType {
  try {
    dtypeCode(s);
    return true;
  } catch {
    return false;
  }
}

function toDims(d: number | number[]): number[] {
  return typeof d === 'number' ? [d] : d;
}

function flatShape(args: number[] | [number[]]): number[] {
  return args.length === 1 && Array.isArray(args[0]) ? (args[0] as number[]) : (args as number[]);
}

// Printing lives in format.ts; it registers itself here to avoid an import cycle.
let formatHook: (t: Tensor) => string = (t) => `Tensor(${N.describe(handle(t))})`;
export function setFormatter(f: (t: Tensor) => string): void {
  formatHook = f;
}

/** Refuses a gradient PyTorch would refuse: another dtype, device or shape than the tensor's. */
function checkGrad(t: Tensor, g: Tensor): void {
  if (!(g instanceof Tensor)) throw new TypeError('grad: expected a Tensor or null');
  if (g === t) throw new Error("grad: a tensor can't be its own gradient");
  if (g.dtype !== t.dtype) {
    throw new TypeError(`grad: cannot assign a gradient of dtype ${g.dtype} to a tensor of dtype ${t.dtype}`);
  }
  if (g.device !== t.device) {
    throw new Error(`grad: cannot assign a gradient on ${g.device} to a tensor on ${t.device}`);
  }
  const want = t.shape;
  const got = g.shape;
  if (want.length !== got.length || want.some((d, i) => d !== got[i])) {
    throw new Error(
      `grad: cannot assign a gradient of shape [${got.join(', ')}] to a tensor of shape [${want.join(', ')}]`,
    );
  }
}

/** A BigInt as a number, refusing values a number cannot hold exactly. */
function safeNumber(v: bigint): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(
      `toArray(): the integer ${v} is beyond 2^53 - 1, where JS numbers lose digits; toTypedArray() gives it exactly`,
    );
  }
  return Number(v);
}
