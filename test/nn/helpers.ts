// Shared pieces of the nn tests: seeded float64 leaves, readback and tolerant comparisons.
import assert from 'node:assert/strict';
import { torch } from '../../src/index.js';
import { type GradcheckFn, gradcheck } from '../../src/torch/gradcheck.js';
import type { Tensor } from '../../src/torch/tensor.js';

export const f64 = { dtype: 'float64' as const };

/** A float64 leaf requiring grad, drawn N(0, scale²) from its own seeded generator. */
export function rnd(shape: number[], seed: number, scale = 1): Tensor {
  const t = torch.randn(shape, { ...f64, generator: new torch.Generator(seed) });
  return (scale === 1 ? t : t.mul(scale)).requiresGrad_(true);
}

/** Elements of a tensor in row-major order, as plain numbers. */
export function values(t: Tensor): number[] {
  return Array.from(t.toTypedArray() as ArrayLike<number>, Number);
}

export function assertClose(
  actual: Tensor | number[] | number,
  expected: number[] | number,
  tol = 1e-6,
  what = 'values',
) {
  const a = typeof actual === 'number' ? [actual] : Array.isArray(actual) ? actual : values(actual);
  const e = typeof expected === 'number' ? [expected] : expected;
  assert.equal(a.length, e.length, `${what}: length ${a.length} vs ${e.length}`);
  for (let i = 0; i < a.length; i++) {
    const bound = tol * Math.max(1, Math.abs(e[i]));
    assert.ok(Math.abs(a[i] - e[i]) <= bound, `${what}[${i}]: got ${a[i]}, expected ${e[i]}`);
  }
}

/** Analytic gradients match central differences to 1e-6 relative to the gradient's scale. */
export function assertGradcheck(fn: GradcheckFn, inputs: Tensor[]): void {
  const r = gradcheck(fn, inputs);
  assert.ok(r.ok, `gradcheck failed: ${JSON.stringify(r.inputs)}`);
  assert.ok(r.maxRelError < 1e-6, `max relative error ${r.maxRelError}`);
}
