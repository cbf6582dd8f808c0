// The estimators against real peers on the same data: statsmodels (OLS and Logit coefficients and
// covariances) and R's MatchIt (nearest-neighbour propensity matching on LaLonde). Each test skips
// with a message where its peer is missing; scripts/setup.sh --test installs them
// (python3-statsmodels, r-cran-matchit).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import test from 'node:test';
import { DATA_DIR, loadLalonde } from '../../src/causal/data.js';
import { ESTIMATOR_DEFAULTS, estimatorByName } from '../../src/causal/estimators.js';
import { logistic, ols, withIntercept } from '../../src/causal/linalg.js';
import { nearestNeighbour } from '../../src/causal/matching.js';
import { fitPropensity } from '../../src/causal/propensity.js';

const PYTHON = process.env.GENLAB_PYTHON ?? '/usr/bin/python3';
const LALONDE = `${DATA_DIR}/lalonde_psid_matchit.csv`;

function statsmodelsMissing(): string | false {
  const r = spawnSync(PYTHON, ['-c', 'import statsmodels'], { encoding: 'utf8' });
  return r.status === 0
    ? false
    : `${PYTHON} cannot import statsmodels (install python3-statsmodels); comparison skipped`;
}

function matchitMissing(): string | false {
  const r = spawnSync('Rscript', ['-e', 'library(MatchIt)'], { encoding: 'utf8' });
  return r.status === 0 ? false : 'Rscript with MatchIt is missing (install r-cran-matchit); comparison skipped';
}

// The design matrix is built in Python from the raw file, independently of ours.
const STATSMODELS = `
import csv, json, sys
import numpy as np, statsmodels.api as sm
rows = list(csv.DictReader(open(sys.argv[1])))
num = lambda k: np.array([float(r[k]) for r in rows])
race = [r['race'] for r in rows]
cov = np.column_stack([num('age'), num('educ'), [x == 'hispan' for x in race], [x == 'white' for x in race],
                       num('married'), num('nodegree'), num('re74'), num('re75')]).astype(float)
t = num('treat'); y = num('re78')
o = sm.OLS(y, sm.add_constant(np.column_stack([t, cov]))).fit()
h = sm.OLS(y, sm.add_constant(np.column_stack([t, cov]))).fit(cov_type='HC1')
l = sm.Logit(t, sm.add_constant(cov)).fit(disp=0, method='newton', tol=1e-12, maxiter=100)
print(json.dumps({'ols': o.params.tolist(), 'olsCov': o.cov_params().ravel().tolist(), 'hc1': h.cov_params().ravel().tolist(),
                  'logit': l.params.tolist(), 'logitCov': l.cov_params().ravel().tolist()}))
`;

function assertClose(a: ArrayLike<number>, b: number[], rel: number, what: string): void {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < b.length; i++) {
    const tol = rel * Math.abs(b[i]) + 1e-14;
    assert.ok(Math.abs(a[i] - b[i]) <= tol, `${what}[${i}]: ${a[i]} vs statsmodels ${b[i]}`);
  }
}

test('OLS and logistic coefficients and covariances agree with statsmodels on LaLonde to 1e-6 relative', {
  skip: statsmodelsMissing(),
}, () => {
  const r = spawnSync(PYTHON, ['-c', STATSMODELS, LALONDE], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `python failed: ${r.stderr}`);
  const sm = JSON.parse(r.stdout);
  const d = loadLalonde();
  const fit = ols(withIntercept(d.x, [Float64Array.from(d.t)]), d.y);
  assertClose(fit.coef, sm.ols, 1e-6, 'OLS coefficient');
  // Covariances relative to their own scale (earnings coefficients have tiny variances).
  const scale = (c: number[]) => c.map((v) => v / Math.max(...c.map(Math.abs)));
  assertClose(scale(Array.from(fit.cov)), scale(sm.olsCov), 1e-6, 'OLS covariance');
  assertClose(scale(Array.from(fit.covHC1)), scale(sm.hc1), 1e-6, 'HC1 covariance');
  // Ours stops as R's glm does (deviance change < 1e-8), which is within 1e-6 of the optimum.
  const lg = logistic(withIntercept(d.x), d.t);
  assertClose(lg.coef, sm.logit, 1e-6, 'logit coefficient');
  assertClose(scale(Array.from(lg.cov())), scale(sm.logitCov), 1e-6, 'logit covariance');
});

const MATCHIT = `
suppressMessages(library(MatchIt))
d <- read.csv(commandArgs(TRUE)[1], row.names = 1)
m <- matchit(treat ~ age + educ + race + married + nodegree + re74 + re75, data = d, method = "nearest", distance = "glm")
md <- match.data(m)
att <- with(md, weighted.mean(re78[treat == 1], weights[treat == 1]) - weighted.mean(re78[treat == 0], weights[treat == 0]))
cat(sprintf("%.10f\\n", att))
cat(paste(rownames(m$match.matrix), m$match.matrix[, 1], sep = "=", collapse = ","), "\\n")
cat(sprintf("%.17g", m$distance), sep = ",")
cat("\\n")
# A treated unit at 0.5 with controls at 0.1 and 0.51: which control does MatchIt take?
s <- matchit(treat ~ x, data = data.frame(treat = c(1, 0, 0, 0), x = 1:4), method = "nearest", distance = c(0.5, 0.1, 0.51, 0.9))
cat(s$match.matrix[1, 1], "\\n")
`;

test('propensity matching on LaLonde reproduces R MatchIt: the same 185 pairs, the ATT within $1', {
  skip: matchitMissing(),
}, () => {
  const r = spawnSync('Rscript', ['-e', MATCHIT, LALONDE], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `Rscript failed: ${r.stderr}`);
  const [attLine, pairLine, distLine, probe] = r.stdout.trim().split('\n');
  const d = loadLalonde();
  // Row names: NSW1..NSW185 are rows 0..184, PSID1..PSID429 rows 185..613.
  const row = (name: string) => (name.startsWith('NSW') ? Number(name.slice(3)) - 1 : 184 + Number(name.slice(4)));
  const ps = fitPropensity(d).p;
  const rDist = distLine.split(',').map(Number);
  assertClose(ps, rDist, 1e-10, 'propensity score');
  const m = nearestNeighbour(ps, d.t, { replace: false, rule: 'matchit' });
  const pairs = pairLine
    .trim()
    .split(',')
    .map((p) => p.split('='));
  assert.equal(pairs.length, 185);
  for (const [t, c] of pairs) assert.equal(m.pairs[row(t)], row(c), `${t} is matched to ${c} in MatchIt`);
  const att = estimatorByName('match').run(d, {
    ...ESTIMATOR_DEFAULTS,
    estimand: 'ATT',
    matchRule: 'matchit',
  }).estimate;
  assert.ok(Math.abs(att - Number(attLine)) < 1, `ATT ${att} vs MatchIt ${attLine}`);
  // MatchIt takes the lower-score neighbour (unit 2 at 0.1), not the nearest (unit 3 at 0.51): the rule we reproduce.
  assert.equal(probe.trim(), '2');
  const probeOurs = nearestNeighbour(Float64Array.from([0.5, 0.1, 0.51, 0.9]), [1, 0, 0, 0], {
    replace: false,
    rule: 'matchit',
  });
  assert.equal(probeOurs.pairs[0], 1);
});
