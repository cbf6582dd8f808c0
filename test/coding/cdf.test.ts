import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import {
  categoricalCdf,
  gaussianCdf,
  gridBounds,
  type LatentGrid,
  normalCdf,
  quantisedProb,
} from '../../src/coding/cdf.js';
import { type IntegerCdf, M } from '../../src/coding/rans.js';

const PYTHON = process.env.GENLAB_PYTHON ?? '/usr/bin/python3';
function scipyMissing(): string | false {
  const r = spawnSync(PYTHON, ['-c', 'import scipy.special'], { encoding: 'utf8' });
  return r.status === 0 ? false : `${PYTHON} cannot import scipy (install python3-scipy); comparison skipped`;
}

test('Φ matches scipy.special.ndtr in relative terms, tails included', { skip: scipyMissing() }, () => {
  const us = Array.from({ length: 801 }, (_, i) => -30 + (i * 38) / 800);
  const r = spawnSync(
    PYTHON,
    [
      '-c',
      'import json,sys; from scipy.special import ndtr; print(json.dumps([float(ndtr(u)) for u in json.load(sys.stdin)]))',
    ],
    { input: JSON.stringify(us), encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const ref = JSON.parse(r.stdout) as number[];
  us.forEach((u, i) => {
    const rel = Math.abs(normalCdf(u) - ref[i]) / ref[i];
    assert.ok(rel < 2e-7, `Φ(${u}) = ${normalCdf(u)} vs ${ref[i]}`);
  });
  assert.equal(normalCdf(0), 0.5);
});

/** Walks every symbol: start(lo) = 0, start(hi + 1) = M, strictly increasing. */
function checkCdf(cdf: IntegerCdf, what: string): void {
  assert.equal(cdf.start(cdf.lo), 0, `${what}: start(lo)`);
  assert.equal(cdf.start(cdf.hi + 1), M, `${what}: start(hi + 1)`);
  let prev = -1;
  for (let k = cdf.lo; k <= cdf.hi + 1; k++) {
    const s = cdf.start(k);
    assert.ok(Number.isInteger(s) && s > prev, `${what}: start(${k}) = ${s} after ${prev}`);
    prev = s;
  }
}

const GRID: LatentGrid = { bits: 10, range: 3 };

test('discretised Gaussians: every bucket codable, masses as Φ differences', () => {
  const { delta } = gridBounds(GRID);
  const cases: [number, number][] = [
    [0, 1],
    [0.3, 0.02],
    [-7.9, 0.5],
    [2.5, delta / 2], // narrower than a bucket: one bucket holds almost all the mass
    [100, 0.01], // far off the grid: the uniform fallback
    [Number.NaN, 1],
    [0, 0],
  ];
  for (const [mean, std] of cases) checkCdf(gaussianCdf(mean, std, GRID), `N(${mean}, ${std}²)`);
  // Masses against the exact Φ differences: the floor-plus-one quantisation changes each by at most
  // 1/M and the n frequencies of 1 take n/M from the total.
  for (const [mean, std] of [
    [0.1, 1],
    [-0.4, 0.01],
  ]) {
    const cdf = gaussianCdf(mean, std, GRID);
    const n = cdf.hi - cdf.lo + 1;
    for (let i = -50; i <= 50; i++) {
      const k = Math.round(mean / delta) + i;
      const exact = normalCdf(((k + 0.5) * delta - mean) / std) - normalCdf(((k - 0.5) * delta - mean) / std);
      const q = quantisedProb(cdf, k);
      assert.ok(Math.abs(q - exact * (1 - n / M)) <= 2 / M, `bucket ${k}: ${q} vs ${exact}`);
    }
  }
  // One bucket with almost all mass: σ = δ/8 centred on a bucket.
  const peak = gaussianCdf(1, delta / 8, GRID);
  assert.ok(quantisedProb(peak, Math.round(1 / delta)) > 1 - 1e-4);
  assert.equal(quantisedProb(peak, Math.round(1 / delta) + 3), 1 / M);
});

test('a windowed Gaussian: support mean ± w·std on the grid, masses as Φ differences, floor n/M', () => {
  const { delta, lo, hi } = gridBounds(GRID);
  for (const [mean, std] of [
    [0.3, 0.02],
    [-0.4, 0.01],
    [7.99, 0.05], // clipped by the grid's upper end
    [2.5, delta / 2],
  ]) {
    const cdf = gaussianCdf(mean, std, GRID, 8);
    checkCdf(cdf, `N(${mean}, ${std}²) on ±8 std`);
    assert.equal(cdf.lo, Math.max(lo, Math.floor((mean - 8 * std) / delta)));
    assert.equal(cdf.hi, Math.min(hi, Math.ceil((mean + 8 * std) / delta)));
    const n = cdf.hi - cdf.lo + 1;
    assert.ok(n < (16 * std) / delta + 3, `${n} buckets`);
    // Inside, each mass is the Φ difference renormalised over the window, within the quantisation.
    const den = normalCdf(((cdf.hi + 0.5) * delta - mean) / std) - normalCdf(((cdf.lo - 0.5) * delta - mean) / std);
    for (let k = cdf.lo; k <= cdf.hi; k++) {
      const exact = (normalCdf(((k + 0.5) * delta - mean) / std) - normalCdf(((k - 0.5) * delta - mean) / std)) / den;
      assert.ok(Math.abs(quantisedProb(cdf, k) - exact * (1 - n / M)) <= 2 / M, `bucket ${k}`);
    }
  }
  // The floor: on the whole grid a pop lands on a frequency-1 bucket with chance about n/M = 2¹⁴/2³²;
  // on the window, 1 + 16σ/δ buckets' worth.
  const whole = gaussianCdf(0.3, 0.02, GRID);
  const narrow = gaussianCdf(0.3, 0.02, GRID, 8);
  const floorMass = (c: IntegerCdf) => {
    let m = 0;
    for (let k = c.lo; k <= c.hi; k++) if (c.start(k + 1) - c.start(k) === 1) m += 1 / M;
    return m;
  };
  assert.ok(floorMass(whole) > (0.9 * (hi - lo + 1 - 400)) / M, `whole grid ${floorMass(whole)}`);
  assert.ok(floorMass(narrow) < 400 / M, `window ${floorMass(narrow)}`);
  // A window entirely off the grid falls back to the whole grid.
  const off = gaussianCdf(40, 0.01, GRID, 8);
  assert.deepEqual([off.lo, off.hi], [lo, hi]);
});

test('categoricals from logits: frequency-1 symbols and one symbol with almost all mass', () => {
  const logits = [0, -1000, -1000, -50, Number.NEGATIVE_INFINITY];
  const cdf = categoricalCdf(logits);
  checkCdf(cdf, 'peaked');
  assert.equal(cdf.start(2) - cdf.start(1), 1);
  assert.equal(cdf.start(5) - cdf.start(4), 1);
  assert.ok(quantisedProb(cdf, 0) > 1 - 1e-8);
  // Softmax probabilities to within the quantisation.
  const l2 = [0.3, -1.2, 2.0, 0.0, -0.5];
  const z = l2.reduce((a, v) => a + Math.exp(v), 0);
  const c2 = categoricalCdf(l2);
  checkCdf(c2, 'mild');
  for (const [k, v] of l2.entries()) assert.ok(Math.abs(quantisedProb(c2, k) - Math.exp(v) / z) < 3 / M);
  // Degenerate inputs fall back to uniform rather than failing.
  checkCdf(categoricalCdf([Number.NaN, Number.NaN, Number.NaN]), 'NaN');
});

test('the integer CDFs are the same bits when computed again from the same float inputs', () => {
  // The encoder and decoder call these with identical numbers; everything is float64 in JS, so the
  // integers agree bit for bit. Recomputing in another order must not change a single start.
  const grid: LatentGrid = { bits: 11, range: 3 };
  const means = Array.from({ length: 200 }, (_, i) => Math.sin(i) * 3);
  const stds = Array.from({ length: 200 }, (_, i) => 0.003 + (i % 17) * 0.05);
  const first = means.map((m, i) => gaussianCdf(m, stds[i], grid).start(Math.round(m * 2048) + 3));
  const again = means
    .map((m, i) => [i, gaussianCdf(m, stds[i], grid).start(Math.round(m * 2048) + 3)] as const)
    .reverse();
  for (const [i, s] of again) assert.equal(s, first[i]);
});
