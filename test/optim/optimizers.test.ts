// Each optimizer's first steps on a small quadratic, against the update rule written out in float64.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Adam, Adamax, AdamW, type Optimizer, RMSprop, SGD } from '../../src/optim/index.js';
import type { Tensor } from '../../src/torch/tensor.js';
import { assertClose, param, quadraticBackward, quadraticGrad, values, X0 } from './helpers.js';

/** Runs n steps of opt on the quadratic and returns x after each. */
function run(opt: Optimizer<any, any>, x: Tensor, n: number): number[][] {
  const out: number[][] = [];
  for (let t = 0; t < n; t++) {
    quadraticBackward(x);
    opt.step();
    opt.zeroGrad();
    out.push(values(x));
  }
  return out;
}

/** Runs n steps of a float64 reference rule `update(x, g, t)` (t from 1), returning x after each. */
function reference(n: number, update: (x: number[], g: number[], t: number) => number[]): number[][] {
  let x = [...X0];
  const out: number[][] = [];
  for (let t = 1; t <= n; t++) {
    x = update(x, quadraticGrad(x), t);
    out.push(x);
  }
  return out;
}

function check(actual: number[][], expected: number[][], rtol = 1e-12): void {
  for (const [t, x] of actual.entries()) assertClose(x, expected[t], rtol, `step ${t + 1}`);
}

describe('SGD', () => {
  test('plain: x ← x − lr·g, with the first step checked by hand', () => {
    const x = param(X0);
    const got = run(new SGD([x], { lr: 0.1 }), x, 3);
    // g(x0) = a ⊙ (x0 − c) = [0.5, 4, −1.5, 7]
    assertClose(got[0], [0.95, 0.6, -0.85, 1.3]);
    check(
      got,
      reference(3, (x, g) => x.map((xi, i) => xi - 0.1 * g[i])),
    );
  });

  test('momentum, dampening and weight decay', () => {
    const [lr, mu, damp, wd] = [0.05, 0.9, 0.2, 0.01];
    const x = param(X0);
    const got = run(new SGD([x], { lr, momentum: mu, dampening: damp, weightDecay: wd }), x, 3);
    let buf: number[] = [];
    const expected = reference(3, (x, g, t) => {
      const d = g.map((gi, i) => gi + wd * x[i]);
      buf = t === 1 ? d : buf.map((b, i) => mu * b + (1 - damp) * d[i]);
      return x.map((xi, i) => xi - lr * buf[i]);
    });
    check(got, expected);
  });

  test('Nesterov momentum', () => {
    const [lr, mu] = [0.05, 0.8];
    const x = param(X0);
    const got = run(new SGD([x], { lr, momentum: mu, nesterov: true }), x, 3);
    let buf: number[] = [];
    const expected = reference(3, (x, g, t) => {
      buf = t === 1 ? g : buf.map((b, i) => mu * b + g[i]);
      return x.map((xi, i) => xi - lr * (g[i] + mu * buf[i]));
    });
    check(got, expected);
  });

  test('Nesterov without momentum is refused', () => {
    assert.throws(() => new SGD([param(X0)], { lr: 0.1, nesterov: true }), /Nesterov/);
  });
});

/** Adam and AdamW in float64: `decoupled` selects AdamW's decay. */
function adamReference(
  n: number,
  o: { lr: number; b1: number; b2: number; eps: number; wd: number; amsgrad: boolean; decoupled: boolean },
): number[][] {
  let m = [0, 0, 0, 0];
  let v = [0, 0, 0, 0];
  let vmax = [0, 0, 0, 0];
  return reference(n, (x, g, t) => {
    let xs = x;
    let gs = g;
    if (o.decoupled) xs = x.map((xi) => xi * (1 - o.lr * o.wd));
    else gs = g.map((gi, i) => gi + o.wd * x[i]);
    m = m.map((mi, i) => o.b1 * mi + (1 - o.b1) * gs[i]);
    v = v.map((vi, i) => o.b2 * vi + (1 - o.b2) * gs[i] ** 2);
    vmax = vmax.map((vm, i) => Math.max(vm, v[i]));
    const second = o.amsgrad ? vmax : v;
    const stepSize = o.lr / (1 - o.b1 ** t);
    const bc2 = Math.sqrt(1 - o.b2 ** t);
    return xs.map((xi, i) => xi - (stepSize * m[i]) / (Math.sqrt(second[i]) / bc2 + o.eps));
  });
}

