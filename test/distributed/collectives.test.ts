// torch.distributed over c10d/Gloo between genlab processes, and with PyTorch 1.13 itself: a genlab
// rank and a Python rank join one group (either may host the TCPStore) and compute the same values.
// Three ranks that die mid-training fail with a one-line message within the timeout. Process starts
// dominate these tests' time, so checks share ranks: three genlab ranks meet through file://, then
// env://, then train until one is killed; one genlab and one Python rank meet twice.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as dist from '../../src/torch/distributed.js';
import {
  type Exit,
  finish,
  freePort,
  freePorts,
  genlabRank,
  json,
  pythonRank,
  ranks,
  torchMissing,
} from './helpers.js';

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

// Three genlab ranks (worker.ts `three`): file://, then env:// with the slow-peer checks, then DDP
// training in which rank 1 dies. Each rank prints its collectives' results before the training.
const storeDir = mkdtempSync(join(tmpdir(), 'genlab-filestore-'));
after(() => rmSync(storeDir, { recursive: true, force: true }));
const KILL_TIMEOUT_MS = 8000;
let three: Promise<Exit[]> | undefined;
const threeRanks = () => {
  three ??= ranks(3, 'three', [join(storeDir, 'store'), '1', '20'], { TEST_TIMEOUT_MS: String(KILL_TIMEOUT_MS) });
  return three;
};
/** The results a rank printed before the training. */
const printed = (e: Exit) => {
  const line = e.stdout.split('\n')[0];
  assert.ok(line, `no results (code ${e.code}): ${e.stderr}`);
  return JSON.parse(line);
};

test('three genlab ranks: allReduce (sum, max), broadcast, allGather and barrier over env://', async () => {
  for (const [r, e] of (await threeRanks()).entries()) check(printed(e).env, r, 3);
});

test('three genlab ranks meet through file:// (a FileStore)', async () => {
  for (const [r, e] of (await threeRanks()).entries()) check(printed(e).file, r, 3);
});

test('avg and min; the event loop turns while a collective waits; reduceScatter is refused by Gloo', async () => {
  const outs = (await threeRanks()).map((e) => printed(e).env);
  for (const o of outs) {
    assert.deepEqual(o.avg, [3, -1]); // ([1, 0] + [3, -1] + [5, -2]) / 3
    assert.deepEqual(o.min, [3]);
    assert.match(o.reduceScatter, /reduceScatter is not supported by the Gloo backend/);
  }
  // Rank 0 waited about 800 ms for rank 1 inside one allReduce; a 20 ms timer kept firing.
  assert.ok(outs[0].ticks >= 10, `rank 0's timers fired ${outs[0].ticks} times during the wait`);
});

test('killing 1 of 3 ranks mid-training: the others exit non-zero naming the rank and collective, within the timeout', async () => {
  const exits = await threeRanks();
  assert.equal(exits[1].signal, 'SIGKILL');
  for (const r of [0, 2]) {
    const e = exits[r];
    assert.equal(e.code, 1, `rank ${r}: ${e.stderr}`);
    const lines = e.stderr.trim().split('\n');
    assert.equal(lines.length, 1, e.stderr);
    assert.match(
      lines[0],
      new RegExp(
        `^genlab: backward: allReduce of gradient bucket \\d+ failed on rank ${r} of 3: rank 1 is gone or hung \\(.+\\)$`,
      ),
    );
    // From rank 1's death (the ranks started together, so exit times compare) to this rank's exit.
    const latency = e.ms - exits[1].ms;
    assert.ok(latency < KILL_TIMEOUT_MS, `rank ${r} exited ${latency} ms after rank 1 died`);
    console.log(`rank ${r} exited ${latency} ms after rank 1 died: ${lines[0]}`);
  }
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

test('PyTorch interop: a genlab rank and a Python rank in one group, hosted by genlab, then by Python', async (t) => {
  const missing = torchMissing();
  if (missing) return t.skip(missing);
  // Round 1 on port a: genlab is rank 0 and hosts the TCPStore; round 2 on port b: Python does.
  const [a, b] = await freePorts(2);
  const spec = (port: number, rank: number) => [`tcp://127.0.0.1:${port}`, String(rank), '2'];
  const env = { ...process.env, OMP_NUM_THREADS: '1' };
  const [p, g] = await Promise.all([
    finish(pythonRank(env, 30, [...spec(a, 1), ...spec(b, 0)])),
    finish(genlabRank('collectives', [...spec(a, 0), ...spec(b, 1)], env)),
  ]);
  const [py, gl] = [json(p), json(g)];
  check(gl[0], 0, 2);
  check(py[0], 1, 2);
  check(py[1], 0, 2);
  check(gl[1], 1, 2);
});
