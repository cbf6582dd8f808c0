// Layers: outputs against hand computations, PyTorch's initial values, and train/eval behaviour.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { torch } from '../../src/index.js';
import * as nn from '../../src/nn/index.js';
import { assertClose, f64, values } from './helpers.js';

/** Sets a parameter's values without autograd. */
function set(p: nn.Parameter, data: number[]): void {
  torch.noGrad(() => p.copy_(torch.tensor(data, { dtype: p.dtype }).reshape(p.shape)));
}

describe('initial values match PyTorch bit for bit under the same seed', () => {
  // Reference numbers printed by PyTorch 1.13 (torch.manual_seed(0); nn.Linear(4, 3) etc.).
  test('Linear: kaiming uniform (a = √5) weight, then U(±1/√fanIn) bias', () => {
    torch.manualSeed(0);
    const lin = new nn.Linear(4, 3);
    assert.deepEqual(
      values(lin.weight).slice(0, 4),
      [-0.003743410110473633, 0.26822179555892944, -0.4115225672721863, -0.3679695129394531],
    );
    assert.deepEqual(values(lin.bias!), [-0.4776742458343506, -0.33114105463027954, -0.20611155033111572]);
    lin.dispose();
  });

  test('Conv2d and ConvTranspose2d', () => {
    torch.manualSeed(0);
    const conv = new nn.Conv2d(2, 3, 3, { stride: 2, padding: 1 });
    assert.deepEqual(
      values(conv.weight).slice(0, 3),
      [-0.0017646604683250189, 0.12644097208976746, -0.19399359822273254],
    );
    assert.deepEqual(values(conv.bias!), [0.15803514420986176, -0.13878203928470612, 0.043921709060668945]);
    torch.manualSeed(0);
    const up = new nn.ConvTranspose2d(2, 4, 3, { stride: 2 });
    assert.deepEqual(up.weight.shape, [2, 4, 3, 3]);
    assert.deepEqual(values(up.weight).slice(0, 2), [-0.0012478034477680922, 0.08940726518630981]);
    assert.deepEqual(
      values(up.bias!),
      [0.06550165265798569, 0.1380915641784668, 0.1450345516204834, 0.14705947041511536],
    );
    conv.dispose();
    up.dispose();
  });

  test('Embedding: N(0, 1) with a zero padding row', () => {
    torch.manualSeed(0);
    const emb = new nn.Embedding(4, 2, { paddingIdx: 1 });
    assert.deepEqual(
      values(emb.weight),
      [
        1.5409960746765137, -0.293428897857666, 0, 0, -1.0845223665237427, -1.3985954523086548, 0.40334683656692505,
        0.8380263447761536,
      ],
    );
    emb.dispose();
  });

  test('a generator makes initialisation independent of the global seed', () => {
    const a = new nn.Linear(5, 4, { generator: new torch.Generator(11) });
    torch.manualSeed(123);
    const b = new nn.Linear(5, 4, { generator: new torch.Generator(11) });
    const c = new nn.Linear(5, 4);
    assert.deepEqual(values(a.weight), values(b.weight));
    assert.deepEqual(values(a.bias!), values(b.bias!));
    assert.notDeepEqual(values(a.weight), values(c.weight));
    // Everything stays inside U(±1/√fanIn).
    assert.ok(values(c.weight).every((w) => Math.abs(w) <= 1 / Math.sqrt(5)));
    for (const m of [a, b, c]) m.dispose();
  });

  test('factory dtype and disabled bias', () => {
    const lin = new nn.Linear(2, 2, { dtype: 'float64', bias: false });
    assert.equal(lin.weight.dtype, 'float64');
    assert.equal(lin.bias, null);
    assert.deepEqual(
      lin.namedParameters().map(([n]) => n),
      ['weight'],
    );
    lin.dispose();
  });
});

