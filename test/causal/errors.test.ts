// Bad input gives a one-line error (or a warning) that names what is wrong, never a silent number.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { parseCausalCsv, selectColumns } from '../../src/causal/data.js';
import { ESTIMATOR_DEFAULTS, estimatorByName } from '../../src/causal/estimators.js';
import { genlab } from '../cli/helpers.js';

const spec = { treatment: 't', outcome: 'y' };
const parse = (text: string, s: Partial<typeof spec & { covariates: string[]; factors: string[] }> = {}) =>
  parseCausalCsv(text, 'in.csv', { ...spec, ...s });

function throwsLine(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: Error) => {
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}

test('a missing or non-numeric value names its row, line and column', () => {
  throwsLine(() => parse('t,y,a,b\n1,2,3,4\n0,1,,5\n'), /row 2 \(line 3\), column 'a': missing value ""/);
  throwsLine(() => parse('t,y,a,b\n1,2,3,4\n0,1,2,NA\n'), /row 2 \(line 3\), column 'b': missing value "NA"/);
  throwsLine(() => parse('t,y,a\n1,2,3\n0,x1,2\n'), /row 2 \(line 3\), column 'y': not a number: "x1"/);
});

test('a treatment that is not 0/1, or a group with no units, is refused', () => {
  throwsLine(() => parse('t,y,a\n1,2,3\n2,1,2\n'), /row 2 \(line 3\), column 't': the treatment must be 0 or 1, got 2/);
  throwsLine(() => parse('t,y,a\n1,2,3\n1,1,2\n'), /no control units \(every 't' is 1\)/);
  throwsLine(() => parse('t,y,a\n0,2,3\n0,1,2\n'), /no treated units \(every 't' is 0\)/);
});

test('a constant covariate is refused by name', () => {
  throwsLine(() => parse('t,y,a,b\n1,2,3,7\n0,1,2,7\n1,4,1,7\n'), /covariate 'b' is constant \(every row is 7\)/);
});

test('covariates by names and ranges; factors become indicators of their levels but the first', () => {
  const d = parse('t,y,a,b,c,g\n1,2,3,4,5,x\n0,1,2,3,4,z\n1,4,1,1,1,y\n0,3,0,2,2,x\n', {
    covariates: ['a:b', 'g'],
    factors: ['g'],
  });
  assert.deepEqual(d.covariates, ['a', 'b', 'gy', 'gz']);
  assert.deepEqual(Array.from(d.x.a.subarray(4, 8)), [2, 3, 0, 1]);
  assert.deepEqual(selectColumns(['c:e'], ['a', 'b', 'c', 'd', 'e'], 'f'), ['c', 'd', 'e']);
  throwsLine(() => selectColumns(['q'], ['a'], 'f'), /no column 'q'/);
});

test('perfect separation in the propensity model is an error naming the covariate', () => {
  const d = parse('t,y,a,b\n1,2,5,1\n1,3,6,0\n1,1,7,1\n0,1,1,0\n0,2,2,1\n0,0,3,0\n');
  throwsLine(
    () => estimatorByName('ipw').run(d, ESTIMATOR_DEFAULTS),
    /perfect separation in the propensity model: covariate a \(controls all ≤ 3, treated all ≥ 5\)/,
  );
  // Separation by a combination of covariates (neither alone separates): the IRLS check catches it.
  const e = parse('t,y,a,b\n1,2,1,1\n1,3,2,2\n1,1,3,1.5\n0,1,1,0\n0,2,2,1\n0,0,3,0.2\n0,2,0.5,1\n1,1,0.5,3\n');
  throwsLine(
    () => estimatorByName('stratify').run(e, ESTIMATOR_DEFAULTS),
    /perfect separation in the propensity model/,
  );
});

test('exploding weights give a warning naming the row, and trimming removes it', () => {
  // One treated unit among many controls with the same covariate value gets a weight near n/1.
  const rows = ['t,y,a'];
  for (let i = 0; i < 60; i++) rows.push(`${i < 30 ? 1 : 0},${i % 7},${i < 30 ? (i % 10) / 10 : 0.5 + (i % 10) / 20}`);
  rows.push('1,3,1.4');
  const d = parse(`${rows.join('\n')}\n`);
  const r = estimatorByName('ipw').run(d, ESTIMATOR_DEFAULTS);
  assert.ok(
    r.warnings.some((w) => /exploding weights, row 61 carries \d+% of the treated weight/.test(w)),
    r.warnings.join('; '),
  );
  const trimmed = estimatorByName('ipw').run(d, { ...ESTIMATOR_DEFAULTS, trim: 0.05 });
  assert.ok(
    trimmed.warnings.some((w) => /trimming at 0.05 dropped/.test(w)),
    trimmed.warnings.join('; '),
  );
});

test('the CLI prints the bad row and column on one line and exits 1; an unknown estimator is a usage error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'causal-'));
  const csv = join(dir, 'bad.csv');
  writeFileSync(csv, 'treat,out,age\n1,2,30\n0,1,NA\n');
  const r = genlab([
    'causal',
    'estimate',
    '--data',
    csv,
    '--treatment',
    'treat',
    '--outcome',
    'out',
    '--out',
    join(dir, 'run'),
  ]);
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /row 2 \(line 3\), column 'age': missing value "NA"/);
  const u = genlab(['causal', 'estimate', '--data', 'lalonde', '--estimators', 'bart', '--out', join(dir, 'run2')]);
  assert.equal(u.status, 2, u.stderr);
  assert.match(u.stderr, /unknown estimator 'bart'.*check --estimators/);
});
