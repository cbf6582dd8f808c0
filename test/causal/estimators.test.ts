// The estimators on small hand-computed cases: closed forms, saturated models whose answers are
// stratum means, and the sandwich against OLS's own HC0 covariance.
import assert from 'node:assert/strict';
import test from 'node:test';
import { balanceTable } from '../../src/causal/balance.js';
import { bootstrap, quantile, resampleRows } from '../../src/causal/bootstrap.js';
import { type CausalData, checkCausalData } from '../../src/causal/data.js';
import { ESTIMATOR_DEFAULTS, type EstimatorOptions, estimatorByName, strataOf } from '../../src/causal/estimators.js';
import { eValueDifference, eValueRR } from '../../src/causal/evalue.js';
import { matrix, ols, withIntercept } from '../../src/causal/linalg.js';
import { matchedDifference, nearestNeighbour } from '../../src/causal/matching.js';
import { effectiveSampleSize } from '../../src/causal/propensity.js';
import { mEstimationCov } from '../../src/causal/sandwich.js';

/** Data from rows [t, y, x1, x2, …]. */
function data(rows: number[][], covariates?: string[]): CausalData {
  const p = rows[0].length - 2;
  const x = matrix(rows.length, p);
  for (const [i, r] of rows.entries()) x.a.set(r.slice(2), i * p);
  return checkCausalData({
    name: 'test',
    n: rows.length,
    covariates: covariates ?? Array.from({ length: p }, (_, j) => `x${j + 1}`),
    x,
    t: Uint8Array.from(rows, (r) => r[0]),
    y: Float64Array.from(rows, (r) => r[1]),
    treatment: 't',
    outcome: 'y',
  });
}

