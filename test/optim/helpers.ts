// Shared pieces of the optimizer tests: a small quadratic, readback and float64 comparisons.
import assert from 'node:assert/strict';
import { torch } from '../../src/index.js';
import type { Tensor } from '../../src/torch/tensor.js';

/** Curvatures and minimum of f(x) = ½ Σ a_i (x_i − c_i)², whose gradient is a ⊙ (x − c). */
export const A = [1, 2, 0.5, 4];
export const C = [0.5, -1, 2, 0.25];
export const X0 = [1, 1, -1, 2];

export function param(values: number[], dtype: 'float32' | 'float64' = 'float64'): Tensor {
  return torch.tensor(values, { dtype, requiresGrad: true });
}

/** Sets x.grad from the quadratic through autograd. */
export function quadraticBackward(x: Tensor, a = A, c = C): void {
  torch.tidy(() => {
    const at = torch.tensor(a, { dtype: x.dtype });
    const ct = torch.tensor(c, { dtype: x.dtype });
    x.sub(ct).square().mul(at).sum().mul(0.5).backward();
  });
}

/** The gradient of the quadratic, in float64. */
export function quadraticGrad(x: number[], a = A, c = C): number[] {
  return x.map((xi, i) => a[i] * (xi - c[i]));
}

export function values(t: Tensor): number[] {
  return Array.from(t.toTypedArray() as Float64Array | Float32Array);
}

export function assertClose(actual: number[], expected: number[], rtol = 1e-12, what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const tol = rtol * Math.max(1, Math.abs(expected[i]));
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol,
      `${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (|diff| ${Math.abs(actual[i] - expected[i])})`,
    );
  }
}
