import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { torch } from '../../src/index.js';
import { type GradcheckFn, gradcheck, gradgradcheck } from '../../src/torch/gradcheck.js';
import type { Tensor } from '../../src/torch/tensor.js';

const f64 = { dtype: 'float64' as const };

function leaf(t: Tensor): Tensor {
  return t.requiresGrad_(true);
}

/** A float64 leaf drawn from a seeded generator. */
function rnd(shape: number[], seed: number, scale = 1): Tensor {
  const g = new torch.Generator(seed);
  const t = torch.randn(shape, { ...f64, generator: g });
  return leaf(scale === 1 ? t : t.mul(scale));
}

/** Passes when analytic and numeric gradients agree to 1e-6 relative to the gradient's scale. */
function check(fn: GradcheckFn, inputs: Tensor[]): void {
  const r = gradcheck(fn, inputs);
  assert.ok(r.ok, `gradcheck failed: ${JSON.stringify(r.inputs)}`);
  assert.ok(r.maxRelError < 1e-6, `max relative error ${r.maxRelError}`);
  assert.ok(Number.isFinite(r.maxAbsError));
}

describe('gradcheck itself', () => {
  test('reports tiny errors for a correct gradient, in full and fast mode', () => {
    const x = rnd([3, 4], 1);
    const w = rnd([4, 2], 2);
    const fn = (a: Tensor, b: Tensor) => a.matmul(b).tanh();
    for (const fastMode of [false, true]) {
      const r = gradcheck(fn, [x, w], { fastMode });
      assert.equal(r.ok, true);
      assert.equal(r.inputs.length, 2);
      assert.deepEqual(
        r.inputs.map((i) => i.index),
        [0, 1],
      );
      assert.ok(r.maxRelError < 1e-8, `${r.maxRelError}`);
      assert.ok(r.maxAbsError < 1e-8);
    }
  });

  test('catches a wrong gradient', () => {
    // d/dx (stop_grad(x)·x) is reported as x by autograd, while the function is x², slope 2x.
    const x = rnd([5], 3);
    const r = gradcheck((a) => a.detach().mul(a), [x]);
    assert.equal(r.ok, false);
    assert.ok(Math.abs(r.maxRelError - 0.5) < 1e-6, `rel error ${r.maxRelError}`);
    assert.equal(r.inputs[0].failures, 5);
    assert.throws(
      () => gradcheck((a) => a.detach().mul(a), [x], { raiseException: true }),
      /Jacobian mismatch for input 0/,
    );
  });

  test('only checks inputs that require grad, and leaves them unchanged', () => {
    const x = rnd([2, 3], 4);
    const y = torch.randn([2, 3], { ...f64, generator: new torch.Generator(5) });
    const before = x.toArray();
    const r = gradcheck((a, b) => a.mul(b).exp(), [x, y]);
    assert.equal(r.inputs.length, 1);
    assert.equal(r.inputs[0].index, 0);
    assert.deepEqual(x.toArray(), before);
    assert.equal(x.grad, null);
  });

  test('rejects float32 inputs and calls with nothing to check', () => {
    const x32 = torch.randn([3]).requiresGrad_(true);
    assert.throws(() => gradcheck((a) => a.exp(), [x32]), /float64/);
    assert.throws(() => gradcheck((a) => a.exp(), [torch.randn([3], f64)]), /no input requires grad/);
  });

  test('handles several outputs, one of them independent of the inputs', () => {
    const x = rnd([3], 6);
    const c = torch.ones([2], f64);
    const r = gradcheck((a) => [a.sin(), c.mul(2), a.square().sum()], [x]);
    assert.equal(r.ok, true);
    assert.ok(r.maxRelError < 1e-6);
  });

  test('does not leak tensors', () => {
    const x = rnd([3, 3], 7);
    const before = torch.memory().tensors;
    gradcheck((a) => a.matmul(a).sum(0), [x]);
    gradcheck((a) => a.matmul(a).sum(0), [x], { fastMode: true });
    gradgradcheck((a) => a.matmul(a).tanh(), [x]);
    assert.equal(torch.memory().tensors, before);
  });
});