const opts = (o: Partial<EstimatorOptions> = {}): EstimatorOptions => ({ ...ESTIMATOR_DEFAULTS, ...o });
const run = (name: string, d: CausalData, o: Partial<EstimatorOptions> = {}) => estimatorByName(name).run(d, opts(o));
const close = (a: number, b: number, tol: number, what = '') =>
  assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b}`);

// Two cells of a binary covariate x, with different treated shares (so x confounds) and effects.
// Cell x=0: treated y 3, 5; controls y 1, 2, 3.  Cell x=1: treated y 10, 12, 14; controls y 6.
const CELLS = [
  [1, 3, 0],
  [1, 5, 0],
  [0, 1, 0],
  [0, 2, 0],
  [0, 3, 0],
  [1, 10, 1],
  [1, 12, 1],
  [1, 14, 1],
  [0, 6, 1],
];
// Cell effects: x=0: 4 − 2 = 2; x=1: 12 − 6 = 6. ATE weights by cell size 5/9, 4/9; ATT by treated 2/5, 3/5.
const ATE = (5 / 9) * 2 + (4 / 9) * 6;
const ATT = (2 / 5) * 2 + (3 / 5) * 6;

test('naive: the difference in means with the Welch standard error', () => {
  const d = data([
    [1, 3, 0.1],
    [1, 5, 0.2],
    [0, 1, 0.3],
    [0, 2, 0.5],
  ]);
  const r = run('naive', d);
  assert.equal(r.estimate, 2.5);
  // Var(3, 5) = 2, Var(1, 2) = 0.5 → √(2/2 + 0.5/2).
  close(r.se!, Math.sqrt(1.25), 1e-15);
});

test('ols recovers a noiseless linear effect; ols-interact gives ATE and ATT of a linear heterogeneous effect', () => {
  const xs = [0, 1, 2, 3, 4, 5, 6, 7];
  const ts = [0, 1, 0, 1, 1, 0, 1, 0];
  // y = 1 + 3x + t(2 + x): effect 2 + x, so ATE = 2 + mean(x) = 5.5 and ATT = 2 + mean(x | t=1) = 2 + 3.5.
  const d = data(xs.map((x, i) => [ts[i], 1 + 3 * x + ts[i] * (2 + x), x]));
  close(run('ols-interact', d).estimate, 5.5, 1e-10, 'ATE');
  close(run('ols-interact', d, { estimand: 'ATT' }).estimate, 5.5, 1e-10, 'ATT');
  const ite = run('ols-interact', d).ite!;
  for (const [i, x] of xs.entries()) close(ite[i], 2 + x, 1e-10, `ite ${i}`);
  const d2 = data(xs.map((x, i) => [ts[i], 1 + 3 * x + 2 * ts[i], x]));
  close(run('ols', d2).estimate, 2, 1e-12);
});

test('propensity estimators with a saturated propensity model reproduce the cell-weighted effects', () => {
  const d = data(CELLS);
  // With one binary covariate the logistic model is saturated: e(x) is the cell's treated share,
  // so normalised IPW and stratification on x are the cell-weighted differences.
  close(run('ipw-norm', d).estimate, ATE, 1e-7, 'ipw-norm ATE');
  close(run('ipw-norm', d, { estimand: 'ATT' }).estimate, ATT, 1e-7, 'ipw-norm ATT');
  // Horvitz–Thompson: (1/n) Σ t y / e − (1/n) Σ (1−t) y / (1−e), with e = 2/5 and 3/4.
  const ht = (3 / (2 / 5) + 5 / (2 / 5) + (10 + 12 + 14) / (3 / 4) - (1 + 2 + 3) / (3 / 5) - 6 / (1 / 4)) / 9;
  close(run('ipw', d).estimate, ht, 1e-7, 'ipw HT');
  // HT ATT: mean treated y − (1/n1) Σ_controls y e/(1−e).
  const htAtt = (3 + 5 + 10 + 12 + 14) / 5 - ((1 + 2 + 3) * (2 / 3) + 6 * 3) / 5;
  close(run('ipw', d, { estimand: 'ATT' }).estimate, htAtt, 1e-7, 'ipw HT ATT');
  // AIPW without cross-fitting and a saturated outcome model: the residual terms sum to 0 in each cell.
  close(run('aipw', d, { folds: 1 }).estimate, ATE, 1e-5, 'aipw ATE');
  close(run('aipw', d, { folds: 1, estimand: 'ATT' }).estimate, ATT, 1e-5, 'aipw ATT');
});

test('stratification: quantile strata of the score, merged where a group is missing, weighted by size', () => {
  const e = Float64Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]);
  const t = Uint8Array.from([0, 1, 0, 1, 0, 0, 1, 0]);
  assert.deepEqual(Array.from(strataOf(e, t, 2)), [0, 0, 0, 0, 1, 1, 1, 1]);
  // Four strata: the third (0.5, 0.6) has no treated and merges into the second.
  assert.deepEqual(Array.from(strataOf(e, t, 4)), [0, 0, 1, 1, 1, 1, 3, 3]);
  // One stratum is the naive difference.
  const d = data(CELLS);
  close(run('stratify', d, { strata: 1 }).estimate, run('naive', d).estimate, 1e-12);
});

test('nearest-neighbour matching: largest score first, without and with replacement, caliper, and the MatchIt rule', () => {
  //            t0   t1   c2    c3    c4
  const score = Float64Array.from([0.9, 0.5, 0.85, 0.52, 0.1]);
  const t = [1, 1, 0, 0, 0];
  const y = [10, 7, 4, 4, 1];
  const m = nearestNeighbour(score, t, { replace: false });
  assert.deepEqual([m.pairs[0], m.pairs[1]], [2, 3]);
  assert.deepEqual(matchedDifference(m, y), { estimate: (6 + 3) / 2, se: 1.5, matched: 2 });
  // MatchIt 4.5.1's rule takes the lower neighbour whenever one is available: 0.5 → 0.1.
  const mi = nearestNeighbour(score, t, { replace: false, rule: 'matchit' });
  assert.deepEqual([mi.pairs[0], mi.pairs[1]], [2, 4]);
  // Without replacement the second treated unit cannot reuse c2; with it, both may share one control.
  const s2 = Float64Array.from([0.9, 0.88, 0.89, 0.1]);
  const t2 = [1, 1, 0, 0];
  assert.deepEqual(Array.from(nearestNeighbour(s2, t2, { replace: false }).pairs.slice(0, 2)), [2, 3]);
  const rep = nearestNeighbour(s2, t2, { replace: true });
  assert.deepEqual(Array.from(rep.pairs.slice(0, 2)), [2, 2]);
  assert.equal(rep.weight[2], 2);
  // A caliper of 0.1 sd of the score leaves the second treated unit (0.78 away from 0.1) unmatched.
  assert.deepEqual(Array.from(nearestNeighbour(s2, t2, { replace: false, caliper: 0.1 }).pairs.slice(0, 2)), [2, -1]);
});

test('the M-estimation sandwich of the OLS normal equations is the HC0 covariance', () => {
  const rows = [
    [1, 2.0, 0.3],
    [0, 1.1, -0.4],
    [1, 3.2, 1.2],
    [0, 0.7, 0.1],
    [1, 2.2, -0.8],
    [0, 1.9, 0.9],
    [1, 4.1, 1.5],
    [0, 0.2, -1.1],
  ];
  const x = withIntercept(matrix(8, 2, Float64Array.from(rows.flatMap((r) => [r[0], r[2]]))));
  const y = rows.map((r) => r[1]);
  const fit = ols(x, y);
  const psi = (b: Float64Array) => {
    const out = new Float64Array(8 * 3);
    for (let i = 0; i < 8; i++) {
      const e = y[i] - (b[0] * x.a[i * 3] + b[1] * x.a[i * 3 + 1] + b[2] * x.a[i * 3 + 2]);
      for (let j = 0; j < 3; j++) out[i * 3 + j] = e * x.a[i * 3 + j];
    }
    return out;
  };
  const cov = mEstimationCov(psi, fit.coef, 8);
  // HC1 = HC0 · n/(n − p).
  for (let k = 0; k < 9; k++)
    close(cov[k], (fit.covHC1[k] * 5) / 8, 1e-7 * Math.abs(fit.covHC1[k]) + 1e-12, `cov[${k}]`);
});

test('E-values: RR + √(RR(RR − 1)), the interval limit nearer the null, 1 across it', () => {
  close(eValueRR(2), 2 + Math.SQRT2, 1e-12);
  close(eValueRR(0.5), 2 + Math.SQRT2, 1e-12);
  // VanderWeele & Ding (2017): RR 3.9 needs an E-value of 7.26.
  close(eValueRR(3.9), 7.26, 0.005);
  const ev = eValueDifference(1, 0.5, 1.5, 0.91);
  close(ev.rr, Math.E, 1e-12);
  close(ev.limit, eValueRR(Math.exp(0.5)), 1e-12);
  assert.equal(eValueDifference(1, -0.1, 2, 1).limit, 1);
});

test('balance: standardised mean differences and variance ratios by hand; effective sample size', () => {
  // x treated 1, 3 (mean 2, var 2); controls 0, 0, 3 (mean 1, var 3). Pooled sd √2.5.
  const d = data([
    [1, 0, 1],
    [1, 0, 3],
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 3],
  ]);
  const b = balanceTable(d, 'ATE', [1, 1, 1, 1, 2]);
  close(b.rows[0].smdBefore, 1 / Math.sqrt(2.5), 1e-12);
  close(b.rows[0].varRatioBefore, 2 / 3, 1e-12);
  // Weighted control mean (0 + 0 + 6)/4 = 1.5: SMD 0.5/√2.5 on the unadjusted scale.
  close(b.rows[0].smdAfter!, 0.5 / Math.sqrt(2.5), 1e-12);
  close(effectiveSampleSize([1, 1, 2]), 16 / 6, 1e-12);
  close(balanceTable(d, 'ATT').rows[0].smdBefore, 1 / Math.SQRT2, 1e-12);
});

test('bootstrap: stratified resamples keep group sizes, type-7 quantiles, seeded and repeatable', () => {
  const t = Uint8Array.from([1, 1, 1, 0, 0, 0, 0]);
  const rows = resampleRows(t, 3, 0);
  assert.equal(Array.from(rows).filter((i) => t[i]).length, 3);
  assert.deepEqual(Array.from(resampleRows(t, 3, 0)), Array.from(rows));
  assert.notDeepEqual(Array.from(resampleRows(t, 3, 1)), Array.from(rows));
  close(quantile([1, 2, 3, 4, 5], 0.1), 1.4, 1e-12);
  const d = data(CELLS);
  const b = bootstrap(d, estimatorByName('naive'), opts(), 50, { seed: 1 });
  assert.equal(b.failed, 0);
  assert.ok(b.lo < run('naive', d).estimate && run('naive', d).estimate < b.hi);
  assert.deepEqual(bootstrap(d, estimatorByName('naive'), opts(), 50, { seed: 1 }).estimates, b.estimates);
});
