// Every Glow layer: an exact inverse in float32, and a log-determinant equal to the brute-force
// log|det J| of the autograd Jacobian in float64.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActNorm } from '../../src/flows/actnorm.js';
import { Coupling } from '../../src/flows/coupling.js';
import { Flow } from '../../src/flows/flow.js';
import { gaussianLogp, standardLogp } from '../../src/flows/gaussian.js';
import { FlowStep } from '../../src/flows/glow.js';
import { InvConv2d, InvConv2dLU } from '../../src/flows/invconv.js';
import { logAbsDetJacobian } from '../../src/flows/jacobian.js';
import { Split } from '../../src/flows/prior.js';
import { squeeze2d, unsqueeze2d } from '../../src/flows/squeeze.js';
import { torch } from '../../src/index.js';
import type { Tensor } from '../../src/torch/tensor.js';
import { assertNear, inverseError, logdetPair, maxAbs, perturb, randn } from './helpers.js';

class Squeeze extends Flow {
  forward(x: Tensor): [Tensor, Tensor] {
    return [squeeze2d(x), torch.zeros([], { dtype: x.dtype })];
  }
  reverse(y: Tensor): Tensor {
    return unsqueeze2d(y);
  }
}

const C = 4;
const layers: [string, () => Flow][] = [
  ['ActNorm', () => new ActNorm(C)],
  ['InvConv2d (plain)', () => new InvConv2d(C)],
  ['InvConv2dLU', () => new InvConv2dLU(C)],
  ['Coupling affine', () => new Coupling(C, 'affine', 8)],
  ['Coupling additive', () => new Coupling(C, 'additive', 8)],
  ['squeeze', () => new Squeeze()],
  ['FlowStep', () => new FlowStep(C, 8, 'affine', 'lu')],
];

for (const [name, make] of layers) {
  test(`${name}: f⁻¹(f(x)) = x within 1e-4 in float32, and log|det| = autograd Jacobian in float64`, () => {
    torch.manualSeed(1);
    const flow = make();
    const x = randn([8, C, 6, 6], 2).mul(1.5).add(0.3);
    flow.forward(x); // data-dependent init where there is one
    perturb(flow, 3);
    const err = inverseError(flow, x);
    assert.ok(err < 1e-4, `${name}: inverse error ${err}`);

    flow.double();
    const x1 = randn([1, C, 4, 4], 4, 'float64');
    const { model, bruteForce } = logdetPair(flow, x1);
    assertNear(model, bruteForce, 1e-9, `${name} log-determinant`);
    flow.dispose();
  });
}

test('ActNorm initialises from its first batch: zero mean, unit variance per channel', () => {
  const an = new ActNorm(3);
  const x = randn([64, 3, 5, 5], 5)
    .mul(torch.tensor([0.5, 2, 7]).view(1, 3, 1, 1))
    .add(4);
  assert.equal(an.isInitialized, false);
  const [y] = an.forward(x);
  assert.equal(an.isInitialized, true);
  const mean = y.mean([0, 2, 3]).abs().max().item();
  const std = y.std([0, 2, 3], { correction: 0 });
  assert.ok(mean < 1e-5, `mean ${mean}`);
  assert.ok(std.sub(1).abs().max().item() < 1e-4, `std ${std.toArray()}`);
  // A second batch leaves the parameters as they are.
  const before = an.bias.clone();
  an.forward(randn([64, 3, 5, 5], 6));
  assert.equal(maxAbs(an.bias, before), 0);
});

test('plain and LU 1×1 convolutions start as the same kind of rotation, |det W| = 1', () => {
  const plain = new InvConv2d(6);
  const lu = new InvConv2dLU(6);
  const x = randn([1, 6, 3, 3], 7);
  assertNear(plain.forward(x)[1].item(), 0, 1e-5, 'plain log|det| at init');
  assertNear(lu.forward(x)[1].item(), 0, 1e-5, 'LU log|det| at init');
  // W = P L U is rebuilt exactly from the factors; P and sign stay buffers (not trained).
  const names = lu.namedParameters().map(([n]) => n);
  assert.deepEqual(names.sort(), ['logS', 'lower', 'upper']);
  assert.ok('p' in lu.stateDict() && 'signS' in lu.stateDict());
  const w = lu.weight();
  const wtw = w.t().matmul(w);
  assert.ok(maxAbs(wtw, torch.eye(6)) < 1e-5, 'W is orthogonal at init');
});

test('the coupling starts as the identity map (zero-initialised last conv)', () => {
  const c = new Coupling(4, 'affine', 8);
  const x = randn([2, 4, 5, 5], 8);
  const [y, ld] = c.forward(x);
  // scale = sigmoid(2) everywhere, shift 0: y_b = x_b · sigmoid(2).
  const [ya, yb] = y.chunk(2, 1);
  const [xa, xb] = x.chunk(2, 1);
  assert.equal(maxAbs(ya, xa), 0);
  assert.ok(maxAbs(yb, xb.mul(1 / (1 + Math.exp(-2)))) < 1e-6);
  assertNear(ld.select(0, 0).item(), 2 * 25 * Math.log(1 / (1 + Math.exp(-2))), 1e-5, 'logdet');
});

test('Split: reverse(z1, eps) rebuilds z, and log p(z2 | z1) = log N(eps) + log|∂eps/∂z2|', () => {
  const split = new Split(4);
  perturb(split, 9);
  const z = randn([3, 4, 4, 4], 10);
  const { z1, eps, logp } = split.forward(z);
  assert.ok(maxAbs(split.reverse(z1, eps), z) < 1e-5);

  split.double();
  const zd = randn([1, 4, 3, 3], 11, 'float64');
  const [a, b] = zd.chunk(2, 1);
  const toEps = (z2: Tensor) => split.forward(torch.cat([a, z2], 1)).eps;
  const out = split.forward(zd);
  const expected = standardLogp(out.eps).item() + logAbsDetJacobian(toEps, b.contiguous());
  assertNear(out.logp.item(), expected, 1e-10, 'split log-density');
  assert.equal(logp.shape[0], 3);
});

test('gaussianLogp agrees with the closed form', () => {
  const x = torch.tensor([0.5, -1, 2, 0], { dtype: 'float64' }).view(1, 4, 1, 1);
  const mean = torch.tensor([0, 1, 1, -1], { dtype: 'float64' }).view(1, 4, 1, 1);
  const logs = torch.tensor([0, 0.5, -0.5, 1], { dtype: 'float64' }).view(1, 4, 1, 1);
  let expected = 0;
  const xs = [0.5, -1, 2, 0];
  const ms = [0, 1, 1, -1];
  const ls = [0, 0.5, -0.5, 1];
  for (let i = 0; i < 4; i++) {
    const s = Math.exp(ls[i]);
    expected += -0.5 * Math.log(2 * Math.PI) - Math.log(s) - (xs[i] - ms[i]) ** 2 / (2 * s * s);
  }
  assertNear(gaussianLogp(x, mean, logs).logp.item(), expected, 1e-12, 'log density');
});
