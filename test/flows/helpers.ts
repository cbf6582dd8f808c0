// Shared pieces of the flows tests: seeded inputs, non-trivial parameters, and the two checks every
// flow layer must pass (exact inverse; log-determinant equal to the autograd Jacobian's).
import assert from 'node:assert/strict';
import type { Flow } from '../../src/flows/flow.js';
import { logAbsDetJacobian } from '../../src/flows/jacobian.js';
import { torch } from '../../src/index.js';
import type { Module } from '../../src/nn/module.js';
import type { Tensor } from '../../src/torch/tensor.js';

/** N(0, 1) values from their own generator. */
export function randn(shape: number[], seed: number, dtype: 'float32' | 'float64' = 'float32'): Tensor {
  return torch.randn(shape, { dtype, generator: new torch.Generator(seed) });
}

/**
 * Moves every parameter off its initial value: zero-initialised convolutions would otherwise make
 * couplings and priors the identity, and the checks trivially true.
 */
export function perturb(m: Module, seed: number, scale = 0.1): void {
  const generator = new torch.Generator(seed);
  torch.tidy(() =>
    torch.noGrad(() => {
      for (const p of m.parameters()) p.add_(torch.randn(p.shape, { dtype: p.dtype, generator }).mul(scale));
    }),
  );
}

export function maxAbs(a: Tensor, b: Tensor): number {
  return torch.tidy(() => a.sub(b).abs().max().item());
}

/** ‖f⁻¹(f(x)) − x‖∞ in float32 on a random batch. */
export function inverseError(flow: Flow, x: Tensor): number {
  return torch.tidy(() => torch.noGrad(() => maxAbs(flow.reverse(flow.forward(x)[0]), x)));
}

/**
 * The layer's log-determinant for one float64 example, and log|det J| of the same map computed row
 * by row through autograd.
 */
export function logdetPair(flow: Flow, x: Tensor): { model: number; bruteForce: number } {
  assert.equal(x.shape[0], 1, 'one example');
  const model = torch.tidy(() => torch.noGrad(() => flow.forward(x)[1].sum().item()));
  const bruteForce = logAbsDetJacobian((v) => flow.forward(v)[0], x);
  return { model, bruteForce };
}

export function assertNear(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)),
    `${what}: ${actual} vs ${expected} (tolerance ${tol})`,
  );
}