describe('outputs', () => {
  test('Linear with set weights', () => {
    const lin = new nn.Linear(3, 2);
    set(lin.weight, [1, 2, 3, -1, 0, 1]);
    set(lin.bias!, [0.5, -2]);
    const y = lin.forward(
      torch.tensor([
        [1, 1, 1],
        [2, 0, -1],
      ]),
    );
    assertClose(y, [6.5, -2, -0.5, -5], 1e-7);
    // Works on any leading dims.
    assert.deepEqual(lin.forward(torch.ones([4, 5, 3])).shape, [4, 5, 2]);
    lin.dispose();
  });

  test('Conv2d shapes, values and padding modes', () => {
    const conv = new nn.Conv2d(1, 1, 3, { padding: 1, bias: false });
    set(conv.weight, new Array(9).fill(1));
    const x = torch.ones([1, 1, 3, 3]);
    assertClose(conv.forward(x), [4, 6, 4, 6, 9, 6, 4, 6, 4], 1e-6);
    const strided = new nn.Conv2d(3, 8, 3, { stride: 2, padding: 1 });
    assert.deepEqual(strided.forward(torch.zeros([2, 3, 9, 8])).shape, [2, 8, 5, 4]);
    // Reflect padding: a box filter on a constant image is the constant times 9 everywhere.
    const refl = new nn.Conv2d(1, 1, 3, { padding: 1, paddingMode: 'reflect', bias: false });
    set(refl.weight, new Array(9).fill(1));
    assertClose(refl.forward(x.mul(2)), new Array(9).fill(18), 1e-6);
    const same = new nn.Conv2d(2, 2, [3, 4], { padding: 'same', paddingMode: 'replicate', groups: 2 });
    assert.deepEqual(same.forward(torch.ones([1, 2, 5, 6])).shape, [1, 2, 5, 6]);
    assert.throws(() => new nn.Conv2d(3, 4, 3, { groups: 2 }), /divide by groups/);
    for (const m of [conv, strided, refl, same]) m.dispose();
  });

  test('ConvTranspose2d doubles the size with stride 2, padding 1, outputPadding 1', () => {
    const up = new nn.ConvTranspose2d(4, 2, 3, { stride: 2, padding: 1, outputPadding: 1 });
    assert.deepEqual(up.forward(torch.zeros([1, 4, 5, 7])).shape, [1, 2, 10, 14]);
    const one = new nn.ConvTranspose2d(1, 1, 2, { stride: 2, bias: false });
    set(one.weight, [1, 2, 3, 4]);
    // Each input pixel stamps the kernel scaled by its value into its own 2×2 block.
    assertClose(one.forward(torch.tensor([[[[1, 10]]]])), [1, 2, 10, 20, 3, 4, 30, 40], 1e-6);
    up.dispose();
    one.dispose();
  });

  test('GroupNorm: each group has zero mean and unit variance, then the affine map', () => {
    const gn = new nn.GroupNorm(2, 4, { eps: 0, dtype: 'float64' });
    const x = torch
      .randn([3, 4, 2, 5], { ...f64, generator: new torch.Generator(1) })
      .mul(4)
      .add(2);
    const grouped = gn.forward(x).reshape([3, 2, -1]);
    assertClose(grouped.mean(2), new Array(6).fill(0), 1e-12);
    assertClose(grouped.var(2, { correction: 0 }), new Array(6).fill(1), 1e-12);
    set(gn.weight!, [2, 2, 1, 1]);
    set(gn.bias!, [1, 1, 0, 0]);
    const y = gn.forward(x);
    const firstGroup = y.narrow(1, 0, 2).reshape([3, -1]);
    assertClose(firstGroup.mean(1), [1, 1, 1], 1e-12);
    assertClose(firstGroup.var(1, { correction: 0 }), [4, 4, 4], 1e-12);
    assert.throws(() => new nn.GroupNorm(3, 4), /divide by numGroups/);
    gn.dispose();
  });

  test('LayerNorm over the last two dims', () => {
    const ln = new nn.LayerNorm([2, 2], { eps: 0 });
    const y = ln.forward(
      torch.tensor([
        [
          [1, 3],
          [5, 7],
        ],
      ]),
    );
    const s = Math.sqrt(5);
    assertClose(y, [-3 / s, -1 / s, 1 / s, 3 / s], 1e-6);
    assert.deepEqual(ln.weight!.shape, [2, 2]);
    const plain = new nn.LayerNorm(3, { elementwiseAffine: false });
    assert.equal(plain.parameters().length, 0);
    ln.dispose();
  });

  test('activations and shape layers', () => {
    const x = torch.tensor([-2, -0.5, 0, 1.5], f64);
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const xs = [-2, -0.5, 0, 1.5];
    assertClose(new nn.ReLU().forward(x), [0, 0, 0, 1.5], 0);
    assertClose(new nn.LeakyReLU({ negativeSlope: 0.1 }).forward(x), [-0.2, -0.05, 0, 1.5], 1e-12);
    assertClose(
      new nn.SiLU().forward(x),
      xs.map((v) => v * sig(v)),
      1e-12,
    );
    assertClose(new nn.Sigmoid().forward(x), xs.map(sig), 1e-12);
    assertClose(new nn.Tanh().forward(x), xs.map(Math.tanh), 1e-12);
    assertClose(
      new nn.ELU({ alpha: 2 }).forward(x),
      xs.map((v) => (v > 0 ? v : 2 * Math.expm1(v))),
      1e-12,
    );
    assertClose(
      new nn.Softplus({ beta: 0.5 }).forward(x),
      xs.map((v) => 2 * Math.log1p(Math.exp(0.5 * v))),
      1e-12,
    );
    const geluTanh = new nn.GELU({ approximate: 'tanh' }).forward(x);
    const geluExact = new nn.GELU().forward(x);
    const gap = values(geluTanh.sub(geluExact).abs());
    assert.ok(gap.every((d) => d < 1e-3) && gap.some((d) => d > 1e-5), `${gap}`);
    assert.equal(new nn.Identity().forward(x), x);
    assert.deepEqual(new nn.Flatten().forward(torch.zeros([2, 3, 4])).shape, [2, 12]);
    assert.deepEqual(new nn.Flatten({ startDim: 0, endDim: 1 }).forward(torch.zeros([2, 3, 4])).shape, [6, 4]);
    assertClose(new nn.Softmax(0).forward(torch.tensor([0, Math.log(3)], f64)), [0.25, 0.75], 1e-12);
  });

  test('pooling and upsampling layers', () => {
    const x = torch.arange(16, undefined, 1, f64).reshape([1, 1, 4, 4]);
    assertClose(new nn.MaxPool2d(2).forward(x), [5, 7, 13, 15], 0);
    assertClose(new nn.AvgPool2d(2).forward(x), [2.5, 4.5, 10.5, 12.5], 0);
    assertClose(new nn.AdaptiveAvgPool2d(1).forward(x), 7.5, 0);
    assert.deepEqual(new nn.Upsample({ scaleFactor: 2, mode: 'bilinear' }).forward(x).shape, [1, 1, 8, 8]);
  });

  test('Embedding looks up rows', () => {
    const emb = new nn.Embedding(3, 2, { paddingIdx: -1 });
    assert.equal(emb.paddingIdx, 2);
    set(emb.weight, [1, 2, 3, 4, 0, 0]);
    assertClose(
      emb.forward(
        torch.tensor(
          [
            [1, 2],
            [0, 1],
          ],
          { dtype: 'int64' },
        ),
      ),
      [3, 4, 0, 0, 1, 2, 3, 4],
      0,
    );
    assert.throws(() => new nn.Embedding(3, 2, { paddingIdx: 3 }), /out of range/);
    emb.dispose();
  });
});

