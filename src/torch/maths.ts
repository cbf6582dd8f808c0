// Top-level maths, as PyTorch users type it: `torch.exp(x)`, `torch.sum(x, 1)`, `torch.max(x, 1)`.
// Each is a thin wrapper over the Tensor method (or the ATen op) of the same name, with the same
// arguments after the input. cat, stack, where, matmul, bmm, clamp and einsum are in functions.ts.
import type { DType } from './dtype.js';
import * as ops from './generated/ops.js';
import type { Tensor } from './tensor.js';

// ---- elementwise, one input ----
/** Elementwise absolute value. */
export function abs(input: Tensor): Tensor {
  return input.abs();
}
/** Elementwise negation. */
export function neg(input: Tensor): Tensor {
  return input.neg();
}
/** Elementwise sign: −1, 0 or 1. */
export function sign(input: Tensor): Tensor {
  return input.sign();
}
/** Elementwise e^x. */
export function exp(input: Tensor): Tensor {
  return input.exp();
}
/** Elementwise e^x − 1, accurate near 0. */
export function expm1(input: Tensor): Tensor {
  return input.expm1();
}
/** Elementwise natural logarithm. */
export function log(input: Tensor): Tensor {
  return input.log();
}
/** Elementwise log(1 + x), accurate near 0. */
export function log1p(input: Tensor): Tensor {
  return input.log1p();
}
/** Elementwise base-2 logarithm. */
export function log2(input: Tensor): Tensor {
  return input.log2();
}
/** Elementwise square root. */
export function sqrt(input: Tensor): Tensor {
  return input.sqrt();
}
/** Elementwise 1 / sqrt(x). */
export function rsqrt(input: Tensor): Tensor {
  return input.rsqrt();
}
/** Elementwise x². */
export function square(input: Tensor): Tensor {
  return input.square();
}
/** Elementwise 1 / x. */
export function reciprocal(input: Tensor): Tensor {
  return input.reciprocal();
}
/** Elementwise sine (radians). */
export function sin(input: Tensor): Tensor {
  return input.sin();
}
/** Elementwise cosine (radians). */
export function cos(input: Tensor): Tensor {
  return input.cos();
}
/** Elementwise hyperbolic tangent. */
export function tanh(input: Tensor): Tensor {
  return input.tanh();
}
/** Elementwise logistic sigmoid 1 / (1 + e^−x). */
export function sigmoid(input: Tensor): Tensor {
  return input.sigmoid();
}
/** Elementwise max(x, 0). */
export function relu(input: Tensor): Tensor {
  return input.relu();
}
/** Elementwise Gauss error function. */
export function erf(input: Tensor): Tensor {
  return input.erf();
}
/** Elementwise natural logarithm of the absolute value of the gamma function. */
export function lgamma(input: Tensor): Tensor {
  return input.lgamma();
}
/** Elementwise rounding down. */
export function floor(input: Tensor): Tensor {
  return input.floor();
}
/** Elementwise rounding up. */
export function ceil(input: Tensor): Tensor {
  return input.ceil();
}
/** Elementwise rounding to the nearest integer, halves to even. */
export function round(input: Tensor): Tensor {
  return input.round();
}
/** Elementwise test for NaN, as a bool tensor. */
export function isnan(input: Tensor): Tensor {
  return input.isnan();
}
/** Elementwise test for a finite value (not NaN nor ±infinity), as a bool tensor. */
export function isfinite(input: Tensor): Tensor {
  return input.isfinite();
}

