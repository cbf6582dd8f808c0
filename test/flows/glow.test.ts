// The whole multi-scale Glow: exact inverse, exact likelihood, priors, sampling and latent tools.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromEps, gaussianLogp, standardLogp } from '../../src/flows/gaussian.js';
import { Glow, type GlowConfig } from '../../src/flows/glow.js';
import { logAbsDetJacobian } from '../../src/flows/jacobian.js';
import { interpolate, manipulate, mixLatents, temperatureGrid } from '../../src/flows/latents.js';
import { squeeze2d, unsqueeze2d } from '../../src/flows/squeeze.js';
import { torch } from '../../src/index.js';
import type { Tensor } from '../../src/torch/tensor.js';
import { assertNear, maxAbs, perturb, randn } from './helpers.js';

const variants: [string, GlowConfig][] = [
  ['affine, LU, L=2', { shape: [1, 8, 8], levels: 2, depth: 2, hidden: 8 }],
  [
    'additive, plain, L=3',
    { shape: [1, 8, 8], levels: 3, depth: 1, hidden: 8, coupling: 'additive', permutation: 'plain' },
  ],
  ['affine, RGB, class-conditional', { shape: [3, 4, 4], levels: 2, depth: 1, hidden: 8, numClasses: 5 }],
  [
    'affine, LU, L=2, channels-last',
    { shape: [1, 8, 8], levels: 2, depth: 2, hidden: 8, memoryFormat: 'channelsLast' },
  ],
];

function labels(n: number, k: number): Tensor | undefined {
  return k > 0 ? torch.tensor(BigInt64Array.from({ length: n }, (_, i) => BigInt(i % k))) : undefined;
}

for (const [name, config] of variants) {
  test(`Glow ${name}: decode(encode(x)) = x within 1e-4 in float32`, () => {
    torch.manualSeed(11);
    const glow = new Glow(config);
    const x = randn([16, ...config.shape], 12).mul(0.3);
    const y = labels(16, config.numClasses ?? 0);
    glow.initialize(x, y);
    perturb(glow, 13, 0.05);
    const err = torch.tidy(() => torch.noGrad(() => maxAbs(glow.decode(glow.encode(x, y).eps, y), x)));
    assert.ok(err < 1e-4, `inverse error ${err}`);
    glow.dispose();
  });

  test(`Glow ${name}: log p(x) = log N(eps) + log|det ∂eps/∂x| by the autograd Jacobian (float64)`, () => {
    torch.manualSeed(14);
    const glow = new Glow(config);
    glow.initialize(randn([16, ...config.shape], 15).mul(0.3), labels(16, config.numClasses ?? 0));
    perturb(glow, 16, 0.05);
    glow.double();
    const x = randn([1, ...config.shape], 17, 'float64').mul(0.3);
    const y = labels(1, config.numClasses ?? 0);
    // Every latent, standardised and flattened: a bijection of x whose Jacobian autograd gives row by row.
    const allEps = (v: Tensor) => torch.cat(glow.encode(v, y).eps.map((e) => e.flatten()));
    const eps = allEps(x);
    const expected = standardLogp(eps.view(1, -1, 1, 1)).item() + logAbsDetJacobian(allEps, x);
    assertNear(glow.forward(x, y).item(), expected, 1e-9, 'log-likelihood');
    glow.dispose();
  });
}

