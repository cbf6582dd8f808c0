// Values of nn.functional against hand-computed cases and closed forms.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { torch } from '../../src/index.js';
import { F } from '../../src/nn/index.js';
import { assertClose, f64, values } from './helpers.js';

const t64 = (data: Parameters<typeof torch.tensor>[0]) => torch.tensor(data, f64);
const long = (data: number[]) => torch.tensor(data, { dtype: 'int64' });
const logSumExp = (xs: number[]) => Math.log(xs.reduce((s, x) => s + Math.exp(x), 0));

describe('losses', () => {
  const logits = [
    [1, 2, 0.5],
    [0, -1, 3],
  ];
  const target = [1, 2];
  const nll = logits.map((row, i) => logSumExp(row) - row[target[i]]);

  test('crossEntropy with indices: mean, sum and none', () => {
    const x = t64(logits);
    assertClose(F.crossEntropy(x, long(target)), (nll[0] + nll[1]) / 2, 1e-12);
    assertClose(F.crossEntropy(x, long(target), { reduction: 'sum' }), nll[0] + nll[1], 1e-12);
    assertClose(F.crossEntropy(x, long(target), { reduction: 'none' }), nll, 1e-12);
  });

  test('crossEntropy with label smoothing mixes in the uniform target', () => {
    const eps = 0.2;
    // (1 − ε)·NLL + ε·mean over classes of −log p.
    const expected = logits.map((row, i) => {
      const lse = logSumExp(row);
      const uniform = row.reduce((s, z) => s + (lse - z), 0) / row.length;
      return (1 - eps) * (lse - row[target[i]]) + eps * uniform;
    });
    assertClose(F.crossEntropy(t64(logits), long(target), { labelSmoothing: eps, reduction: 'none' }), expected, 1e-12);
  });

  test('crossEntropy with class weights divides by the total target weight', () => {
    const w = [1, 3, 0.5];
    const expected = (w[1] * nll[0] + w[2] * nll[1]) / (w[1] + w[2]);
    assertClose(F.crossEntropy(t64(logits), long(target), { weight: t64(w) }), expected, 1e-12);
  });

  test('nllLoss ignores ignoreIndex targets in the mean', () => {
    const logp = t64(logits).logSoftmax(1);
    assertClose(F.nllLoss(logp, long([1, -100])), nll[0], 1e-12);
    assertClose(F.nllLoss(logp, long([1, 0]), { ignoreIndex: 0 }), nll[0], 1e-12);
  });

  test('mseLoss and l1Loss', () => {
    const a = t64([1, 2, 3]);
    const b = t64([2, 0, 3]);
    assertClose(F.mseLoss(a, b), 5 / 3, 1e-12);
    assertClose(F.mseLoss(a, b, { reduction: 'sum' }), 5, 1e-12);
    assertClose(F.l1Loss(a, b), 1, 1e-12);
    assertClose(F.l1Loss(a, b, { reduction: 'none' }), [1, 2, 0], 1e-12);
    assert.throws(() => F.mseLoss(a, b, { reduction: 'avg' as never }), /unknown reduction/);
  });

  test('binaryCrossEntropy and its logits form agree, posWeight scales the positive term', () => {
    const z = [0.3, -1.2, 2];
    const y = [1, 0, 0.25];
    const sig = z.map((v) => 1 / (1 + Math.exp(-v)));
    const bce = sig.map((p, i) => -(y[i] * Math.log(p) + (1 - y[i]) * Math.log(1 - p)));
    const mean = bce.reduce((s, v) => s + v, 0) / 3;
    assertClose(F.binaryCrossEntropy(t64(sig), t64(y)), mean, 1e-12);
    assertClose(F.binaryCrossEntropyWithLogits(t64(z), t64(y)), mean, 1e-12);
    const pw = 2.5;
    const weighted = sig.map((p, i) => -(pw * y[i] * Math.log(p) + (1 - y[i]) * Math.log(1 - p)));
    assertClose(
      F.binaryCrossEntropyWithLogits(t64(z), t64(y), { posWeight: t64([pw]), reduction: 'none' }),
      weighted,
      1e-12,
    );
  });

  test('klDiv with batchmean is the KL divergence per sample', () => {
    const p = [
      [0.2, 0.5, 0.3],
      [0.6, 0.3, 0.1],
    ];
    const q = [
      [0.1, 0.6, 0.3],
      [0.3, 0.3, 0.4],
    ];
    const kl = p.map((row, i) => row.reduce((s, pi, j) => s + pi * Math.log(pi / q[i][j]), 0));
    const logQ = t64(q).log();
    assertClose(F.klDiv(logQ, t64(p), { reduction: 'batchmean' }), (kl[0] + kl[1]) / 2, 1e-12);
    assertClose(F.klDiv(logQ, t64(p).log(), { reduction: 'sum', logTarget: true }), kl[0] + kl[1], 1e-12);
    assertClose(F.klDiv(logQ, t64(p), { reduction: 'mean' }), (kl[0] + kl[1]) / 6, 1e-12);
  });

  test('gaussianNllLoss matches the normal log-density, clamps the variance and broadcasts it', () => {
    const mu = [0.5, -1, 2];
    const x = [1, 0, 2.5];
    const v = [0.5, 2, 1e-9];
    const eps = 1e-6;
    const half = mu.map((m, i) => {
      const vi = Math.max(v[i], eps);
      return 0.5 * (Math.log(vi) + (x[i] - m) ** 2 / vi);
    });
    assertClose(F.gaussianNllLoss(t64(mu), t64(x), t64(v), { reduction: 'none' }), half, 1e-9);
    const full = half.map((h) => h + 0.5 * Math.log(2 * Math.PI));
    assertClose(
      F.gaussianNllLoss(t64(mu), t64(x), t64(v), { full: true, reduction: 'sum' }),
      full[0] + full[1] + full[2],
      1e-9,
    );
    // One variance per row, shared across the last dim.
    const shared = F.gaussianNllLoss(t64([[0, 1]]), t64([[1, 1]]), t64([2]), { reduction: 'none' });
    assertClose(shared, [0.5 * (Math.log(2) + 0.5), 0.5 * Math.log(2)], 1e-12);
    assert.throws(() => F.gaussianNllLoss(t64(mu), t64(x), t64([1, -1, 1])), /negative/);
    assert.throws(() => F.gaussianNllLoss(t64(mu), t64(x), t64([1, 1])), /does not fit/);
  });

  test('gaussianNllLoss passes the gradient through the clamp and leaves the variance alone', () => {
    const v = t64([1e-9, 4]).requiresGrad_(true);
    const loss = F.gaussianNllLoss(t64([0, 0]), t64([0, 2]), v, { reduction: 'sum' });
    const [g] = torch.grad(loss, v);
    // d/dv of ½(log v + r²/v) at the clamped value 1e-6 (r = 0) and at v = 4 (r² = 4).
    assertClose(g!, [0.5 / 1e-6, 0.5 * (1 / 4 - 4 / 16)], 1e-9);
    assertClose(v, [1e-9, 4], 1e-15);
  });
});

