// Torch-level functions that take several tensors, plus linear algebra.
import { isGradEnabled } from './autograd.js';
import * as ops from './generated/ops.js';
import { N } from './native.js';
import { handle, type Tensor, wrap } from './tensor.js';

/** Joins tensors along an existing dimension dim (default 0); the other sizes must match. */
export function cat(tensors: Tensor[], dim = 0): Tensor {
  return ops.cat(tensors, { dim });
}
/** Joins tensors of one shape along a new dimension dim (default 0). */
export function stack(tensors: Tensor[], dim = 0): Tensor {
  return ops.stack(tensors, { dim });
}
/**
 * x.indexSelect(0, index).div(divisor), bit for bit: the data loader's gather and its conversion of
 * stored integer levels to float32. For a contiguous uint8 x on the CPU and int64 indices it is one
 * native pass with no uint8 intermediate; otherwise the two operations.
 */
export function indexSelectDivide(x: Tensor, index: Tensor, divisor: number): Tensor {
  if (x.dtype === 'uint8' && x.device === 'cpu' && x.isContiguous() && index.dtype === 'int64' && index.ndim === 1) {
    return wrap(N.gatherDivided(handle(x), handle(index), divisor));
  }
  const raw = x.indexSelect(0, index);
  const out = raw.div(divisor);
  raw.dispose();
  return out;
}

let fusedKernels = process.env.GENLAB_FUSED_KERNELS !== '0';

/**
 * Turns genlab's own native kernels (shiftScaleRelu, groupNorm of channels-last tensors, groupNormSilu,
 * and the backward of global average pooling) on or off in this process and returns the previous
 * setting; GENLAB_FUSED_KERNELS=0 starts a process with them off, for A/B timing. shiftScaleRelu and
 * the pooling give the same bits either way; groupNorm and groupNormSilu the same numbers to float32
 * rounding.
 */
export function useFusedKernels(on: boolean): boolean {
  const was = fusedKernels;
  fusedKernels = on;
  return was;
}

/** t holds one value per channel of x: shape [1, C, 1, …] of x's rank. */
function perChannel(t: Tensor, x: Tensor): boolean {
  return t.ndim === x.ndim && t.shape.every((d, i) => d === (i === 1 ? x.shape[1] : 1));
}

const onCpuFloat = (t: Tensor) => t.dtype === 'float32' && t.device === 'cpu';
/** The layouts the fused kernel reads: row-major, or a 4-d tensor in channels-last order. */
const fusableLayout = (t: Tensor) => t.isContiguous() || (t.ndim === 4 && t.isContiguous('channelsLast'));

/**
 * relu((x + shift) · scale), shift and scale one value per channel ([1, C, 1, …]): an affine
 * normalisation and its ReLU, as in Glow's coupling networks. For float32 CPU tensors, x contiguous
 * or channels-last, it is one fused autograd node (native/src/fused_kernels.cc) that makes fewer
 * passes over memory and gives bit for bit what the add, mul and relu give; otherwise it is those
 * three operations. With `consume`, x is a temporary the caller gives up (an operation's output
 * that no backward saved, such as a convolution's), and the unfused path adds the shift into it in
 * place.
 */
export function shiftScaleRelu(x: Tensor, shift: Tensor, scale: Tensor, opts: { consume?: boolean } = {}): Tensor {
  if (
    fusedKernels &&
    x.ndim >= 2 &&
    x.shape[0] > 0 &&
    [x, shift, scale].every(onCpuFloat) &&
    fusableLayout(x) &&
    shift.isContiguous() &&
    scale.isContiguous() &&
    perChannel(shift, x) &&
    perChannel(scale, x)
  ) {
    return wrap(N.shiftScaleRelu(handle(x), handle(shift), handle(scale)));
  }
  return ops.relu_((opts.consume ? x.add_(shift) : x.add(shift)).mul(scale));
}

const nullableHandle = (t: Tensor | null) => (t === null ? null : handle(t));

/** Options of {@link groupNorm} and {@link groupNormSilu}: per-channel weight and bias, and eps (1e-5). */
export interface GroupNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  eps?: number;
}