describe('train and eval behaviour', () => {
  test('Dropout zeroes and rescales in training, is the identity in eval', () => {
    const drop = new nn.Dropout(0.5, { generator: new torch.Generator(4) });
    const x = torch.ones([1000]);
    const y = values(drop.forward(x));
    const zeros = y.filter((v) => v === 0).length;
    assert.ok(zeros > 430 && zeros < 570, `${zeros} zeros`);
    assert.ok(y.every((v) => v === 0 || v === 2));
    drop.eval();
    assert.deepEqual(values(drop.forward(x)), values(x));
    assert.throws(() => new nn.Dropout(-0.1), /\[0, 1\]/);
  });

  test('BatchNorm running statistics follow r ← (1 − m)·r + m·batch with the unbiased variance', () => {
    const bn = new nn.BatchNorm1d(2, { momentum: 0.2, dtype: 'float64' });
    const x1 = torch.tensor(
      [
        [1, 0],
        [2, 4],
        [6, 8],
      ],
      f64,
    );
    const y1 = bn.forward(x1);
    // Batch means [3, 4]; unbiased variances [7, 16]; training output uses the biased ones.
    assertClose(bn.runningMean!, [0.8 * 0 + 0.2 * 3, 0.8 * 0 + 0.2 * 4], 1e-12);
    assertClose(bn.runningVar!, [0.8 + 0.2 * 7, 0.8 + 0.2 * 16], 1e-12);
    assert.deepEqual(values(bn.numBatchesTracked!), [1]);
    const biasedSd = Math.sqrt(14 / 3 + 1e-5);
    assertClose(y1.select(1, 0), [-2 / biasedSd, -1 / biasedSd, 3 / biasedSd], 1e-12);
    const x2 = torch.tensor(
      [
        [0, 1],
        [2, 1],
        [4, 1],
      ],
      f64,
    );
    bn.forward(x2);
    assertClose(bn.runningMean!, [0.8 * 0.6 + 0.2 * 2, 0.8 * 0.8 + 0.2 * 1], 1e-12);
    assertClose(bn.runningVar!, [0.8 * 2.2 + 0.2 * 4, 0.8 * 4 + 0.2 * 0], 1e-12);
    assert.deepEqual(values(bn.numBatchesTracked!), [2]);
    // Eval: (x − running mean) / √(running var + eps), statistics untouched.
    bn.eval();
    const rm = values(bn.runningMean!);
    const rv = values(bn.runningVar!);
    const y = bn.forward(torch.tensor([[1, 1]], f64));
    assertClose(y, [(1 - rm[0]) / Math.sqrt(rv[0] + 1e-5), (1 - rm[1]) / Math.sqrt(rv[1] + 1e-5)], 1e-12);
    assertClose(bn.runningMean!, rm, 0);
    assert.deepEqual(values(bn.numBatchesTracked!), [2]);
    bn.dispose();
  });

  test('BatchNorm with momentum null keeps a cumulative average', () => {
    const bn = new nn.BatchNorm1d(1, { momentum: null, dtype: 'float64', affine: false });
    for (const batch of [
      [1, 3],
      [5, 7],
      [0, 0],
    ])
      bn.forward(
        torch.tensor(
          batch.map((v) => [v]),
          f64,
        ),
      );
    assertClose(bn.runningMean!, (2 + 6 + 0) / 3, 1e-12);
    // Running var starts at 1 but the first update has weight 1, so it is the mean of the batch variances.
    assertClose(bn.runningVar!, (2 + 2 + 0) / 3, 1e-12);
  });

  test('BatchNorm2d over [N, C, H, W]; without running stats eval uses batch statistics', () => {
    const bn = new nn.BatchNorm2d(3, { trackRunningStats: false });
    assert.equal(bn.runningMean, null);
    assert.deepEqual(bn.namedBuffers(), []);
    bn.eval();
    const x = torch
      .randn([2, 3, 4, 4], { generator: new torch.Generator(8) })
      .mul(3)
      .add(5);
    const y = bn.forward(x).transpose(0, 1).reshape([3, -1]);
    assertClose(y.mean(1), [0, 0, 0], 1e-5);
    assert.throws(() => bn.forward(torch.zeros([2, 3])), /4-d input/);
    assert.deepEqual(new nn.BatchNorm1d(3).forward(torch.randn([4, 3, 5])).shape, [4, 3, 5]);
  });
});