describe('activations', () => {
  const xs = [-3, -0.5, 0, 0.7, 25];

  test('softplus is linear above the threshold', () => {
    const expected = xs.map((x) => (2 * x > 20 ? x : Math.log1p(Math.exp(2 * x)) / 2));
    assertClose(F.softplus(t64(xs), { beta: 2 }), expected, 1e-12);
  });

  test('gelu exact and tanh approximation', () => {
    const tanhApprox = xs.map((x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))));
    assertClose(F.gelu(t64(xs), { approximate: 'tanh' }), tanhApprox, 1e-12);
    // Φ(x) at a few points from tables: Φ(−0.5) = 0.3085375387, Φ(0.7) = 0.7580363478.
    assertClose(F.gelu(t64([-0.5, 0, 0.7])), [-0.5 * 0.3085375387259869, 0, 0.7 * 0.758036347776927], 1e-10);
  });

  test('silu, elu, leakyRelu, relu, sigmoid, tanh, logsigmoid', () => {
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    assertClose(
      F.silu(t64(xs)),
      xs.map((x) => x * sig(x)),
      1e-12,
    );
    assertClose(
      F.elu(t64(xs), { alpha: 0.5 }),
      xs.map((x) => (x > 0 ? x : 0.5 * Math.expm1(x))),
      1e-12,
    );
    assertClose(
      F.leakyRelu(t64(xs)),
      xs.map((x) => (x > 0 ? x : 0.01 * x)),
      1e-12,
    );
    assertClose(
      F.relu(t64(xs)),
      xs.map((x) => Math.max(x, 0)),
      0,
    );
    assertClose(F.sigmoid(t64(xs)), xs.map(sig), 1e-12);
    assertClose(F.tanh(t64(xs)), xs.map(Math.tanh), 1e-12);
    // Stable far into the negative tail, where log(sigmoid(x)) would underflow to −inf.
    assertClose(F.logsigmoid(t64([-800, 0])), [-800, -Math.LN2], 1e-12);
  });

  test('softmax and logSoftmax', () => {
    const row = [1, 2, 3];
    const lse = logSumExp(row);
    assertClose(
      F.softmax(t64([row]), 1),
      row.map((z) => Math.exp(z - lse)),
      1e-12,
    );
    assertClose(
      F.logSoftmax(t64([row]), -1),
      row.map((z) => z - lse),
      1e-12,
    );
    assert.equal(F.softmax(torch.tensor([row]), 1, { dtype: 'float64' }).dtype, 'float64');
  });

  test('dropout: scaling, eval identity, generator reproducibility and p checks', () => {
    const x = torch.ones([2000], f64);
    const y = F.dropout(x, { p: 0.25, generator: new torch.Generator(3) });
    const v = values(y);
    const kept = v.filter((e) => e !== 0);
    assert.ok(kept.every((e) => Math.abs(e - 1 / 0.75) < 1e-12));
    assert.ok(Math.abs(kept.length / 2000 - 0.75) < 0.04, `kept fraction ${kept.length / 2000}`);
    assert.deepEqual(values(F.dropout(x, { p: 0.25, generator: new torch.Generator(3) })), v);
    const g = F.dropout(x, { p: 0.25 });
    assert.ok(values(g).some((e) => e === 0));
    assert.deepEqual(values(F.dropout(x, { p: 0.9, training: false })), values(x));
    assert.deepEqual(values(F.dropout(x, { p: 1 })), new Array(2000).fill(0));
    assert.throws(() => F.dropout(x, { p: 1.5 }), /\[0, 1\]/);
  });
});

