import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bitsPerDim,
  dequantizationCorrection,
  dequantizedBitsPerDim,
  natsFromBitsPerDim,
} from '../../src/metrics/bits.js';
import * as torch from '../../src/torch/index.js';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('bitsPerDim divides total nats by D ln 2', () => {
  close(bitsPerDim(100, 10), 14.426950408889635);
  close(bitsPerDim(64 * Math.LN2, 64), 1);
  close(natsFromBitsPerDim(bitsPerDim(123.4, 7), 7), 123.4);
});

test('dequantised 8-bit data: +8 bits/dim on [0, 1], +7 on [-1, 1]', () => {
  // −1000 nats over 3072 dims: −1000 / (3072 ln 2) = −0.4696272919560425.
  close(dequantizedBitsPerDim(-1000, 3072), 7.5303727080439575);
  close(dequantizedBitsPerDim(-1000, 3072, { range: [-1, 1] }), 6.5303727080439575);
  close(dequantizationCorrection(3072), 3072 * 8 * Math.LN2);
  close(dequantizationCorrection(10, { bits: 5, range: [-1, 1] }), 10 * 4 * Math.LN2);
});

test('a uniform density over the dequantised cube costs exactly n bits/dim', () => {
  // Uniform on [0, 1]^D has nll 0; uniform on [−1, 1]^D has nll D ln 2. Both are 256 equal levels.
  close(dequantizedBitsPerDim(0, 5), 8);
  close(dequantizedBitsPerDim(5 * Math.LN2, 5, { range: [-1, 1] }), 8);
  close(dequantizedBitsPerDim(0, 5, { bits: 5, range: [-0.5, 0.5] }), 5);
});

test('tensor inputs give per-example bits/dim', () => {
  const nll = torch.tensor([0, 10 * Math.LN2, -20 * Math.LN2], { dtype: 'float64' });
  const raw = bitsPerDim(nll, 10).toArray() as number[];
  for (const [i, v] of [0, 1, -2].entries()) close(raw[i], v);
  const bpd = dequantizedBitsPerDim(nll, 10).toArray() as number[];
  for (const [i, v] of [8, 9, 6].entries()) close(bpd[i], v);
});

test('bad arguments are rejected', () => {
  assert.throws(() => bitsPerDim(1, 0), /dims/);
  assert.throws(() => dequantizedBitsPerDim(1, 4, { range: [1, 0] }), /hi > lo/);
});
