import assert from 'node:assert/strict';
import { test } from 'node:test';
import { torch } from '../../src/index.js';

// Every native failure must surface as a JS Error naming the operator and the inputs, never an abort.

test('a shape mismatch names the operator and both shapes', () => {
  const a = torch.zeros([2, 3]);
  const b = torch.zeros([4]);
  assert.throws(
    () => a.add(b),
    (e: Error) => {
      assert.match(e.message, /^aten::add\.Tensor: /);
      assert.match(e.message, /size of tensor a \(3\) must match the size of tensor b \(4\)/);
      assert.match(e.message, /self=float32\[2, 3\], other=float32\[4\]/);
      return true;
    },
  );
  assert.throws(
    () => a.matmul(torch.zeros([2, 3])),
    /aten::matmul: .*mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)/,
  );
});

test('a wrong dtype names the operator and the dtypes', () => {
  const f = torch.zeros([2, 2]);
  const i = torch.zeros([2, 2], { dtype: 'int64' });
  assert.throws(
    () => f.mm(i),
    (e: Error) => {
      assert.match(e.message, /^aten::mm: /);
      assert.match(e.message, /self=float32\[2, 2\], mat2=int64\[2, 2\]/);
      return true;
    },
  );
  assert.throws(() => torch.zeros([3]).gather(0, torch.zeros([2])), /aten::gather: .*Expected dtype int64 for index/);
});

test('an out-of-range index names the operator and the bound', () => {
  const t = torch.zeros([3, 4]);
  assert.throws(
    () => t.select(0, 10),
    /aten::select\.int: .*index 10 out of range for tensor of size \[3, 4\] at dimension 0/,
  );
  assert.throws(
    () => t.gather(1, torch.tensor([[7]], { dtype: 'int64' })),
    /aten::gather: .*index 7 is out of bounds for dimension 1 with size 4/,
  );
  assert.throws(() => t.size(5), /size\(\): dimension 5 out of range/);
});

test('use of a disposed tensor is reported, not a crash', () => {
  const a = torch.ones([2]);
  const b = torch.ones([2]);
  b.dispose();
  assert.equal(b.isDisposed, true);
  assert.throws(() => a.add(b), /aten::add\.Tensor: argument 'other' is a disposed tensor/);
  assert.throws(() => b.add(a), /aten::add\.Tensor: argument 'self' is a disposed tensor/);
  assert.throws(() => b.shape, /disposed tensor/);
  // The message says where undisposed tensors go, the module forward included.
  assert.throws(() => b.add(a), /the module forward it was made in; return it or keep\(\) it to use it after/);
  assert.throws(() => b.toArray(), /disposed tensor/);
  b.dispose(); // disposing twice is harmless
});

test('a non-tensor argument is named', () => {
  const a = torch.ones([2]);
  assert.throws(() => torch.ops.add_Tensor(a, 5 as never), /aten::add\.Tensor: argument 'other' must be a Tensor/);
  assert.throws(() => a.matmul('x' as never), /aten::matmul: argument 'other' must be a Tensor/);
  assert.throws(() => torch.cat([a, {} as never]), /aten::cat: argument 'tensors' must be a Tensor/);
  assert.throws(
    () => torch.ops.sum_dim_IntList(a, 'zero' as never),
    /aten::sum\.dim_IntList: argument 'dim' expects an array/,
  );
  assert.throws(() => torch.ops.mul_Scalar(a, 'two' as never), /aten::mul\.Scalar: argument 'other' expects a number/);
});

test('bad creation arguments give clear errors', () => {
  assert.throws(() => torch.tensor([[1, 2], [3]]), /ragged/);
  assert.throws(
    () => torch.tensor(new Float32Array(5), { shape: [2, 3] }),
    /5 bytes|20 bytes but shape float32\[2, 3\] needs 24/,
  );
  assert.throws(() => torch.zeros([2], { dtype: 'float128' as never }), /unknown dtype 'float128'/);
  assert.throws(() => torch.zeros([-1]), /aten::zeros: /);
  assert.throws(() => torch.manualSeed(-3), /seed must be a non-negative integer/);
});

test('a failing backward is reported', () => {
  const x = torch.ones([2], { requiresGrad: true });
  assert.throws(() => x.mul(2).backward(), /backward: grad can be implicitly created only for scalar outputs/);
  const y = x.mul(x).sum();
  y.backward();
  assert.throws(() => y.backward(), /backward: Trying to backward through the graph a second time/);
});

test("libtorch's autograd messages name genlab's options, not Python's", () => {
  const x = torch.ones([2], { requiresGrad: true });
  const y = x.mul(x).sum();
  y.backward();
  assert.throws(
    () => y.backward(),
    (e: Error) => /Specify \{retainGraph: true\} if you need/.test(e.message) && !e.message.includes('retain_graph'),
  );
  const unused = torch.ones([2], { requiresGrad: true });
  assert.throws(
    () => torch.grad(x.mul(3).sum(), [x, unused]),
    (e: Error) => /\{allowUnused: true\}/.test(e.message) && !e.message.includes('allow_unused'),
  );
  assert.deepEqual(torch.grad(x.mul(3).sum(), [x, unused], { allowUnused: true })[1], null);
});
