import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DIGITS_FILE, digitsArrays, digitsSplit, loadDataset, loadDigits } from '../../src/data/index.js';
import type { torch } from '../../src/index.js';

/** A tensor's elements as JS numbers. */
const nums = (t: torch.Tensor) => Array.from(t.toTypedArray() as ArrayLike<number>, Number);

const labelCounts = (ys: ArrayLike<number>) => {
  const c = new Array(10).fill(0);
  for (let i = 0; i < ys.length; i++) c[ys[i]]++;
  return c;
};

test('the embedded digits: 1,797 images of 8×8 levels 0..16 with the UCI class counts', () => {
  assert.match(DIGITS_FILE, /data\/digits\/digits\.csv\.gz$/);
  const all = loadDigits({ split: 'all' });
  assert.equal(all.length, 1797);
  assert.deepEqual(all.raw.shape, [1797, 1, 8, 8]);
  assert.equal(all.raw.dtype, 'uint8');
  assert.equal(all.levels, 17);
  assert.equal(all.raw.max().item(), 16);
  assert.equal(all.raw.min().item(), 0);
  assert.deepEqual(labelCounts(all.labels()), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
  // The sum of all levels pins the table's content.
  assert.equal(all.raw.sum().item(), 561718);
  // The first row is a 0: its top row of pixels is 0 0 5 13 9 1 0 0.
  assert.deepEqual(nums(all.raw.select(0, 0).flatten()).slice(0, 8), [0, 0, 5, 13, 9, 1, 0, 0]);
  all.dispose();
});

test('images are float32 [N, 1, 8, 8] in [0, 1], level / 16', () => {
  const ds = loadDigits();
  const img = ds.images();
  assert.deepEqual(img.shape, [1437, 1, 8, 8]);
  assert.equal(img.dtype, 'float32');
  assert.equal(img.max().item(), 1);
  assert.equal(img.min().item(), 0);
  assert.ok(img.mul(16).sub(ds.raw.to('float32')).abs().max().item() < 1e-6);
  const item = ds.get(0);
  assert.equal((item.x as Float32Array).length, 64);
  const row = digitsSplit().train[0];
  assert.equal((item.x as Float32Array)[2], digitsArrays().pixels[row * 64 + 2] / 16);
  img.dispose();
  ds.dispose();
});

test('the fixed split: 1,437 train and 360 test rows, disjoint, covering all, pinned', () => {
  const { train, test: testRows } = digitsSplit();
  assert.equal(train.length, 1437);
  assert.equal(testRows.length, 360);
  const seen = new Set([...train, ...testRows]);
  assert.equal(seen.size, 1797);
  assert.deepEqual(Array.from(testRows.slice(0, 8)), [0, 3, 8, 9, 14, 18, 20, 22]);
  assert.equal(
    testRows.reduce((a, b) => a + b, 0),
    326722,
  );
  // Stable across calls (no hidden state).
  assert.deepEqual(digitsSplit().test, testRows);
  const { labels } = digitsArrays();
  assert.deepEqual(labelCounts(Array.from(testRows, (r) => labels[r])), [35, 36, 37, 37, 36, 35, 39, 33, 33, 39]);
});

test('train and test datasets hold the split rows in order', () => {
  const { pixels, labels } = digitsArrays();
  const { train: trainRows, test: testRows } = digitsSplit();
  const train = loadDataset('digits');
  const test = loadDataset('digits', { split: 'test' });
  assert.equal(train.length, 1437);
  assert.equal(test.length, 360);
  assert.deepEqual(
    Array.from(test.labels()),
    Array.from(testRows, (r) => labels[r]),
  );
  const t5 = nums(test.x.select(0, 5).flatten());
  assert.deepEqual(t5, Array.from(pixels.subarray(testRows[5] * 64, testRows[5] * 64 + 64)));
  const r1 = nums(train.x.select(0, 1).flatten());
  assert.deepEqual(r1, Array.from(pixels.subarray(trainRows[1] * 64, trainRows[1] * 64 + 64)));
  train.dispose();
  test.dispose();
});
