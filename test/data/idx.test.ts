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
  throwsOneLine(
    () => loadDataset('mnist'),
    /^mnist: no data folder given; nothing is downloaded; give the folder of its files with 'root'$/,
  );
  // The hint names the setting; each caller spells it (the command line as a flag).
  try {
    loadDataset('mnist');
  } catch (e) {
    assert.ok(e instanceof DataError && e.kind === 'data');
    assert.deepEqual(e.settings, ['root']);
    assert.match(
      e.messageWith((s) => `--${s}`),
      /with --root$/,
    );
  }
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

test('a gzip bomb stops inflating at the size its header implies; valid gzip files still load', () => {
  // 64 MiB of zeros after a header that declares 2 images of 28×28 (1,584 bytes). Built as a
  // multi-member gzip stream (valid, and what gunzip reads) from one compressed 1 MiB member, so
  // making it allocates no 64 MiB here.
  const header = idx([2, 28, 28], []);
  const zeros = gzipSync(Buffer.alloc(1 << 20), { level: 9 });
  const bomb = Buffer.concat([gzipSync(header), ...Array.from({ length: 64 }, () => zeros)]);
  assert.ok(bomb.length < (1 << 20) / 8, `the bomb is ${bomb.length} bytes compressed`);
  const p = join(dir, 'bomb-idx3-ubyte.gz');
  writeFileSync(p, bomb);
  const rss = process.memoryUsage().rss;
  throwsOneLine(
    () => readIdx(p, { dims: 3, noun: 'images' }),
    /bomb-idx3-ubyte\.gz: trailing bytes: header says 2 images of 28×28 \(1584 bytes\) but the data inflates to more; inflating stopped there$/,
  );
  // Inflating the whole stream would take 64 MiB or more; stopping at the header's size takes almost nothing.
  const grew = process.memoryUsage().rss - rss;
  assert.ok(grew < 16 * 2 ** 20, `RSS grew by ${(grew / 2 ** 20).toFixed(1)} MiB`);
  // A header that declares an absurd size is refused before anything is inflated.
  const huge = join(dir, 'huge-idx3-ubyte.gz');
  writeFileSync(huge, Buffer.concat([gzipSync(idx([60000, 65535, 65535], [])), zeros]));
  throwsOneLine(
    () => readIdx(huge, { dims: 3, noun: 'images' }),
    /huge-idx3-ubyte\.gz: header says 60000 images of 65535×65535 \(\d+ bytes\), more than the 4294967296-byte limit of an IDX file; the header is corrupt$/,
  );
  // The same 2 images, whole, in one member and split across members, load as they are.
  const values = Array.from({ length: 2 * 784 }, (_, i) => (i * 7) % 256);
  const good = idx([2, 28, 28], values);
  for (const [name, bytes] of [
    ['one', gzipSync(good)],
    ['split', Buffer.concat([gzipSync(good.subarray(0, 10)), gzipSync(good.subarray(10))])],
  ] as const) {
    const q = join(dir, `${name}-idx3-ubyte.gz`);
    writeFileSync(q, bytes);
    const a = readIdx(q, { dims: 3 });
    assert.deepEqual(a.dims, [2, 28, 28]);
    assert.deepEqual(Array.from(a.data), values);
  }
  // Short by one byte is still truncated, not a bomb.
  const short = join(dir, 'short-idx3-ubyte.gz');
  writeFileSync(short, gzipSync(good.subarray(0, good.length - 1)));
  throwsOneLine(
    () => readIdx(short, { dims: 3 }),
    /truncated: header says 2 items of 28×28 \(1584 bytes\) but the file holds 1583 bytes$/,
  );
});