// ---- elementwise, two inputs ----
/** input + alpha·other. */
export function add(input: Tensor, other: Tensor | number, opts?: { alpha?: number }): Tensor {
  return input.add(other, opts);
}
/** input − alpha·other. */
export function sub(input: Tensor, other: Tensor | number, opts?: { alpha?: number }): Tensor {
  return input.sub(other, opts);
}
/** Elementwise product, broadcasting. */
export function mul(input: Tensor, other: Tensor | number): Tensor {
  return input.mul(other);
}
/** Elementwise true division, or rounded toward zero ('trunc') or down ('floor') with roundingMode. */
export function div(input: Tensor, other: Tensor | number, opts?: { roundingMode?: 'trunc' | 'floor' }): Tensor {
  return input.div(other, opts);
}
/** input^exponent; either may be a number (`torch.pow(2, x)` is 2^x). */
export function pow(input: Tensor | number, exponent: Tensor | number): Tensor {
  return ops.pow(input, exponent);
}
/** Elementwise remainder of division, with the sign of the divisor (Python's %). */
export function remainder(input: Tensor, other: Tensor | number): Tensor {
  return input.remainder(other);
}
/** Elementwise larger of the two, broadcasting; NaN wins. */
export function maximum(input: Tensor, other: Tensor): Tensor {
  return input.maximum(other);
}
/** Elementwise smaller of the two, broadcasting; NaN wins. */
export function minimum(input: Tensor, other: Tensor): Tensor {
  return input.minimum(other);
}
/** Elementwise angle of the point (other, input) in radians, in [−π, π]. */
export function atan2(input: Tensor, other: Tensor): Tensor {
  return input.atan2(other);
}
/** input + weight·(end − input). */
export function lerp(input: Tensor, end: Tensor, weight: number | Tensor): Tensor {
  return input.lerp(end, weight);
}
/** Elementwise input == other, as a bool tensor. */
export function eq(input: Tensor, other: Tensor | number): Tensor {
  return input.eq(other);
}
/** Elementwise input != other, as a bool tensor. */
export function ne(input: Tensor, other: Tensor | number): Tensor {
  return input.ne(other);
}
/** Elementwise input < other, as a bool tensor. */
export function lt(input: Tensor, other: Tensor | number): Tensor {
  return input.lt(other);
}
/** Elementwise input <= other, as a bool tensor. */
export function le(input: Tensor, other: Tensor | number): Tensor {
  return input.le(other);
}
/** Elementwise input > other, as a bool tensor. */
export function gt(input: Tensor, other: Tensor | number): Tensor {
  return input.gt(other);
}
/** Elementwise input >= other, as a bool tensor. */
export function ge(input: Tensor, other: Tensor | number): Tensor {
  return input.ge(other);
}
/** Whether every element satisfies |input − other| ≤ atol + rtol × |other| (defaults 1e-8 and 1e-5). */
export function allclose(input: Tensor, other: Tensor, opts?: { rtol?: number; atol?: number }): boolean {
  return input.allclose(other, opts);
}
/** Same shape and the same elements. */
export function equal(input: Tensor, other: Tensor): boolean {
  return input.equal(other);
}

// ---- reductions ----
/** Over everything, or over `dim` (one or several). */
export function sum(
  input: Tensor,
  dim?: number | number[] | null,
  opts?: { keepdim?: boolean; dtype?: DType },
): Tensor {
  return input.sum(dim, opts);
}
/** Mean over everything, or over `dim` (one or several). */
export function mean(
  input: Tensor,
  dim?: number | number[] | null,
  opts?: { keepdim?: boolean; dtype?: DType },
): Tensor {
  return input.mean(dim, opts);
}
/** Product over everything, or along one dimension. */
export function prod(input: Tensor, dim?: number, opts?: { keepdim?: boolean }): Tensor {
  return input.prod(dim, opts);
}
/** Unbiased by default, like PyTorch; pass {correction: 0} for the population value. */
export function std(
  input: Tensor,
  dim?: number | number[] | null,
  opts?: { keepdim?: boolean; correction?: number },
): Tensor {
  return input.std(dim, opts);
}
/** Unbiased by default, like PyTorch; pass {correction: 0} for the population value. */
function variance(
  input: Tensor,
  dim?: number | number[] | null,
  opts?: { keepdim?: boolean; correction?: number },
): Tensor {
  return input.var(dim, opts);
}

