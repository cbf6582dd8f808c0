// Top-level maths, as PyTorch users type it: `torch.exp(x)`, `torch.sum(x, 1)`, `torch.max(x, 1)`.
// Each is a thin wrapper over the Tensor method (or the ATen op) of the same name, with the same
// arguments after the input. cat, stack, where, matmul, bmm, clamp and einsum are in functions.ts.
import type { DType } from './dtype.js';
import * as ops from './generated/ops.js';
import type { Tensor } from './tensor.js';

// ---- elementwise, one input ----
export function abs(input: Tensor): Tensor {
  return input.abs();
}
export function neg(input: Tensor): Tensor {
  return input.neg();
}
export function sign(input: Tensor): Tensor {
  return input.sign();
}
export function exp(input: Tensor): Tensor {
  return input.exp();
}
export function expm1(input: Tensor): Tensor {
  return input.expm1();
}
export function log(input: Tensor): Tensor {
  return input.log();
}
export function log1p(input: Tensor): Tensor {
  return input.log1p();
}
export function log2(input: Tensor): Tensor {
  return input.log2();
}
export function sqrt(input: Tensor): Tensor {
  return input.sqrt();
}
export function rsqrt(input: Tensor): Tensor {
  return input.rsqrt();
}
export function square(input: Tensor): Tensor {
  return input.square();
}
export function reciprocal(input: Tensor): Tensor {
  return input.reciprocal();
}
export function sin(input: Tensor): Tensor {
  return input.sin();
}
export function cos(input: Tensor): Tensor {
  return input.cos();
}
export function tanh(input: Tensor): Tensor {
  return input.tanh();
}
export function sigmoid(input: Tensor): Tensor {
  return input.sigmoid();
}
export function relu(input: Tensor): Tensor {
  return input.relu();
}
export function erf(input: Tensor): Tensor {
  return input.erf();
}
export function lgamma(input: Tensor): Tensor {
  return input.lgamma();
}
export function floor(input: Tensor): Tensor {
  return input.floor();
}
export function ceil(input: Tensor): Tensor {
  return input.ceil();
}
export function round(input: Tensor): Tensor {
  return input.round();
}
export function isnan(input: Tensor): Tensor {
  return input.isnan();
}
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
export function mul(input: Tensor, other: Tensor | number): Tensor {
  return input.mul(other);
}
export function div(input: Tensor, other: Tensor | number, opts?: { roundingMode?: 'trunc' | 'floor' }): Tensor {
  return input.div(other, opts);
}
/** input^exponent; either may be a number (`torch.pow(2, x)` is 2^x). */
export function pow(input: Tensor | number, exponent: Tensor | number): Tensor {
  return ops.pow(input, exponent);
}
export function remainder(input: Tensor, other: Tensor | number): Tensor {
  return input.remainder(other);
}
export function maximum(input: Tensor, other: Tensor): Tensor {
  return input.maximum(other);
}
export function minimum(input: Tensor, other: Tensor): Tensor {
  return input.minimum(other);
}
export function atan2(input: Tensor, other: Tensor): Tensor {
  return input.atan2(other);
}
/** input + weight·(end − input). */
export function lerp(input: Tensor, end: Tensor, weight: number | Tensor): Tensor {
  return input.lerp(end, weight);
}
export function eq(input: Tensor, other: Tensor | number): Tensor {
  return input.eq(other);
}
export function ne(input: Tensor, other: Tensor | number): Tensor {
  return input.ne(other);
}
export function lt(input: Tensor, other: Tensor | number): Tensor {
  return input.lt(other);
}
export function le(input: Tensor, other: Tensor | number): Tensor {
  return input.le(other);
}
export function gt(input: Tensor, other: Tensor | number): Tensor {
  return input.gt(other);
}
export function ge(input: Tensor, other: Tensor | number): Tensor {
  return input.ge(other);
}
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
export function mean(
  input: Tensor,
  dim?: number | number[] | null,
  opts?: { keepdim?: boolean; dtype?: DType },
): Tensor {
  return input.mean(dim, opts);
}
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
export function amax(input: Tensor, dim: number | number[], opts?: { keepdim?: boolean }): Tensor {
  return input.amax(dim, opts);
}
export function amin(input: Tensor, dim: number | number[], opts?: { keepdim?: boolean }): Tensor {
  return ops.amin(input, { dim, keepdim: opts?.keepdim });
}
/** Index of the largest element (of the flattened input when no dim is given), int64. */
export function argmax(input: Tensor, dim?: number, opts?: { keepdim?: boolean }): Tensor {
  return input.argmax(dim, opts);
}
export function argmin(input: Tensor, dim?: number, opts?: { keepdim?: boolean }): Tensor {
  return input.argmin(dim, opts);
}
export function cumsum(input: Tensor, dim: number): Tensor {
  return input.cumsum(dim);
}
export function all(input: Tensor, dim?: number, opts?: { keepdim?: boolean }): Tensor {
  return input.all(dim, opts);
}
export function any(input: Tensor, dim?: number, opts?: { keepdim?: boolean }): Tensor {
  return input.any(dim, opts);
}
/** The vector p-norm over everything, or over dim. */
export function norm(input: Tensor, p = 2, dim?: number | number[], opts?: { keepdim?: boolean }): Tensor {
  return input.norm(p, dim, opts);
}
export function trace(input: Tensor): Tensor {
  return input.trace();
}

