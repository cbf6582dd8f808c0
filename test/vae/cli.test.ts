// The `genlab vae` verbs, run in-process through the functions behind them (no child start-up cost).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CliError, parse } from '../../src/cli/args.js';
import { evalCommand, evalOptions, trainCommand, trainOptions } from '../../src/cli/vae.js';
import { assertResumeMatchesInProcess } from '../cli/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'genlab-vae-'));
const train = (args: string[]) => trainCommand(parse([...args, '--quiet'], trainOptions));

test('vae train --model ivae on a small ICA set reports MCC and diagnostics; eval reproduces them', async () => {
  const out = join(tmp, 'ivae');
  const r = await train([
    ...['--model', 'ivae', '--data', 'ica', '--segments', '4', '--per-segment', '100'],
    ...['--steps', '40', '--hidden', '16', '--batch-size', '32', '--out', out],
  ]);
  assert.ok(r);
  const res = r.result as { mcc: number; collapse: { latentDim: number; nll: number; mutualInfo: number } };
  assert.ok(res.mcc > 0 && res.mcc <= 1, `mcc ${res.mcc}`);
  assert.equal(res.collapse.latentDim, 5);
  assert.ok(Number.isFinite(res.collapse.nll) && Number.isFinite(res.collapse.mutualInfo));
  assert.match(r.lines[0], /^MCC 0\.\d{4} \(Spearman/);
  // What --json prints is one line of JSON.
  assert.equal(JSON.stringify(r.result).includes('\n'), false);
  for (const f of ['config.json', 'checkpoint.safetensors', 'log.jsonl', 'results.json', 'loss.svg']) {
    assert.ok(existsSync(join(out, f)), `${f} missing`);
  }
  const ev = evalCommand(parse([out], evalOptions)).result as typeof res;
  assert.equal(ev.mcc, res.mcc);
  assert.equal(ev.collapse.nll, res.collapse.nll, 'a fixed Monte Carlo seed makes evaluations repeatable');
});

test('vae train --model lidvae on digits writes sample grids and its config', async () => {
  const out = join(tmp, 'lid');
  const r = await train([
    ...['--model', 'lidvae', '--data', 'digits', '--steps', '6', '--latent', '3', '--hidden', '16'],
    ...['--icnn-hidden', '8,8', '--eval-n', '40', '--k', '4', '--out', out],
  ]);
  assert.match(r!.lines[0], /active units \d+\/3/);
  assert.ok(existsSync(join(out, 'samples.png')) && existsSync(join(out, 'reconstructions.png')));
  const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(cfg.likelihood, 'bernoulli');
  assert.deepEqual(cfg.brenier, { hidden1: 8, hidden2: 8 });
});

test('bad options are usage errors (exit code 2) with a readable message', async () => {
  const usage = async (args: string[], pattern: RegExp) => {
    await assert.rejects(train(args), (e: unknown) => {
      assert.ok(e instanceof CliError && e.exitCode === 2, String(e));
      assert.match((e as Error).message, pattern);
      return true;
    });
  };
  await usage(['--model', 'nope'], /--model must be one of vae, beta-vae, ivae, lidvae/);
  await usage(['--data', 'ppca', '--likelihood', 'bernoulli'], /needs image data/);
  await usage(['--hidden', '16,x'], /--hidden must be comma-separated/);
  await usage(['--variance=-1'], /--variance must be > 0/);
});

test('an interrupted run resumes bit-identically (loader, annealing, binarisation and sampling RNG)', async () => {
  for (const args of [
    ['--model', 'ivae', '--data', 'ica', '--segments', '4', '--per-segment', '50', '--hidden', '8', '--k', '2'],
    ['--model', 'vae', '--data', 'digits', '--latent', '3', '--hidden', '8', '--eval-n', '20', '--k', '2'],
  ]) {
    const common = [...args, '--steps', '30', '--batch-size', '16'];
    const [whole, cut] = [join(tmp, `whole-${args[1]}`), join(tmp, `cut-${args[1]}`)];
    // Interrupted as soon as the first checkpoint (step 3) is on disk, as Ctrl-C would.
    const stopped = await assertResumeMatchesInProcess(train, common, whole, cut);
    assert.equal(stopped, null, 'the interrupted run reports nothing');
  }
});