test('channels-last activations: the same log p(x) and gradients as row-major to float32 rounding', () => {
  torch.tidy(() => {
    const config: GlowConfig = { shape: [1, 8, 8], levels: 2, depth: 2, hidden: 16 };
    torch.manualSeed(21);
    const rowMajor = new Glow(config);
    const x = randn([16, 1, 8, 8], 22).mul(0.3);
    rowMajor.initialize(x);
    perturb(rowMajor, 23, 0.05);
    const last = new Glow({ ...config, memoryFormat: 'channelsLast' });
    last.loadStateDict(rowMajor.stateDict());
    const run = (glow: Glow) => {
      const logp = glow.forward(x);
      logp.sum().backward();
      return { logp, grads: glow.parameters().map((p) => p.grad!) };
    };
    const a = run(rowMajor);
    const b = run(last);
    assert.ok(maxAbs(a.logp, b.logp) < 1e-4 * maxAbs(a.logp, torch.zerosLike(a.logp)), 'log p(x)');
    a.grads.forEach((g, i) => {
      const scale = Math.max(1, maxAbs(g, torch.zerosLike(g)));
      assert.ok(maxAbs(g, b.grads[i]) < 1e-3 * scale, `gradient ${i}: ${maxAbs(g, b.grads[i])} of ${scale}`);
    });
    // What leaves the flow is row-major again, so callers can view() it.
    const { eps } = last.encode(x);
    for (const e of eps) assert.ok(e.isContiguous(), `latent [${e.shape}] is row-major`);
    assert.ok(torch.noGrad(() => last.decode(eps)).isContiguous());
    rowMajor.dispose();
    last.dispose();
  });
});

test('squeeze2d moves each 2×2 block into channels and unsqueeze2d undoes it', () => {
  const x = torch.arange(0, 32).view(1, 2, 4, 4);
  const s = squeeze2d(x);
  assert.deepEqual(s.shape, [1, 8, 2, 2]);
  // Channel 0's top-left block [0, 1, 4, 5] becomes channels 0…3 at position (0, 0).
  assert.deepEqual(s.select(0, 0).select(1, 0).select(1, 0).toArray(), [0, 1, 4, 5, 16, 17, 20, 21]);
  assert.ok(unsqueeze2d(s).equal(x));
  // From channels-last input too, as the flow's later levels give it.
  const y = torch.arange(0, 64).view(1, 4, 4, 4).float();
  const yLast = y.contiguous('channelsLast');
  assert.ok(squeeze2d(yLast).equal(squeeze2d(y)));
  assert.ok(unsqueeze2d(yLast).equal(unsqueeze2d(y)));
});

test('the latent shapes follow the multi-scale architecture', () => {
  const glow = new Glow({ shape: [1, 28, 28], levels: 2, depth: 1, hidden: 4 });
  assert.deepEqual(glow.latentShapes, [
    [2, 14, 14],
    [8, 7, 7],
  ]);
  assert.equal(
    glow.latentShapes.reduce((a, s) => a + s[0] * s[1] * s[2], 0),
    784,
  );
  assert.throws(() => new Glow({ shape: [1, 28, 28], levels: 3, depth: 1, hidden: 4 }), /fewer levels/);
});

test('a fresh Glow is N(0, I) at the top: the learned priors and couplings start at the identity', () => {
  torch.manualSeed(18);
  const glow = new Glow({ shape: [1, 8, 8], levels: 2, depth: 2, hidden: 8 });
  const x = randn([4, 1, 8, 8], 19);
  const { eps } = glow.encode(x);
  const [mean, logs] = glow.prior.forward(4);
  assert.equal(maxAbs(mean, torch.zeros([1])), 0);
  assert.equal(maxAbs(logs, torch.zeros([1])), 0);
  assert.deepEqual(
    eps.map((e) => e.shape),
    [
      [4, 2, 4, 4],
      [4, 8, 2, 2],
    ],
  );
});