// ---- normalised exponentials ----
export function softmax(input: Tensor, dim: number): Tensor {
  return input.softmax(dim);
}
export function logSoftmax(input: Tensor, dim: number): Tensor {
  return input.logSoftmax(dim);
}

// ---- products ----
export function mm(input: Tensor, mat2: Tensor): Tensor {
  return input.mm(mat2);
}
export function dot(input: Tensor, other: Tensor): Tensor {
  return input.dot(other);
}
export function outer(input: Tensor, vec2: Tensor): Tensor {
  return input.outer(vec2);
}

// ---- shapes, sorting and selection ----
export function reshape(input: Tensor, shape: number[]): Tensor {
  return input.reshape(shape);
}
export function flatten(input: Tensor, startDim = 0, endDim = -1): Tensor {
  return input.flatten(startDim, endDim);
}
export function squeeze(input: Tensor, dim?: number): Tensor {
  return input.squeeze(dim);
}
export function unsqueeze(input: Tensor, dim: number): Tensor {
  return input.unsqueeze(dim);
}
export function transpose(input: Tensor, dim0: number, dim1: number): Tensor {
  return input.transpose(dim0, dim1);
}
export function permute(input: Tensor, dims: number[]): Tensor {
  return input.permute(dims);
}
export function flip(input: Tensor, dims: number[]): Tensor {
  return input.flip(dims);
}
export function narrow(input: Tensor, dim: number, start: number, length: number): Tensor {
  return input.narrow(dim, start, length);
}
export function gather(input: Tensor, dim: number, index: Tensor): Tensor {
  return input.gather(dim, index);
}
export function indexSelect(input: Tensor, dim: number, index: Tensor): Tensor {
  return input.indexSelect(dim, index);
}
export function chunk(input: Tensor, chunks: number, dim = 0): Tensor[] {
  return input.chunk(chunks, dim);
}
export function split(input: Tensor, sizes: number | number[], dim = 0): Tensor[] {
  return input.split(sizes, dim);
}
export function unbind(input: Tensor, dim = 0): Tensor[] {
  return input.unbind(dim);
}
/** [values, indices], ascending unless {descending: true}. */
export function sort(input: Tensor, dim = -1, opts?: { descending?: boolean }): [Tensor, Tensor] {
  return input.sort(dim, opts);
}
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
export function tril(input: Tensor, diagonal = 0): Tensor {
  return input.tril(diagonal);
}
export function triu(input: Tensor, diagonal = 0): Tensor {
  return input.triu(diagonal);
}
export function diag(input: Tensor, diagonal = 0): Tensor {
  return input.diag(diagonal);
}
