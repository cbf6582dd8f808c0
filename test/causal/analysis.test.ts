// The ICU simulator's known truths, the refuters, the IPM penalties and a small TARNet fit, and the
// `genlab causal` verbs end to end (table, --json, the run folder's plots).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { loadLalonde, truthFromIte } from '../../src/causal/data.js';
import { ESTIMATOR_DEFAULTS, estimatorByName } from '../../src/causal/estimators.js';
import { refute } from '../../src/causal/refute.js';
import { ICU_COVARIATES, simulateIcu } from '../../src/causal/simulate.js';
import { mmd2, tarnetEstimate, wasserstein } from '../../src/causal/tarnet.js';
import { tensor } from '../../src/torch/creation.js';
import { tidy } from '../../src/torch/scope.js';
import { genlab } from '../cli/helpers.js';

const mean = (v: ArrayLike<number>) => Array.from(v).reduce((a, b) => a + b, 0) / v.length;

test('ICU simulator: the population ATE is the effect setting, and severity confounds the naive contrast', () => {
  const big = simulateIcu({ n: 20000, seed: 3 });
  assert.deepEqual(big.covariates, ICU_COVARIATES);
  // τ(x) averages `effect` over the population; its sd is ~6, so the sample mean is within 0.25.
  assert.ok(Math.abs(mean(big.truth!.ite!) - 20) < 0.25, `mean τ ${mean(big.truth!.ite!)}`);
  // The sickest are proned and end with lower P/F: the naive difference is far below the effect.
  const naive = estimatorByName('naive').run(big, ESTIMATOR_DEFAULTS);
  assert.ok(naive.estimate < 0, `naive ${naive.estimate}`);
  // Randomised (confounding 0): the naive difference is unbiased for the ATE.
  const rct = simulateIcu({ n: 20000, seed: 3, confounding: 0 });
  const r = estimatorByName('naive').run(rct, ESTIMATOR_DEFAULTS);
  assert.ok(Math.abs(r.estimate - 20) < 4 * r.se!, `randomised naive ${r.estimate} ± ${r.se}`);
  // Same seed, same cohort.
  assert.deepEqual(simulateIcu({ n: 50, seed: 9 }).y, simulateIcu({ n: 50, seed: 9 }).y);
});

test('refuters: a placebo treatment removes the effect, a random common cause and subsets leave it', () => {
  const d = simulateIcu({ n: 400, seed: 1 });
  const ols = estimatorByName('ols');
  const o = ESTIMATOR_DEFAULTS;
  const original = ols.run(d, o).estimate;
  const placebo = refute(d, ols, o, 'placebo', { runs: 8 });
  assert.ok(Math.abs(placebo.mean) < 4, `placebo ${placebo.mean} (original ${original})`);
  const rcc = refute(d, ols, o, 'random-common-cause', { runs: 8 });
  assert.ok(Math.abs(rcc.mean - original) < 0.5, `random common cause ${rcc.mean} vs ${original}`);
  const sub = refute(d, ols, o, 'subset', { runs: 8, fraction: 0.8 });
  assert.ok(Math.abs(sub.mean - original) < 2 && sub.sd > 0, `subset ${sub.mean} ± ${sub.sd}`);
});

test('IPM penalties: MMD² is 0 between a sample and itself; Sinkhorn Wasserstein of a shifted sample is the shift', () => {
  tidy(() => {
    const pts = Array.from({ length: 40 }, (_, i) => [Math.sin(i) * 2, Math.cos(3 * i)]);
    const a = tensor(pts);
    assert.ok(Math.abs(mmd2(a, a).item()) < 1e-6);
    const b = tensor(pts.map(([x, y]) => [x + 0.5, y]));
    assert.ok(mmd2(a, b).item() > 0.01);
    // Equal-weight samples shifted by 3 along x: the optimal plan is the identity and W₁ = 3;
    // the entropic plan blurs it a little.
    const far = tensor(pts.map(([x, y]) => [x + 3, y]));
    const w = wasserstein(a, far).item();
    assert.ok(w >= 3 - 1e-4 && w < 3.3, `W ${w}`);
  });
});