describe('Adam', () => {
  test('first step moves each coordinate by lr against the sign of its gradient', () => {
    const x = param(X0);
    const got = run(new Adam([x], { lr: 0.1 }), x, 1);
    // m̂ = g and v̂ = g², so the step is lr·g/(|g| + eps).
    assertClose(got[0], [0.9, 0.9, -0.9, 1.9], 1e-8);
  });

  test('three steps match the float64 rule', () => {
    const x = param(X0);
    const got = run(new Adam([x], { lr: 0.1, betas: [0.8, 0.95], eps: 1e-3 }), x, 3);
    const expected = adamReference(3, {
      lr: 0.1,
      b1: 0.8,
      b2: 0.95,
      eps: 1e-3,
      wd: 0,
      amsgrad: false,
      decoupled: false,
    });
    check(got, expected);
  });

  test('AMSGrad with L2 weight decay', () => {
    const x = param(X0);
    const opts = { lr: 0.2, betas: [0.5, 0.6] as [number, number], eps: 1e-3, weightDecay: 0.1, amsgrad: true };
    const got = run(new Adam([x], opts), x, 4);
    const expected = adamReference(4, {
      lr: 0.2,
      b1: 0.5,
      b2: 0.6,
      eps: 1e-3,
      wd: 0.1,
      amsgrad: true,
      decoupled: false,
    });
    check(got, expected);
    // The maximum must have mattered, or this test proves nothing about AMSGrad.
    const plain = adamReference(4, { lr: 0.2, b1: 0.5, b2: 0.6, eps: 1e-3, wd: 0.1, amsgrad: false, decoupled: false });
    assert.notDeepEqual(plain[3], expected[3]);
  });

  test('AdamW decays the weights, not the gradient', () => {
    const x = param(X0);
    const got = run(new AdamW([x], { lr: 0.1, weightDecay: 0.5, eps: 1e-3 }), x, 3);
    const expected = adamReference(3, {
      lr: 0.1,
      b1: 0.9,
      b2: 0.999,
      eps: 1e-3,
      wd: 0.5,
      amsgrad: false,
      decoupled: true,
    });
    check(got, expected);
  });

  test('AdamW defaults to weightDecay 0.01', () => {
    assert.equal(new AdamW([param(X0)]).paramGroups[0].weightDecay, 0.01);
  });
});

describe('Adamax', () => {
  test('three steps match the float64 rule', () => {
    const [lr, b1, b2, eps, wd] = [0.1, 0.9, 0.5, 1e-3, 0.05];
    const x = param(X0);
    const got = run(new Adamax([x], { lr, betas: [b1, b2], eps, weightDecay: wd }), x, 3);
    let m = [0, 0, 0, 0];
    let u = [0, 0, 0, 0];
    const expected = reference(3, (x, g, t) => {
      const gs = g.map((gi, i) => gi + wd * x[i]);
      m = m.map((mi, i) => b1 * mi + (1 - b1) * gs[i]);
      u = u.map((ui, i) => Math.max(b2 * ui, Math.abs(gs[i]) + eps));
      return x.map((xi, i) => xi - ((lr / (1 - b1 ** t)) * m[i]) / u[i]);
    });
    check(got, expected);
  });
});