describe('containers', () => {
  test('Sequential chains, indexes and appends', () => {
    const seq = new nn.Sequential(new nn.Linear(2, 3), new nn.ReLU());
    seq.append(new nn.Linear(3, 1));
    assert.equal(seq.length, 3);
    assert.ok(seq.at(-1) instanceof nn.Linear);
    assert.throws(() => seq.at(3), /out of range/);
    const lin0 = seq.at(0) as nn.Linear;
    const lin2 = seq.at(2) as nn.Linear;
    set(lin0.weight, [1, 0, 0, 1, 1, 1]);
    set(lin0.bias!, [0, 0, -10]);
    set(lin2.weight, [1, 2, 100]);
    set(lin2.bias!, [0.5]);
    // h = relu([x0, x1, x0 + x1 − 10]) = [1, 2, 0]; y = 1 + 4 + 0 + 0.5.
    assertClose(seq.forward(torch.tensor([[1, 2]])), 5.5, 1e-6);
    assert.equal([...seq].length, 3);
    seq.dispose();
  });

  test('ModuleList registers but has no forward', () => {
    const list = new nn.ModuleList<nn.Module>([new nn.Linear(1, 1)]);
    list.append(new nn.Linear(1, 2)).extend([new nn.Tanh()]);
    assert.equal(list.length, 3);
    assert.deepEqual(
      list.namedParameters().map(([n]) => n),
      ['0.weight', '0.bias', '1.weight', '1.bias'],
    );
    assert.deepEqual(
      list.map((m) => m.constructor.name),
      ['Linear', 'Linear', 'Tanh'],
    );
    assert.throws(() => list.forward(), /no forward/);
    list.dispose();
  });
});

