// Gradients of the nn.functional operators against central finite differences, in float64.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { torch } from '../../src/index.js';
import { F } from '../../src/nn/index.js';
import { gradcheck, gradgradcheck } from '../../src/torch/gradcheck.js';
import type { Tensor } from '../../src/torch/tensor.js';
import { assertGradcheck as check, f64, rnd } from './helpers.js';

const long = (data: number[] | number[][]) => torch.tensor(data, { dtype: 'int64' });

describe('layers', () => {
  test('linear', () => check((x, w, b) => F.linear(x, w, { bias: b }), [rnd([3, 4], 1), rnd([2, 4], 2), rnd([2], 3)]));
  test('conv2d with stride, padding and groups', () =>
    check(
      (x, w, b) => F.conv2d(x, w, { bias: b, stride: 2, padding: 1, groups: 2 }),
      [rnd([1, 4, 5, 5], 4), rnd([2, 2, 3, 3], 5), rnd([2], 6)],
    ));
  test("conv2d with padding 'same' and dilation", () =>
    check((x, w) => F.conv2d(x, w, { padding: 'same', dilation: 2 }), [rnd([1, 2, 5, 5], 7), rnd([2, 2, 3, 3], 8)]));
  test('convTranspose2d with stride 2 and outputPadding', () =>
    check(
      (x, w, b) => F.convTranspose2d(x, w, { bias: b, stride: 2, padding: 1, outputPadding: 1 }),
      [rnd([1, 2, 3, 3], 9), rnd([2, 3, 3, 3], 10), rnd([3], 11)],
    ));
  test('groupNorm', () =>
    check((x, w, b) => F.groupNorm(x, 2, { weight: w, bias: b }), [rnd([2, 4, 2, 2], 12), rnd([4], 13), rnd([4], 14)]));
  test('layerNorm', () =>
    check(
      (x, w, b) => F.layerNorm(x, [3, 2], { weight: w, bias: b }),
      [rnd([2, 3, 2], 15), rnd([3, 2], 16), rnd([3, 2], 17)],
    ));
  test('batchNorm in training mode (batch statistics)', () =>
    check(
      (x, w, b) => F.batchNorm(x, null, null, { weight: w, bias: b, training: true }),
      [rnd([4, 3, 2], 18), rnd([3], 19), rnd([3], 20)],
    ));
  test('batchNorm in eval mode (running statistics)', () => {
    const rm = torch.tensor([0.1, -0.2, 0.3], f64);
    const rv = torch.tensor([0.5, 1.5, 2], f64);
    check((x, w) => F.batchNorm(x, rm, rv, { weight: w }), [rnd([3, 3], 21), rnd([3], 22)]);
  });
  test('embedding (gradient to the table)', () => {
    const idx = long([
      [0, 2],
      [2, 3],
    ]);
    check((w) => F.embedding(idx, w).tanh(), [rnd([4, 3], 23)]);
  });
  test('embedding gives the padding row no gradient', () => {
    const w = rnd([4, 2], 24);
    const out = F.embedding(long([1, 0, 1]), w, { paddingIdx: 1 });
    const [g] = torch.grad(out.sum(), w);
    assert.deepEqual(g!.toArray(), [
      [1, 1],
      [0, 0],
      [0, 0],
      [0, 0],
    ]);
  });
});

describe('resampling and pooling', () => {
  test('interpolate bilinear', () =>
    check((x) => F.interpolate(x, { size: [5, 3], mode: 'bilinear' }), [rnd([1, 2, 3, 2], 25)]));
  test('interpolate bilinear with alignCorners and a scale factor', () =>
    check((x) => F.interpolate(x, { scaleFactor: 2, mode: 'bilinear', alignCorners: true }), [rnd([1, 1, 2, 3], 26)]));
  test('interpolate nearest', () => check((x) => F.interpolate(x, { scaleFactor: 2 }), [rnd([1, 1, 2, 2], 27)]));
  test('avgPool2d', () => check((x) => F.avgPool2d(x, 2, { stride: 1, padding: 1 }), [rnd([1, 2, 3, 3], 28)]));
  test('maxPool2d', () => check((x) => F.maxPool2d(x, 2), [rnd([1, 2, 4, 4], 29)]));
  test('adaptiveAvgPool2d', () => check((x) => F.adaptiveAvgPool2d(x, [2, 1]), [rnd([1, 2, 3, 3], 30)]));
  test('pad (reflect and constant)', () =>
    check((x) => F.pad(F.pad(x, [1, 1, 2, 0], { mode: 'reflect' }), [1, 0], { value: 3 }), [rnd([1, 1, 3, 3], 31)]));
});