describe('RMSprop', () => {
  test('plain: first step is lr·g/(√(1−α)·|g| + eps)', () => {
    const [lr, alpha, eps] = [0.01, 0.9, 1e-8];
    const x = param(X0);
    const got = run(new RMSprop([x], { lr, alpha }), x, 3);
    const g0 = quadraticGrad(X0);
    assertClose(
      got[0],
      X0.map((xi, i) => xi - (lr * g0[i]) / (Math.sqrt(1 - alpha) * Math.abs(g0[i]) + eps)),
    );
    let v = [0, 0, 0, 0];
    const expected = reference(3, (x, g) => {
      v = v.map((vi, i) => alpha * vi + (1 - alpha) * g[i] ** 2);
      return x.map((xi, i) => xi - (lr * g[i]) / (Math.sqrt(v[i]) + eps));
    });
    check(got, expected);
  });

  test('centered, with momentum and weight decay', () => {
    const [lr, alpha, eps, mu, wd] = [0.01, 0.8, 1e-4, 0.7, 0.1];
    const x = param(X0);
    const got = run(new RMSprop([x], { lr, alpha, eps, momentum: mu, weightDecay: wd, centered: true }), x, 3);
    let v = [0, 0, 0, 0];
    let ga = [0, 0, 0, 0];
    let buf = [0, 0, 0, 0];
    const expected = reference(3, (x, g) => {
      const gs = g.map((gi, i) => gi + wd * x[i]);
      v = v.map((vi, i) => alpha * vi + (1 - alpha) * gs[i] ** 2);
      ga = ga.map((a, i) => alpha * a + (1 - alpha) * gs[i]);
      const avg = v.map((vi, i) => Math.sqrt(vi - ga[i] ** 2) + eps);
      buf = buf.map((b, i) => mu * b + gs[i] / avg[i]);
      return x.map((xi, i) => xi - lr * buf[i]);
    });
    check(got, expected, 1e-11);
  });
});

describe('Optimizer', () => {
  test('param groups keep their own hyperparameters', () => {
    const x = param(X0);
    const y = param(X0);
    const opt = new SGD([{ params: [x] }, { params: [y], lr: 0.01 }], { lr: 0.1 });
    quadraticBackward(x);
    quadraticBackward(y);
    opt.step();
    const g = quadraticGrad(X0);
    assertClose(
      values(x),
      X0.map((v, i) => v - 0.1 * g[i]),
    );
    assertClose(
      values(y),
      X0.map((v, i) => v - 0.01 * g[i]),
    );
  });

  test('maximize ascends', () => {
    const x = param(X0);
    quadraticBackward(x);
    new SGD([x], { lr: 0.1, maximize: true }).step();
    const g = quadraticGrad(X0);
    assertClose(
      values(x),
      X0.map((v, i) => v + 0.1 * g[i]),
    );
  });

  test('parameters without a gradient are skipped and get no state', () => {
    const x = param(X0);
    const y = param(X0);
    const opt = new Adam([x, y], { lr: 0.1 });
    quadraticBackward(x);
    opt.step();
    assert.deepEqual(values(y), X0);
    assert.equal(opt.state.has(y), false);
    assert.equal(opt.state.get(x)?.step, 1);
  });

  test('zeroGrad sets gradients to null, or to zeros with setToNone: false', () => {
    const x = param(X0);
    const opt = new SGD([x], { lr: 0.1 });
    quadraticBackward(x);
    opt.zeroGrad({ setToNone: false });
    assert.deepEqual(values(x.grad!), [0, 0, 0, 0]);
    opt.zeroGrad();
    assert.equal(x.grad, null);
  });

  test('step(closure) evaluates the closure with gradients on and returns its value', () => {
    const x = param(X0);
    const opt = new SGD([x], { lr: 0.1 });
    const loss = opt.step(() => {
      quadraticBackward(x);
      return 42;
    });
    assert.equal(loss, 42);
    assertClose(values(x), [0.95, 0.6, -0.85, 1.3]);
  });

  test('bad hyperparameters and parameter lists are refused', () => {
    assert.throws(() => new Adam([param(X0)], { lr: -1 }), /learning rate/);
    assert.throws(() => new Adam([param(X0)], { betas: [1, 0.9] }), /betas/);
    assert.throws(() => new SGD([], { lr: 0.1 }), /empty/);
    const x = param(X0);
    assert.throws(() => new SGD([{ params: [x] }, { params: [x] }], { lr: 0.1 }), /more than one group/);
    assert.throws(() => new SGD([x.mul(2)], { lr: 0.1 }), /non-leaf/);
  });
});
