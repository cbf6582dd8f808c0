// Torch-level functions that take several tensors, plus linear algebra.
import * as ops from './generated/ops.js';
import type { Tensor } from './tensor.js';

export function cat(tensors: Tensor[], dim = 0): Tensor {
  return ops.cat(tensors, { dim });
}
export function stack(tensors: Tensor[], dim = 0): Tensor {
  return ops.stack(tensors, { dim });
}
/** Elementwise choice: x where condition holds, else y. */
export function where(condition: Tensor, x: Tensor | number, y: Tensor | number): Tensor {
  return ops.where_TensorOrScalar(condition, x, y);
}
export function einsum(equation: string, ...operands: Tensor[]): Tensor {
  return ops.einsum(equation, operands);
}
export function matmul(a: Tensor, b: Tensor): Tensor {
  return ops.matmul(a, b);
}
export function bmm(a: Tensor, b: Tensor): Tensor {
  return ops.bmm(a, b);
}
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  return x.clamp(min, max);
}
export function broadcastTensors(...tensors: Tensor[]): Tensor[] {
  return ops.broadcastTensors(tensors);
}
export function meshgrid(tensors: Tensor[], indexing: 'ij' | 'xy' = 'ij'): Tensor[] {
  return ops.meshgrid_indexing(tensors, indexing);
}
export function cdist(a: Tensor, b: Tensor, p = 2): Tensor {
  return ops.cdist(a, b, { p });
}

/** Linear algebra, following torch.linalg. */
export const linalg = {
  /** [sign, log|det|]. */
  slogdet(a: Tensor): [Tensor, Tensor] {
    return ops.linalgSlogdet(a);
  },
  det(a: Tensor): Tensor {
    return ops.linalgDet(a);
  },
  inv(a: Tensor): Tensor {
    return ops.linalgInv(a);
  },
  solve(a: Tensor, b: Tensor, opts?: { left?: boolean }): Tensor {
    return ops.linalgSolve(a, b, opts);
  },
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
  luFactor(a: Tensor): [Tensor, Tensor] {
    return ops.linalgLuFactor(a);
  },
  norm(a: Tensor, ord?: number | 'fro' | 'nuc', dim?: number[], opts?: { keepdim?: boolean }): Tensor {
    if (typeof ord === 'string') return ops.linalgNorm_ord_str(a, ord, { dim: dim ?? null, keepdim: opts?.keepdim });
    return ops.linalgNorm(a, { ord: ord ?? null, dim: dim ?? null, keepdim: opts?.keepdim });
  },
  vectorNorm(a: Tensor, ord = 2, dim?: number[], opts?: { keepdim?: boolean }): Tensor {
    return ops.linalgVectorNorm(a, { ord, dim: dim ?? null, keepdim: opts?.keepdim });
  },
  matrixExp(a: Tensor): Tensor {
    return ops.linalgMatrixExp(a);
  },
  pinv(a: Tensor): Tensor {
    return ops.linalgPinv_atol_rtol_float(a);
  },
};
