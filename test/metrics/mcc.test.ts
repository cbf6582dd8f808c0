import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linearSumAssignment } from '../../src/metrics/hungarian.js';
import { crossCorrelation, mccDetails, meanCorrCoef } from '../../src/metrics/mcc.js';
import * as torch from '../../src/torch/index.js';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

/** Every permutation's cost, for checking the Hungarian optimum by brute force. */
function bruteForceMin(cost: number[][]): number {
  const n = cost.length;
  let best = Number.POSITIVE_INFINITY;
  const perm = (i: number, used: boolean[], acc: number) => {
    if (i === n) {
      best = Math.min(best, acc);
      return;
    }
    for (let j = 0; j < cost[0].length; j++) {
      if (used[j]) continue;
      used[j] = true;
      perm(i + 1, used, acc + cost[i][j]);
      used[j] = false;
    }
  };
  perm(0, new Array(cost[0].length).fill(false), 0);
  return best;
}

test('Hungarian: a hand example, and random square and rectangular matrices against brute force', () => {
  // scipy's documented example: optimum 5 with columns [1, 0, 2].
  const a = linearSumAssignment([
    [4, 1, 3],
    [2, 0, 5],
    [3, 2, 2],
  ]);
  assert.deepEqual(a.rowInd, [0, 1, 2]);
  assert.deepEqual(a.colInd, [1, 0, 2]);
  assert.equal(a.total, 5);
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let trial = 0; trial < 30; trial++) {
    const n = 1 + (trial % 6);
    const m = n + (trial % 3);
    const cost = Array.from({ length: n }, () => Array.from({ length: m }, () => Math.round(rnd() * 20) - 5));
    const r = linearSumAssignment(cost);
    assert.equal(new Set(r.colInd).size, n, 'columns used once');
    close(r.total, bruteForceMin(cost));
    // The transposed (more rows than columns) problem has the same optimum.
    const t = cost[0].map((_, j) => cost.map((row) => row[j]));
    close(linearSumAssignment(t).total, r.total);
    const mx = linearSumAssignment(cost, { maximize: true });
    close(-mx.total, bruteForceMin(cost.map((row) => row.map((v) => -v))));
  }
});

test('MCC of a permuted, rescaled and sign-flipped copy of the sources is 1 (Pearson and Spearman)', () => {
  torch.tidy(() => {
    const g = new torch.Generator(3);
    const s = torch.randn([2000, 5], { generator: g, dtype: 'float64' });
    const perm = torch.tensor([3, 0, 4, 1, 2], { dtype: 'int64' });
    const scale = torch.tensor([[2.5, -0.3, 7, -1, 0.01]], { dtype: 'float64' });
    const z = s.indexSelect(1, perm).mul(scale).add(4);
    close(meanCorrCoef(s, z), 1, 1e-12);
    close(meanCorrCoef(s, z, { method: 'spearman' }), 1, 1e-12);
    // A monotone but nonlinear distortion keeps Spearman at exactly 1, not Pearson.
    const warped = z.pow(3);
    close(meanCorrCoef(s, warped, { method: 'spearman' }), 1, 1e-12);
    assert.ok(meanCorrCoef(s, warped) < 0.999);
    const d = mccDetails(s, z);
    assert.deepEqual(
      d.pairs.map((p) => p.latent),
      [1, 3, 4, 0, 2],
    );
  });
});

test('MCC of independent noise is near 0, and of a half-recovered set is near 1/2', () => {
  torch.tidy(() => {
    const g = new torch.Generator(4);
    const s = torch.randn([20000, 5], { generator: g });
    const noise = torch.randn([20000, 5], { generator: g });
    const m = meanCorrCoef(s, noise);
    // The max of matched |corr| over 5! pairings of N(0, 1/N) noise stays within a few / √N.
    assert.ok(m < 0.03, `noise MCC ${m}`);
    assert.ok(meanCorrCoef(s, noise, { method: 'spearman' }) < 0.03);
    const half = torch.cat([s.narrow(1, 0, 2), noise.narrow(1, 0, 3)], 1);
    close(meanCorrCoef(s, half), 0.4, 0.03);
  });
});

test('Pearson and Spearman agree with hand-computed values; ties get mid-ranks; constant columns give 0', () => {
  torch.tidy(() => {
    const a = torch.tensor([[1], [2], [3], [4]], { dtype: 'float64' });
    const b = torch.tensor([[1], [3], [2], [5]], { dtype: 'float64' });
    // Pearson: Σ centred products 5.5, Σ squares 5 and 8.75 → r = 5.5 / √(5·8.75).
    close(crossCorrelation(a, b).item(), 5.5 / Math.sqrt(5 * 8.75), 1e-12);
    // Spearman on ranks [1,3,2,4]: 1 − 6·Σd²/(n(n²−1)) = 1 − 6·2/60 = 0.8.
    close(crossCorrelation(a, b, 'spearman').item(), 0.8, 1e-12);
    const tied = torch.tensor([[1], [2], [2], [4]], { dtype: 'float64' });
    // Ranks [1, 2.5, 2.5, 4] against [1, 2, 3, 4]: r = 4.5 / √(5·4.5).
    close(crossCorrelation(a, tied, 'spearman').item(), 4.5 / Math.sqrt(5 * 4.5), 1e-12);
    assert.equal(crossCorrelation(a, torch.ones([4, 1], { dtype: 'float64' })).item(), 0);
    assert.throws(() => crossCorrelation(a, torch.ones([3, 1])), /expected \[N, da\]/);
  });
});
