// Rank-aware draws: shardRows keeps this rank's rows of a draw made for the global batch, the rows
// of the examples the DistributedSampler gives this rank, so W ranks together draw what one process
// with a W times larger batch draws. With one rank it is draw(B) itself.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DistributedSampler } from '../../src/data/distributed.js';
import { arange, randn } from '../../src/torch/creation.js';
import { Generator } from '../../src/torch/random.js';
import { batchShard, shardRows } from '../../src/train/shard.js';

test("shardRows: rank r of W keeps global rows r, r + W, …, the sampler's examples of its batch", () => {
  const [W, B, n] = [3, 4, 50];
  const one = new DistributedSampler(n, { numReplicas: 1, rank: 0, seed: 5 }).indices(2);
  for (let r = 0; r < W; r++) {
    const mine = new DistributedSampler(n, { numReplicas: W, rank: r, seed: 5 }).indices(2);
    const rows = shardRows({ rank: r, worldSize: W }, B, (m) => arange(m).mul(10)).toArray() as number[];
    assert.deepEqual(
      rows,
      Array.from({ length: B }, (_, j) => 10 * (r + j * W)),
    );
    // Batch t of this rank is rows r + jW of batch t of one process with batch W·B.
    for (const t of [0, 1, 3]) for (let j = 0; j < B; j++) assert.equal(mine[t * B + j], one[t * W * B + r + j * W]);
  }
});

test('shardRows: several dimensions; the ranks together hold the global draw; one rank draws B rows', () => {
  const [W, B] = [2, 3];
  const global = randn([W * B, 2, 2], { generator: new Generator(1) }).toArray() as number[][][];
  const parts = [0, 1].map(
    (r) =>
      shardRows({ rank: r, worldSize: W }, B, (m) =>
        randn([m, 2, 2], { generator: new Generator(1) }),
      ).toArray() as number[][][],
  );
  for (let i = 0; i < W * B; i++) assert.deepEqual(parts[i % W][Math.floor(i / W)], global[i]);
  let asked = 0;
  const alone = shardRows({ rank: 0, worldSize: 1 }, B, (m) => {
    asked = m;
    return randn([m, 2, 2], { generator: new Generator(1) });
  });
  assert.equal(asked, B);
  // draw(B) itself, not the first rows of a longer draw (libtorch's randn of 12 values is not a prefix of its 24).
  assert.deepEqual(alone.toArray(), randn([B, 2, 2], { generator: new Generator(1) }).toArray());
  assert.deepEqual(batchShard(), { rank: 0, worldSize: 1 }); // no process group: one rank
});
