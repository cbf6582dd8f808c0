// Printing: the expected strings are PyTorch 1.13's repr of the same tensors, with genlab's dtype names.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { inspect } from 'node:util';
import {
  exactExponential,
  exactFixed,
  exponential,
  fixed,
  formatTensor,
  getPrintOptions,
  setPrintOptions,
} from '../../src/torch/format.js';
import * as torch from '../../src/torch/index.js';

after(() => setPrintOptions({ precision: 4, threshold: 1000, edgeItems: 3, linewidth: 80, sciMode: null }));

test('float matrices share one column width and align signs', () => {
  const t = torch.tensor([
    [1, -2.5],
    [3, 4],
  ]);
  assert.equal(formatTensor(t), 'tensor([[ 1.0000, -2.5000],\n        [ 3.0000,  4.0000]])');
  assert.equal(String(t), formatTensor(t));
  assert.equal(`${t}`, formatTensor(t));
  assert.equal(inspect(t), formatTensor(t));
});

test('whole-valued floats print as `1.`, and long rows wrap at the line width', () => {
  assert.equal(formatTensor(torch.tensor([1, -2, 30])), 'tensor([ 1., -2., 30.])');
  assert.equal(formatTensor(torch.zeros([2])), 'tensor([0., 0.])');
  assert.equal(
    formatTensor(torch.arange(30)),
    'tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n' +
      '        14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27.,\n' +
      '        28., 29.])',
  );
});

test('integer tensors print without decimals; non-default dtypes are named', () => {
  assert.equal(formatTensor(torch.tensor([503, 706, -673], { dtype: 'int64' })), 'tensor([ 503,  706, -673])');
  assert.equal(
    formatTensor(torch.tensor([89, -51, -108, 67], { dtype: 'int8', shape: [2, 2] })),
    'tensor([[  89,  -51],\n        [-108,   67]], dtype=int8)',
  );
  // int64 beyond 2^53 prints exactly.
  const big = torch.tensor(new BigInt64Array([9007199254740993n, -1n]));
  assert.equal(formatTensor(big), 'tensor([9007199254740993,               -1])');
});

test('bool tensors print True/False', () => {
  assert.equal(formatTensor(torch.tensor([[true, false]])), 'tensor([[ True, False]])');
  assert.equal(formatTensor(torch.tensor(true)), 'tensor(True)');
});

test('0-d tensors print the bare value', () => {
  assert.equal(formatTensor(torch.scalarTensor(-0.5)), 'tensor(-0.5000)');
  assert.equal(formatTensor(torch.scalarTensor(7, { dtype: 'int64' })), 'tensor(7)');
  assert.equal(formatTensor(torch.scalarTensor(2.5, { dtype: 'float64' })), 'tensor(2.5000, dtype=float64)');
});

test('scientific notation when magnitudes span a wide range; nan and inf', () => {
  assert.equal(formatTensor(torch.tensor([1e-5, 1, 12345.678])), 'tensor([1.0000e-05, 1.0000e+00, 1.2346e+04])');
  assert.equal(formatTensor(torch.tensor([1e10, 1])), 'tensor([1.0000e+10, 1.0000e+00])');
  assert.equal(
    formatTensor(torch.tensor([Number.NaN, Infinity, -Infinity, -0, 1.5])),
    'tensor([   nan,    inf,   -inf, -0.0000, 1.5000])',
  );
});

test('exact ties round to even, as Python does', () => {
  const t = torch.tensor([0.03125, 1.03125, -2.40625], { dtype: 'float64' });
  assert.equal(formatTensor(t), 'tensor([ 0.0312,  1.0312, -2.4062], dtype=float64)');
  assert.equal(fixed(2.5, 0), '2');
  assert.equal(fixed(0.125, 2), '0.12');
  assert.equal(exponential(9.99996, 4), '1.0000e+01');
  assert.equal(exponential(-1.5e-300, 2), '-1.50e-300');
});

test('the fast toFixed/toExponential path agrees with exact decimal rounding', () => {
  // Seeded LCG so a failure reproduces.
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const values: number[] = [0, -0, 0.5, 2.5, -3.5, 1e-320, 5e-324, 1.7976931348623157e308, 123456789012345680000];
  for (let i = 0; i < 3000; i++) values.push((rand() - 0.5) * 10 ** Math.floor(rand() * 40 - 20));
  // Dyadic values are exact ties at some precision: k/2^n has n decimal places ending in 5.
  for (let i = 0; i < 2000; i++) values.push((Math.floor(rand() * 4096) - 2048) / 2 ** Math.floor(rand() * 12));
  for (const x of values) {
    for (const p of [0, 1, 2, 3, 4, 6, 8]) {
      assert.equal(fixed(x, p), exactFixed(x, p), `fixed(${x}, ${p})`);
      assert.equal(exponential(x, p), exactExponential(x, p), `exponential(${x}, ${p})`);
    }
  }
});

