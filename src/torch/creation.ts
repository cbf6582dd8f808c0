// Making tensors: from JS data, constants, ranges and random draws.
// JS numbers carry no integer/float distinction, so creation defaults to float32 unless a dtype is given.
import { type Device, type DType, dtypeCode, dtypeOfArray, isFloating, type TypedArray } from './dtype.js';
import * as ops from './generated/ops.js';
import { N } from './native.js';
import type { Generator } from './random.js';
import { type NestedArray, type Tensor, wrap } from './tensor.js';

/**
 * Options of the creation functions: dtype (float32 unless said otherwise), device (default 'cpu')
 * and whether the new tensor requires gradients.
 */
export interface CreateOptions {
  /** The element type; float32 by default (int64 for randint and randperm). */
  dtype?: DType;
  /** Where to make the tensor; 'cpu' by default. */
  device?: Device;
  /** Make the tensor a leaf that records gradients. */
  requiresGrad?: boolean;
}
/** {@link CreateOptions} plus the random number generator to draw from (the default one otherwise). */
export interface RandomOptions extends CreateOptions {
  /** The generator to draw from; the default generator otherwise. */
  generator?: Generator;
}

function finish(t: Tensor, o?: CreateOptions): Tensor {
  if (o?.requiresGrad) t.requiresGrad = true;
  return t;
}

function factory(o?: CreateOptions, fallback: DType = 'float32'): { dtype: DType; device: Device } {
  return { dtype: o?.dtype ?? fallback, device: o?.device ?? 'cpu' };
}

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let d: NestedArray = data;
  while (Array.isArray(d)) {
    shape.push(d.length);
    if (d.length === 0) break;
    d = d[0];
  }
  return shape;
}

function where(path: number[]): string {
  return path.length === 0 ? 'the value' : `element [${path.join(', ')}]`;
}

/**
 * Flattens nested arrays into `out`, checking that every level is a rectangle and every leaf a
 * number or boolean. Returns whether every leaf was a boolean.
 */
function flatten(data: NestedArray, shape: number[], out: number[], path: number[] = []): boolean {
  const depth = path.length;
  if (depth === shape.length) {
    if (Array.isArray(data)) {
      throw new Error(`tensor(): ragged nested array: ${where(path)} is an array, but its siblings are not`);
    }
    if (typeof data === 'boolean') {
      out.push(data ? 1 : 0);
      return true;
    }
    if (typeof data !== 'number') {
      const kind = data === null || data === undefined ? String(data) : `a ${typeof data}`;
      throw new Error(`tensor(): ${where(path)} is ${kind}, not a number or boolean`);
    }
    out.push(data);
    return false;
  }
  if (!Array.isArray(data) || data.length !== shape[depth]) {
    const got = Array.isArray(data) ? `length ${data.length}` : 'a single value';
    throw new Error(
      `tensor(): ragged nested array: ${where(path)} has ${got} where length ${shape[depth]} was expected (from the first element at depth ${depth})`,
    );
  }
  let allBool = true;
  for (let i = 0; i < data.length; i++) {
    path.push(i);
    if (!flatten(data[i], shape, out, path)) allBool = false;
    path.pop();
  }
  return allBool;
}

/** The range of each integer dtype, as JS numbers (int64's ends are exact powers of two). */
const integerRange: Partial<Record<DType, [number, number]>> = {
  uint8: [0, 255],
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  int64: [-(2 ** 63), 2 ** 63],
};

/**
 * Refuses values an integer dtype cannot hold, as PyTorch does ("value cannot be converted to type
 * int64_t without overflow"): out of range, NaN or infinite. Fractions truncate toward zero, as in
 * PyTorch. int64's upper end is exclusive (2^63 itself overflows).
 */
function checkRange(values: ArrayLike<number | bigint>, dtype: DType, shape: number[]): void {
  const range = integerRange[dtype];
  if (range === undefined) return;
  const [lo, hi] = range;
  const hiOk = dtype === 'int64' ? (v: number) => v < hi : (v: number) => v <= hi;
  for (let i = 0; i < values.length; i++) {
    const raw = values[i];
    const v = typeof raw === 'bigint' ? Number(raw) : Math.trunc(raw);
    if (!(v >= lo && hiOk(v))) {
      throw new RangeError(
        `tensor(): ${where(indexPath(i, shape))} = ${String(raw)} does not fit in ${dtype} ` +
          `(range ${dtype === 'int64' ? '-2^63 to 2^63 - 1' : `${lo} to ${hi}`}); genlab does not wrap or saturate values silently`,
      );
    }
  }
}

function indexPath(flat: number, shape: number[]): number[] {
  const path = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d] || 1;
    path[d] = flat % n;
    flat = Math.floor(flat / n);
  }
  return path;
}

