// Gradient clipping against hand-computed norms.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { torch } from '../../src/index.js';
import { clipGradNorm, clipGradValue } from '../../src/optim/index.js';
import type { Tensor } from '../../src/torch/tensor.js';
import { assertClose, param, values } from './helpers.js';

/** Two parameters with gradients [3, −4] and [[12]]: 2-norm 13, 1-norm 19, ∞-norm 12. */
function withGrads(): Tensor[] {
  const x = param([0, 0]);
  const y = param([0]).reshape(1, 1).detach().requiresGrad_();
  x.grad = torch.tensor([3, -4], { dtype: 'float64' });
  y.grad = torch.tensor([[12]], { dtype: 'float64' });
  return [x, y];
}

describe('clipGradNorm', () => {
  test('returns the joint 2-norm and scales the gradients to maxNorm', () => {
    const ps = withGrads();
    assert.equal(clipGradNorm(ps, 6.5), 13);
    const coef = 6.5 / (13 + 1e-6);
    assertClose(values(ps[0].grad!), [3 * coef, -4 * coef], 1e-15);
    assertClose(values(ps[1].grad!), [12 * coef], 1e-15);
  });

  test('leaves gradients alone when the norm is below maxNorm', () => {
    const ps = withGrads();
    assert.equal(clipGradNorm(ps, 100), 13);
    assert.deepEqual(values(ps[0].grad!), [3, -4]);
    assert.deepEqual(values(ps[1].grad!), [12]);
  });

  test('1-norm and ∞-norm', () => {
    assert.equal(clipGradNorm(withGrads(), 100, 1), 19);
    const ps = withGrads();
    assert.equal(clipGradNorm(ps, 6, Infinity), 12);
    assertClose(values(ps[1].grad!), [(12 * 6) / (12 + 1e-6)], 1e-15);
  });

  test('ignores parameters without gradients; none at all gives 0', () => {
    const ps = withGrads();
    assert.equal(clipGradNorm([...ps, param([5])], 100), 13);
    assert.equal(clipGradNorm([param([1, 2])], 1), 0);
  });

  test('errorIfNonfinite', () => {
    const x = param([0, 0]);
    x.grad = torch.tensor([Number.NaN, 1], { dtype: 'float64' });
    assert.throws(() => clipGradNorm(x, 1, 2, { errorIfNonfinite: true }), /NaN/);
  });
});

describe('clipGradValue', () => {
  test('clamps each element into [−c, c]', () => {
    const ps = withGrads();
    clipGradValue(ps, 3.5);
    assert.deepEqual(values(ps[0].grad!), [3, -3.5]);
    assert.deepEqual(values(ps[1].grad!), [3.5]);
  });
});