// `var` is a reserved word: exported under its PyTorch name all the same (torch.var(x)).
export { variance as var };
/** log(sum(exp(x))) along dim, computed without overflow. */
export function logsumexp(input: Tensor, dim: number | number[], opts?: { keepdim?: boolean }): Tensor {
  return input.logsumexp(dim, opts);
}
/**
 * PyTorch's three forms: `max(x)` the largest element; `max(x, dim, {keepdim})` the pair
 * [values, indices] along dim; `max(x, other)` the elementwise maximum.
 */
export function max(input: Tensor): Tensor;
export function max(input: Tensor, dim: number, opts?: { keepdim?: boolean }): [Tensor, Tensor];
export function max(input: Tensor, other: Tensor): Tensor;
export function max(
  input: Tensor,
  dimOrOther?: number | Tensor,
  opts?: { keepdim?: boolean },
): Tensor | [Tensor, Tensor] {
  if (dimOrOther === undefined) return ops.max(input);
  if (typeof dimOrOther === 'number') return ops.max_dim(input, dimOrOther, opts);
  return ops.max_other(input, dimOrOther);
}
/** PyTorch's three forms, as max(). */
export function min(input: Tensor): Tensor;
export function min(input: Tensor, dim: number, opts?: { keepdim?: boolean }): [Tensor, Tensor];
export function min(input: Tensor, other: Tensor): Tensor;
export function min(
  input: Tensor,
  dimOrOther?: number | Tensor,
  opts?: { keepdim?: boolean },
): Tensor | [Tensor, Tensor] {
  if (dimOrOther === undefined) return ops.min(input);
  if (typeof dimOrOther === 'number') return ops.min_dim(input, dimOrOther, opts);
  return ops.min_other(input, dimOrOther);
}
/** Maximum along one or several dimensions, values only. */
export function amax(input: Tensor, dim: number | number[], opts?: { keepdim?: boolean }): Tensor {
  return input.amax(dim, opts);
}
/** Minimum along one or several dimensions, values only. */
export function amin(input: Tensor, dim: number | number[], opts?: { keepdim?: boolean }): Tensor {
  return ops.amin(input, { dim, keepdim: opts?.keepdim });
}
/** Index of the largest element (of the flattened input when no dim is given), int64. */
export function argmax(input: Tensor, dim?: number, opts?: { keepdim?: boolean }): Tensor {
  return input.argmax(dim, opts);
}
/** Index of the smallest element (of the flattened input when no dim is given), int64. */
export function argmin(input: Tensor, dim?: number, opts?: { keepdim?: boolean }): Tensor {
  return input.argmin(dim, opts);
}
/** Running sum along dim. */
export function cumsum(input: Tensor, dim: number): Tensor {
  return input.cumsum(dim);
}
/** Whether every element is non-zero, overall or along dim (a bool tensor). */
export function all(input: Tensor, dim?: number, opts?: { keepdim?: boolean }): Tensor {
  return input.all(dim, opts);
}
/** Whether any element is non-zero, overall or along dim (a bool tensor). */
export function any(input: Tensor, dim?: number, opts?: { keepdim?: boolean }): Tensor {
  return input.any(dim, opts);
}
/** The vector p-norm over everything, or over dim. */
export function norm(input: Tensor, p = 2, dim?: number | number[], opts?: { keepdim?: boolean }): Tensor {
  return input.norm(p, dim, opts);
}
/** Sum of the main diagonal of a 2-d tensor. */
export function trace(input: Tensor): Tensor {
  return input.trace();
}

// ---- normalised exponentials ----
/** Softmax along dim: exponentials normalised to sum to 1. */
export function softmax(input: Tensor, dim: number): Tensor {
  return input.softmax(dim);
}
/** Log of the softmax along dim, computed stably. */
export function logSoftmax(input: Tensor, dim: number): Tensor {
  return input.logSoftmax(dim);
}

