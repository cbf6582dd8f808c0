// torch.distributed over c10d/Gloo between genlab processes, and with PyTorch 1.13 itself: a genlab
// rank and a Python rank join one group (either may host the TCPStore) and compute the same values.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as dist from '../../src/torch/distributed.js';
import { finish, freePort, genlabRank, json, pythonRank, rankEnv, ranks, torchMissing } from './helpers.js';

/** What every rank of worker.ts `collectives` (and peer.py) must get in a group of `n`. */
function expected(n: number) {
  const ranksList = Array.from({ length: n }, (_, r) => r);
  return {
    sum: [ranksList.reduce((a, r) => a + r + 1, 0), ranksList.reduce((a, r) => a + 10 * (r + 1), 0)],
    max: [(n - 1) * 3 - 1],
    broadcast: [0, 1, 2, 3, 4].map((i) => i * n),
    gather: ranksList.map((r) => [r, r * r]),
  };
}

function check(out: any, rank: number, n: number) {
  const want = expected(n);
  assert.equal(out.rank, rank);
  assert.equal(out.worldSize, n);
  assert.deepEqual(out.sum, want.sum);
  assert.deepEqual(out.max, want.max);
  assert.deepEqual(out.broadcast, want.broadcast);
  assert.deepEqual(out.gather, want.gather);
}

test('three genlab ranks: allReduce (sum, max), broadcast, allGather and barrier over env://', async () => {
  const exits = await ranks(3, 'collectives');
  for (const [r, e] of exits.entries()) check(json(e), r, 3);
});

test('two genlab ranks meet through file:// (a FileStore)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'genlab-filestore-'));
  try {
    const exits = await ranks(2, 'collectives', [], { INIT_METHOD: `file://${join(dir, 'store')}` });
    for (const [r, e] of exits.entries()) check(json(e), r, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('avg and min; the event loop turns while a collective waits; reduceScatter is refused by Gloo', async () => {
  const exits = await ranks(2, 'slowPeer');
  const [a, b] = exits.map(json);
  for (const o of [a, b]) {
    assert.deepEqual(o.avg, [2, -0.5]); // ([1, 0] + [3, -1]) / 2
    assert.deepEqual(o.min, [4]);
    assert.match(o.reduceScatter, /reduceScatter is not supported by the Gloo backend/);
  }
  // Rank 0 waited about 800 ms for rank 1 inside one allReduce; a 20 ms timer kept firing.
  assert.ok(a.ticks >= 10, `rank 0's timers fired ${a.ticks} times during the wait`);
});

test('a wrong MASTER_PORT gives a timeout error naming the rank, not a hang', async () => {
  const port = await freePort(); // nobody listens there
  const t0 = Date.now();
  await assert.rejects(
    dist.initProcessGroup({ initMethod: `tcp://127.0.0.1:${port}`, rank: 1, worldSize: 2, timeout: 1500 }),
    (e: Error) => {
      assert.match(e.message, /^initProcessGroup failed on rank 1 of 2 while connecting to the store \(.*\)$/);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    },
  );
  assert.ok(Date.now() - t0 < 15_000, `gave up after ${Date.now() - t0} ms`);
  assert.equal(dist.isInitialized(), false);
});

for (const pythonHosts of [false, true]) {
  test(`PyTorch interop: a genlab rank and a Python rank in one group (${pythonHosts ? 'Python' : 'genlab'} hosts the store)`, async (t) => {
    const missing = torchMissing();
    if (missing) return t.skip(missing);
    const port = await freePort();
    const pyRank = pythonHosts ? 0 : 1;
    const py = finish(pythonRank(rankEnv(port, pyRank, 2), 30));
    const gl = finish(genlabRank('collectives', [], rankEnv(port, 1 - pyRank, 2)));
    const [p, g] = await Promise.all([py, gl]);
    check(json(p), pyRank, 2);
    check(json(g), 1 - pyRank, 2);
  });
}
