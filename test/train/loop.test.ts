import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { torch } from '../../src/index.js';
import { trainLoop } from '../../src/train/loop.js';
import { Run } from '../../src/train/run.js';

function newRun(): Run {
  return Run.open(join(mkdtempSync(join(tmpdir(), 'genlab-loop-')), 'run'), { test: true });
}

test('a NaN loss stops the run with a clear message and keeps the last good checkpoint', async () => {
  const run = newRun();
  const w = torch.tensor([1]).keep();
  await assert.rejects(
    trainLoop({
      run,
      steps: 10,
      quiet: true,
      checkpointEvery: 2,
      step: (s) => {
        w.add_(1);
        return { loss: s === 5 ? Number.NaN : 1 / s };
      },
      checkpoint: (s) => ({ tensors: { w }, state: { step: s } }),
    }),
    /loss is NaN at step 5; stopped, and the last good checkpoint \(step 4\) is kept in/,
  );
  const ckpt = run.loadCheckpoint();
  assert.equal(ckpt.state.step, 4);
  assert.deepEqual(ckpt.tensors.w.toArray(), [5], 'the checkpoint holds the state after step 4');
  const logged = run.readLog().map((e) => e.step);
  assert.ok(!logged.includes(5), 'the bad step is not logged');
});

test('checkpoints, logs and resume positions', async () => {
  const run = newRun();
  const seen: number[] = [];
  const result = await trainLoop({
    run,
    steps: 7,
    quiet: true,
    checkpointEvery: 3,
    logEvery: 1,
    step: (s) => {
      seen.push(s);
      return { loss: 10 - s };
    },
    checkpoint: (s) => ({ tensors: {}, state: { step: s } }),
  });
  assert.equal(result.stoppedBy, 'done');
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7]);
  assert.equal(run.loadCheckpoint().state.step, 7, 'the last step is always saved');
  assert.deepEqual(
    run.readLog().map((e) => e.loss),
    [9, 8, 7, 6, 5, 4, 3],
  );
  // A resumed run starts after its checkpoint and the log loses lines written after it.
  run.truncateLog(3);
  const later: number[] = [];
  await trainLoop({
    run,
    steps: 5,
    startStep: 3,
    quiet: true,
    logEvery: 1,
    step: (s) => {
      later.push(s);
      return { loss: s };
    },
    checkpoint: (s) => ({ tensors: {}, state: { step: s } }),
  });
  assert.deepEqual(later, [4, 5]);
  assert.deepEqual(
    run.readLog().map((e) => e.step),
    [1, 2, 3, 4, 5],
  );
});

test('checkpoint and state.json that disagree are refused', () => {
  const run = newRun();
  run.saveCheckpoint({ tensors: { a: torch.ones([1]) }, state: { step: 3 } });
  const state = JSON.parse(readFileSync(run.path('state.json'), 'utf8'));
  state.step = 9;
  writeFileSync(run.path('state.json'), JSON.stringify(state));
  assert.throws(() => run.loadCheckpoint(), /checkpoint \(step 3\) and state\.json \(step 9\) disagree/);
});

test('a new run refuses a folder that holds one', () => {
  const run = newRun();
  run.saveCheckpoint({ tensors: {}, state: { step: 1 } });
  assert.throws(() => Run.open(run.dir, {}), /already holds a run; pass --resume/);
});
