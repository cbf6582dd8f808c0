// The Glow experiment (train, eval, sample, interpolate, manipulate) on a tiny Glow over the digits,
// through the family's functions; the command line is tested in a child process at the end.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  evaluateFlowsRun,
  type FlowsTrainResult,
  flowsConfig,
  interpolateFlowsRun,
  loadFlowsRun,
  manipulateFlowsRun,
  parseFlowsConfig,
  sampleFlowsRun,
  trainFlowsRun,
} from '../../src/flows/experiment.js';
import { isInterrupted } from '../../src/train/session.js';
import { assertResumeMatchesInProcess, genlab, results } from '../cli/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'genlab-flows-'));
const tiny = (steps: number, seed = 0) =>
  flowsConfig('digits', { lr: 5e-3, depth: 1, hidden: 8, batchSize: 32, initBatch: 64, steps, seed });

function pngSize(file: string): { width: number; height: number } {
  const b = readFileSync(file);
  assert.equal(b.toString('latin1', 1, 4), 'PNG');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

test('train, then eval reloads the checkpoint to the same bits/dim; sample/interpolate/manipulate write PNGs', async () => {
  const dir = join(tmp, 'glow');
  const summary = (await trainFlowsRun(tiny(20), dir, { quiet: true })) as FlowsTrainResult;
  assert.deepEqual(results(dir), JSON.parse(JSON.stringify(summary)), 'results.json holds what train returned');
  assert.equal(summary.steps, 20);
  assert.equal(summary.bins, 17);
  assert.ok(summary.testBitsPerDim > 1 && summary.testBitsPerDim < 4.5, `${summary.testBitsPerDim}`);
  assert.ok(existsSync(join(dir, 'samples.png')));

  const r = loadFlowsRun(dir);
  const evaluated = evaluateFlowsRun(r);
  assert.equal(evaluated.bitsPerDim, summary.testBitsPerDim, 'the same likelihood after reloading');
  assert.equal(evaluated.n, 360);

  const sample = sampleFlowsRun(r, { file: join(dir, 's.png'), temperatures: [0, 0.7, 1], n: 5 });
  // 5 columns × 3 rows of 8×8 digits upscaled 8× with 2-pixel padding.
  assert.deepEqual(pngSize(sample.file), { width: 5 * 66 + 2, height: 3 * 66 + 2 });
  const strip = interpolateFlowsRun(r, { file: join(dir, 'i.png'), pairs: 2, steps: 6 });
  assert.deepEqual(pngSize(strip.file), { width: 6 * 66 + 2, height: 2 * 66 + 2 });
  assert.equal(new Set(strip.indices).size, 4, 'distinct test images');
  const moved = manipulateFlowsRun(r, { file: join(dir, 'm.png'), from: 3, to: 8, n: 2 });
  assert.deepEqual(pngSize(moved.file), { width: 7 * 66 + 2, height: 2 * 66 + 2 });
  assert.deepEqual([moved.from, moved.to], [3, 8]);
});

test('new runs lay activations out channels-last; a config from before the field loads as row-major', () => {
  assert.equal(tiny(1).memoryFormat, 'channelsLast');
  const { memoryFormat: _dropped, ...older } = tiny(1);
  assert.equal(parseFlowsConfig(older, 'config.json').memoryFormat, 'contiguous');
  assert.throws(() => parseFlowsConfig({ ...older, memoryFormat: 'nhwc' }, 'config.json'), /memoryFormat/);
});

test('an interrupted run resumes bit-identically to an uninterrupted one', async () => {
  const [whole, cut] = [join(tmp, 'whole'), join(tmp, 'cut')];
  const stopped = await assertResumeMatchesInProcess(
    (dir, resume) => trainFlowsRun(tiny(30, 3), dir, { quiet: true, resume }),
    whole,
    cut,
  );
  assert.ok(isInterrupted(stopped), 'the interrupted call says so');
  assert.equal(results(cut).testBitsPerDim, results(whole).testBitsPerDim);
});

test('the command line: a bad option is a one-line usage error; eval --json prints the result', () => {
  const r = genlab(['flows', 'train', '--coupling', 'spline']);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr, "genlab: --coupling must be one of affine, additive, got 'spline'\n");
  const e = genlab(['flows', 'eval', join(tmp, 'glow'), '--limit', '50', '--json']);
  assert.equal(e.status, 0, e.stderr);
  const ev = JSON.parse(e.stdout);
  assert.equal(ev.n, 50);
  assert.equal(ev.split, 'test');
  const bad = genlab(['flows', 'sample', join(tmp, 'glow'), '--class', '3']);
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /class-conditional run; train with --conditional/);
});
