// `genlab diffusion train|sample|eval` end to end, on tiny models so each run takes seconds.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readPng } from '../../src/train/png.js';
import { assertResumeMatches, genlab, results } from '../cli/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'genlab-vdm-'));
const tiny = ['--width', '8', '--depth', '1', '--batch-size', '16', '--sample-steps', '4', '--time-samples', '1'];

test('train on digits writes the run folder; sample and eval read it back', () => {
  const run = join(tmp, 'digits');
  const r = genlab(['diffusion', 'train', '--steps', '6', '--out', run, '--threads', '1', '--json', ...tiny]);
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  // A 6-step model is still near ε̂ = 0, whose VLB is ½·18.3·D nats, about 13 bits/dim.
  assert.ok(summary.testBpd > 1 && summary.testBpd < 20, `test bits/dim ${summary.testBpd}`);
  for (const f of ['config.json', 'log.jsonl', 'checkpoint.safetensors', 'state.json', 'loss.svg', 'samples.png']) {
    assert.ok(existsSync(join(run, f)), `${f} is missing`);
  }
  assert.equal(JSON.parse(readFileSync(join(run, 'results.json'), 'utf8')).testBpd, summary.testBpd);
  assert.equal(readPng(join(run, 'samples.png')).channels, 1);

  const s = genlab(['diffusion', 'sample', run, '--n', '9', '--steps', '3', '--sampler', 'ddim', '--json']);
  assert.equal(s.status, 0, s.stderr);
  const png = readPng(JSON.parse(s.stdout).file);
  assert.ok(png.width > 8 * 3 && png.height > 8 * 3, `${png.width}×${png.height}`);

  const e = genlab(['diffusion', 'eval', run, '--time-samples', '2', '--fid-samples', '0', '--json']);
  assert.equal(e.status, 0, e.stderr);
  const ev = JSON.parse(e.stdout);
  assert.equal(ev.images, 360);
  assert.equal(ev.timeSamples, 2);
  assert.ok(Math.abs(ev.bpd - (ev.recon + ev.prior + ev.diff)) < 1e-5 * ev.bpd, 'bits/dim is the sum of its parts');
});

test('train on a 2-D toy writes a scatter plot of samples; a bad option is a one-line error', () => {
  const run = join(tmp, 'swirl');
  const r = genlab(['diffusion', 'train', '--data', 'swirl', '--steps', '5', '--out', run, '--quiet', ...tiny]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(readFileSync(join(run, 'samples.svg'), 'utf8'), /<svg/);
  const bad = genlab(['diffusion', 'train', '--schedule', 'wavy']);
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr, "genlab: --schedule must be one of fixed, cosine, scalar, net, got 'wavy'\n");
  // Negative values need no '=': both reach the check that compares them.
  const negative = genlab(['diffusion', 'train', '--gamma-min', '-7.8', '--gamma-max', '-8']);
  assert.equal(negative.status, 2);
  assert.equal(negative.stderr, 'genlab: --gamma-max must exceed --gamma-min\n');
});

test('SIGINT then --resume ends bit-identical to an uninterrupted run (learned schedule, variance objective, channels-last)', async () => {
  const args = ['diffusion', 'train', '--steps', '60', '--seed', '3', '--threads', '1', ...tiny];
  args.push('--schedule', 'net', '--objective', 'variance', '--eval-every', '20', '--memory-format', 'channelsLast');
  const [whole, cut] = [join(tmp, 'whole'), join(tmp, 'cut')];
  await assertResumeMatches(args, whole, cut);
  assert.equal(results(cut).testBpd, results(whole).testBpd);
});