/** genlab's GroupNorm kernels read x (4-d float32 CPU, N > 0) with these groups and affine vectors; each checks x's layout itself. */
function normKernelTakes(x: Tensor, numGroups: number, weight: Tensor | null, bias: Tensor | null): boolean {
  const affineOk = (t: Tensor | null) => t === null || (onCpuFloat(t) && t.ndim === 1 && t.isContiguous());
  return (
    fusedKernels &&
    x.ndim === 4 &&
    x.shape[0] > 0 &&
    numGroups > 0 &&
    x.shape[1] % numGroups === 0 &&
    onCpuFloat(x) &&
    affineOk(weight) &&
    affineOk(bias)
  );
}

/**
 * Group normalisation of x [N, C, …] over `numGroups` groups of channels, then weight · x̂ + bias per
 * channel, as ATen's group_norm. A float32 CPU x in channels-last layout (not also row-major) runs
 * genlab's kernel (native/src/norm_kernels.cc), which keeps the layout where libtorch 1.13 falls
 * back to a slow strided path; it agrees with ATen to float32 rounding. Anything else, bad group
 * counts included, is ATen's group_norm, with its errors.
 */
export function groupNorm(x: Tensor, numGroups: number, opts: GroupNormOptions = {}): Tensor {
  const weight = opts.weight ?? null;
  const bias = opts.bias ?? null;
  const eps = opts.eps ?? 1e-5;
  if (normKernelTakes(x, numGroups, weight, bias) && !x.isContiguous() && x.isContiguous('channelsLast')) {
    return wrap(N.groupNormChannelsLast(handle(x), nullableHandle(weight), nullableHandle(bias), numGroups, eps));
  }
  return ops.groupNorm(x, numGroups, { weight, bias, eps });
}

/**
 * silu(groupNorm(x)): GroupNorm, then SiLU, the normalisation of a conv net's or a U-Net's block. A
 * float32 CPU x [N, C, H, W], row-major or channels-last, runs genlab's fused node
 * (native/src/norm_silu_kernels.cc), which makes fewer passes over memory and agrees with the two
 * ops to float32 rounding; anything else is the two ops (with groupNorm's own choice of kernel).
 */
export function groupNormSilu(x: Tensor, numGroups: number, opts: GroupNormOptions = {}): Tensor {
  const weight = opts.weight ?? null;
  const bias = opts.bias ?? null;
  if (
    normKernelTakes(x, numGroups, weight, bias) &&
    x.numel() > 0 &&
    (x.isContiguous() || x.isContiguous('channelsLast'))
  ) {
    return wrap(N.groupNormSilu(handle(x), nullableHandle(weight), nullableHandle(bias), numGroups, opts.eps ?? 1e-5));
  }
  return ops.silu(groupNorm(x, numGroups, opts));
}

/**
 * Average-pools x ([N, C, H, W] or [C, H, W]) down (or up) to outputSize, as ATen's
 * adaptive_avg_pool2d. Pooling to 1×1 with gradients (global average pooling) runs genlab's autograd
 * node (native/src/pool_kernels.cc), whose backward divides the pooled gradient before expanding it;
 * ATen's expands first and divides in a slow scalar loop. The numbers are the same bit for bit.
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | number[]): Tensor {
  const size = typeof outputSize === 'number' ? [outputSize] : outputSize;
  if (
    fusedKernels &&
    size.length >= 1 &&
    size.length <= 2 &&
    size.every((s) => s === 1) &&
    (x.ndim === 3 || x.ndim === 4) &&
    x.requiresGrad &&
    isGradEnabled()
  ) {
    return wrap(N.globalAvgPool(handle(x)));
  }
  return ops.adaptiveAvgPool2d(x, outputSize);
}

/** Elementwise choice: x where condition holds, else y. */
export function where(condition: Tensor, x: Tensor | number, y: Tensor | number): Tensor {
  return ops.where_TensorOrScalar(condition, x, y);
}
/** Sums products of the operands' elements as an Einstein summation equation says, e.g. 'ij,jk->ik'. */
export function einsum(equation: string, ...operands: Tensor[]): Tensor {
  return ops.einsum(equation, operands);
}
/** Matrix product with broadcasting over batch dimensions, as {@link Tensor.matmul}. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  return ops.matmul(a, b);
}
/** Batched matrix product, [b, n, m] × [b, m, p] → [b, n, p]. */
export function bmm(a: Tensor, b: Tensor): Tensor {
  return ops.bmm(a, b);
}
/** Elementwise clipping of x into [min, max]; a missing or null bound is open. */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  return x.clamp(min, max);
}
/** The tensors expanded (as views) to their common broadcast shape. */
export function broadcastTensors(...tensors: Tensor[]): Tensor[] {
  return ops.broadcastTensors(tensors);
}
/**
 * Coordinate grids from 1-d tensors: 'ij' (the default) indexes by the first tensor first, 'xy'
 * swaps the first two.
 */
