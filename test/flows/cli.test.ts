// genlab flows train|eval|sample|interpolate|manipulate on a tiny Glow over the digits.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { flows } from '../../src/cli/flows.js';
import { assertResumeMatchesInProcess, captureStdout, genlab, results } from '../cli/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'genlab-flows-cli-'));
const tiny = [
  '--data',
  'digits',
  '--lr',
  '5e-3',
  '--depth',
  '1',
  '--hidden',
  '8',
  '--batch-size',
  '32',
  '--init-batch',
  '64',
];

/** Runs a verb in this process; the synchronous verbs' stdout is captured and returned. */
const run = (verb: string, args: string[]) => captureStdout(() => flows.verbs[verb].run(args));

function pngSize(file: string): { width: number; height: number } {
  const b = readFileSync(file);
  assert.equal(b.toString('latin1', 1, 4), 'PNG');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

test('train, then eval reloads the checkpoint to the same bits/dim; sample/interpolate/manipulate write PNGs', async () => {
  const dir = join(tmp, 'glow');
  await run('train', [...tiny, '--steps', '20', '--out', dir, '--quiet']);
  const summary = results(dir);
  assert.equal(summary.steps, 20);
  assert.equal(summary.bins, 17);
  assert.ok(summary.testBitsPerDim > 1 && summary.testBitsPerDim < 4.5, `${summary.testBitsPerDim}`);
  assert.ok(existsSync(join(dir, 'samples.png')));

  const evaluated = JSON.parse(await run('eval', [dir, '--json']));
  assert.equal(evaluated.bitsPerDim, summary.testBitsPerDim, 'the same likelihood after reloading');
  assert.equal(evaluated.n, 360);

  const sample = JSON.parse(await run('sample', [dir, '--temperatures', '0,0.7,1', '--n', '5', '--json']));
  // 5 columns × 3 rows of 8×8 digits upscaled 8× with 2-pixel padding.
  assert.deepEqual(pngSize(sample.file), { width: 5 * 66 + 2, height: 3 * 66 + 2 });
  const strip = JSON.parse(await run('interpolate', [dir, '--pairs', '2', '--steps', '6', '--json']));
  assert.deepEqual(pngSize(strip.file), { width: 6 * 66 + 2, height: 2 * 66 + 2 });
  const moved = JSON.parse(await run('manipulate', [dir, '--from', '3', '--to', '8', '--n', '2', '--json']));
  assert.deepEqual(pngSize(moved.file), { width: 7 * 66 + 2, height: 2 * 66 + 2 });
  assert.deepEqual([moved.from, moved.to], [3, 8]);
});

test('SIGINT saves a checkpoint and --resume ends bit-identical to an uninterrupted run', async () => {
  const args = [...tiny, '--steps', '30', '--seed', '3', '--quiet'];
  const [whole, cut] = [join(tmp, 'whole'), join(tmp, 'cut')];
  await assertResumeMatchesInProcess((a) => run('train', a), args, whole, cut);
  assert.equal(process.exitCode, 130, 'the interrupted run exits with 130');
  process.exitCode = 0;
  assert.equal(results(cut).testBitsPerDim, results(whole).testBitsPerDim);
});

test('bad options give a one-line error and exit code 2', () => {
  const r = genlab(['flows', 'train', '--coupling', 'spline']);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /^genlab: --coupling must be one of affine, additive, got 'spline'/);
});