test('16-bit floats print their values with a dtype suffix', () => {
  const h = torch.tensor([0.1, -2]).half();
  assert.equal(formatTensor(h), 'tensor([ 0.1000, -2.0000], dtype=float16)');
  assert.equal(formatTensor(h.to('bfloat16')), 'tensor([ 0.1001, -2.0000], dtype=bfloat16)');
});

test('big tensors are summarised with ... (threshold 1000, 3 edge items)', () => {
  assert.equal(
    formatTensor(torch.arange(2000, undefined, 1, { dtype: 'int64' })),
    'tensor([   0,    1,    2,  ..., 1997, 1998, 1999])',
  );
  const m = torch.arange(1200).reshape(30, 40).div(7);
  assert.equal(
    formatTensor(m),
    [
      'tensor([[0.0000e+00, 1.4286e-01, 2.8571e-01,  ..., 5.2857e+00, 5.4286e+00,',
      '         5.5714e+00],',
      '        [5.7143e+00, 5.8571e+00, 6.0000e+00,  ..., 1.1000e+01, 1.1143e+01,',
      '         1.1286e+01],',
      '        [1.1429e+01, 1.1571e+01, 1.1714e+01,  ..., 1.6714e+01, 1.6857e+01,',
      '         1.7000e+01],',
      '        ...,',
      '        [1.5429e+02, 1.5443e+02, 1.5457e+02,  ..., 1.5957e+02, 1.5971e+02,',
      '         1.5986e+02],',
      '        [1.6000e+02, 1.6014e+02, 1.6029e+02,  ..., 1.6529e+02, 1.6543e+02,',
      '         1.6557e+02],',
      '        [1.6571e+02, 1.6586e+02, 1.6600e+02,  ..., 1.7100e+02, 1.7114e+02,',
      '         1.7129e+02]])',
    ].join('\n'),
  );
  const cube = torch.arange(2000, undefined, 1, { dtype: 'int64' }).reshape(2, 10, 100);
  assert.match(formatTensor(cube), /\[ 900, {2}901, {2}902, {2}\.\.\., {2}997, {2}998, {2}999\]\],\n\n {8}\[\[1000,/);
});

test('empty tensors name their size and dtype', () => {
  assert.equal(formatTensor(torch.zeros([0, 3])), 'tensor([], size=(0, 3))');
  assert.equal(formatTensor(torch.zeros([0], { dtype: 'int64' })), 'tensor([], dtype=int64)');
  assert.equal(formatTensor(torch.zeros([2, 0], { dtype: 'int32' })), 'tensor([], size=(2, 0), dtype=int32)');
});

test('autograd state is shown as requiresGrad and gradFn', () => {
  const x = torch.tensor([1, 2], { requiresGrad: true });
  assert.equal(formatTensor(x), 'tensor([1., 2.], requiresGrad=true)');
  assert.equal(formatTensor(x.mul(x)), 'tensor([1., 4.], gradFn=<MulBackward0>)');
  assert.equal(formatTensor(x.mul(2).sum()), 'tensor(6., gradFn=<SumBackward0>)');
});

test('print options: precision, forced notation, per-call overrides', () => {
  const t = torch.tensor([1.2345, 2]);
  assert.equal(formatTensor(t, { precision: 2 }), 'tensor([1.23, 2.00])');
  assert.equal(formatTensor(torch.tensor([1.5, 2]), { sciMode: true }), 'tensor([1.5000e+00, 2.0000e+00])');
  // PyTorch sizes columns before applying a forced mode, hence the padding.
  assert.equal(formatTensor(torch.tensor([1e-6, 2]), { sciMode: false }), 'tensor([    0.0000,     2.0000])');
  assert.equal(formatTensor(torch.arange(10), { threshold: 5, edgeItems: 2 }), 'tensor([0., 1.,  ..., 8., 9.])');

  const previous = setPrintOptions({ precision: 1 });
  try {
    assert.equal(String(t), 'tensor([1.2, 2.0])');
    assert.equal(getPrintOptions().precision, 1);
  } finally {
    setPrintOptions(previous);
  }
  assert.equal(String(t), 'tensor([1.2345, 2.0000])');
  assert.throws(() => setPrintOptions({ precision: -1 }), /precision must be a non-negative integer/);
});

test('a disposed tensor prints without throwing', () => {
  const t = torch.ones([2]);
  t.dispose();
  assert.equal(String(t), 'tensor(<disposed>)');
});

test('printing leaves no tensors behind', () => {
  const big = torch.randn([50, 50]).requiresGrad_();
  const before = torch.memory().tensors;
  for (let i = 0; i < 5; i++) formatTensor(big);
  assert.equal(torch.memory().tensors, before);
});