function fillTyped(values: number[], dtype: DType): TypedArray {
  switch (dtype) {
    case 'float32':
      return Float32Array.from(values);
    case 'float64':
      return Float64Array.from(values);
    case 'int32':
      return Int32Array.from(values);
    case 'int64':
      return BigInt64Array.from(values, (v) => BigInt(Math.trunc(v)));
    case 'int16':
      return Int16Array.from(values);
    case 'int8':
      return Int8Array.from(values);
    case 'uint8':
    case 'bool':
      return Uint8Array.from(values, (v) => (dtype === 'bool' ? Number(v !== 0) : v));
    default:
      return Float32Array.from(values);
  }
}

/**
 * A tensor from a number, nested arrays or a typed array (copied).
 *
 * The dtype, unless given: the typed array's; bool when every element is a boolean; float32 otherwise
 * (JS numbers do not say whether they are integers, so plain numbers make float32 tensors, and
 * booleans mixed with numbers count as 0 and 1). Values an integer dtype cannot hold (out of range,
 * NaN, infinite) are refused rather than wrapped; fractions truncate toward zero, as in PyTorch.
 * Nested arrays must be rectangular, with numbers or booleans as leaves.
 */
export function tensor(data: NestedArray | TypedArray, o?: CreateOptions & { shape?: number[] }): Tensor {
  let t: Tensor;
  if (ArrayBuffer.isView(data)) {
    const arr = data as TypedArray;
    const own = arr instanceof Uint16Array ? (o?.dtype ?? 'float16') : dtypeOfArray(arr);
    const shape = o?.shape ?? [arr.length];
    if (o?.dtype && o.dtype !== own && !(arr instanceof Uint16Array)) checkRange(arr, o.dtype, shape);
    t = wrap(N.fromBuffer(arr, shape, dtypeCode(own)));
    if ((o?.dtype && o.dtype !== own) || (o?.device && o.device !== 'cpu')) {
      const moved = t.to({ dtype: o?.dtype ?? own, device: o?.device ?? 'cpu' });
      t.dispose();
      t = moved;
    }
  } else {
    const shape = inferShape(data);
    const values: number[] = [];
    const allBool = flatten(data, shape, values) && values.length > 0;
    const dtype = o?.dtype ?? (allBool ? 'bool' : 'float32');
    checkRange(values, dtype, shape);
    const staging = dtype === 'float16' || dtype === 'bfloat16' ? 'float32' : dtype;
    t = wrap(N.fromBuffer(fillTyped(values, staging), o?.shape ?? shape, dtypeCode(staging)));
    if (staging !== dtype || (o?.device && o.device !== 'cpu')) {
      const moved = t.to({ dtype, device: o?.device ?? 'cpu' });
      t.dispose();
      t = moved;
    }
  }
  return finish(t, o);
}

/**
 * A floating Scalar marker: `x.mul(torch.asFloat(2))` multiplies an integer tensor by 2.0 and
 * promotes to float32, as `x * 2.0` does in PyTorch. A plain JS number that is an integer (2, 2.0, 1e3)
 * is passed as an integer Scalar, like a Python int, so integer tensors keep their dtype; a number
 * with a fraction (2.5), a negative zero, NaN and infinities are floating Scalars already.
 */
export interface FloatScalar {
  readonly float: number;
}
/** Marks a number as a floating Scalar; see {@link FloatScalar}. */
export function asFloat(value: number): FloatScalar {
  if (typeof value !== 'number') throw new TypeError(`asFloat(): expected a number, got ${typeof value}`);
  return Object.freeze({ float: value });
}

/** A 0-d tensor. */
export function scalarTensor(value: number, o?: CreateOptions): Tensor {
  return finish(ops.scalarTensor(value, factory(o)), o);
}

/** A tensor of the given shape filled with 0. */
export function zeros(shape: number[], o?: CreateOptions): Tensor {
  return finish(ops.zeros(shape, factory(o)), o);
}
/** A tensor of the given shape filled with 1. */
export function ones(shape: number[], o?: CreateOptions): Tensor {
  return finish(ops.ones(shape, factory(o)), o);
}
/** A tensor of the given shape with uninitialised values. */
export function empty(shape: number[], o?: CreateOptions): Tensor {
  return finish(ops.empty_memory_format(shape, factory(o)), o);
}
/** A tensor of the given shape filled with value. */
export function full(shape: number[], value: number, o?: CreateOptions): Tensor {
  return finish(ops.full(shape, value, factory(o)), o);
}
/** The n×n (or n×m) identity: `eye(3)`, `eye(3, {dtype: 'float64'})`, `eye(2, 4)`. */
export function eye(n: number, m?: number | CreateOptions, o?: CreateOptions): Tensor {
  if (typeof m === 'object') return eye(n, undefined, m);
  return finish(m === undefined ? ops.eye(n, factory(o)) : ops.eye_m(n, m, factory(o)), o);
}

