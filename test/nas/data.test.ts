// CIFAR-10 for nas: `cifar10:<folder>` names the folder; the binary batches (1 label byte + 3,072
// pixel bytes per record) are read from tiny synthetic files written here; missing files fail in one line.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DataLoader } from '../../src/data/loader.js';
import { loadNasSplit, parseNasData } from '../../src/nas/experiment.js';
import { GenlabError } from '../../src/torch/errors.js';
import { genlab } from '../cli/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'genlab-nas-data-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const RECORD = 1 + 3072;
/** Byte of channel ch, row h, column w of record i in batch k: a value each position can be checked by. */
const byte = (k: number, i: number, ch: number, h: number, w: number) => (7 * k + 3 * i + ch * 1024 + h * 32 + w) % 256;

function batch(k: number, n: number): Buffer {
  const b = Buffer.alloc(n * RECORD);
  for (let i = 0; i < n; i++) {
    b[i * RECORD] = (k + 2 * i) % 10;
    for (let ch = 0; ch < 3; ch++)
      for (let h = 0; h < 32; h++)
        for (let w = 0; w < 32; w++) b[i * RECORD + 1 + ch * 1024 + h * 32 + w] = byte(k, i, ch, h, w);
  }
  return b;
}

function oneLine(e: unknown, re: RegExp): boolean {
  assert.ok(e instanceof GenlabError, String(e));
  assert.ok(!e.message.includes('\n'), e.message);
  assert.match(e.message, re);
  return true;
}

test('the data setting: a name, or cifar10:<folder>; anything else is a one-line error', () => {
  assert.deepEqual(parseNasData('cifar10:/data/cifar'), { data: 'cifar10', root: '/data/cifar' });
  assert.deepEqual(parseNasData('cifar10', '/r'), { data: 'cifar10', root: '/r' });
  assert.deepEqual(parseNasData('fashion-mnist'), { data: 'fashion-mnist', root: '' });
  for (const bad of ['cifar100:/x', 'digits:/x', 'cifar10:'])
    assert.throws(
      () => parseNasData(bad),
      (e) => oneLine(e, new RegExp(`unknown data set '${bad}'`)),
    );
});

test('cifar10:<folder> reads the binary batches (data_batch_1..5.bin, test_batch.bin), pooled to the run size', () => {
  const root = join(tmp, 'cifar');
  mkdirSync(root);
  for (let k = 1; k <= 5; k++) writeFileSync(join(root, `data_batch_${k}.bin`), batch(k, 2));
  writeFileSync(join(root, 'test_batch.bin'), batch(0, 3));
  const cfg = { ...parseNasData(`cifar10:${root}`), size: 0 };
  const train = loadNasSplit(cfg, 'train', { recordsPerFile: 2 });
  assert.equal(train.length, 10);
  assert.deepEqual(train.x.shape, [10, 3, 32, 32]);
  assert.deepEqual(Array.from(train.y.toArray() as number[]), [1, 3, 2, 4, 3, 5, 4, 6, 5, 7]);
  // Record 1 of data_batch_3 is image 5: green (channel 1), row 4, column 9.
  const b = new DataLoader(train, { batchSize: 10 }).next();
  assert.equal(b.x.select(0, 5).select(0, 1).select(0, 4).select(0, 9).item(), Math.fround(byte(3, 1, 1, 4, 9) / 255));
  // Pooled to 16 × 16: each value the mean of a 2 × 2 block, over 255.
  const test16 = loadNasSplit({ ...cfg, size: 16 }, 'test', { recordsPerFile: 3 });
  assert.deepEqual(test16.x.shape, [3, 3, 16, 16]);
  assert.deepEqual(Array.from(test16.y.toArray() as number[]), [0, 2, 4]);
  for (const [i, ch, h, w] of [
    [0, 0, 0, 0],
    [2, 2, 7, 15],
    [1, 1, 15, 3],
  ]) {
    const want =
      (byte(0, i, ch, 2 * h, 2 * w) +
        byte(0, i, ch, 2 * h, 2 * w + 1) +
        byte(0, i, ch, 2 * h + 1, 2 * w) +
        byte(0, i, ch, 2 * h + 1, 2 * w + 1)) /
      4 /
      255;
    const got = test16.x.select(0, i).select(0, ch).select(0, h).select(0, w).item();
    assert.ok(Math.abs(got - want) < 1e-6, `${[i, ch, h, w]}: ${got} vs ${want}`);
  }
  for (const t of [b.x, b.y]) t.dispose();
  train.dispose();
  test16.dispose();
});

test('missing CIFAR-10 files: one line naming them, before anything is read; in the CLI too', () => {
  const root = join(tmp, 'partial');
  mkdirSync(root);
  writeFileSync(join(root, 'data_batch_1.bin'), batch(1, 2));
  writeFileSync(join(root, 'data_batch_2.bin'), batch(2, 2));
  const cfg = { ...parseNasData(`cifar10:${root}`), size: 0 };
  assert.throws(
    () => loadNasSplit(cfg, 'train'),
    (e) => oneLine(e, /lacks data_batch_3\.bin, data_batch_4\.bin, data_batch_5\.bin; nothing is downloaded/),
  );
  assert.throws(
    () => loadNasSplit(cfg, 'test'),
    (e) => oneLine(e, /lacks test_batch\.bin/),
  );
  const r = genlab(['nas', 'search', '--data', `cifar10:${join(tmp, 'nowhere')}`, '--steps', '1', '--threads', '1']);
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /cifar10: data folder .*nowhere does not exist; nothing is downloaded/);
});
