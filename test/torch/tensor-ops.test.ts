import assert from 'node:assert/strict';
import { test } from 'node:test';
import { torch } from '../../src/index.js';
import type { Tensor } from '../../src/torch/index.js';

test('torch.ops wrappers refuse extra positional arguments, naming the operator', () => {
  const x = torch.ones([2, 3]);
  assert.throws(
    () => (torch.ops.sum_dim_IntList as (...a: unknown[]) => Tensor)(x, [0], true),
    /^TypeError: aten::sum\.dim_IntList: its defaulted arguments \(keepdim, dtype\) go in an options object, got true$/,
  );
  assert.throws(
    () => (torch.ops.add_Tensor as (...a: unknown[]) => Tensor)(x, x, { alpha: 2 }, 5),
    /^TypeError: aten::add\.Tensor takes at most 3 arguments \(defaulted ones go in the options object\), got 4$/,
  );
  assert.throws(() => (torch.ops.add as (...a: unknown[]) => Tensor)(x, 1, {}, 5), /aten::add takes at most 3/);
  // The declared arguments still work, with or without the options object.
  assert.equal(torch.ops.add_Tensor(x, x, { alpha: 2 }).sum().item(), 18);
  assert.equal(torch.ops.sum_dim_IntList(x, [0], { keepdim: true }).shape.join(','), '1,3');
});

test('generated dispatchers pick the Tensor or Scalar overload', () => {
  const t = torch.tensor([1, 2, 3]);
  assert.deepEqual(torch.ops.add(t, 2, { alpha: 3 }).toArray(), [7, 8, 9]);
  assert.deepEqual(torch.ops.add(t, t, { alpha: 3 }).toArray(), [4, 8, 12]);
  assert.deepEqual(torch.ops.pow(2, t).toArray(), [2, 4, 8], 'pow.Scalar: a number base');
  assert.deepEqual(torch.ops.pow(t, 2).toArray(), [1, 4, 9]);
  assert.deepEqual(torch.ops.pow(t, t).toArray(), [1, 4, 27]);
  assert.throws(() => torch.ops.pow(2, 3), /aten::pow: no overload takes this mix of tensors and numbers/);
  const c = torch.tensor([true, false, true]);
  assert.deepEqual(torch.ops.where_TensorOrScalar(c, 0, t).toArray(), [0, 2, 0]);
  assert.deepEqual(torch.ops.where_TensorOrScalar(c, t, -1).toArray(), [1, -1, 3]);
  assert.deepEqual(torch.ops.div_mode(t, 2, 'floor').toArray(), [0, 1, 1]);
  const u = t.clone();
  assert.equal(torch.ops.add_(u, 10), u, 'in-place dispatchers return their first argument');
  assert.deepEqual(u.toArray(), [11, 12, 13]);
  // Tensor methods go through them: the same values as before.
  assert.deepEqual(t.sub(1, { alpha: 2 }).toArray(), [-1, 0, 1]);
  assert.deepEqual(t.rsub(10).toArray(), [9, 8, 7]);
  assert.deepEqual(t.remainder(2).toArray(), [1, 0, 1]);
  assert.deepEqual(t.scatter(0, torch.tensor([0], { dtype: 'int64' }), 9).toArray(), [9, 2, 3]);
  assert.deepEqual(torch.where(c, 5, 6).toArray(), [5, 6, 5]);
});

test('readable aliases name the same functions', () => {
  assert.equal(torch.ops.add_Tensor_, torch.ops.add__Tensor);
  assert.equal(torch.ops._foreachAddcdiv_ScalarList_, torch.ops._foreachAddcdiv__ScalarList);
  const xs = [torch.ones([2])];
  torch.ops._foreachAddcdiv_ScalarList_(xs, [torch.ones([2])], [torch.full([2], 4)], [2]);
  assert.deepEqual(xs[0].toArray(), [1.5, 1.5]);
});