export function meshgrid(tensors: Tensor[], indexing: 'ij' | 'xy' = 'ij'): Tensor[] {
  return ops.meshgrid_indexing(tensors, indexing);
}
/** Pairwise p-norm distances (default Euclidean) between the rows of a [.., n, d] and b [.., m, d], as [.., n, m]. */
export function cdist(a: Tensor, b: Tensor, p = 2): Tensor {
  return ops.cdist(a, b, { p });
}

/** Linear algebra, following torch.linalg. */
export const linalg = {
  /** [sign, log|det|]. */
  slogdet(a: Tensor): [Tensor, Tensor] {
    return ops.linalgSlogdet(a);
  },
  /** Determinant of a square matrix (or a batch of them). */
  det(a: Tensor): Tensor {
    return ops.linalgDet(a);
  },
  /** Inverse of a square invertible matrix (or a batch of them). */
  inv(a: Tensor): Tensor {
    return ops.linalgInv(a);
  },
  /** X with A X = B (or X A = B with left: false) for square invertible A. */
  solve(a: Tensor, b: Tensor, opts?: { left?: boolean }): Tensor {
    return ops.linalgSolve(a, b, opts);
  },
  /** Cholesky factor L with A = L Lᵀ of a symmetric positive-definite matrix (or U with A = Uᵀ U, upper: true). */
  cholesky(a: Tensor, opts?: { upper?: boolean }): Tensor {
    return ops.linalgCholesky(a, opts);
  },
  /** [Q, R]. */
  qr(a: Tensor, mode: 'reduced' | 'complete' | 'r' = 'reduced'): [Tensor, Tensor] {
    return ops.linalgQr(a, { mode });
  },
  /** [U, S, Vh]. */
  svd(a: Tensor, opts?: { fullMatrices?: boolean }): [Tensor, Tensor, Tensor] {
    return ops.linalgSvd(a, { fullMatrices: opts?.fullMatrices ?? true });
  },
  /** Singular values, in descending order. */
  svdvals(a: Tensor): Tensor {
    return ops.linalgSvdvals(a);
  },
  /** [eigenvalues ascending, eigenvectors] of a symmetric matrix. */
  eigh(a: Tensor, uplo: 'L' | 'U' = 'L'): [Tensor, Tensor] {
    return ops.linalgEigh(a, { UPLO: uplo });
  },
  /** Eigenvalues of a symmetric matrix, ascending. */
  eigvalsh(a: Tensor, uplo: 'L' | 'U' = 'L'): Tensor {
    return ops.linalgEigvalsh(a, { UPLO: uplo });
  },
  /** [P, L, U] with A = P L U. */
  lu(a: Tensor, opts?: { pivot?: boolean }): [Tensor, Tensor, Tensor] {
    return ops.linalgLu(a, opts);
  },
  /** The compact LU factorisation with partial pivoting, as [LU, pivots]. */
  luFactor(a: Tensor): [Tensor, Tensor] {
    return ops.linalgLuFactor(a);
  },
  /** Vector or matrix norm: ord a number, 'fro' (Frobenius) or 'nuc' (nuclear); over dim, or the whole input. */
  norm(a: Tensor, ord?: number | 'fro' | 'nuc', dim?: number[], opts?: { keepdim?: boolean }): Tensor {
    if (typeof ord === 'string') return ops.linalgNorm_ord_str(a, ord, { dim: dim ?? null, keepdim: opts?.keepdim });
    return ops.linalgNorm(a, { ord: ord ?? null, dim: dim ?? null, keepdim: opts?.keepdim });
  },
  /** Vector ord-norm (default 2) of all elements, or over dim. */
  vectorNorm(a: Tensor, ord = 2, dim?: number[], opts?: { keepdim?: boolean }): Tensor {
    return ops.linalgVectorNorm(a, { ord, dim: dim ?? null, keepdim: opts?.keepdim });
  },
  /** Matrix exponential of a square matrix (or a batch of them). */
  matrixExp(a: Tensor): Tensor {
    return ops.linalgMatrixExp(a);
  },
  /** Moore–Penrose pseudo-inverse. */
  pinv(a: Tensor): Tensor {
    return ops.linalgPinv_atol_rtol_float(a);
  },
};
