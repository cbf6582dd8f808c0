// nn.init: gains, fans, distributions' bounds and moments, orthogonality and reproducibility.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { torch } from '../../src/index.js';
import { init } from '../../src/nn/index.js';
import { assertClose, f64, values } from './helpers.js';

function stats(xs: number[]): { mean: number; std: number; maxAbs: number } {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
  return { mean, std: Math.sqrt(variance), maxAbs: Math.max(...xs.map(Math.abs)) };
}

describe('gains and fans', () => {
  test('calculateGain', () => {
    assert.equal(init.calculateGain('linear'), 1);
    assert.equal(init.calculateGain('conv2d'), 1);
    assert.equal(init.calculateGain('sigmoid'), 1);
    assert.equal(init.calculateGain('tanh'), 5 / 3);
    assert.equal(init.calculateGain('relu'), Math.SQRT2);
    assert.equal(init.calculateGain('selu'), 0.75);
    assertClose(init.calculateGain('leakyRelu'), Math.sqrt(2 / (1 + 1e-4)), 1e-15);
    assertClose(init.calculateGain('leaky_relu', Math.sqrt(5)), Math.sqrt(1 / 3), 1e-15);
    assert.throws(() => init.calculateGain('swish' as never), /unsupported/);
  });

  test('fan in and out of linear and conv weights', () => {
    assert.deepEqual(init.calculateFanInAndFanOut(torch.empty([3, 5])), { fanIn: 5, fanOut: 3 });
    assert.deepEqual(init.calculateFanInAndFanOut(torch.empty([8, 4, 3, 2])), { fanIn: 24, fanOut: 48 });
    assert.throws(() => init.calculateFanInAndFanOut(torch.empty([4])), /at least 2 dims/);
  });
});

describe('distributions', () => {
  const big = () => torch.empty([200, 300], f64);

  test('uniform_, normal_, constant_, zeros_, ones_', () => {
    const u = stats(values(init.uniform_(big(), -2, 4)));
    assert.ok(Math.abs(u.mean - 1) < 0.03 && Math.abs(u.std - Math.sqrt(3)) < 0.02);
    assert.ok(u.maxAbs <= 4);
    const n = stats(values(init.normal_(big(), 1, 0.5)));
    assert.ok(Math.abs(n.mean - 1) < 0.01 && Math.abs(n.std - 0.5) < 0.01);
    assert.deepEqual(values(init.constant_(torch.empty([3]), 2.5)), [2.5, 2.5, 2.5]);
    assert.deepEqual(values(init.zeros_(torch.ones([2]))), [0, 0]);
    assert.deepEqual(values(init.ones_(torch.zeros([2]))), [1, 1]);
  });

  test('xavier: bound √(6/(in + out)) (uniform) and std √(2/(in + out)) (normal), times the gain', () => {
    const bound = Math.sqrt(6 / 500);
    const u = stats(values(init.xavierUniform_(big())));
    assert.ok(u.maxAbs <= bound && u.maxAbs > 0.99 * bound);
    assert.ok(Math.abs(u.std / (bound / Math.sqrt(3)) - 1) < 0.02);
    const n = stats(values(init.xavierNormal_(big(), { gain: 2 })));
    assert.ok(Math.abs(n.std / (2 * Math.sqrt(2 / 500)) - 1) < 0.02, `${n.std}`);
  });

  test('kaiming: std gain/√fan for the chosen mode and nonlinearity', () => {
    const n = stats(values(init.kaimingNormal_(big(), { nonlinearity: 'relu' })));
    assert.ok(Math.abs(n.std / Math.sqrt(2 / 300) - 1) < 0.02, `${n.std}`);
    const out = stats(values(init.kaimingNormal_(big(), { mode: 'fanOut', nonlinearity: 'relu' })));
    assert.ok(Math.abs(out.std / Math.sqrt(2 / 200) - 1) < 0.02, `${out.std}`);
    // a = √5 with leaky ReLU gives PyTorch's default Linear bound 1/√fanIn.
    const u = stats(values(init.kaimingUniform_(big(), { a: Math.sqrt(5) })));
    assert.ok(u.maxAbs <= 1 / Math.sqrt(300) && u.maxAbs > 0.99 / Math.sqrt(300));
  });

  test('truncNormal_ stays inside [a, b] and matches PyTorch under the same seed', () => {
    const t = stats(values(init.truncNormal_(big(), { mean: 1, std: 2, a: 0, b: 2 })));
    assert.ok(t.maxAbs <= 2 && values(init.truncNormal_(big(), { a: -0.5, b: 0.5 })).every((v) => Math.abs(v) <= 0.5));
    torch.manualSeed(5);
    const w = init.truncNormal_(torch.empty([3, 5]));
    // torch.manual_seed(5); nn.init.trunc_normal_(torch.empty(3, 5)) in PyTorch 1.13.
    assert.deepEqual(
      values(w).slice(0, 4),
      [0.8973178267478943, -1.0663931369781494, 1.2208558320999146, 0.8609610795974731],
    );
  });

  test('orthogonal_: orthonormal rows or columns, scaled by the gain, PyTorch values', () => {
    const tall = init.orthogonal_(torch.empty([6, 3], f64));
    assertClose(tall.mT.matmul(tall), values(torch.eye(3, undefined, f64)), 1e-12);
    const wide = init.orthogonal_(torch.empty([2, 3, 2], f64), { gain: 3 });
    const flat = wide.reshape([2, 6]);
    assertClose(flat.matmul(flat.mT), [9, 0, 0, 9], 1e-12);
    torch.manualSeed(5);
    const w = init.orthogonal_(torch.empty([3, 5]));
    // torch.manual_seed(5); nn.init.orthogonal_(torch.empty(3, 5)) in PyTorch 1.13.
    assertClose(
      values(w).slice(0, 5),
      [-0.411759614944458, -0.5107624530792236, -0.4720841348171234, 0.5646474957466125, -0.16699008643627167],
      1e-6,
    );
  });

  test('a generator makes every random init reproducible, and no autograd is recorded', () => {
    const draw = (seed: number) => {
      const g = new torch.Generator(seed);
      const w = torch.empty([4, 4], f64).requiresGrad_(true);
      init.kaimingUniform_(w, { generator: g });
      init.xavierNormal_(w, { generator: g });
      init.orthogonal_(w, { generator: g });
      return w;
    };
    const a = draw(3);
    assert.deepEqual(values(a), values(draw(3)));
    assert.notDeepEqual(values(a), values(draw(4)));
    assert.ok(a.isLeaf);
    assert.equal(a.gradFn, null);
  });
});
