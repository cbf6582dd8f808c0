// CIFAR-10 binary batches and CSV tables, on small files written here.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { DataError, DataLoader, loadCifar10, loadDataset, parseCsv, readCsv } from '../../src/data/index.js';
import type { torch } from '../../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'genlab-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const RECORD = 3073;
const nums = (t: torch.Tensor) => Array.from(t.toTypedArray() as ArrayLike<number>, Number);

/** n CIFAR records: label (first + i) % 10; pixel p of record i is (i + p) % 256. */
function cifarBatch(n: number, first: number): Buffer {
  const b = Buffer.alloc(n * RECORD);
  for (let i = 0; i < n; i++) {
    b[i * RECORD] = (first + i) % 10;
    for (let p = 0; p < 3072; p++) b[i * RECORD + 1 + p] = (i + p) % 256;
  }
  return b;
}

function oneLine(e: unknown, re: RegExp): boolean {
  assert.ok(e instanceof DataError);
  assert.ok(!e.message.includes('\n'));
  assert.match(e.message, re);
  return true;
}

test('cifar10: five train batches and a test batch, channels first, from the archive folder', () => {
  const root = join(dir, 'cifar');
  const bin = join(root, 'cifar-10-batches-bin');
  mkdirSync(bin, { recursive: true });
  for (let k = 1; k <= 5; k++) writeFileSync(join(bin, `data_batch_${k}.bin`), cifarBatch(3, k));
  writeFileSync(join(bin, 'test_batch.bin'), cifarBatch(4, 0));
  const train = loadCifar10({ root, recordsPerFile: 3 });
  assert.equal(train.length, 15);
  assert.deepEqual(train.raw.shape, [15, 3, 32, 32]);
  assert.deepEqual(Array.from(train.labels().slice(0, 6)), [1, 2, 3, 2, 3, 4]);
  // Record 1 of batch 1: red channel starts at 1, green at (1 + 1024) % 256 = 1, pixel (0, 5) of red = 6.
  const r = train.raw.select(0, 1);
  assert.equal(r.select(0, 0).select(0, 0).select(0, 5).item(), 6);
  assert.equal(r.select(0, 2).select(0, 1).select(0, 0).item(), (1 + 2048 + 32) % 256);
  assert.equal(train.classes?.[0], 'airplane');
  const test = loadCifar10({ root, split: 'test', recordsPerFile: 4 });
  assert.equal(test.length, 4);
  const b = new DataLoader(test, { batchSize: 4 }).next();
  assert.deepEqual(b.x.shape, [4, 3, 32, 32]);
  assert.ok(Math.abs(b.x.max().item() - 1) < 1e-7);
  for (const t of [b.x, b.y]) t.dispose();
  train.dispose();
  test.dispose();
});

test('cifar10 errors: missing folder, missing batch, truncated batch, bad label', () => {
  assert.throws(
    () => loadCifar10({ root: '/no/cifar' }),
    (e) => oneLine(e, /^cifar10: data folder \/no\/cifar does not exist$/),
  );
  const root = join(dir, 'cifar-bad');
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'test_batch.bin'), cifarBatch(2, 0).subarray(0, 5000));
  assert.throws(
    () => loadCifar10({ root }),
    (e) => oneLine(e, /cifar-bad\/data_batch_1\.bin: file not found/),
  );
  assert.throws(
    () => loadCifar10({ root, split: 'test' }),
    (e) =>
      oneLine(
        e,
        /test_batch\.bin: truncated: 5000 bytes is not a whole number of 3073-byte records \(1 whole records\)$/,
      ),
  );
  const bad = cifarBatch(2, 0);
  bad[RECORD] = 200;
  writeFileSync(join(root, 'test_batch.bin'), bad);
  assert.throws(
    () => loadCifar10({ root, split: 'test', recordsPerFile: 2 }),
    (e) => oneLine(e, /record 1 has label 200, expected 0\.\.9/),
  );
});

