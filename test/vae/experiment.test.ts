// The VAE experiment (train, eval, resume) through the family's functions, on small data.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { GenlabError } from '../../src/torch/errors.js';
import { isInterrupted } from '../../src/train/session.js';
import {
  evaluateVaeRun,
  trainVaeRun,
  type VaeSettings,
  type VaeTrainResult,
  vaeConfig,
} from '../../src/vae/experiment.js';
import type { ModelKind } from '../../src/vae/model.js';
import { assertResumeMatchesInProcess, genlab } from '../cli/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'genlab-vae-'));

async function train(model: ModelKind, data: 'ica' | 'digits', s: VaeSettings, dir: string): Promise<VaeTrainResult> {
  const r = await trainVaeRun(vaeConfig(model, data, s), dir, { quiet: true });
  assert.ok(!isInterrupted(r));
  return r;
}

test('iVAE on a small ICA set reports MCC and diagnostics; eval reproduces them', async () => {
  const out = join(tmp, 'ivae');
  const r = await train(
    'ivae',
    'ica',
    { ica: { segments: 4, perSegment: 100 }, steps: 40, hidden: [16], batchSize: 32 },
    out,
  );
  assert.ok(r.mcc !== undefined && r.mcc > 0 && r.mcc <= 1, `mcc ${r.mcc}`);
  assert.equal(r.collapse.latentDim, 5);
  assert.ok(Number.isFinite(r.collapse.nll) && Number.isFinite(r.collapse.mutualInfo));
  for (const f of ['config.json', 'checkpoint.safetensors', 'log.jsonl', 'results.json', 'loss.svg']) {
    assert.ok(existsSync(join(out, f)), `${f} missing`);
  }
  const ev = evaluateVaeRun(out);
  assert.equal(ev.mcc, r.mcc);
  assert.equal(ev.collapse.nll, r.collapse.nll, 'a fixed Monte Carlo seed makes evaluations repeatable');
});

test('the latent-identifiable VAE on digits writes sample grids and its config', async () => {
  const out = join(tmp, 'lid');
  const s = { steps: 6, latent: 3, hidden: [16], icnnHidden: [8, 8], evalN: 40, k: 4 };
  const r = await train('lidvae', 'digits', s, out);
  assert.equal(r.collapse.latentDim, 3);
  assert.ok(existsSync(join(out, 'samples.png')) && existsSync(join(out, 'reconstructions.png')));
  const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(cfg.likelihood, 'bernoulli');
  assert.deepEqual(cfg.brenier, { hidden1: 8, hidden2: 8 });
});

test('inconsistent settings are refused, naming the setting', () => {
  assert.throws(
    () => vaeConfig('vae', 'ppca', { likelihood: 'bernoulli' }),
    (e: unknown) =>
      e instanceof GenlabError &&
      e.kind === 'usage' &&
      /needs image data; ppca is real-valued; choose another 'likelihood'$/.test(e.message),
  );
  const cli = genlab(['vae', 'train', '--data', 'ppca', '--likelihood', 'bernoulli']);
  assert.equal(cli.status, 2);
  assert.match(cli.stderr, /is real-valued; choose another --likelihood\n$/);
  for (const [args, pattern] of [
    [['--model', 'nope'], /--model must be one of vae, beta-vae, ivae, lidvae/],
    [['--hidden', '16,x'], /--hidden must be an integer/],
    [['--variance=-1'], /variance must be > 0 or 'learned'/],
  ] as const) {
    const r = genlab(['vae', 'train', ...args]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, pattern);
  }
});

test('an interrupted run resumes bit-identically (loader, annealing, binarisation and sampling RNG)', async () => {
  const cases: [ModelKind, 'ica' | 'digits', VaeSettings][] = [
    ['ivae', 'ica', { ica: { segments: 4, perSegment: 50 }, hidden: [8], k: 2 }],
    ['vae', 'digits', { latent: 3, hidden: [8], evalN: 20, k: 2 }],
  ];
  for (const [model, data, s] of cases) {
    const cfg = vaeConfig(model, data, { ...s, steps: 30, batchSize: 16 });
    const [whole, cut] = [join(tmp, `whole-${model}`), join(tmp, `cut-${model}`)];
    // Interrupted as soon as the first checkpoint (step 3) is on disk, as Ctrl-C would.
    const stopped = await assertResumeMatchesInProcess(
      (dir, resume) => trainVaeRun(cfg, dir, { quiet: true, resume }),
      whole,
      cut,
    );
    assert.ok(isInterrupted(stopped), 'the interrupted run says so');
  }
});
