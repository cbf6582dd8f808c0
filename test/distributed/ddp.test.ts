// DistributedDataParallel: 2 ranks with batch B train as 1 rank with batch 2B (float32, 1e-6), with
// and without noSync accumulation; a shape mismatch is refused at start. (A rank killed mid-training:
// collectives.test.ts.)
// The two equivalence runs and the shape check share one pair of ranks (worker.ts `mlp`); the
// 1-rank reference runs in this process, without a process group.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setNumThreads } from '../../src/torch/runtime.js';
import { type Exit, json, ranks } from './helpers.js';
import { type MlpRun, trainMlp } from './mlp.js';

setNumThreads(1); // the reference runs here, as the ranks do, on one thread

const STEPS = 50;
const B = 16;

let pair: Promise<Exit[]> | undefined;
const twoRanks = async (): Promise<{ runs: MlpRun[]; shapeError: string }[]> => {
  pair ??= ranks(2, 'mlp', [String(STEPS), String(B)]);
  return (await pair).map(json);
};
let reference: Promise<MlpRun> | undefined;

function maxDiff(a: number[][], b: number[][]): number {
  let m = 0;
  for (const [i, p] of a.entries()) for (const [j, v] of p.entries()) m = Math.max(m, Math.abs(v - b[i][j]));
  return m;
}

for (const [k, accum] of [1, 2].entries()) {
  test(`2 ranks × batch ${B}${accum > 1 ? ` (2 micro-batches, noSync)` : ''} end where 1 rank × batch ${2 * B} ends after ${STEPS} steps`, async () => {
    const ranksDone = twoRanks();
    reference ??= trainMlp(STEPS, 2 * B, 1);
    const ref = await reference;
    const [r0, r1] = (await ranksDone).map((o) => o.runs[k]);
    assert.ok(r0.buckets > 1, `${r0.buckets} bucket(s): the test wants several in flight`);
    assert.equal(r0.reductions, STEPS); // one averaged backward per step; noSync passes are not reduced
    // Every bucket was launched by a gradient hook during backward (overlapping the layers below), none at its end.
    assert.equal(r0.launchedInBackward, r0.buckets * STEPS);
    const diff = maxDiff(r0.params, ref.params);
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
  for (const [r, o] of (await twoRanks()).entries()) {
    const other = 1 - r;
    assert.match(
      o.shapeError,
      new RegExp(
        `^DistributedDataParallel: parameter 0\\.weight has shape \\[${other === 1 ? 5 : 4}, 3\\] on rank ${other} but \\[${r === 1 ? 5 : 4}, 3\\] on rank ${r}; every rank must build the same model$`,
      ),
    );
  }
});