describe('second-order checks', () => {
  test('gradgradcheck passes for an MLP with tanh', () => {
    const x = rnd([4, 3], 10);
    const w1 = rnd([3, 5], 11, 0.7);
    const w2 = rnd([5, 2], 12, 0.7);
    const r = gradgradcheck((a, b, c) => a.matmul(b).tanh().matmul(c).tanh(), [x, w1, w2]);
    assert.ok(r.ok);
    assert.equal(r.inputs.length, 4); // three inputs and the weight of the one output
    assert.ok(r.maxRelError < 1e-6, `${r.maxRelError}`);
  });

  test('gradient of a gradient norm matches finite differences of the first gradient', () => {
    // Penalty ‖∂L/∂x‖² of an MLP, differentiated with respect to the weights (as in WGAN-GP).
    const x = rnd([3, 2], 13);
    const w1 = rnd([2, 4], 14);
    const w2 = rnd([4, 1], 15);
    const penalty = (w: Tensor, v: Tensor) => {
      const xi = x.detach().requiresGrad_(true);
      const out = xi.matmul(w).tanh().matmul(v).sum();
      const [gx] = torch.grad(out, xi, { createGraph: true });
      return gx!.square().sum();
    };
    const r = gradcheck(penalty, [w1, w2]);
    assert.ok(r.ok);
    assert.ok(r.maxRelError < 1e-6, `${r.maxRelError}`);
    // The penalty really depends on the weights through the second derivative.
    const gw = torch.grad(penalty(w1, w2), [w1, w2]);
    assert.ok(gw[0]!.abs().sum().item() > 1e-3);
  });

  test('gradgradcheck catches a second derivative that is wrong while the first is right', () => {
    // Value x³ and first derivative 3x², but the derivative is built from a detached x.
    const cube = (a: Tensor) => {
      const d = a.detach();
      return d.pow(3).add(a.sub(d).mul(d.square().mul(3)));
    };
    const x = rnd([4], 16);
    assert.ok(gradcheck(cube, [x]).ok);
    const r = gradgradcheck(cube, [x]);
    assert.equal(r.ok, false);
    assert.ok(r.maxRelError > 0.1);
  });
});

describe('gradients of torch operators against finite differences (float64)', () => {
  const spd = (seed: number) => {
    // A well-conditioned symmetric positive definite matrix as a function of a free leaf.
    const a = rnd([3, 3], seed);
    const make = (m: Tensor) => m.matmul(m.mT).add(torch.eye(3, undefined, f64).mul(3));
    return { a, make };
  };

  test('matmul', () => check((a, b) => a.matmul(b), [rnd([2, 3], 20), rnd([3, 4], 21)]));
  test('bmm', () => check((a, b) => torch.bmm(a, b), [rnd([2, 2, 3], 22), rnd([2, 3, 2], 23)]));
  test('einsum', () => check((a, b) => torch.einsum('bij,jk->bik', a, b), [rnd([2, 2, 3], 24), rnd([3, 2], 25)]));
  test('exp', () => check((a) => a.exp(), [rnd([2, 3], 26)]));
  test('log', () => check((a) => a.abs().add(0.5).log(), [rnd([2, 3], 27)]));
  test('pow (tensor and scalar exponents)', () =>
    check((a, b) => a.abs().add(0.5).pow(b).add(a.pow(3)), [rnd([2, 3], 28), rnd([2, 3], 29)]));
  test('div', () => check((a, b) => a.div(b.square().add(1)), [rnd([2, 3], 30), rnd([2, 3], 31)]));
  test('mul with broadcasting', () => check((a, b) => a.mul(b), [rnd([2, 3], 32), rnd([3], 33)]));
  test('sum and mean over dims', () => check((a) => a.sum(1).mul(a.mean(0).sum()), [rnd([3, 4], 34)]));
  test('logsumexp', () => check((a) => a.logsumexp(1), [rnd([3, 4], 35)]));
  test('softmax', () => check((a) => a.softmax(-1), [rnd([2, 4], 36)]));
  test('logSoftmax', () => check((a) => a.logSoftmax(0), [rnd([3, 2], 37)]));
  test('sigmoid', () => check((a) => a.sigmoid(), [rnd([2, 3], 38)]));
  test('tanh', () => check((a) => a.tanh(), [rnd([2, 3], 39)]));
  test('sqrt and rsqrt', () => check((a) => a.square().add(1).sqrt().add(a.square().add(1).rsqrt()), [rnd([5], 40)]));
  test('lgamma', () => check((a) => a.abs().add(0.5).lgamma(), [rnd([5], 41)]));
  test('gather', () => {
    const idx = torch.tensor(
      [
        [0, 2],
        [1, 1],
        [2, 0],
      ],
      { dtype: 'int64' },
    );
    check((a) => a.gather(1, idx), [rnd([3, 3], 42)]);
  });
  test('cat', () => check((a, b) => torch.cat([a, b.mul(2)], 1), [rnd([2, 2], 43), rnd([2, 3], 44)]));
  test('where', () => {
    const cond = torch.tensor([
      [true, false, true],
      [false, false, true],
    ]);
    check((a, b) => torch.where(cond, a, b), [rnd([2, 3], 45), rnd([2, 3], 46)]);
  });
  test('slogdet', () => {
    const { a, make } = spd(47);
    check((m) => torch.linalg.slogdet(make(m))[1], [a]);
  });
  test('cholesky', () => {
    const { a, make } = spd(48);
    check((m) => torch.linalg.cholesky(make(m)), [a]);
  });
  test('inv', () => {
    const { a, make } = spd(49);
    check((m) => torch.linalg.inv(make(m)), [a]);
  });
  test('solve', () => {
    const { a, make } = spd(50);
    check((m, b) => torch.linalg.solve(make(m), b), [a, rnd([3, 2], 51)]);
  });
});
