import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nn, optim, torch } from '../../src/index.js';
import { Tensor } from '../../src/torch/index.js';

test('a tensor exposes no handle or scope state', () => {
  const t = torch.ones([2]);
  assert.deepEqual(Object.keys(t), []);
  assert.equal((t as unknown as Record<string, unknown>).h, undefined);
  assert.equal((t as unknown as Record<string, unknown>).state, undefined);
  assert.ok(!('h' in t) && !('state' in t));
  t.dispose();
  assert.ok(t.isDisposed);
});

test('new Tensor(t) is a second handle to the same tensor; toBytes() gives raw bits', () => {
  const a = torch.tensor([1, 2, 3]);
  const b = new Tensor(a);
  b.mul_(2);
  assert.deepEqual(a.toArray(), [2, 4, 6]);
  a.dispose();
  assert.deepEqual(b.toArray(), [2, 4, 6], 'b outlives a');
  b.dispose();
  assert.deepEqual([...torch.tensor([1, -2], { dtype: 'float16' }).toBytes()], [0x00, 0x3c, 0x00, 0xc0]);
});

test('the data setter swaps data in place, keeping the object and requiresGrad', () => {
  const p = new nn.Parameter(torch.zeros([2, 2]));
  const moved = torch.tensor([1, 2, 3], { dtype: 'float64' });
  p.data = moved;
  assert.ok(p instanceof nn.Parameter);
  assert.equal(p.dtype, 'float64');
  assert.deepEqual(p.toArray(), [1, 2, 3]);
  assert.equal(p.requiresGrad, true);
  const d = p.data;
  assert.equal(d.requiresGrad, false, '.data is detached');
  d.fill_(7);
  assert.deepEqual(p.toArray(), [7, 7, 7], '.data shares storage');
  assert.throws(() => {
    p.data = 3 as unknown as Tensor;
  }, /expected a Tensor/);
  torch.dispose([p, moved, d]);
});

test('the grad setter refuses another shape, dtype or the tensor itself, as PyTorch does', () => {
  const p = new nn.Parameter(torch.zeros([2, 3]));
  assert.throws(() => {
    p.grad = torch.ones([3, 2]);
  }, /grad: cannot assign a gradient of shape \[3, 2\] to a tensor of shape \[2, 3\]/);
  assert.throws(() => {
    p.grad = torch.ones([2, 3], { dtype: 'float64' });
  }, /grad: cannot assign a gradient of dtype float64 to a tensor of dtype float32/);
  assert.throws(() => {
    p.grad = p;
  }, /its own gradient/);
  assert.equal(p.grad, null, 'nothing was assigned');
  // A refused gradient never reaches an optimizer; a matching one does.
  const opt = new optim.SGD([p], { lr: 0.5 });
  opt.step();
  assert.deepEqual(p.toArray(), [
    [0, 0, 0],
    [0, 0, 0],
  ]);
  p.grad = torch.full([2, 3], 2);
  opt.step();
  assert.deepEqual(p.toArray(), [
    [-1, -1, -1],
    [-1, -1, -1],
  ]);
  p.grad = null;
  assert.equal(p.grad, null);
  p.dispose();
});