// ---- products ----
/** Product of two 2-d matrices, [n, m] × [m, p] → [n, p]. */
export function mm(input: Tensor, mat2: Tensor): Tensor {
  return input.mm(mat2);
}
/** Inner product of two 1-d tensors, as a 0-d tensor. */
export function dot(input: Tensor, other: Tensor): Tensor {
  return input.dot(other);
}
/** Outer product of two 1-d tensors: [n] and [m] give [n, m]. */
export function outer(input: Tensor, vec2: Tensor): Tensor {
  return input.outer(vec2);
}

// ---- shapes, sorting and selection ----
/** The same elements in a new shape (−1 infers one size); a view when possible. */
export function reshape(input: Tensor, shape: number[]): Tensor {
  return input.reshape(shape);
}
/** Merges dimensions startDim to endDim (default all) into one. */
export function flatten(input: Tensor, startDim = 0, endDim = -1): Tensor {
  return input.flatten(startDim, endDim);
}
/** Removes size-1 dimensions (or only dim, if its size is 1). */
export function squeeze(input: Tensor, dim?: number): Tensor {
  return input.squeeze(dim);
}
/** Inserts a size-1 dimension at dim. */
export function unsqueeze(input: Tensor, dim: number): Tensor {
  return input.unsqueeze(dim);
}
/** Swaps dimensions dim0 and dim1 (a view). */
export function transpose(input: Tensor, dim0: number, dim1: number): Tensor {
  return input.transpose(dim0, dim1);
}
/** Reorders the dimensions (a view): dimension i of the result is dimension dims[i] of the input. */
export function permute(input: Tensor, dims: number[]): Tensor {
  return input.permute(dims);
}
/** Reverses the order of elements along dims (a copy). */
export function flip(input: Tensor, dims: number[]): Tensor {
  return input.flip(dims);
}
/** A view of length elements along dim, from start. */
export function narrow(input: Tensor, dim: number, start: number, length: number): Tensor {
  return input.narrow(dim, start, length);
}
/** Picks along dim at the positions in index; the result has index's shape. */
export function gather(input: Tensor, dim: number, index: Tensor): Tensor {
  return input.gather(dim, index);
}
/** The entries along dim at the positions in the 1-d int64 index. */
export function indexSelect(input: Tensor, dim: number, index: Tensor): Tensor {
  return input.indexSelect(dim, index);
}
/** Splits into chunks views of equal size along dim (the last may be smaller). */
export function chunk(input: Tensor, chunks: number, dim = 0): Tensor[] {
  return input.chunk(chunks, dim);
}
/** Splits along dim into pieces of one size (the last may be smaller), or of the listed sizes. */
export function split(input: Tensor, sizes: number | number[], dim = 0): Tensor[] {
  return input.split(sizes, dim);
}
/** The slices along dim, each with that dimension removed. */
export function unbind(input: Tensor, dim = 0): Tensor[] {
  return input.unbind(dim);
}
/** [values, indices], ascending unless {descending: true}. */
export function sort(input: Tensor, dim = -1, opts?: { descending?: boolean }): [Tensor, Tensor] {
  return input.sort(dim, opts);
}
/** The indices that sort along dim (default the last), ascending unless descending. */
export function argsort(input: Tensor, dim = -1, opts?: { descending?: boolean }): Tensor {
  return input.argsort(dim, opts);
}
/** [values, indices] of the k largest (or smallest) along dim. */
export function topk(
  input: Tensor,
  k: number,
  dim = -1,
  opts?: { largest?: boolean; sorted?: boolean },
): [Tensor, Tensor] {
  return input.topk(k, dim, opts);
}
/** The lower triangle of the last two dimensions, elements above the given diagonal set to 0. */
export function tril(input: Tensor, diagonal = 0): Tensor {
  return input.tril(diagonal);
}
/** The upper triangle of the last two dimensions, elements below the given diagonal set to 0. */
export function triu(input: Tensor, diagonal = 0): Tensor {
  return input.triu(diagonal);
}
/** A square matrix from a 1-d input's diagonal, or the diagonal of a 2-d input. */
export function diag(input: Tensor, diagonal = 0): Tensor {
  return input.diag(diagonal);
}
