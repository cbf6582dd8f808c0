import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type Batch,
  DataLoader,
  type Dataset,
  dequantize,
  deriveSeed,
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
  const y = torch.tensor(BigInt64Array.from({ length: 10 }, (_, i) => BigInt(i % 3)));
  return new TensorDataset(x, y, { own: true });
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

test('Rng.permutation: the committed orders, bit for bit (runs and resume tests depend on them)', () => {
  // Recorded from the plain Fisher–Yates loop over int() before permutation() was written out on local
  // state; the loader's epoch-0 and epoch-1 orders of fashion-mnist (seed 0, 60,000 examples) among them.
  const hash = (p: Int32Array) => p.reduce((h, v) => (Math.imul(h, 31) + v) | 0, 0) >>> 0;
  const cases: [number, number, number[], number][] = [
    [1, 1000, [270, 447, 840, 380, 896, 691, 712, 513], 1698999650],
    [deriveSeed(0, 0), 60000, [15962, 19342, 53102, 18018, 51773, 42937, 37875, 45337], 2647380480],
    [deriveSeed(0, 1), 60000, [9888, 35009, 57920, 25888, 9956, 4447, 11174, 3767], 293949516],
    [deriveSeed(7, 3), 1797, [77, 256, 951, 69, 1230, 21, 1376, 1349], 1374326752],
  ];
  for (const [seed, n, head, h] of cases) {
    const p = new Rng(seed).permutation(n);
    assert.deepEqual(Array.from(p.subarray(0, 8)), head);
    assert.equal(hash(p), h);
  }
  // And the same draws as int(): the generator's state after a permutation is the loop's.
  const r = new Rng(5);
  const q = new Rng(5);
  const p = r.permutation(17);
  const loop = Int32Array.from({ length: 17 }, (_, i) => i);
  for (let i = 16; i > 0; i--) {
    const j = q.int(i + 1);
    [loop[i], loop[j]] = [loop[j], loop[i]];
  }
  assert.deepEqual(p, loop);
  assert.deepEqual(r.getState(), q.getState());
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

test('the idiomatic loop frees each batch when it takes the next: 2 epochs keep the live tensor count flat', () => {
  const x = torch.tensor(
    Float32Array.from({ length: 200 }, (_, k) => k),
    { shape: [100, 2] },
  );
  const y = torch.tensor(Float32Array.from({ length: 100 }, (_, k) => k / 2));
  const ds = new TensorDataset(x, y);
  const loader = new DataLoader(ds, { batchSize: 8, shuffle: true, seed: 5 });
  assert.equal(torch.memory().scopeDepth, 0);
  const before = torch.memory().tensors;
  const live: number[] = [];
  let sum = 0;
  for (let epoch = 0; epoch < 2; epoch++) {
    for (const { x: bx, y: by } of loader) {
      // The training step, as in PyTorch: the batch itself is made outside tidy().
      sum += torch.tidy(() => bx.sum().add(by.sum()).item());
      live.push(torch.memory().tensors);
    }
  }
  assert.equal(live.length, 2 * 13);
  // Each epoch sums every x and y once: 2 × (Σk for k < 200 + Σk/2 for k < 100).
  assert.equal(sum, 2 * (19900 + 2475));
  // During a step: the batch's x and y and the epoch's cached index tensor, never more.
  assert.deepEqual(new Set(live), new Set([before + 3]));
  // After the loop: only the index tensor, which dispose() frees.
  assert.equal(torch.memory().tensors, before + 1);
  loader.dispose();
  assert.equal(torch.memory().tensors, before);
  ds.dispose();
  // The dataset did not own x and y: the caller frees them.
  assert.ok(!x.isDisposed && !y.isDisposed);
  x.dispose();
  y.dispose();
});

test('iteration frees the last batch on break and on throw, and leaves kept tensors and scope-owned ones', () => {
  const ds = tiny();
  const loader = new DataLoader(ds, { batchSize: 3 });
  const before = torch.memory().tensors;
  let first: torch.Tensor | null = null;
  for (const b of loader) {
    first = b.x;
    break;
  }
  assert.ok(first?.isDisposed, 'break frees the batch');
  assert.throws(() => {
    for (const b of loader) {
      first = b.y;
      throw new Error('step failed');
    }
  }, /step failed/);
  assert.ok(first?.isDisposed, 'a throw frees the batch');
  // keep(): the batch outlives its turn; the caller disposes it.
  const kept: torch.Tensor[] = [];
  for (const b of new DataLoader(ds, { batchSize: 4 })) kept.push(b.y.keep());
  assert.deepEqual(
    kept.map((t) => Array.from(t.toTypedArray() as BigInt64Array, Number)),
    [
      [0, 1, 2, 0],
      [1, 2, 0, 1],
      [2, 0],
    ],
  );
  for (const t of kept) t.dispose();
  // Inside tidy() the scope owns the batches: all are alive until it ends (the classifier's evaluation relies on it).
  const ys = torch.tidy(() => {
    const all: torch.Tensor[] = [];
    for (const b of new DataLoader(ds, { batchSize: 4 })) all.push(b.y);
    return torch.cat(all);
  });
  assert.deepEqual(Array.from(ys.toTypedArray() as BigInt64Array, Number), [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]);
  ys.dispose();
  // The loader above still holds its index tensor; the cut-short loader's holds one too.
  loader.dispose();
  assert.ok(torch.memory().tensors <= before + 2);
  ds.dispose();
});

test('next() still hands the caller a batch it owns, alive after the next next()', () => {
  const ds = tiny();
  const loader = new DataLoader(ds, { batchSize: 4 });
  const a = loader.next();
  const b = loader.next();
  assert.ok(!a.x.isDisposed && !a.y.isDisposed);
  assert.deepEqual(ids(a), [0, 1, 2, 3]);
  assert.deepEqual(ids(b), [4, 5, 6, 7]);
  for (const t of [a.x, a.y, b.x, b.y]) t.dispose();
  loader.dispose();
  ds.dispose();
});

test('TensorDataset as in PyTorch: any tensors sharing the first dimension, dtypes kept, the caller owns them', () => {
  const x = torch.tensor(
    Float32Array.from({ length: 12 }, (_, k) => k),
    { shape: [4, 3] },
  );
  const target = torch.tensor(new Float32Array([0.25, 1.5, -2.75, 3.125]));
  const pair = torch.tensor(
    Float64Array.from({ length: 8 }, (_, k) => k / 4),
    { shape: [4, 2] },
  );
  const mask = torch.tensor(new Uint8Array([1, 0, 1, 1]));
  const ds = new TensorDataset(x, target, pair, mask);
  assert.equal(ds.length, 4);
  assert.equal(ds.owns, false);
  const idx = torch.tensor(new BigInt64Array([2n, 0n]));
  const b = ds.batch(idx);
  // Float regression targets stay float, not truncated to int64.
  assert.equal(b.y.dtype, 'float32');
  assert.deepEqual(Array.from(b.y.toTypedArray() as Float32Array), [-2.75, 0.25]);
  assert.equal(b.rest?.length, 2);
  const [bp, bm] = b.rest as torch.Tensor[];
  assert.equal(bp.dtype, 'float64');
  assert.deepEqual(bp.shape, [2, 2]);
  assert.deepEqual(Array.from(bp.toTypedArray() as Float64Array), [1, 1.25, 0, 0.25]);
  assert.equal(bm.dtype, 'uint8');
  assert.deepEqual(Array.from(bm.toTypedArray() as Uint8Array), [1, 1]);
  assert.equal(ds.get(1).y, 1.5);
  assert.throws(() => ds.labels(), /y is float32 \[4\], not integer class labels/);
  // An [n, k] target is a target, not an error.
  const wide = new TensorDataset(x, pair);
  assert.deepEqual(wide.batch(idx).y.shape, [2, 2]);
  assert.throws(() => wide.get(0), /y holds \[2\] per example, not a number; use batch\(\)/);
  // A subset copies every tensor and owns the copies.
  const sub = ds.subset([3, 1]);
  assert.equal(sub.owns, true);
  assert.deepEqual(Array.from(sub.tensors[3].toTypedArray() as Uint8Array), [1, 0]);
  sub.dispose();
  assert.ok(sub.tensors.every((t) => t.isDisposed));
  // The transforms of a loader map x and y; the further tensors pass through.
  const loader = new DataLoader(ds, { batchSize: 4, transform: ({ x: bx, y }) => ({ x: bx.mul(2), y }) });
  const lb = loader.next();
  assert.deepEqual(Array.from(lb.x.toTypedArray() as Float32Array).slice(0, 3), [0, 2, 4]);
  assert.deepEqual(Array.from((lb.rest as torch.Tensor[])[1].toTypedArray() as Uint8Array), [1, 0, 1, 1]);
  torch.dispose([lb.x, lb.y, lb.rest, b.x, b.y, b.rest, idx]);
  loader.dispose();
  // Disposing datasets that do not own their tensors leaves them to the caller.
  ds.dispose();
  wide.dispose();
  for (const t of [x, target, pair, mask]) assert.ok(!t.isDisposed);
  // Unless the caller hands them over: own frees them with the dataset, and keeps them past tidy().
  const owned = torch.tidy(() => new TensorDataset(x.clone(), target.clone(), { own: true }));
  assert.ok(!owned.x.isDisposed && !owned.y.isDisposed);
  owned.dispose();
  assert.ok(owned.x.isDisposed && owned.y.isDisposed);
  for (const t of [x, target, pair, mask]) t.dispose();
  assert.throws(
    () => new TensorDataset(torch.zeros([3, 2]), torch.zeros([4])),
    /TensorDataset: y has shape \[4\] but x holds 3 examples/,
  );
  assert.throws(
    () => new TensorDataset(torch.zeros([3, 2]), torch.zeros([3]), torch.zeros([2, 3])),
    /TensorDataset: tensor 2 has shape \[2,3\] but x holds 3 examples/,
  );
  // Types refuse this; plain JavaScript callers get the runtime check.
  const untyped = TensorDataset as unknown as new (...args: unknown[]) => TensorDataset;
  assert.throws(() => new untyped(torch.zeros([3]), undefined, torch.zeros([3])), /argument 1 is not a Tensor/);
  // An options argument given as undefined is no options: the bare form, which does not own.
  const plain = torch.zeros([3]);
  const noOpts: { name?: string } | undefined = undefined;
  const bare = new TensorDataset(plain, plain, noOpts as unknown as { name?: string });
  assert.equal(bare.owns, false);
  bare.dispose();
  assert.ok(!plain.isDisposed);
  plain.dispose();
});

test('TensorDataset keeps the older (x, y | undefined, options) form: it owns its tensors, labels default to zeros', () => {
  const x = torch.tidy(() => torch.ones([3, 2]));
  const ds = new TensorDataset(x, undefined, { name: 'ppca' });
  assert.equal(ds.owns, true);
  assert.equal(ds.y.dtype, 'int64');
  assert.deepEqual(Array.from(ds.labels()), [0, 0, 0]);
  assert.equal(ds.tensors.length, 1);
  const y = torch.tensor(new Int32Array([2, 0, 1]));
  const labelled = new TensorDataset(torch.ones([3, 1]), y, { name: 'l' });
  // dtypes are kept in every form; the given y is the dataset's, not disposed at construction.
  assert.equal(labelled.y, y);
  assert.equal(labelled.y.dtype, 'int32');
  assert.deepEqual(Array.from(labelled.labels()), [2, 0, 1]);
  labelled.dispose();
  ds.dispose();
  assert.ok(x.isDisposed && y.isDisposed);
});

test('indexSelectDivide: the fused gather and division equal index_select then div, bit for bit', () => {
  torch.tidy(() => {
    // Every uint8 level appears; rows of 15 values leave a tail after the 8-wide loop.
    const levels = torch
      .arange(0, 40 * 15)
      .remainder(256)
      .to('uint8');
    const x = levels.reshape([40, 3, 5]);
    const index = torch.tensor(BigInt64Array.from([39n, 0n, 17n, 17n, 5n, 22n, 1n, 38n, 9n, 30n]));
    for (const divisor of [255, 16, 3.3, 1e-3]) {
      const fused = torch.indexSelectDivide(x, index, divisor);
      const twoOps = x.indexSelect(0, index).div(divisor);
      assert.equal(fused.dtype, 'float32');
      assert.deepEqual(fused.shape, [10, 3, 5]);
      assert.ok(torch.equal(fused, twoOps), `divisor ${divisor}`);
    }
    // Spot values: level 255 of row 17 (values 255..269 wrap at 256).
    const v = torch.indexSelectDivide(x, torch.tensor(BigInt64Array.from([17n])), 255).flatten();
    assert.equal(v.toTypedArray()[0], Math.fround(Math.fround(255) / 255));
    assert.equal(v.toTypedArray()[1], 0);
    // No rows: an empty batch of the item shape.
    assert.deepEqual(torch.indexSelectDivide(x, torch.tensor(new BigInt64Array(0)), 255).shape, [0, 3, 5]);
    // Out of range either way is an error, not a read outside the data.
    assert.throws(
      () => torch.indexSelectDivide(x, torch.tensor(BigInt64Array.from([40n])), 255),
      /index 40 is out of range for 40 rows/,
    );
    assert.throws(() => torch.indexSelectDivide(x, torch.tensor(BigInt64Array.from([-1n])), 255), /out of range/);
    // Other layouts and dtypes take the two operations, with the same result.
    const strided = x.transpose(1, 2);
    assert.ok(torch.equal(torch.indexSelectDivide(strided, index, 7), strided.indexSelect(0, index).div(7)));
    const wide = x.to('int64');
    assert.ok(torch.equal(torch.indexSelectDivide(wide, index, 7), wide.indexSelect(0, index).div(7)));
    const int32Index = index.to('int32');
    assert.ok(torch.equal(torch.indexSelectDivide(x, int32Index, 7), x.indexSelect(0, int32Index).div(7)));
  });
});

test('a uint8 TensorDataset with a divisor batches through the fused gather, as before', () => {
  torch.tidy(() => {
    const x = torch.randint(0, 256, [50, 1, 4, 4], { dtype: 'uint8', generator: new torch.Generator(3) });
    const y = torch.tensor(BigInt64Array.from({ length: 50 }, (_, i) => BigInt(i)));
    const ds = new TensorDataset(x, y, { divisor: 255, own: false });
    const loader = new DataLoader(ds, { batchSize: 16, shuffle: true, seed: 4 });
    for (let b = 0; b < 4; b++) {
      const batch = loader.next();
      const index = batch.y;
      assert.ok(torch.equal(batch.x, x.indexSelect(0, index).div(255)));
    }
  });
});
