// DistributedDataParallel and its failures: 2 ranks with batch B train as 1 rank with batch 2B
// (float32, 1e-6), with and without noSync accumulation; a shape mismatch is refused at start; a
// rank killed mid-training makes the others fail with a one-line message within the timeout.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { finish, json, ranks, WORKER } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'genlab-ddp-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const STEPS = 50;
const B = 16;

async function reference(): Promise<{ params: number[][]; losses: number[] }> {
  const file = join(dir, 'one.json');
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: '1' };
  delete env.WORLD_SIZE;
  const e = await finish(
    spawn(process.execPath, ['--import', 'tsx', WORKER, 'mlp', String(STEPS), String(2 * B), '1', file], { env }),
  );
  json(e);
  return JSON.parse(readFileSync(file, 'utf8'));
}

let one: Promise<{ params: number[][]; losses: number[] }> | undefined;

function maxDiff(a: number[][], b: number[][]): number {
  let m = 0;
  for (const [i, p] of a.entries()) for (const [j, v] of p.entries()) m = Math.max(m, Math.abs(v - b[i][j]));
  return m;
}

for (const accum of [1, 2]) {
  test(`2 ranks × batch ${B}${accum > 1 ? ` (2 micro-batches, noSync)` : ''} end where 1 rank × batch ${2 * B} ends after ${STEPS} steps`, async () => {
    one ??= reference();
    const file = join(dir, `two-${accum}.json`);
    const exits = await ranks(2, 'mlp', [String(STEPS), String(B), String(accum), file]);
    const [r0, r1] = exits.map(json);
    assert.ok(r0.buckets > 1, `${r0.buckets} bucket(s): the test wants several in flight`);
    assert.equal(r0.reductions, STEPS); // one averaged backward per step; noSync passes are not reduced
    // Every bucket was launched by a gradient hook during backward (overlapping the layers below), none at its end.
    assert.equal(r0.launchedInBackward, r0.buckets * STEPS);
    const two = JSON.parse(readFileSync(file, 'utf8'));
    const ref = await one;
    const diff = maxDiff(two.params, ref.params);
    assert.ok(diff <= 1e-6, `parameters differ by ${diff}`);
    console.log(`accum ${accum}: largest parameter difference ${diff}`);
    // The training went somewhere: the mean loss over both ranks fell, like the reference's.
    assert.ok(
      ref.losses[STEPS - 1] < 0.8 * ref.losses[0],
      `reference loss ${ref.losses[0]} → ${ref.losses[STEPS - 1]}`,
    );
    const mean = (r0.losses[STEPS - 1] + r1.losses[STEPS - 1]) / 2;
    assert.ok(Math.abs(mean - ref.losses[STEPS - 1]) < 1e-5, `last loss ${mean} vs ${ref.losses[STEPS - 1]}`);
  });
}

test('a parameter shape that differs across ranks is refused at start, naming the rank and parameter', async () => {
  const exits = await ranks(2, 'shape');
  for (const [r, e] of exits.entries()) {
    assert.equal(e.code, 1);
    const other = 1 - r;
    assert.match(
      e.stderr.trim(),
      new RegExp(
        `^genlab: DistributedDataParallel: parameter 0\\.weight has shape \\[${other === 1 ? 5 : 4}, 3\\] on rank ${other} but \\[${r === 1 ? 5 : 4}, 3\\] on rank ${r}; every rank must build the same model$`,
      ),
    );
  }
});

test('killing 1 of 3 ranks mid-training: the others exit non-zero naming the rank and collective, within the timeout', async () => {
  const timeoutMs = 8000;
  const exits = await ranks(3, 'kill', ['1', '20'], { TEST_TIMEOUT_MS: String(timeoutMs) });
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
    assert.ok(latency < timeoutMs, `rank ${r} exited ${latency} ms after rank 1 died`);
    console.log(`rank ${r} exited ${latency} ms after rank 1 died: ${lines[0]}`);
  }
});