test('cifar10 refuses batch files cut at a record boundary: each must hold its 10,000 records', () => {
  const root = join(dir, 'cifar-cut');
  mkdirSync(root, { recursive: true });
  for (const n of [1, 5]) {
    writeFileSync(join(root, 'test_batch.bin'), cifarBatch(n, 0));
    for (const load of [
      () => loadCifar10({ root, split: 'test' }),
      () => loadDataset('cifar10', { root, split: 'test' }),
    ]) {
      assert.throws(load, (e) =>
        oneLine(
          e,
          new RegExp(
            `test_batch\\.bin: holds ${n} records \\(${n * RECORD} bytes\\), expected 10000 \\(30730000 bytes\\); the file was cut short`,
          ),
        ),
      );
    }
  }
  // A cut-down copy made on purpose loads when its size is declared, and only at that size.
  writeFileSync(join(root, 'test_batch.bin'), cifarBatch(5, 0));
  const ds = loadCifar10({ root, split: 'test', recordsPerFile: 5 });
  assert.deepEqual(Array.from(ds.labels()), [0, 1, 2, 3, 4]);
  ds.dispose();
  assert.throws(
    () => loadCifar10({ root, split: 'test', recordsPerFile: 4 }),
    (e) => oneLine(e, /holds 5 records \(15365 bytes\), expected 4 \(12292 bytes\)$/),
  );
  // One batch of the train split cut short fails the whole split, naming that file.
  for (let k = 1; k <= 5; k++) writeFileSync(join(root, `data_batch_${k}.bin`), cifarBatch(k === 4 ? 1 : 2, 0));
  assert.throws(
    () => loadCifar10({ root, recordsPerFile: 2 }),
    (e) => oneLine(e, /data_batch_4\.bin: holds 1 records/),
  );
});

test('csv: header, numeric features, chosen label column, string labels become classes', () => {
  const text = 'a,b,species,c\n1,2,setosa,3\n4,5.5,virginica,-6\n\n7,8e-1,setosa,9\n';
  const ds = parseCsv(text, 'iris.csv', { labelColumn: 'species' });
  assert.deepEqual(ds.columns, ['a', 'b', 'c']);
  assert.deepEqual(ds.x.shape, [3, 3]);
  assert.deepEqual(nums(ds.x), [1, 2, 3, 4, 5.5, -6, 7, Math.fround(0.8), 9]);
  assert.deepEqual(ds.classes, ['setosa', 'virginica']);
  assert.deepEqual(Array.from(ds.labels()), [0, 1, 0]);
  ds.dispose();
  const numeric = parseCsv('x;"y";label\n0.5;1;2\n"1,5";2;0\n', 'semi.csv', {
    labelColumn: 2,
    delimiter: ';',
    columns: ['y'],
  });
  assert.deepEqual(Array.from(numeric.labels()), [2, 0]);
  assert.deepEqual(nums(numeric.x), [1, 2]);
  numeric.dispose();
});

test('csv from a gzipped file, and its errors name file, line and column', () => {
  const p = join(dir, 'table.csv.gz');
  writeFileSync(p, gzipSync('f1,f2,y\n1,2,0\n3,4,1\n'));
  const ds = readCsv(p, { labelColumn: 'y' });
  assert.equal(ds.length, 2);
  assert.deepEqual(nums(ds.x), [1, 2, 3, 4]);
  ds.dispose();
  assert.throws(
    () => readCsv(join(dir, 'none.csv')),
    (e) => oneLine(e, /none\.csv: file not found$/),
  );
  assert.throws(
    () => parseCsv('a,b\n1,2\n3,oops\n', 't.csv'),
    (e) => oneLine(e, /^t\.csv: line 3, column 'b': not a number: "oops"$/),
  );
  assert.throws(
    () => parseCsv('a,b\n1,2,3\n', 't.csv'),
    (e) => oneLine(e, /line 2 has 3 fields, the header has 2/),
  );
  assert.throws(
    () => parseCsv('a,b\n1,2\n', 't.csv', { labelColumn: 'z' }),
    (e) => oneLine(e, /no column "z" \(columns: a, b\)/),
  );
});

