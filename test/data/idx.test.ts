import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { DataError, loadDataset, loadFashionMnist, loadMnist, parseIdx, readIdx } from '../../src/data/index.js';

const dir = mkdtempSync(join(tmpdir(), 'genlab-idx-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** IDX bytes: magic (0, 0, type, ndim), big-endian sizes, then the values. */
function idx(dims: number[], values: ArrayLike<number>, type = 0x08): Buffer {
  const width = { 8: 1, 11: 2, 12: 4, 13: 4 }[type]!;
  const b = Buffer.alloc(4 + 4 * dims.length + values.length * width);
  b[2] = type;
  b[3] = dims.length;
  for (let i = 0; i < dims.length; i++) b.writeUInt32BE(dims[i], 4 + 4 * i);
  const o = 4 + 4 * dims.length;
  for (let i = 0; i < values.length; i++) {
    if (type === 0x08) b[o + i] = values[i];
    else if (type === 0x0b) b.writeInt16BE(values[i], o + 2 * i);
    else if (type === 0x0c) b.writeInt32BE(values[i], o + 4 * i);
    else b.writeFloatBE(values[i], o + 4 * i);
  }
  return b;
}

// 5 images of 3×4 whose pixel (r, c) of image k is 10k + 4r + c; labels 4, 3, 2, 1, 0.
const N = 5;
const pixels = Array.from({ length: N * 12 }, (_, i) => 10 * Math.floor(i / 12) + (i % 12));
const labels = [4, 3, 2, 1, 0];

function writeMnistFolder(root: string, gz: boolean): void {
  mkdirSync(root, { recursive: true });
  const put = (name: string, b: Buffer) => writeFileSync(join(root, gz ? `${name}.gz` : name), gz ? gzipSync(b) : b);
  put('train-images-idx3-ubyte', idx([N, 3, 4], pixels));
  put('train-labels-idx1-ubyte', idx([N], labels, 0x08));
  put('t10k-images-idx3-ubyte', idx([2, 3, 4], pixels.slice(0, 24)));
  put('t10k-labels-idx1-ubyte', idx([2], [7, 9]));
}

/** Asserts fn throws a one-line DataError whose message matches re. */
function throwsOneLine(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DataError, `expected a DataError, got ${e}`);
    assert.ok(!e.message.includes('\n'), `message spans lines: ${e.message}`);
    assert.match(e.message, re);
    return true;
  });
}

test('parseIdx reads ubyte, short, int and float arrays with their dims', () => {
  const u = parseIdx(idx([2, 3], [0, 1, 2, 250, 251, 255]), 'u');
  assert.deepEqual(u.dims, [2, 3]);
  assert.deepEqual(Array.from(u.data), [0, 1, 2, 250, 251, 255]);
  assert.deepEqual(Array.from(parseIdx(idx([3], [-2, 300, 7], 0x0b), 's').data), [-2, 300, 7]);
  assert.deepEqual(Array.from(parseIdx(idx([2], [-70000, 123456], 0x0c), 'i').data), [-70000, 123456]);
  assert.deepEqual(Array.from(parseIdx(idx([2], [1.5, -0.25], 0x0d), 'f').data), [1.5, -0.25]);
});

test('mnist over a folder of gzipped files and of plain files gives the same tensors', () => {
  for (const gz of [true, false]) {
    const root = join(dir, gz ? 'gz' : 'plain');
    writeMnistFolder(root, gz);
    const ds = loadMnist({ root });
    assert.equal(ds.length, N);
    assert.deepEqual(ds.raw.shape, [N, 1, 3, 4]);
    assert.equal(ds.raw.dtype, 'uint8');
    assert.equal(ds.levels, 256);
    assert.deepEqual(Array.from(ds.raw.toTypedArray() as Uint8Array), pixels);
    assert.deepEqual(Array.from(ds.labels()), labels);
    const item = ds.get(2);
    assert.equal(item.y, 2);
    assert.equal((item.x as Float32Array)[5], Math.fround(25 / 255));
    const test = loadMnist({ root, split: 'test' });
    assert.equal(test.length, 2);
    assert.deepEqual(Array.from(test.labels()), [7, 9]);
    const viaRegistry = loadDataset('mnist', { root, split: 'test' });
    assert.equal(viaRegistry.length, 2);
    for (const d of [ds, test, viaRegistry]) d.dispose();
  }
});