describe('layers', () => {
  test('linear and conv2d against hand computations', () => {
    const x = t64([[1, 2]]);
    const w = t64([
      [1, 0],
      [2, -1],
      [0.5, 0.5],
    ]);
    assertClose(F.linear(x, w, { bias: t64([0, 1, -1]) }), [1, 1, 0.5], 1e-12);
    // An all-ones 3×3 kernel counts the in-image neighbours of each pixel.
    const img = torch.ones([1, 1, 3, 4], f64);
    const out = F.conv2d(img, torch.ones([1, 1, 3, 3], f64), { padding: 1 });
    assertClose(out, [4, 6, 6, 4, 6, 9, 9, 6, 4, 6, 6, 4], 1e-12);
    assert.deepEqual(F.conv2d(img, torch.ones([2, 1, 3, 3], f64), { padding: 'same' }).shape, [1, 2, 3, 4]);
    assert.deepEqual(F.conv2d(img, torch.ones([2, 1, 3, 3], f64), { padding: 'valid' }).shape, [1, 2, 1, 2]);
  });

  test('convTranspose2d scatters each input pixel through the kernel', () => {
    const x = t64([[[[1, 2]]]]);
    const w = t64([[[[1, 10]]]]);
    // Stride 2: [1·1, 1·10, 2·1, 2·10]; stride 1: overlapping sum [1, 10 + 2, 20].
    assertClose(F.convTranspose2d(x, w, { stride: [1, 2] }), [1, 10, 2, 20], 1e-12);
    assertClose(F.convTranspose2d(x, w), [1, 12, 20], 1e-12);
    const up = F.convTranspose2d(torch.ones([1, 2, 4, 4], f64), torch.ones([2, 3, 3, 3], f64), {
      stride: 2,
      padding: 1,
      outputPadding: 1,
    });
    assert.deepEqual(up.shape, [1, 3, 8, 8]);
  });

  test('layerNorm and groupNorm normalise to zero mean and unit (biased) variance', () => {
    const eps = 1e-5;
    const s = Math.sqrt(2 / 3 + eps);
    assertClose(F.layerNorm(t64([[1, 2, 3]]), [3]), [-1 / s, 0, 1 / s], 1e-12);
    const x = torch
      .randn([2, 6, 3, 3], { ...f64, generator: new torch.Generator(4) })
      .mul(3)
      .add(1);
    const y = F.groupNorm(x, 3, { eps: 0 }).reshape([2, 3, -1]);
    assertClose(y.mean(2), new Array(6).fill(0), 1e-12);
    assertClose(y.var(2, { correction: 0 }), new Array(6).fill(1), 1e-12);
  });

  test('batchNorm: batch statistics in training, running ones otherwise, and the update rule', () => {
    const x = t64([
      [1, 10],
      [3, 20],
      [5, 60],
    ]);
    const rm = t64([1, 2]);
    const rv = t64([4, 9]);
    const evalOut = F.batchNorm(x, rm, rv, { eps: 0 });
    assertClose(evalOut, [0, 8 / 3, 1, 18 / 3, 2, 58 / 3], 1e-12);
    const trainOut = F.batchNorm(x, rm, rv, { training: true, momentum: 0.5, eps: 0 });
    const sd1 = Math.sqrt(8 / 3);
    assertClose(trainOut.select(1, 0), [-2 / sd1, 0, 2 / sd1], 1e-12);
    // running ← (1 − m)·running + m·batch, with the unbiased batch variance.
    assertClose(rm, [0.5 * 1 + 0.5 * 3, 0.5 * 2 + 0.5 * 30], 1e-12);
    assertClose(rv, [0.5 * 4 + 0.5 * 4, 0.5 * 9 + 0.5 * 700], 1e-12);
    assert.throws(() => F.batchNorm(x, null, null), /running statistics/);
  });

  test('embedding and oneHot', () => {
    const w = t64([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    assertClose(F.embedding(long([2, 0, 2]), w), [4, 5, 0, 1, 4, 5], 0);
    assert.deepEqual(F.oneHot(long([0, 2])).toArray(), [
      [1, 0, 0],
      [0, 0, 1],
    ]);
    assert.deepEqual(F.oneHot(long([1]), { numClasses: 4 }).toArray(), [[0, 1, 0, 0]]);
  });

  test('normalize gives unit p-norms, and leaves zero vectors at zero', () => {
    const y = F.normalize(
      t64([
        [3, 4],
        [0, 0],
      ]),
    );
    assertClose(y, [0.6, 0.8, 0, 0], 1e-12);
    assertClose(F.normalize(t64([[3, -1]]), { p: 1 }), [0.75, -0.25], 1e-12);
  });
});

describe('resampling, pooling and padding', () => {
  const grid = () =>
    t64([
      [
        [
          [1, 2],
          [3, 4],
        ],
      ],
    ]);

  test('nearest interpolation repeats pixels', () => {
    assertClose(F.interpolate(grid(), { scaleFactor: 2 }), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], 0);
    assert.deepEqual(F.interpolate(grid(), { size: [3, 1] }).shape, [1, 1, 3, 1]);
  });

  test('bilinear interpolation with and without alignCorners', () => {
    const row = t64([[[[0, 1]]]]);
    // Half-pixel centres: output x = (i + 0.5)/2 − 0.5, clamped at 0.
    assertClose(F.interpolate(row, { size: [1, 4], mode: 'bilinear' }), [0, 0.25, 0.75, 1], 1e-12);
    assertClose(
      F.interpolate(row, { size: [1, 4], mode: 'bilinear', alignCorners: true }),
      [0, 1 / 3, 2 / 3, 1],
      1e-12,
    );
    assertClose(
      F.interpolate(grid(), { size: [3, 3], mode: 'bilinear', alignCorners: true }),
      [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4],
      1e-12,
    );
    // A scale factor is used as given (source x = (i + 0.5)/1.5 − 0.5), not recomputed from the sizes.
    const ramp = t64([[[[0, 1, 2]]]]);
    assertClose(F.interpolate(ramp, { scaleFactor: [1, 1.5], mode: 'bilinear' }), [0, 0.5, 7 / 6, 11 / 6], 1e-12);
    assertClose(F.interpolate(ramp, { size: [1, 4], mode: 'bilinear' }), [0, 0.625, 1.375, 2], 1e-12);
    assertClose(F.interpolate(ramp, { scaleFactor: [1, 1.5] }), [0, 0, 1, 2], 0);
    assert.throws(() => F.interpolate(grid(), { scaleFactor: 2, alignCorners: true }), /alignCorners/);
    assert.throws(() => F.interpolate(grid(), {}), /exactly one/);
    assert.throws(() => F.interpolate(t64([[1, 2]]), { scaleFactor: 2 }), /4-d/);
  });

  test('pooling', () => {
    const x = torch.arange(16, undefined, 1, f64).reshape([1, 1, 4, 4]);
    assertClose(F.maxPool2d(x, 2), [5, 7, 13, 15], 0);
    assertClose(F.avgPool2d(x, 2), [2.5, 4.5, 10.5, 12.5], 1e-12);
    // Padded by 1, the top windows see only image row 0: {0}, {1, 2}, {3}, out of 4 cells or not.
    assertClose(F.avgPool2d(x, 2, { stride: 2, padding: 1 }).select(2, 0), [0, 3 / 4, 3 / 4], 1e-12);
    assertClose(F.avgPool2d(x, 2, { stride: 2, padding: 1, countIncludePad: false }).select(2, 0), [0, 1.5, 3], 1e-12);
    assertClose(F.adaptiveAvgPool2d(x, 1), 7.5, 1e-12);
    const [vals, idx] = F.maxPool2dWithIndices(x, 2);
    assertClose(vals, [5, 7, 13, 15], 0);
    assert.deepEqual(values(idx), [5, 7, 13, 15]);
  });

  test('pad modes', () => {
    const x = t64([[[1, 2, 3]]]);
    assertClose(F.pad(x, [2, 1]), [0, 0, 1, 2, 3, 0], 0);
    assertClose(F.pad(x, [1, 1], { value: 9 }), [9, 1, 2, 3, 9], 0);
    assertClose(F.pad(x, [2, 1], { mode: 'reflect' }), [3, 2, 1, 2, 3, 2], 0);
    assertClose(F.pad(x, [2, 1], { mode: 'replicate' }), [1, 1, 1, 2, 3, 3], 0);
    assertClose(F.pad(x, [2, 1], { mode: 'circular' }), [2, 3, 1, 2, 3, 1], 0);
    assert.throws(() => F.pad(x, [1, 1], { mode: 'reflect', value: 1 }), /constant/);
  });
});