/** [start, end) in steps; `arange(5)` is 0..4. float32 unless a dtype is given. */
export function arange(start: number, end?: number, step = 1, o?: CreateOptions): Tensor {
  if (end === undefined) return finish(ops.arange(start, factory(o)), o);
  return finish(ops.arange_start_step(start, end, { step, ...factory(o) }), o);
}
/** steps evenly spaced values from start to end, both included. */
export function linspace(start: number, end: number, steps: number, o?: CreateOptions): Tensor {
  return finish(ops.linspace(start, end, steps, factory(o)), o);
}
/** steps values base^x (base 10 by default) for x evenly spaced from start to end, both included. */
export function logspace(start: number, end: number, steps: number, o?: CreateOptions & { base?: number }): Tensor {
  return finish(ops.logspace(start, end, steps, { base: o?.base ?? 10, ...factory(o) }), o);
}

/** Uniform draws from [0, 1) in the given shape. */
export function rand(shape: number[], o?: RandomOptions): Tensor {
  return finish(ops.rand_generator(shape, o?.generator ?? null, factory(o)), o);
}
/** Standard normal draws (mean 0, variance 1) in the given shape. */
export function randn(shape: number[], o?: RandomOptions): Tensor {
  return finish(ops.randn_generator(shape, o?.generator ?? null, factory(o)), o);
}
/** Integers in [low, high); int64 unless a dtype is given. */
export function randint(low: number, high: number, shape: number[], o?: RandomOptions): Tensor {
  return finish(ops.randint_low_generator(low, high, shape, o?.generator ?? null, factory(o, 'int64')), o);
}
/** A random permutation of 0..n−1; int64 unless a dtype is given. */
export function randperm(n: number, o?: RandomOptions): Tensor {
  return finish(ops.randperm_generator(n, o?.generator ?? null, factory(o, 'int64')), o);
}
/** Samples from a Bernoulli with the given probabilities. */
export function bernoulli(p: Tensor, o?: { generator?: Generator }): Tensor {
  return ops.bernoulli(p, { generator: o?.generator ?? null });
}
/**
 * numSamples category indices per row of probs (non-negative weights, normalised per row), without
 * replacement unless asked; int64.
 */
export function multinomial(
  probs: Tensor,
  numSamples: number,
  o?: { replacement?: boolean; generator?: Generator },
): Tensor {
  return ops.multinomial(probs, numSamples, { replacement: o?.replacement, generator: o?.generator ?? null });
}

function like(t: Tensor, o?: CreateOptions): { dtype: DType; device: Device } {
  return { dtype: o?.dtype ?? t.dtype, device: o?.device ?? t.device };
}
/** Zeros with t's shape, and its dtype and device unless given. */
export function zerosLike(t: Tensor, o?: CreateOptions): Tensor {
  return finish(ops.zerosLike(t, like(t, o)), o);
}
/** Ones with t's shape, and its dtype and device unless given. */
export function onesLike(t: Tensor, o?: CreateOptions): Tensor {
  return finish(ops.onesLike(t, like(t, o)), o);
}
/** Uninitialised values with t's shape, and its dtype and device unless given. */
export function emptyLike(t: Tensor, o?: CreateOptions): Tensor {
  return finish(ops.emptyLike(t, like(t, o)), o);
}
/** value everywhere, with t's shape, and its dtype and device unless given. */
export function fullLike(t: Tensor, value: number, o?: CreateOptions): Tensor {
  return finish(ops.fullLike(t, value, like(t, o)), o);
}
/** Uniform draws from [0, 1) with t's shape, and its dtype and device unless given. */
export function randLike(t: Tensor, o?: RandomOptions): Tensor {
  return rand(t.shape, { ...like(t, o), ...o });
}
/** Standard normal draws with t's shape, and its dtype and device unless given (which must be floating). */
export function randnLike(t: Tensor, o?: RandomOptions): Tensor {
  const spec = like(t, o);
  if (!isFloating(spec.dtype)) throw new Error(`randnLike: needs a floating dtype, got ${spec.dtype}`);
  return randn(t.shape, { ...o, ...spec });
}
/** Integers in [low, high) with t's shape, and its dtype and device unless given. */
export function randintLike(t: Tensor, low: number, high: number, o?: RandomOptions): Tensor {
  return randint(low, high, t.shape, { ...o, ...like(t, o) });
}