test('TARNet recovers a heterogeneous effect on simulated data; CFR trains with its penalty', () => {
  const d = simulateIcu({ n: 400, seed: 2, noise: 5 });
  const sample = truthFromIte(d.truth!.ite!, d.t, '').ate!;
  const r = tarnetEstimate(d, 'tarnet', 'ATE', { steps: 400 });
  // The naive contrast is off by more than 40 mmHg here; TARNet lands within 5.
  assert.ok(Math.abs(r.estimate - sample) < 5, `tarnet ${r.estimate} vs ${sample}`);
  assert.equal(r.ite!.length, 400);
  const c = tarnetEstimate(d, 'cfr-mmd', 'ATE', { steps: 100 });
  assert.ok(Number.isFinite(c.estimate) && c.ite!.every(Number.isFinite));
});

test('genlab causal estimate on LaLonde: --json, the table, the plots in the run folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'causal-cli-'));
  const run = join(dir, 'run');
  const args = [
    'causal',
    'estimate',
    '--data',
    'lalonde',
    '--estimators',
    'naive,ols,match,ipw-norm',
    '--bootstrap',
    '5',
  ];
  const r = genlab([...args, '--out', run, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.estimand, 'ATT');
  assert.deepEqual(
    out.rows.map((x: { estimator: string }) => x.estimator),
    ['naive', 'ols', 'match', 'ipw-norm'],
  );
  // The naive row is the difference of the groups' mean 1978 earnings.
  const d = loadLalonde();
  const m = (arm: number) => mean(Array.from(d.y).filter((_, i) => d.t[i] === arm));
  assert.ok(Math.abs(out.rows[0].estimate - (m(1) - m(0))) < 1e-9);
  assert.equal(out.rows[0].bootstrap.replicates, 5);
  for (const f of ['results.json', 'love.svg', 'overlap.svg', 'config.json']) assert.ok(existsSync(join(run, f)), f);
  assert.match(readFileSync(join(run, 'love.svg'), 'utf8'), /<svg[\s\S]*racewhite[\s\S]*ipw-norm/);
  const table = genlab([...args, '--out', join(dir, 'run2'), '--quiet']);
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /estimator\s+ATT\s+95% interval\s+SE\s+boot SE\s+error/);
  assert.match(table.stdout, /^naive\s+-635\s/m);
});

test('genlab causal simulate, balance and refute', () => {
  const dir = mkdtempSync(join(tmpdir(), 'causal-cli-'));
  const csv = join(dir, 'icu.csv');
  const s = genlab(['causal', 'simulate', '--n', '60', '--sim-seed', '4', '--out', csv]);
  assert.equal(s.status, 0, s.stderr);
  const lines = readFileSync(csv, 'utf8').trim().split('\n');
  assert.equal(lines.length, 61);
  assert.equal(lines[0], 'age,sofa,pf_ratio,peep,fio2,bmi,prone,pf_after,true_effect,true_propensity');
  const b = genlab(['causal', 'balance', '--data', 'lalonde', '--json', '--plot', join(dir, 'love.svg')]);
  assert.equal(b.status, 0, b.stderr);
  const bal = JSON.parse(b.stdout);
  // Matching improves the worst imbalance of LaLonde's PSID comparison group.
  assert.ok(
    bal.after.match.maxAbsSmd < bal.before.maxAbsSmd,
    JSON.stringify([bal.after.match.maxAbsSmd, bal.before.maxAbsSmd]),
  );
  const ref = genlab([
    'causal',
    'refute',
    '--data',
    'sim',
    '--n',
    '300',
    '--estimators',
    'ols',
    '--runs',
    '3',
    '--json',
  ]);
  assert.equal(ref.status, 0, ref.stderr);
  const rr = JSON.parse(ref.stdout).refutations;
  assert.deepEqual(
    rr.map((x: { refuter: string }) => x.refuter),
    ['placebo', 'random-common-cause', 'subset'],
  );
});