describe('SelfAttention2d', () => {
  test('starts as the identity (zero output projection)', () => {
    torch.manualSeed(1);
    const attn = new nn.SelfAttention2d(4, { heads: 2, groups: 2 });
    const x = torch.randn([2, 4, 3, 2]);
    assert.deepEqual(values(attn.forward(x)), values(x));
    attn.dispose();
    x.dispose();
  });

  test('equals softmax(q·kᵀ/√d)·v per head, computed by hand', () => {
    torch.manualSeed(2);
    const [C, heads, d, P] = [4, 2, 2, 4]; // channels, heads, channels per head, pixels (2×2)
    const attn = new nn.SelfAttention2d(C, { heads, groups: 2, ...f64 });
    const eye = Array.from({ length: C * C }, (_, i) => (i % (C + 1) === 0 ? 1 : 0));
    set(attn.proj.weight, eye);
    set(attn.proj.bias!, [0, 0, 0, 0]);
    const x = torch.randn([1, C, 2, 2], f64);
    const got = values(attn.forward(x));
    const xv = values(x); // [c][p] at c * P + p
    const W = values(attn.qkv.weight); // [3C, C]
    const b = values(attn.qkv.bias!);
    // GroupNorm, 2 groups of 2 channels, biased variance, eps 1e-5, unit weight and zero bias.
    const xn = [...xv];
    for (let g = 0; g < 2; g++) {
      const idx = Array.from({ length: 2 * P }, (_, i) => g * 2 * P + i);
      const mean = idx.reduce((s, i) => s + xv[i], 0) / idx.length;
      const variance = idx.reduce((s, i) => s + (xv[i] - mean) ** 2, 0) / idx.length;
      for (const i of idx) xn[i] = (xv[i] - mean) / Math.sqrt(variance + 1e-5);
    }
    const qkv = (o: number, p: number) =>
      b[o] + Array.from({ length: C }, (_, c) => W[o * C + c] * xn[c * P + p]).reduce((s, v) => s + v);
    const expected = [...xv];
    for (let h = 0; h < heads; h++) {
      const ch = (part: number, j: number) => part * C + h * d + j;
      for (let p = 0; p < P; p++) {
        const scores = Array.from(
          { length: P },
          (_, p2) =>
            Array.from({ length: d }, (_, j) => qkv(ch(0, j), p) * qkv(ch(1, j), p2)).reduce((s, v) => s + v) /
            Math.sqrt(d),
        );
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((s, v) => s + v);
        for (let j = 0; j < d; j++) {
          expected[(h * d + j) * P + p] += e.reduce((s, a, p2) => s + (a / z) * qkv(ch(2, j), p2), 0);
        }
      }
    }
    assertClose(got, expected, 1e-12);
    assert.ok(Math.max(...got.map((g, i) => Math.abs(g - xv[i]))) > 0.01, 'the attention term is not trivially zero');
    attn.dispose();
    x.dispose();
  });
});
