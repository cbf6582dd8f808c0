import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kthNeighbourRadii, precisionRecall } from '../../src/metrics/precisionRecall.js';
import * as torch from '../../src/torch/index.js';

const column = (xs: number[]) => torch.tensor(xs).unsqueeze(1);

test('identical sets have precision 1 and recall 1', () => {
  const x = torch.randn([300, 8], { generator: new torch.Generator(5) });
  assert.deepEqual(precisionRecall(x, x), { precision: 1, recall: 1 });
  // Small blocks take the batched path.
  assert.deepEqual(precisionRecall(x, x.clone(), { batchSize: 7 }), { precision: 1, recall: 1 });
});

test('disjoint, far-apart sets have precision 0 and recall 0', () => {
  const real = torch.randn([200, 8], { generator: new torch.Generator(6) });
  const fake = torch.randn([150, 8], { generator: new torch.Generator(7) }).add(100);
  assert.deepEqual(precisionRecall(real, fake), { precision: 0, recall: 0 });
});

test('a hand-computed 1-d case', () => {
  // Real 0, 1, 2, 3, 10: third-neighbour radii 3, 2, 2, 3, 9.
  const real = column([0, 1, 2, 3, 10]);
  assert.deepEqual(kthNeighbourRadii(real.double(), 3).toArray(), [3, 2, 2, 3, 9]);
  // Generated 0.5, 4, 19.5, 30, 40: third-neighbour radii 29.5, 26, 19, 26, 36.
  const fake = column([0.5, 4, 19.5, 30, 40]);
  assert.deepEqual(kthNeighbourRadii(fake.double(), 3).toArray(), [29.5, 26, 19, 26, 36]);
  // Precision: 0.5 and 4 lie in the balls of 0 and 3; 19.5 is 9.5 from 10 (radius 9); 30 and 40 are
  // further → 2/5. Recall: every real point is within 29.5 of 0.5 → 5/5.
  assert.deepEqual(precisionRecall(real, fake), { precision: 0.4, recall: 1 });
  // k = 1, generated 0.5, 4, 30, 31, 40: real radii 1, 1, 1, 1, 7 (4 sits exactly on the ball of 3);
  // generated radii 3.5, 3.5, 1, 1, 9, so real 10 (6 from 4, 20 from 30, 30 from 40) is missed.
  const other = column([0.5, 4, 30, 31, 40]);
  assert.deepEqual(precisionRecall(real, other, { k: 1 }), { precision: 0.4, recall: 0.8 });
});

test('sets no larger than k are refused', () => {
  assert.throws(() => precisionRecall(column([0, 1, 2]), column([0, 1, 2, 3])), /more than k/);
});