describe('activations', () => {
  test('softplus with beta and threshold', () =>
    check((x) => F.softplus(x, { beta: 2, threshold: 3 }), [rnd([6], 32).detach().mul(1.7).requiresGrad_(true)]));
  test('silu', () => check((x) => F.silu(x), [rnd([6], 33)]));
  test('gelu (exact)', () => check((x) => F.gelu(x), [rnd([6], 34)]));
  test('gelu (tanh approximation)', () => check((x) => F.gelu(x, { approximate: 'tanh' }), [rnd([6], 35)]));
  test('elu', () => check((x) => F.elu(x, { alpha: 0.7 }), [rnd([6], 36)]));
  test('leakyRelu', () => check((x) => F.leakyRelu(x, { negativeSlope: 0.2 }), [rnd([6], 37)]));
  test('logsigmoid', () => check((x) => F.logsigmoid(x), [rnd([6], 38, 3)]));
  test('softmax and logSoftmax', () => check((x) => F.softmax(x, 1).add(F.logSoftmax(x, 0)), [rnd([3, 4], 39)]));
  test('normalize', () => check((x) => F.normalize(x, { dim: 1 }), [rnd([2, 3], 40)]));
  test('dropout with a generator is a fixed mask times 1/(1-p)', () =>
    check((x) => F.dropout(x, { p: 0.3, generator: new torch.Generator(5) }), [rnd([10], 41)]));
});

describe('losses', () => {
  test('crossEntropy with class indices, weights and label smoothing', () => {
    const target = long([0, 2, 1]);
    const weight = torch.tensor([1, 2, 0.5], f64);
    check((x) => F.crossEntropy(x, target, { weight, labelSmoothing: 0.1 }), [rnd([3, 3], 42)]);
  });
  test('crossEntropy with class probabilities over a spatial map', () => {
    const probs = torch.randn([2, 3, 2], { ...f64, generator: new torch.Generator(1) }).softmax(1);
    check((x) => F.crossEntropy(x, probs, { reduction: 'sum' }), [rnd([2, 3, 2], 43)]);
  });
  test('nllLoss with ignoreIndex', () => {
    const target = long([1, -100, 0]);
    check((x) => F.nllLoss(x.logSoftmax(1), target), [rnd([3, 2], 44)]);
  });
  test('mseLoss', () => check((a, b) => F.mseLoss(a, b), [rnd([2, 3], 45), rnd([2, 3], 46)]));
  test('l1Loss', () => check((a, b) => F.l1Loss(a, b, { reduction: 'sum' }), [rnd([2, 3], 47), rnd([2, 3], 48)]));
  test('binaryCrossEntropy', () => {
    const t = torch.tensor([0, 1, 1, 0.3], f64);
    check((p) => F.binaryCrossEntropy(p.sigmoid(), t), [rnd([4], 49)]);
  });
  test('binaryCrossEntropyWithLogits with posWeight', () => {
    const t = torch.tensor(
      [
        [0, 1, 1],
        [1, 0, 0.5],
      ],
      f64,
    );
    const posWeight = torch.tensor([1, 3, 0.5], f64);
    check((x) => F.binaryCrossEntropyWithLogits(x, t, { posWeight }), [rnd([2, 3], 50)]);
  });
  test('klDiv (batchmean)', () => {
    const target = torch.randn([2, 4], { ...f64, generator: new torch.Generator(2) }).softmax(1);
    check((x) => F.klDiv(x.logSoftmax(1), target, { reduction: 'batchmean' }), [rnd([2, 4], 51)]);
  });
  test('gaussianNllLoss in mean, variance and a shared variance', () => {
    const target = torch.randn([3, 2], { ...f64, generator: new torch.Generator(3) });
    check((mu, v) => F.gaussianNllLoss(mu, target, v.exp(), { full: true }), [rnd([3, 2], 52), rnd([3, 2], 53)]);
    check((mu, v) => F.gaussianNllLoss(mu, target, v.exp()), [rnd([3, 2], 54), rnd([3], 55)]);
  });
});

describe('second order through nn operators', () => {
  test('gradgradcheck of conv2d followed by softplus', () => {
    const r = gradgradcheck(
      (x, w) => F.softplus(F.conv2d(x, w, { padding: 1 })),
      [rnd([1, 1, 3, 3], 56), rnd([2, 1, 2, 2], 57)],
    );
    assert.ok(r.ok);
    assert.ok(r.maxRelError < 1e-6, `${r.maxRelError}`);
  });

  test('gradient of an input-gradient norm of a conv net (gradient penalty)', () => {
    const x = rnd([1, 1, 4, 4], 58).detach();
    const penalty = (w1: Tensor, w2: Tensor) => {
      const xi = x.detach().requiresGrad_(true);
      const h = F.silu(F.conv2d(xi, w1, { padding: 1 }));
      const score = F.conv2d(h, w2).sum();
      const [gx] = torch.grad(score, xi, { createGraph: true });
      return gx!.square().sum();
    };
    const r = gradcheck(penalty, [rnd([2, 1, 3, 3], 59), rnd([1, 2, 2, 2], 60)]);
    assert.ok(r.ok);
    assert.ok(r.maxRelError < 1e-6, `${r.maxRelError}`);
  });
});