test('csv: a quoted newline stays inside its cell, and the rows after it are read', () => {
  const text = 'a,city,b\n1,"New\nYork",2\n3,"Paris",4\n5,"a ""quoted"", name",6\n';
  const ds = parseCsv(text, 'cities.csv', { labelColumn: 'city' });
  assert.equal(ds.length, 3);
  assert.deepEqual(nums(ds.x), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(ds.classes, ['New\nYork', 'Paris', 'a "quoted", name']);
  assert.deepEqual(Array.from(ds.labels()), [0, 1, 2]);
  ds.dispose();
  // An error after a multi-line record names the line the bad record starts on.
  assert.throws(
    () => parseCsv('a,b\n"x\ny",1\nz,oops\n', 'm.csv', { labelColumn: 'a' }),
    (e) => oneLine(e, /^m\.csv: line 4, column 'b': not a number: "oops"$/),
  );
  assert.throws(
    () => parseCsv('a,b\n1,"open\n2,3\n', 'q.csv'),
    (e) => oneLine(e, /^q\.csv: Quote Not Closed/),
  );
});

test('csv: \\r, \\r\\n and \\n line endings and a byte-order mark give the same table', () => {
  const rows = ['f,g,y', '1,2,0', '3,4,1', '5,6,0'];
  for (const [eol, bom] of [
    ['\r', ''],
    ['\r\n', ''],
    ['\n', '\ufeff'],
    ['\r', '\ufeff'],
  ]) {
    const ds = parseCsv(bom + rows.join(eol) + eol, 'e.csv', { labelColumn: 'y' });
    assert.deepEqual(ds.columns, ['f', 'g'], JSON.stringify(eol));
    assert.deepEqual(nums(ds.x), [1, 2, 3, 4, 5, 6], JSON.stringify(eol));
    assert.deepEqual(Array.from(ds.labels()), [0, 1, 0]);
    ds.dispose();
  }
  const p = join(dir, 'mac.csv');
  writeFileSync(p, 'f,y\r7,1\r8,2\r');
  const ds = readCsv(p, { labelColumn: 'y' });
  assert.deepEqual(nums(ds.x), [7, 8]);
  ds.dispose();
});

test('csv numbers are plain decimals: Infinity, overflow, hex, binary, NaN and empty cells are refused', () => {
  const bad: [string, RegExp][] = [
    ['Infinity', /line 3, column 'b': not a number: "Infinity"$/],
    ['-inf', /line 3, column 'b': not a number: "-inf"$/],
    ['NaN', /line 3, column 'b': not a number: "NaN"$/],
    ['1e400', /line 3, column 'b': 1e400 is beyond the float32 range/],
    ['-1e39', /line 3, column 'b': -1e39 is beyond the float32 range/],
    ['0x10', /line 3, column 'b': not a number: "0x10"$/],
    ['0b101', /line 3, column 'b': not a number: "0b101"$/],
    ['1_000', /not a number: "1_000"$/],
    ['', /^n\.csv: line 3, column 'b': empty cell, expected a number$/],
    ['""', /^n\.csv: line 3, column 'b': empty cell, expected a number$/],
  ];
  for (const [cell, re] of bad) {
    assert.throws(
      () => parseCsv(`a,b\n1,2\n3,${cell}\n`, 'n.csv'),
      (e) => oneLine(e, re),
      cell,
    );
  }
  // What a decimal may look like.
  const ok = parseCsv('a,b,c,d\n+1.5,-.25,3.,2E+2\n1e-3, 7 ,3.4e38,-0\n', 'ok.csv');
  assert.deepEqual(nums(ok.x), [1.5, -0.25, 3, 200, Math.fround(1e-3), 7, Math.fround(3.4e38), -0]);
  ok.dispose();
});

test('csv integer labels beyond int64 are refused, not wrapped', () => {
  const big = parseCsv('x,y\n1,9223372036854775807\n2,0\n', 'big.csv', { labelColumn: 'y' });
  assert.deepEqual(Array.from(big.y.toTypedArray() as BigInt64Array), [9223372036854775807n, 0n]);
  big.dispose();
  for (const label of ['9223372036854775808', '99999999999999999999999']) {
    assert.throws(
      () => parseCsv(`x,y\n1,0\n2,${label}\n`, 'big.csv', { labelColumn: 'y' }),
      (e) => oneLine(e, new RegExp(`^big\\.csv: line 3, column 'y': label ${label} is beyond the int64 range$`)),
    );
  }
});

test('csv: an empty label cell is refused rather than turning class ids into class names', () => {
  assert.throws(
    () => parseCsv('x,y\n1,0\n2,\n3,1\n', 'l.csv', { labelColumn: 'y' }),
    (e) => oneLine(e, /^l\.csv: line 3, column 'y': empty cell, expected a label$/),
  );
});

test('cifar10: a gzipped batch file loads, and one that inflates past its records stops there', () => {
  const root = join(dir, 'cifar-gz');
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'test_batch.bin'), gzipSync(cifarBatch(3, 2)));
  const ds = loadCifar10({ root, split: 'test', recordsPerFile: 3 });
  assert.deepEqual(Array.from(ds.labels()), [2, 3, 4]);
  ds.dispose();
  // 3 records, then 32 MiB of zeros: a multi-member stream built without allocating the zeros.
  const zeros = gzipSync(Buffer.alloc(1 << 20), { level: 9 });
  writeFileSync(
    join(root, 'test_batch.bin'),
    Buffer.concat([gzipSync(cifarBatch(3, 2)), ...Array.from({ length: 32 }, () => zeros)]),
  );
  const rss = process.memoryUsage().rss;
  assert.throws(
    () => loadCifar10({ root, split: 'test', recordsPerFile: 3 }),
    (e) => oneLine(e, /test_batch\.bin: inflates to more than 3 records \(9219 bytes\); inflating stopped there$/),
  );
  const grew = process.memoryUsage().rss - rss;
  assert.ok(grew < 16 * 2 ** 20, `RSS grew by ${(grew / 2 ** 20).toFixed(1)} MiB`);
});
