import assert from 'node:assert/strict';
import { test } from 'node:test';
import { featureStats, fidFromFeatures, frechetDistance, sqrtPsd } from '../../src/metrics/fid.js';
import * as torch from '../../src/torch/index.js';

const f64 = (data: torch.NestedArray) => torch.tensor(data, { dtype: 'float64' });
const close = (a: number, b: number, tol: number) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b} (tol ${tol})`);

/** Samples [n, D] from N(mu, sigma) as mu + z Lᵀ with L the Cholesky factor. */
function gaussianSamples(mu: number[], sigma: number[][], n: number, seed: number): torch.Tensor {
  return torch.tidy(() => {
    const z = torch.randn([n, mu.length], { dtype: 'float64', generator: new torch.Generator(seed) });
    return z.mm(torch.linalg.cholesky(f64(sigma)).t()).add(f64(mu));
  });
}

test('featureStats gives the mean and unbiased covariance in float64', () => {
  const { mu, sigma } = featureStats(
    torch.tensor([
      [1, 2],
      [3, 0],
      [5, 4],
    ]),
  );
  assert.equal(mu.dtype, 'float64');
  assert.deepEqual(mu.toArray(), [3, 2]);
  // Centred rows (−2, 0), (0, −2), (2, 2); XᵀX = [[8, 4], [4, 8]], divided by N − 1 = 2.
  assert.deepEqual(sigma.toArray(), [
    [4, 2],
    [2, 4],
  ]);
});

test('FID of a sample set against itself is 0', () => {
  const x = torch.randn([500, 16], { generator: new torch.Generator(1) });
  const d = fidFromFeatures(x, x);
  assert.ok(d >= 0 && d < 1e-6, `FID(x, x) = ${d}`);
  // Fewer samples than dimensions: a singular covariance, clamped eigenvalues.
  const y = torch.randn([10, 32], { generator: new torch.Generator(2) });
  const e = fidFromFeatures(y, y);
  assert.ok(e >= 0 && e < 1e-6, `FID(y, y) = ${e}`);
});

test('diagonal covariances: sum (sqrt a − sqrt b)² + |mu1 − mu2|²', () => {
  const d = frechetDistance(
    { mu: f64([0, 1, 2]), sigma: f64([1, 4, 9]).diag() },
    { mu: f64([1, 1, 0]), sigma: f64([4, 1, 16]).diag() },
  );
  // (1 − 2)² + (2 − 1)² + (3 − 4)² = 3, plus 1 + 0 + 4 = 5.
  close(d, 8, 1e-12);
});

test('2×2 non-diagonal case matches the closed form of the trace of a 2×2 square root', () => {
  // For 2×2 PSD matrices, tr (S1^½ S2 S1^½)^½ = √λ1 + √λ2 over the eigenvalues of S1 S2,
  // = √(tr(S1 S2) + 2 √(det S1 det S2)). Here S1 S2 = [[5, −1], [1, 1]]: trace 6, det 3·2.
  const s1 = [
    [2, 1],
    [1, 2],
  ];
  const s2 = [
    [3, -1],
    [-1, 1],
  ];
  const expected = 4 + 4 - 2 * Math.sqrt(6 + 2 * Math.sqrt(6));
  close(expected, 1.3972795044568622, 1e-15);
  const mu = f64([0.5, -1]);
  close(frechetDistance({ mu, sigma: f64(s1) }, { mu, sigma: f64(s2) }), expected, 1e-12);
  // Means add their squared distance: (1 − 0.5)² + (1 + 1)² = 4.25.
  close(frechetDistance({ mu, sigma: f64(s1) }, { mu: f64([1, 1]), sigma: f64(s2) }), expected + 4.25, 1e-12);
  // Rank-1 S1 = [[1, 1], [1, 1]] against I: √(tr S1 + 0) = √2, so d = 2 + 2 − 2√2.
  const singular = frechetDistance(
    {
      mu,
      sigma: f64([
        [1, 1],
        [1, 1],
      ]),
    },
    { mu, sigma: torch.eye(2, undefined, { dtype: 'float64' }) },
  );
  close(singular, 4 - 2 * Math.SQRT2, 1e-12);
});

test('sqrtPsd matches the 2×2 formula (M + √det I) / √(tr M + 2 √det)', () => {
  const m = [
    [2, 1],
    [1, 2],
  ];
  const s = Math.sqrt(3);
  const t = Math.sqrt(4 + 2 * s);
  const expected = [
    [(2 + s) / t, 1 / t],
    [1 / t, (2 + s) / t],
  ];
  const got = sqrtPsd(f64(m)).toArray() as number[][];
  for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) close(got[i][j], expected[i][j], 1e-14);
});

test('FID of Gaussian samples matches the population value within Monte Carlo error', () => {
  const mu1 = [0, 0, 0];
  const mu2 = [1, -0.5, 0.25];
  const s1 = [
    [1, 0.5, 0],
    [0.5, 2, 0.3],
    [0, 0.3, 0.5],
  ];
  const s2 = [
    [2, -0.4, 0.1],
    [-0.4, 1, 0],
    [0.1, 0, 1.5],
  ];
  const population = frechetDistance({ mu: f64(mu1), sigma: f64(s1) }, { mu: f64(mu2), sigma: f64(s2) });
  // Independently: |Δmu|² + tr(S1 + S2) − 2 Σ √eig(S1 S2), with numpy's general eigvals.
  close(population, 2.2760016940460845, 1e-12);
  const n = 40000;
  const sample = fidFromFeatures(gaussianSamples(mu1, s1, n, 11), gaussianSamples(mu2, s2, n, 12));
  // Over seeds the estimate scatters with sd ≈ 0.025 (its bias is ~D/N); allow 4 sd.
  assert.ok(population > 1.5, `population FID ${population}`);
  close(sample, population, 0.1);
});

test('FID leaves no tensors behind and rejects mismatched shapes', () => {
  const a = torch.randn([50, 4], { generator: new torch.Generator(3) });
  const b = torch.randn([60, 4], { generator: new torch.Generator(4) });
  const before = torch.memory().tensors;
  fidFromFeatures(a, b);
  assert.equal(torch.memory().tensors, before);
  assert.throws(() => fidFromFeatures(a, torch.randn([60, 5])), /expected/);
  assert.throws(() => featureStats(torch.randn([1, 5])), /at least 2/);
});
