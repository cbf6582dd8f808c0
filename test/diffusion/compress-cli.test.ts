// `genlab diffusion compress|decompress` end to end in child processes, on a tiny trained run.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pngFilesIn, pngImages, splitImages } from '../../src/diffusion/compress.js';
import { trainVdmRun, vdmConfig } from '../../src/diffusion/experiment.js';
import { genlab } from '../cli/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'genlab-compress-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const run = join(tmp, 'run');

before(async () => {
  const cfg = vdmConfig('digits', { width: 8, depth: 1, batchSize: 16, sampleSteps: 2, evalTimeSamples: 1, steps: 6 });
  await trainVdmRun(cfg, run, { quiet: true });
});

test('compress a split, decompress to PNG files, compress those: the same images and the same file', () => {
  const file = join(tmp, 'digits.glz');
  const opts = ['--timesteps', '3', '--batch', '4', '--threads', '1', '--json'];
  const c = genlab(['diffusion', 'compress', run, '--data', 'digits', '--n', '12', '--out', file, ...opts]);
  assert.equal(c.status, 0, c.stderr);
  const cr = JSON.parse(c.stdout);
  assert.equal(cr.header.count, 12);
  assert.ok(cr.imagesPerSecond > 0 && cr.netBpd > 0);

  const folder = join(tmp, 'out');
  const d = genlab(['diffusion', 'decompress', run, file, '--out', folder, '--json']);
  assert.equal(d.status, 0, d.stderr);
  const dr = JSON.parse(d.stdout);
  assert.equal(dr.files, 12);
  assert.equal(dr.digest, cr.digest);
  // The PNG files hold exactly the data set's images.
  const want = splitImages('digits', { split: 'test', n: 12, levels: 17 });
  assert.deepEqual(pngImages(pngFilesIn(folder), [1, 8, 8], 17).levels, want.levels);

  // Compressing the PNG files gives the same file byte for byte: coding is deterministic.
  const again = join(tmp, 'again.glz');
  const p = genlab(['diffusion', 'compress', run, '--pngs', folder, '--out', again, ...opts]);
  assert.equal(p.status, 0, p.stderr);
  assert.deepEqual(readFileSync(again), readFileSync(file));

  // A damaged file is a one-line error with exit code 1, and nothing is written.
  const bytes = readFileSync(file);
  writeFileSync(join(tmp, 'cut.glz'), bytes.subarray(0, bytes.length - 9));
  const bad = genlab(['diffusion', 'decompress', run, join(tmp, 'cut.glz'), '--out', join(tmp, 'bad')]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /truncated/);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
});
