import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { torch } from '../../src/index.js';
import { GenlabError } from '../../src/torch/errors.js';
import { trainLoop } from '../../src/train/loop.js';
import { Run } from '../../src/train/run.js';

function newRun(): Run {
  return Run.open(join(mkdtempSync(join(tmpdir(), 'genlab-loop-')), 'run'), { test: true }, { notify: () => {} });
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

test('a config whose steps were cut below the checkpoint is refused, naming the field', async () => {
  const run = newRun();
  await assert.rejects(
    trainLoop({
      run,
      steps: 100,
      startStep: 187,
      quiet: true,
      step: () => assert.fail('no step runs'),
      checkpoint: (s) => ({ tensors: {}, state: { step: s } }),
    }),
    (e: unknown) => {
      assert.ok(e instanceof GenlabError);
      assert.equal(e.kind, 'config');
      assert.match(
        e.messageWith((s) => `--${s}`),
        /config\.json: 'steps' is 100, but the run's checkpoint is already at step 187; set --steps to 187 or more/,
      );
      return true;
    },
  );
  assert.equal(run.training, false);
});

test('a signal finishes the step, saves, and the message spells the resume setting as asked', async () => {
  const run = newRun();
  const lines: string[] = [];
  const stream = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
  let during = false;
  const result = await trainLoop({
    run,
    steps: 50,
    checkpointEvery: 100,
    spell: (s) => `--${s}`,
    progressStream: stream,
    step: (s) => {
      during = run.training;
      if (s === 3) process.emit('SIGINT');
      return { loss: 1 };
    },
    checkpoint: (s) => ({ tensors: {}, state: { step: s } }),
  });
  assert.equal(during, true, 'the run is marked as training inside the loop');
  assert.equal(run.training, false);
  assert.deepEqual([result.stoppedBy, result.step], ['signal', 3]);
  assert.equal(run.loadCheckpoint().state.step, 3);
  assert.match(lines.join(''), /stopped by SIGINT at step 3; continue it with --resume/);
});
