import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type Batch,
  DataLoader,
  type Dataset,
  dequantize,
  loadDigits,
  Rng,
  randomHorizontalFlip,
  TensorDataset,
} from '../../src/data/index.js';
import { torch } from '../../src/index.js';

/** 10 items whose features are [i, 10 i] and labels i % 3. */
function tiny(): TensorDataset {
  const x = torch.tensor(
    Float32Array.from({ length: 20 }, (_, k) => (k % 2 ? 10 : 1) * Math.floor(k / 2)),
    {
      shape: [10, 2],
    },
  );
  const y = torch.tensor(Int32Array.from({ length: 10 }, (_, i) => i % 3));
  return new TensorDataset(x, y);
}

const ids = (b: Batch) => Array.from(b.x.select(1, 0).toTypedArray(), Number);

function takeAll(loader: DataLoader, count: number): { x: number[][]; y: number[][] } {
  const out = { x: [] as number[][], y: [] as number[][] };
  for (let i = 0; i < count; i++) {
    torch.tidy(() => {
      const b = loader.next();
      out.x.push(Array.from(b.x.toTypedArray(), Number));
      out.y.push(Array.from(b.y.toTypedArray(), Number));
    });
  }
  return out;
}

test('Rng: seeded, reproducible, state round-trips, permutations are permutations', () => {
  const a = new Rng(7);
  const b = new Rng(7);
  const xs = Array.from({ length: 5 }, () => a.u32());
  assert.deepEqual(
    xs,
    Array.from({ length: 5 }, () => b.u32()),
  );
  assert.notDeepEqual(
    xs,
    Array.from({ length: 5 }, () => new Rng(8).u32()),
  );
  const s = a.getState();
  const next = [a.random(), a.random()];
  assert.deepEqual([new Rng().setState(s).random(), new Rng().setState(s).random()][0], next[0]);
  const p = new Rng(1).permutation(1000);
  assert.deepEqual(
    Array.from(p).sort((u, v) => u - v),
    Array.from({ length: 1000 }, (_, i) => i),
  );
  let mean = 0;
  const r = new Rng(3);
  for (let i = 0; i < 20000; i++) mean += r.random() / 20000;
  assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
});

test('unshuffled batches come in order with the right shapes and int64 labels; the last is short', () => {
  const ds = tiny();
  const loader = new DataLoader(ds, { batchSize: 4 });
  assert.equal(loader.length, 3);
  const batches = torch.tidy(() => [...loader].map((b) => ({ ids: ids(b), shape: b.x.shape, y: b.y })));
  assert.deepEqual(
    batches.map((b) => b.ids),
    [
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ],
  );
  assert.deepEqual(batches[0].shape, [4, 2]);
  assert.equal(batches[0].y.dtype, 'int64');
  assert.deepEqual(Array.from(batches[2].y.toTypedArray(), Number), [2, 0]);
  assert.equal(loader.epoch, 1);
  ds.dispose();
});

test('dropLast drops the short batch', () => {
  const ds = tiny();
  const loader = new DataLoader(ds, { batchSize: 4, dropLast: true, shuffle: true, seed: 3 });
  assert.equal(loader.length, 2);
  const seen = torch.tidy(() => [...loader].map(ids));
  assert.equal(seen.length, 2);
  assert.ok(seen.every((b) => b.length === 4));
  assert.throws(() => new DataLoader(ds, { batchSize: 11, dropLast: true }), /no batch of 11/);
  ds.dispose();
});

test('shuffled order: a permutation per epoch, the same for the same seed, different across epochs and seeds', () => {
  const ds = tiny();
  const a = new DataLoader(ds, { batchSize: 3, shuffle: true, seed: 42 });
  const b = new DataLoader(ds, { batchSize: 3, shuffle: true, seed: 42 });
  const c = new DataLoader(ds, { batchSize: 3, shuffle: true, seed: 43 });
  const ea = takeAll(a, 8);
  assert.deepEqual(ea, takeAll(b, 8));
  assert.notDeepEqual(ea.x, takeAll(c, 8).x);
  const epoch0 = ea.x
    .slice(0, 4)
    .flat()
    .filter((_, k) => k % 2 === 0);
  const epoch1 = ea.x
    .slice(4, 8)
    .flat()
    .filter((_, k) => k % 2 === 0);
  assert.deepEqual(
    [...epoch0].sort((u, v) => u - v),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.deepEqual(
    [...epoch1].sort((u, v) => u - v),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.notDeepEqual(epoch0, epoch1);
  assert.deepEqual(Array.from(a.order(0)), epoch0);
  ds.dispose();
});

test('save/restore mid-epoch continues identically, through JSON, with transforms', () => {
  const ds = loadDigits();
  const opts = { batchSize: 64, shuffle: true, seed: 5, transform: [randomHorizontalFlip(), dequantize(17)] };
  const ref = new DataLoader(ds, opts);
  const full = takeAll(ref, 40); // crosses two epoch boundaries (23 batches per epoch)
  const run = new DataLoader(ds, opts);
  takeAll(run, 17);
  const saved = JSON.parse(JSON.stringify(run.state()));
  assert.deepEqual(saved, {
    seed: 5,
    epoch: 0,
    batch: 17,
    length: 1437,
    batchSize: 64,
    shuffle: true,
    dropLast: false,
  });
  const resumed = new DataLoader(ds, opts);
  resumed.setState(saved);
  const rest = takeAll(resumed, 23);
  assert.deepEqual(rest.x, full.x.slice(17));
  assert.deepEqual(rest.y, full.y.slice(17));
  // Dequantised values lie strictly inside their level's bin.
  const v = full.x[0];
  assert.ok(v.every((t) => t >= 0 && t < 1));
  assert.throws(() => resumed.setState({ ...saved, batchSize: 32 }), /saved batchSize 32 differs/);
  assert.throws(() => resumed.setState({ ...saved, batch: 99 }), /past the 23/);
  ds.dispose();
});

test('a dataset without batch() is collated item by item', () => {
  const plain: Dataset = {
    length: 5,
    shape: [2, 2],
    get: (i) => ({ x: Float32Array.from([i, i, i, i]), y: 4 - i }),
  };
  const loader = new DataLoader(plain, { batchSize: 2, shuffle: true, seed: 1 });
  const b = loader.next();
  assert.deepEqual(b.x.shape, [2, 2, 2]);
  assert.equal(b.y.dtype, 'int64');
  const first = b.x.select(0, 0).flatten().toTypedArray()[0] as number;
  assert.equal(Number(b.y.toTypedArray()[0]), 4 - first);
  assert.equal(first, loader.order(0)[0]);
  b.x.dispose();
  b.y.dispose();
});

test('batches gather from the big tensor: same values as get(i), and no tensors leak', () => {
  const ds = loadDigits({ split: 'test' });
  const loader = new DataLoader(ds, { batchSize: 32, shuffle: true, seed: 9 });
  const before = torch.memory().tensors;
  for (let i = 0; i < 30; i++) {
    torch.tidy(() => {
      const at = loader.batchIndex;
      const order = loader.order(loader.epoch);
      const b = loader.next();
      const row = b.x.select(0, 1).flatten().toTypedArray() as Float32Array;
      assert.deepEqual(Array.from(row), Array.from(ds.get(order[at * 32 + 1]).x as Float32Array));
    });
  }
  // Only the epoch's cached index tensor outlives the steps, until the loader is disposed.
  assert.equal(torch.memory().tensors, before + 1);
  loader.dispose();
  assert.equal(torch.memory().tensors, before);
  ds.dispose();
});
