// The bayes family's three experiments on tiny digits budgets, through the family's functions;
// the command line in a child process at the end.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  bayesConfig,
  type ConvergenceResult,
  evaluateSparseRun,
  klWeight,
  type SparseResult,
  sweepSizes,
  trainConvergenceRun,
  trainSparseRun,
  trainVarianceRun,
  type VarianceResult,
} from '../../src/bayes/index.js';
import { isInterrupted } from '../../src/train/session.js';
import { assertResumeMatchesInProcess, genlab, results } from '../cli/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'genlab-bayes-'));

function pngSize(file: string): { width: number; height: number } {
  const b = readFileSync(file);
  assert.equal(b.toString('latin1', 1, 4), 'PNG');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

test('convergence: four variants on the same batches, test errors, time per step and curves', async () => {
  const dir = join(tmp, 'conv');
  const cfg = bayesConfig('convergence', 'digits', { steps: 40, batchSize: 32 });
  const r = (await trainConvergenceRun(cfg, dir, { quiet: true })) as ConvergenceResult;
  assert.deepEqual(results(dir), JSON.parse(JSON.stringify(r)));
  assert.deepEqual(
    r.rows.map((x) => x.variant),
    ['plain', 'wn-init', 'wn-mobn', 'bn'],
  );
  for (const x of r.rows) {
    assert.ok(x.msPerStep > 0 && Number.isFinite(x.loss), JSON.stringify(x));
    // 40 steps of 32 digits: every variant learns something (chance is 90% error).
    assert.ok(x.testError < 0.6, `${x.variant}: test error ${x.testError}`);
  }
  assert.ok(existsSync(join(dir, 'loss.svg')) && existsSync(join(dir, 'test-error.svg')));
});

test('convergence: an interrupted run resumes bit-identically (the data-dependent init runs once)', async () => {
  const cfg = bayesConfig('convergence', 'digits', { steps: 30, batchSize: 16, seed: 2 });
  const [whole, cut] = [join(tmp, 'conv-whole'), join(tmp, 'conv-cut')];
  const stopped = await assertResumeMatchesInProcess(
    (dir, resume) => trainConvergenceRun(cfg, dir, { quiet: true, resume }),
    whole,
    cut,
  );
  assert.ok(isInterrupted(stopped));
  assert.deepEqual(
    results(cut).rows.map((x: { testError: number }) => x.testError),
    results(whole).rows.map((x: { testError: number }) => x.testError),
  );
});

test('variance: five estimators, early and late, and the sweep over minibatch sizes', async () => {
  const dir = join(tmp, 'var');
  const cfg = bayesConfig('variance', 'digits', { steps: 6, earlyStep: 3, repeats: 4, hidden: 16, batchSize: 50 });
  const r = (await trainVarianceRun(cfg, dir, { quiet: true })) as VarianceResult;
  assert.equal(r.rows.length, 5);
  for (const row of r.rows) {
    for (const v of [row.top.early, row.top.late, row.bottom.early, row.bottom.late]) {
      assert.ok(v > 0 && Number.isFinite(v), `${row.estimator}: ${v}`);
    }
  }
  assert.deepEqual(sweepSizes(1437), [10, 32, 100, 316, 1000]);
  assert.equal(r.bySize.length, 5 * 5);
  // The early numbers were written when the run passed step 3, and read back at the end.
  const early = JSON.parse(readFileSync(join(dir, 'variance-early.json'), 'utf8'));
  assert.equal(early[0].top, r.rows[0].top.early);
  assert.ok(existsSync(join(dir, 'variance-top.svg')) && existsSync(join(dir, 'variance-bottom.svg')));
});

test('sparse: prune at the end; reloading the run and pruning again gives the same error and compression', async () => {
  const dir = join(tmp, 'sparse');
  const cfg = bayesConfig('sparse', 'digits', { steps: 30, klWarmup: 10 });
  const r = (await trainSparseRun(cfg, dir, { quiet: true })) as SparseResult;
  assert.deepEqual(
    r.layers.map((l) => l.layer),
    ['1', '3', '5', 'total'],
  );
  assert.equal(r.layers[3].weights, 64 * 300 + 300 * 100 + 100 * 10);
  const again = evaluateSparseRun(dir);
  assert.equal(again.testError, r.testError);
  assert.equal(again.compression, r.compression);
  // A stricter threshold keeps at most as many weights.
  assert.ok(evaluateSparseRun(dir, { threshold: -2 }).layers[3].kept <= again.layers[3].kept);
  // 100 hidden units' 8×8 weights, 4× upscaled, 10 per row with 2-pixel padding.
  assert.deepEqual(pngSize(join(dir, r.pictures[0])), { width: 10 * 34 + 2, height: 10 * 34 + 2 });
  assert.equal(klWeight(5, 10), 0.5);
  assert.equal(klWeight(50, 10), 1);
  assert.equal(klWeight(0, 0), 1);
});

test('the command line: bad settings are one-line usage errors; prune --json prints its result', () => {
  const bad = genlab(['bayes', 'sparse', '--threshold', '9']);
  assert.equal(bad.status, 2, bad.stderr);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  assert.match(bad.stderr, /--threshold/);
  assert.throws(
    () => bayesConfig('variance', 'digits', { steps: 5, earlyStep: 9 }),
    /'earlyStep' \(9\) must not exceed 'steps' \(5\)/,
  );
  assert.throws(() => evaluateSparseRun(join(tmp, 'conv')), /a bayes convergence run, not a sparse one/);
  const p = genlab(['bayes', 'prune', join(tmp, 'sparse'), '--json']);
  assert.equal(p.status, 0, p.stderr);
  assert.equal(JSON.parse(p.stdout).testError, results(join(tmp, 'sparse')).testError);
});