test('the class-conditional prior moves each class its own way and needs labels', () => {
  torch.manualSeed(20);
  const glow = new Glow({ shape: [1, 8, 8], levels: 2, depth: 1, hidden: 8, numClasses: 3 });
  perturb(glow, 21);
  const [m0] = glow.prior.forward(1, labels(1, 3));
  const [m1] = glow.prior.forward(1, torch.tensor(new BigInt64Array([1n])));
  assert.ok(maxAbs(m0, m1) > 1e-3);
  assert.throws(() => glow.encode(randn([2, 1, 8, 8], 22)), /class-conditional/);
  // Labels change only the top prior: log p(x | 1) − log p(x | 0) is the difference of the top
  // latent's densities under the two classes' priors.
  const x = randn([1, 1, 8, 8], 23);
  const y0 = torch.tensor(new BigInt64Array([0n]));
  const y1 = torch.tensor(new BigInt64Array([1n]));
  const [mean0, logs0] = glow.prior.forward(1, y0);
  const [mean1, logs1] = glow.prior.forward(1, y1);
  const zTop = fromEps(glow.encode(x, y0).eps[1], mean0, logs0);
  const expected = gaussianLogp(zTop, mean1, logs1)
    .logp.sub(gaussianLogp(zTop, mean0, logs0).logp)
    .item();
  assertNear(glow.forward(x, y1).sub(glow.forward(x, y0)).item(), expected, 1e-5, 'class log-ratio');
  assert.ok(Math.abs(expected) > 1e-3);
});

test('temperature 0 samples the prior means; rows of a temperature grid share their noise', () => {
  torch.manualSeed(24);
  const glow = new Glow({ shape: [1, 8, 8], levels: 2, depth: 1, hidden: 8 });
  glow.initialize(randn([32, 1, 8, 8], 25).mul(0.2));
  perturb(glow, 26, 0.05);
  const q = { levels: 17, bins: 17 };
  const a = glow.sample(3, { temperature: 0, generator: new torch.Generator(1) });
  const b = glow.sample(3, { temperature: 0, generator: new torch.Generator(2) });
  assert.ok(maxAbs(a, b) < 1e-6, 'T = 0 ignores the noise');
  const grid = temperatureGrid(glow, [0, 0.5, 1], 4, q, { seed: 3 });
  assert.deepEqual(grid.shape, [12, 1, 8, 8]);
  assert.ok(grid.min().item() >= 0 && grid.max().item() <= 1);
  const again = temperatureGrid(glow, [0, 0.5, 1], 4, q, { seed: 3 });
  assert.ok(grid.equal(again), 'seeded');
});

test('interpolation runs from the first image to the second; manipulation with α = 0 is the identity', () => {
  torch.manualSeed(27);
  const glow = new Glow({ shape: [1, 8, 8], levels: 2, depth: 1, hidden: 8 });
  glow.initialize(randn([32, 1, 8, 8], 28).mul(0.2));
  perturb(glow, 29, 0.05);
  const q = { levels: 17, bins: 17 };
  // Images at bin centres, so that toImage recovers them exactly.
  const bins = torch.randint(0, 17, [2, 1, 8, 8], { generator: new torch.Generator(30) }).float();
  const x = bins.add(0.5).div(17).sub(0.5);
  const images = bins.div(16);
  const strip = interpolate(glow, x.narrow(0, 0, 1), x.narrow(0, 1, 1), 5, q);
  assert.deepEqual(strip.shape, [5, 1, 8, 8]);
  assert.ok(maxAbs(strip.narrow(0, 0, 1), images.narrow(0, 0, 1)) < 1e-6, 'starts at a');
  assert.ok(maxAbs(strip.narrow(0, 4, 1), images.narrow(0, 1, 1)) < 1e-6, 'ends at b');
  const mixed = mixLatents([torch.zeros([1, 2])], [torch.ones([1, 2])], 3);
  assert.deepEqual(mixed[0].toArray(), [
    [0, 0],
    [0.5, 0.5],
    [1, 1],
  ]);
  const direction = glow.latentShapes.map((s) => torch.ones([1, ...s]));
  const moved = manipulate(glow, x, direction, [0, 1], q);
  assert.deepEqual(moved.shape, [4, 1, 8, 8]);
  assert.ok(maxAbs(moved.narrow(0, 0, 1), images.narrow(0, 0, 1)) < 1e-6);
  assert.ok(maxAbs(moved.narrow(0, 1, 1), images.narrow(0, 0, 1)) > 0.05, 'α = 1 changes the image');
});