test('a missing folder names the data set and the folder', () => {
  throwsOneLine(() => loadMnist({ root: '/x/y' }), /^mnist: data folder \/x\/y does not exist$/);
  throwsOneLine(() => loadDataset('mnist'), /^mnist: give the folder/);
});

test('a missing file is named, with the other names tried', () => {
  const root = join(dir, 'partial');
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'train-images-idx3-ubyte.gz'), gzipSync(idx([N, 3, 4], pixels)));
  throwsOneLine(() => loadMnist({ root }), /partial\/train-labels-idx1-ubyte\.gz: file not found \(also tried /);
});

test('a bad magic number is reported with the expected one', () => {
  const p = join(dir, 'bad-magic-idx3-ubyte.gz');
  const b = idx([N, 3, 4], pixels);
  b.writeUInt32BE(0x12345678, 0);
  writeFileSync(p, gzipSync(b));
  throwsOneLine(
    () => readIdx(p, { dims: 3 }),
    /bad-magic-idx3-ubyte\.gz: bad IDX magic 0x12345678 \(expected 0x00000803\)$/,
  );
  // A labels file where images are expected has a valid magic of the wrong rank.
  const q = join(dir, 'labels-as-images');
  writeFileSync(q, idx([N], labels));
  throwsOneLine(() => readIdx(q, { dims: 3 }), /labels-as-images: bad IDX magic 0x00000801 \(expected 0x00000803\)$/);
});

test('a truncated file says what the header promised and what the file holds', () => {
  const p = join(dir, 'short-idx3-ubyte');
  writeFileSync(p, idx([N, 3, 4], pixels).subarray(0, 40));
  throwsOneLine(
    () => readIdx(p, { dims: 3, noun: 'images' }),
    /short-idx3-ubyte: truncated: header says 5 images of 3×4 \(76 bytes\) but the file holds 40 bytes$/,
  );
  const q = join(dir, 'tiny');
  writeFileSync(q, Buffer.from([0, 0]));
  throwsOneLine(() => readIdx(q), /tiny: truncated: 2 bytes is too short for an IDX header/);
});

test('a corrupt gzip stream and mismatched counts are reported', () => {
  const p = join(dir, 'corrupt.gz');
  writeFileSync(p, gzipSync(idx([N, 3, 4], pixels)).subarray(0, 30));
  throwsOneLine(() => readIdx(p), /corrupt\.gz: corrupt gzip data/);
  const root = join(dir, 'mismatch');
  writeMnistFolder(root, false);
  writeFileSync(join(root, 'train-labels-idx1-ubyte'), idx([4], [0, 1, 2, 3]));
  throwsOneLine(() => loadMnist({ root }), /train-labels-idx1-ubyte: holds 4 labels but .* holds 5 images/);
  writeFileSync(join(root, 'train-labels-idx1-ubyte'), idx([5], [0, 1, 2, 3, 12]));
  throwsOneLine(() => loadMnist({ root }), /label 12 at item 4 is not a class 0\.\.9/);
});

test('the installed Fashion-MNIST: 60,000 + 10,000 images of 28×28, 6,000 of each class in train', () => {
  const train = loadFashionMnist();
  assert.equal(train.length, 60000);
  assert.deepEqual(train.raw.shape, [60000, 1, 28, 28]);
  const counts = new Array(10).fill(0);
  for (const y of train.labels()) counts[y]++;
  assert.deepEqual(counts, new Array(10).fill(6000));
  assert.equal(train.classes?.[9], 'Ankle boot');
  assert.equal(train.raw.max().item(), 255);
  train.dispose();
  const test = loadDataset('fashion-mnist', { split: 'test' });
  assert.equal(test.length, 10000);
  const tc = new Array(10).fill(0);
  for (const y of test.labels()) tc[y]++;
  assert.deepEqual(tc, new Array(10).fill(1000));
  test.dispose();
});

test('fashion-mnist from a missing folder and an unknown split', () => {
  throwsOneLine(() => loadFashionMnist({ root: '/nope/fm' }), /^fashion-mnist: data folder \/nope\/fm does not exist$/);
  throwsOneLine(() => loadFashionMnist({ split: 'val' as 'test' }), /unknown split 'val'/);
});
