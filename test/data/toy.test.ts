import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkerboard, eightGaussians, loadDataset, makeToy, swirl, twoMoons } from '../../src/data/index.js';
import { torch } from '../../src/index.js';

test('every toy is [N, 2] float32, reproducible from its seed and different for another seed', () => {
  for (const f of [twoMoons, eightGaussians, swirl, checkerboard]) {
    const a = f(500, { seed: 3 });
    const b = f(500, { seed: 3 });
    const c = f(500, { seed: 4 });
    assert.deepEqual(a.shape, [500, 2]);
    assert.equal(a.dtype, 'float32');
    assert.ok(a.equal(b));
    assert.ok(!a.equal(c));
    torch.dispose([a, b, c]);
  }
});

test('two moons: labels split the halves, points lie near the two unit arcs', () => {
  const { x, y } = makeToy('moons', 20000, { seed: 1, noise: 0 });
  torch.tidy(() => {
    const upper = x.index([y.eq(0)]);
    const lower = x.index([y.eq(1)]);
    // Noise-free: upper points are on the unit circle about (0, 0), lower ones about (1, 0.5).
    assert.ok(upper.norm(2, 1).sub(1).abs().max().item() < 1e-5);
    assert.ok(
      lower
        .sub(torch.tensor([1, 0.5]))
        .norm(2, 1)
        .sub(1)
        .abs()
        .max()
        .item() < 1e-5,
    );
    assert.ok(Math.abs(upper.shape[0] / 20000 - 0.5) < 0.02);
    const s = x.amax(0).toArray() as number[];
    const m = x.neg().amax(0).toArray() as number[];
    assert.ok(s[0] <= 2 + 1e-6 && -m[0] >= -1 - 1e-6 && s[1] <= 1 + 1e-6 && -m[1] >= -0.5 - 1e-6);
    // Mean of the two arcs: x̄ = 0.5, ȳ = (2/π − (2/π − 0.5)) / 2 = 0.25.
    const mean = x.mean(0).toArray() as number[];
    assert.ok(Math.abs(mean[0] - 0.5) < 0.02 && Math.abs(mean[1] - 0.25) < 0.02, `${mean}`);
  });
  torch.dispose([x, y]);
  const noisy = twoMoons(10000, { seed: 2 });
  const r = torch.tidy(() => noisy.amax(0).toArray() as number[]);
  assert.ok(r[0] < 2.6 && r[1] < 1.6);
  noisy.dispose();
});

test('eight Gaussians: mean near 0, eight balanced modes on a circle of radius 2√2', () => {
  const { x, y } = makeToy('eight-gaussians', 40000, { seed: 0 });
  torch.tidy(() => {
    const mean = x.mean(0).toArray() as number[];
    assert.ok(Math.hypot(mean[0], mean[1]) < 0.05, `mean ${mean}`);
    // E|x|² = r² + 2σ² = 8 + 0.25.
    const sq = x.square().sum(1).mean().item();
    assert.ok(Math.abs(sq - 8.25) < 0.1, `E|x|² ${sq}`);
    const counts = torch.ops.bincount(y).toArray() as number[];
    assert.equal(counts.length, 8);
    assert.ok(
      counts.every((c) => Math.abs(c - 5000) < 300),
      `${counts}`,
    );
    // Mode 2 is at angle π/2: (0, 2√2).
    const m2 = x
      .index([y.eq(2)])
      .mean(0)
      .toArray() as number[];
    assert.ok(Math.abs(m2[0]) < 0.02 && Math.abs(m2[1] - 2 * Math.SQRT2) < 0.02, `${m2}`);
  });
  torch.dispose([x, y]);
});

test('swirl: symmetric arms, mean near 0, radius up to about π', () => {
  const x = swirl(20000, { seed: 5 });
  torch.tidy(() => {
    const mean = x.mean(0).toArray() as number[];
    assert.ok(Math.hypot(mean[0], mean[1]) < 0.05, `${mean}`);
    const rmax = x.norm(2, 1).max().item();
    assert.ok(rmax > 2.8 && rmax < 3.8, `max radius ${rmax}`);
  });
  x.dispose();
});

test('checkerboard: inside [−4, 4]², only dark cells, each holding about 1/8', () => {
  const { x, y } = makeToy('checkerboard', 16000, { seed: 2 });
  const xs = x.toTypedArray() as Float32Array;
  const cells = new Array(16).fill(0);
  for (let i = 0; i < 16000; i++) {
    const cx = xs[2 * i];
    const cy = xs[2 * i + 1];
    assert.ok(cx >= -4 && cx < 4 && cy >= -4 && cy < 4);
    const col = Math.floor((cx + 4) / 2);
    const row = Math.floor((cy + 4) / 2);
    assert.equal((col + row) % 2, 0, `point (${cx}, ${cy}) in a light cell`);
    cells[row * 4 + col]++;
  }
  assert.ok(
    cells.filter((c) => c > 0).every((c) => Math.abs(c - 2000) < 200),
    `${cells}`,
  );
  torch.dispose([x, y]);
});

test('loadDataset gives toy train and test sets that differ, with labels', () => {
  const train = loadDataset('moons', { n: 1000, seed: 1 });
  const test = loadDataset('moons', { n: 1000, seed: 1, split: 'test' });
  assert.equal(train.length, 1000);
  assert.deepEqual(train.shape, [2]);
  assert.ok(!train.x.equal(test.x));
  assert.ok(new Set(train.labels()).size === 2);
  assert.throws(() => loadDataset('spirals'), /unknown data set 'spirals'/);
  train.dispose();
  test.dispose();
});
