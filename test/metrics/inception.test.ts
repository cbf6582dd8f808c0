import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inceptionScore } from '../../src/metrics/inception.js';
import * as torch from '../../src/torch/index.js';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

/** Rows one-hot on class i mod k. */
const oneHot = (n: number, k: number) =>
  torch.ops.oneHot(torch.arange(n, undefined, 1, { dtype: 'int64' }).remainder(k), { numClasses: k }).double();

test('uniform classifier outputs score 1', () => {
  const r = inceptionScore(torch.full([100, 10], 0.1, { dtype: 'float64' }));
  close(r.mean, 1);
  assert.equal(r.std, 0);
});

test('confident one-hot outputs over K balanced classes score K', () => {
  close(inceptionScore(oneHot(50, 5)).mean, 5);
  // Ten splits of five rows, each holding every class once.
  const r = inceptionScore(oneHot(50, 5), { splits: 10 });
  close(r.mean, 5);
  close(r.std, 0);
  assert.equal(r.scores.length, 10);
});

test('a hand-computed two-sample case', () => {
  // p(y) = [0.55, 0.45]; IS = exp(mean_i Σ_k p_ik ln(p_ik / p_k)).
  const kl1 = 0.9 * Math.log(0.9 / 0.55) + 0.1 * Math.log(0.1 / 0.45);
  const kl2 = 0.2 * Math.log(0.2 / 0.55) + 0.8 * Math.log(0.8 / 0.45);
  const p = torch.tensor(
    [
      [0.9, 0.1],
      [0.2, 0.8],
    ],
    { dtype: 'float64' },
  );
  close(inceptionScore(p).mean, Math.exp((kl1 + kl2) / 2));
});

test('splits give the mean and population sd of per-split scores', () => {
  // First half one-hot over 2 classes (score 2), second half uniform (score 1).
  const p = torch.cat([oneHot(4, 2), torch.full([4, 2], 0.5, { dtype: 'float64' })]);
  const r = inceptionScore(p, { splits: 2 });
  assert.deepEqual(r.scores, [2, 1]);
  close(r.mean, 1.5);
  close(r.std, 0.5);
});

test('logits are refused', () => {
  assert.throws(() => inceptionScore(torch.randn([8, 3])), /softmax/);
  assert.throws(() => inceptionScore(oneHot(4, 2), { splits: 5 }), /splits/);
});
