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

export type Scalar = number | boolean;
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
  get shape(): number[] {
    return N.shape(this.#h);
  }
  size(dim?: number): number;
  size(): number[];
  size(dim?: number): number | number[] {
    const s = N.shape(this.#h);
    if (dim === undefined) return s;
    const d = dim < 0 ? dim + s.length : dim;
    if (d < 0 || d >= s.length) throw new Error(`size(): dimension ${dim} out of range for a ${s.length}-d tensor`);
    return s[d];
  }
  get ndim(): number {
    return N.dim(this.#h);
  }
  dim(): number {
    return N.dim(this.#h);
  }
  numel(): number {
    return N.numel(this.#h);
  }
  get dtype(): DType {
    return dtypeName(N.dtype(this.#h));
  }
  get device(): Device {
    return N.device(this.#h);
  }
  stride(): number[] {
    return N.strides(this.#h);
  }
  isContiguous(): boolean {
    return N.isContiguous(this.#h);
  }
  get isDisposed(): boolean {
    return this.#h < 0;
  }

  // ---- memory ----
  dispose(): void {
    disposeTracked(this);
  }
  [Symbol.dispose](): void {
    disposeTracked(this);
  }
  /** Survives enclosing tidy() scopes. */
  keep(): this {
    keepTracked(this);
    return this;
  }

  // ---- autograd ----
  get requiresGrad(): boolean {
    return N.requiresGrad(this.#h);
  }
  set requiresGrad(v: boolean) {
    N.setRequiresGrad(this.#h, v);
  }
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
  get isLeaf(): boolean {
    return N.isLeaf(this.#h);
  }
  get gradFn(): string | null {
    return N.gradFn(this.#h);
  }
  retainGrad(): this {
    N.retainGrad(this.#h);
    return this;
  }
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
  float(): Tensor {
    return this.to('float32');
  }
  double(): Tensor {
    return this.to('float64');
  }
  half(): Tensor {
    return this.to('float16');
  }
  long(): Tensor {
    return this.to('int64');
  }
  int(): Tensor {
    return this.to('int32');
  }
  bool(): Tensor {
    return this.to('bool');
  }
  cpu(): Tensor {
    return this.to({ device: 'cpu' });
  }
  cuda(index = 0): Tensor {
    return this.to({ device: `cuda:${index}` });
  }
  clone(): Tensor {
    return ops.clone(this);
  }
  contiguous(): Tensor {
    return ops.contiguous(this);
  }

  // ---- arithmetic ----
  add(other: Tensor | number, opts?: { alpha?: number }): Tensor {
    return ops.add(this, other, opts);
  }
  sub(other: Tensor | number, opts?: { alpha?: number }): Tensor {
    return ops.sub(this, other, opts);
  }
  mul(other: Tensor | number): Tensor {
    return ops.mul(this, other);
  }
  div(other: Tensor | number, opts?: { roundingMode?: 'trunc' | 'floor' }): Tensor {
    return opts?.roundingMode ? ops.div_mode(this, other, opts.roundingMode) : ops.div(this, other);
  }
  /** other − this, for a number on the left. */
  rsub(other: Tensor | number): Tensor {
    return ops.rsub(this, other);
  }
  pow(exponent: Tensor | number): Tensor {
    return ops.pow(this, exponent);
  }
  remainder(other: Tensor | number): Tensor {
    return ops.remainder(this, other);
  }
  maximum(other: Tensor): Tensor {
    return ops.maximum(this, other);
  }
  minimum(other: Tensor): Tensor {
    return ops.minimum(this, other);
  }
  atan2(other: Tensor): Tensor {
    return ops.atan2(this, other);
  }
  neg(): Tensor {
    return ops.neg(this);
  }
  abs(): Tensor {
    return ops.abs(this);
  }
  sign(): Tensor {
    return ops.sign(this);
  }
  exp(): Tensor {
    return ops.exp(this);
  }
  expm1(): Tensor {
    return ops.expm1(this);
  }
  log(): Tensor {
    return ops.log(this);
  }
  log1p(): Tensor {
    return ops.log1p(this);
  }
  log2(): Tensor {
    return ops.log2(this);
  }
  sqrt(): Tensor {
    return ops.sqrt(this);
  }
  rsqrt(): Tensor {
    return ops.rsqrt(this);
  }
  square(): Tensor {
    return ops.square(this);
  }
  reciprocal(): Tensor {
    return ops.reciprocal(this);
  }
  sin(): Tensor {
    return ops.sin(this);
  }
  cos(): Tensor {
    return ops.cos(this);
  }
  tanh(): Tensor {
    return ops.tanh(this);
  }
  sigmoid(): Tensor {
    return ops.sigmoid(this);
  }
  relu(): Tensor {
    return ops.relu(this);
  }
  erf(): Tensor {
    return ops.erf(this);
  }
  lgamma(): Tensor {
    return ops.lgamma(this);
  }
  floor(): Tensor {
    return ops.floor(this);
  }
  ceil(): Tensor {
    return ops.ceil(this);
  }
  round(): Tensor {
    return ops.round(this);
  }
  clamp(min?: number | null, max?: number | null): Tensor {
    return ops.clamp(this, { min: min ?? null, max: max ?? null });
  }
  clampMin(min: number): Tensor {
    return ops.clampMin(this, min);
  }
  clampMax(max: number): Tensor {
    return ops.clampMax(this, max);
  }
  matmul(other: Tensor): Tensor {
    return ops.matmul(this, other);
  }
  mm(other: Tensor): Tensor {
    return ops.mm(this, other);
  }
  bmm(other: Tensor): Tensor {
    return ops.bmm(this, other);
  }
  dot(other: Tensor): Tensor {
    return ops.dot(this, other);
  }
  outer(other: Tensor): Tensor {
    return ops.outer(this, other);
  }
  lerp(end: Tensor, weight: number | Tensor): Tensor {
    return ops.lerp(this, end, weight);
  }

  // ---- in place ----
  add_(other: Tensor | number, opts?: { alpha?: number }): this {
    ops.add_(this, other, opts);
    return this;
  }
  sub_(other: Tensor | number, opts?: { alpha?: number }): this {
    ops.sub_(this, other, opts);
    return this;
  }
  mul_(other: Tensor | number): this {
    ops.mul_(this, other);
    return this;
  }
  div_(other: Tensor | number): this {
    ops.div_(this, other);
    return this;
  }
  addcmul_(t1: Tensor, t2: Tensor, opts?: { value?: number }): this {
    ops.addcmul_(this, t1, t2, opts);
    return this;
  }
  addcdiv_(t1: Tensor, t2: Tensor, opts?: { value?: number }): this {
    ops.addcdiv_(this, t1, t2, opts);
    return this;
  }
  lerp_(end: Tensor, weight: number): this {
    ops.lerp__Scalar(this, end, weight);
    return this;
  }
  sqrt_(): this {
    ops.sqrt_(this);
    return this;
  }
  clamp_(min?: number | null, max?: number | null): this {
    ops.clamp_(this, { min: min ?? null, max: max ?? null });
    return this;
  }
  copy_(src: Tensor): this {
    ops.copy_(this, src);
    return this;
  }
  zero_(): this {
    ops.zero_(this);
    return this;
  }
  fill_(value: number | Tensor): this {
    ops.fill_(this, value);
    return this;
  }
  uniform_(from = 0, to = 1, opts?: { generator?: Generator }): this {
    ops.uniform_(this, { from, to, generator: opts?.generator ?? null });
    return this;
  }
  normal_(mean = 0, std = 1, opts?: { generator?: Generator }): this {
    ops.normal_(this, { mean, std, generator: opts?.generator ?? null });
    return this;
  }
  maskedFill_(mask: Tensor, value: number): this {
    ops.maskedFill__Scalar(this, mask, value);
    return this;
  }

  // ---- reductions ----
  sum(dim?: number | number[] | null, opts?: { keepdim?: boolean; dtype?: DType }): Tensor {
    if (dim === undefined || dim === null) return ops.sum(this, { dtype: opts?.dtype });
    return ops.sum_dim_IntList(this, toDims(dim), opts);
  }
  mean(dim?: number | number[] | null, opts?: { keepdim?: boolean; dtype?: DType }): Tensor {
    if (dim === undefined || dim === null) return ops.mean(this, { dtype: opts?.dtype });
    return ops.mean_dim(this, toDims(dim), opts);
  }
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
  std(dim?: number | number[] | null, opts?: { keepdim?: boolean; correction?: number }): Tensor {
    return ops.std_correction(
      this,
      dim === undefined || dim === null ? null : toDims(dim),
      opts?.correction ?? 1,
      opts,
    );
  }
  norm(p = 2, dim?: number | number[], opts?: { keepdim?: boolean }): Tensor {
    return ops.linalgVectorNorm(this, { ord: p, dim: dim === undefined ? null : toDims(dim), keepdim: opts?.keepdim });
  }
  logsumexp(dim: number | number[], opts?: { keepdim?: boolean }): Tensor {
    return ops.logsumexp(this, toDims(dim), opts);
  }
  /** Over everything: the maximum. Along a dimension: [values, indices]. */
  max(): Tensor;
  max(dim: number, opts?: { keepdim?: boolean }): [Tensor, Tensor];
  max(dim?: number, opts?: { keepdim?: boolean }): Tensor | [Tensor, Tensor] {
    return dim === undefined ? ops.max(this) : ops.max_dim(this, dim, opts);
  }
  min(): Tensor;
  min(dim: number, opts?: { keepdim?: boolean }): [Tensor, Tensor];
  min(dim?: number, opts?: { keepdim?: boolean }): Tensor | [Tensor, Tensor] {
    return dim === undefined ? ops.min(this) : ops.min_dim(this, dim, opts);
  }
  amax(dim: number | number[], opts?: { keepdim?: boolean }): Tensor {
    return ops.amax(this, { dim: toDims(dim), keepdim: opts?.keepdim });
  }
  argmax(dim?: number, opts?: { keepdim?: boolean }): Tensor {
    return ops.argmax(this, { dim: dim ?? null, keepdim: opts?.keepdim });
  }
  argmin(dim?: number, opts?: { keepdim?: boolean }): Tensor {
    return ops.argmin(this, { dim: dim ?? null, keepdim: opts?.keepdim });
  }
  cumsum(dim: number): Tensor {
    return ops.cumsum(this, dim);
  }
  all(dim?: number, opts?: { keepdim?: boolean }): Tensor {
    return dim === undefined ? ops.all(this) : ops.all_dim(this, dim, opts);
  }
  any(dim?: number, opts?: { keepdim?: boolean }): Tensor {
    return dim === undefined ? ops.any(this) : ops.any_dim(this, dim, opts);
  }
  trace(): Tensor {
    return ops.trace(this);
  }

  // ---- comparison ----
  eq(other: Tensor | number): Tensor {
    return ops.eq(this, other);
  }
  ne(other: Tensor | number): Tensor {
    return ops.ne(this, other);
  }
  lt(other: Tensor | number): Tensor {
    return ops.lt(this, other);
  }
  le(other: Tensor | number): Tensor {
    return ops.le(this, other);
  }
  gt(other: Tensor | number): Tensor {
    return ops.gt(this, other);
  }
  ge(other: Tensor | number): Tensor {
    return ops.ge(this, other);
  }
  isnan(): Tensor {
    return ops.isnan(this);
  }
  isfinite(): Tensor {
    return ops.isfinite(this);
  }
  logicalNot(): Tensor {
    return ops.logicalNot(this);
  }
  logicalAnd(other: Tensor): Tensor {
    return ops.logicalAnd(this, other);
  }
  logicalOr(other: Tensor): Tensor {
    return ops.logicalOr(this, other);
  }
  allclose(other: Tensor, opts?: { rtol?: number; atol?: number }): boolean {
    return ops.allclose(this, other, opts);
  }
  equal(other: Tensor): boolean {
    return ops.equal(this, other);
  }

  // ---- shape and views ----
  reshape(...shape: number[] | [number[]]): Tensor {
    return ops.reshape(this, flatShape(shape));
  }
  view(...shape: number[] | [number[]]): Tensor {
    return ops.view(this, flatShape(shape));
  }
  viewAs(other: Tensor): Tensor {
    return ops.viewAs(this, other);
  }
  permute(...dims: number[] | [number[]]): Tensor {
    return ops.permute(this, flatShape(dims));
  }
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
  squeeze(dim?: number): Tensor {
    return dim === undefined ? ops.squeeze(this) : ops.squeeze_dim(this, dim);
  }
  unsqueeze(dim: number): Tensor {
    return ops.unsqueeze(this, dim);
  }
  expand(...shape: number[] | [number[]]): Tensor {
    return ops.expand(this, flatShape(shape));
  }
  expandAs(other: Tensor): Tensor {
    return ops.expandAs(this, other);
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return ops.flatten_using_ints(this, { startDim, endDim });
  }
  unflatten(dim: number, sizes: number[]): Tensor {
    return ops.unflatten_int(this, dim, sizes);
  }
  repeat(...repeats: number[] | [number[]]): Tensor {
    return ops.repeat(this, flatShape(repeats));
  }
  flip(...dims: number[] | [number[]]): Tensor {
    return ops.flip(this, flatShape(dims));
  }
  roll(shifts: number | number[], dims?: number | number[]): Tensor {
    return ops.roll(this, toDims(shifts), { dims: dims === undefined ? [] : toDims(dims) });
  }
  tril(diagonal = 0): Tensor {
    return ops.tril(this, { diagonal });
  }
  triu(diagonal = 0): Tensor {
    return ops.triu(this, { diagonal });
  }
  diagonal(opts?: { offset?: number; dim1?: number; dim2?: number }): Tensor {
    return ops.diagonal(this, opts);
  }
  diag(diagonal = 0): Tensor {
    return ops.diag(this, { diagonal });
  }

  // ---- indexing ----
  narrow(dim: number, start: number, length: number): Tensor {
    return ops.narrow(this, dim, start, length);
  }
  select(dim: number, index: number): Tensor {
    return ops.select_int(this, dim, index);
  }
  /** Advanced indexing, as `x[i0, i1, ...]` with index tensors; null leaves a dimension whole. */
  index(indices: (Tensor | null)[]): Tensor {
    return ops.index_Tensor(this, indices);
  }
  indexPut_(indices: (Tensor | null)[], values: Tensor, opts?: { accumulate?: boolean }): this {
    ops.indexPut_(this, indices, values, opts);
    return this;
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return ops.indexSelect(this, dim, index);
  }
  maskedFill(mask: Tensor, value: number | Tensor): Tensor {
    return ops.maskedFill(this, mask, value);
  }
  maskedSelect(mask: Tensor): Tensor {
    return ops.maskedSelect(this, mask);
  }
  gather(dim: number, index: Tensor): Tensor {
    return ops.gather(this, dim, index);
  }
  scatter(dim: number, index: Tensor, src: Tensor | number): Tensor {
    return ops.scatter(this, dim, index, src);
  }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return ops.scatterAdd(this, dim, index, src);
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return ops.chunk(this, chunks, { dim });
  }
  split(sizes: number | number[], dim = 0): Tensor[] {
    return typeof sizes === 'number'
      ? ops.split_Tensor(this, sizes, { dim })
      : ops.splitWithSizes(this, sizes, { dim });
  }
  unbind(dim = 0): Tensor[] {
    return ops.unbind_int(this, { dim });
  }
  sort(dim = -1, opts?: { descending?: boolean }): [Tensor, Tensor] {
    return ops.sort(this, { dim, descending: opts?.descending });
  }
  argsort(dim = -1, opts?: { descending?: boolean }): Tensor {
    return ops.argsort(this, { dim, descending: opts?.descending });
  }
  topk(k: number, dim = -1, opts?: { largest?: boolean; sorted?: boolean }): [Tensor, Tensor] {
    return ops.topk(this, k, { dim, ...opts });
  }
  where(condition: Tensor, other: Tensor | number): Tensor {
    return ops.where_TensorOrScalar(condition, this, other);
  }
  softmax(dim: number): Tensor {
    return ops.softmax_int(this, dim);
  }
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
