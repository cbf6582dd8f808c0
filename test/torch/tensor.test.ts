import assert from 'node:assert/strict';
import { test } from 'node:test';
import { torch } from '../../src/index.js';

const close = (a: number, b: number, tol = 1e-5) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('creation from nested arrays and typed arrays, with dtypes', () => {
  const a = torch.tensor([
    [1, 2],
    [3, 4],
  ]);
  assert.deepEqual(a.shape, [2, 2]);
  assert.equal(a.dtype, 'float32');
  assert.deepEqual(torch.tensor(new Int32Array([1, 2, 3])).dtype, 'int32');
  assert.deepEqual(torch.tensor(new BigInt64Array([5n, -6n])).toArray(), [5, -6]);
  assert.deepEqual(torch.tensor([true, false]).toArray(), [true, false]);
  assert.deepEqual(torch.tensor([1.5, 2.5], { dtype: 'float64' }).toTypedArray(), new Float64Array([1.5, 2.5]));
  assert.deepEqual(torch.tensor([1, 2], { dtype: 'int64' }).toTypedArray(), new BigInt64Array([1n, 2n]));
  // 16-bit floats read back as float32 values: 1/3 rounds to the nearest half and bfloat16.
  close(torch.tensor([1 / 3], { dtype: 'float16' }).item(), 0.333251953125, 0);
  close(torch.tensor([1 / 3], { dtype: 'bfloat16' }).item(), 0.333984375, 0);
  assert.equal(torch.tensor(7).ndim, 0);
  assert.equal(torch.tensor(7).item(), 7);
  for (const d of ['float32', 'float64', 'float16', 'bfloat16', 'int32', 'int64', 'uint8', 'bool'] as const) {
    assert.equal(torch.zeros([2], { dtype: d }).dtype, d);
  }
});

test('constant, range and like constructors', () => {
  assert.deepEqual(torch.arange(4).toArray(), [0, 1, 2, 3]);
  assert.deepEqual(torch.arange(1, 2, 0.25).toArray(), [1, 1.25, 1.5, 1.75]);
  assert.deepEqual(torch.linspace(0, 1, 5).toArray(), [0, 0.25, 0.5, 0.75, 1]);
  assert.deepEqual(torch.eye(2).toArray(), [
    [1, 0],
    [0, 1],
  ]);
  assert.deepEqual(torch.full([2], 3.5).toArray(), [3.5, 3.5]);
  const x = torch.ones([2, 3], { dtype: 'float64' });
  assert.equal(torch.zerosLike(x).dtype, 'float64');
  assert.deepEqual(torch.fullLike(x, 2).sum().item(), 12);
  assert.deepEqual(torch.randnLike(x).shape, [2, 3]);
  const r = torch.randint(3, 7, [1000]);
  assert.equal(r.dtype, 'int64');
  assert.equal(r.min().item(), 3);
  assert.equal(r.max().item(), 6);
  assert.deepEqual(torch.randperm(5).sort()[0].toArray(), [0, 1, 2, 3, 4]);
});

test('broadcasting arithmetic, scalars and reductions', () => {
  const a = torch.tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  assert.deepEqual(a.add(torch.tensor([10, 20, 30])).toArray(), [
    [11, 22, 33],
    [14, 25, 36],
  ]);
  assert.deepEqual(a.sub(1, { alpha: 2 }).toArray(), [
    [-1, 0, 1],
    [2, 3, 4],
  ]);
  assert.deepEqual(a.mul(2).div(4).toArray(), [
    [0.5, 1, 1.5],
    [2, 2.5, 3],
  ]);
  assert.deepEqual(a.pow(2).sum(1).toArray(), [14, 77]);
  assert.deepEqual(a.mean(0).toArray(), [2.5, 3.5, 4.5]);
  assert.deepEqual(a.sum([0, 1], { keepdim: true }).shape, [1, 1]);
  close(a.var().item(), 3.5);
  close(a.std(null, { correction: 0 }).item(), Math.sqrt(35 / 12));
  const [values, indices] = a.max(1);
  assert.deepEqual(values.toArray(), [3, 6]);
  assert.deepEqual(indices.toArray(), [2, 2]);
  close((a.logsumexp(1).toArray() as number[])[0], Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)));
  // integer tensors stay integer with integer scalars, as in PyTorch
  assert.equal(torch.tensor([1, 2], { dtype: 'int64' }).add(1).dtype, 'int64');
  assert.equal(torch.tensor([1, 2], { dtype: 'int64' }).mul(0.5).dtype, 'float32');
});

test('matmul, bmm and einsum', () => {
  const a = torch.tensor([
    [1, 2],
    [3, 4],
  ]);
  const b = torch.tensor([
    [5, 6],
    [7, 8],
  ]);
  assert.deepEqual(a.matmul(b).toArray(), [
    [19, 22],
    [43, 50],
  ]);
  const ba = torch.stack([a, b]);
  assert.deepEqual(ba.bmm(ba).shape, [2, 2, 2]);
  assert.deepEqual(torch.einsum('ij,jk->ik', a, b).toArray(), a.matmul(b).toArray());
  assert.deepEqual(torch.einsum('ii', a).item(), 5);
});

test('views, joins and splits', () => {
  const t = torch.arange(6);
  assert.deepEqual(t.view(2, 3).toArray(), [
    [0, 1, 2],
    [3, 4, 5],
  ]);
  assert.deepEqual(t.reshape([3, 2]).transpose(0, 1).toArray(), [
    [0, 2, 4],
    [1, 3, 5],
  ]);
  assert.equal(t.reshape(3, 2).t().isContiguous(), false);
  assert.equal(t.reshape(3, 2).t().contiguous().isContiguous(), true);
  assert.deepEqual(t.view(1, 6, 1).squeeze().shape, [6]);
  assert.deepEqual(t.unsqueeze(0).shape, [1, 6]);
  assert.deepEqual(t.view(2, 3).permute(1, 0).shape, [3, 2]);
  assert.deepEqual(torch.tensor([1, 2]).view(2, 1).expand(2, 3).toArray(), [
    [1, 1, 1],
    [2, 2, 2],
  ]);
  assert.deepEqual(torch.cat([t, t]).shape, [12]);
  assert.deepEqual(torch.stack([t, t], 1).shape, [6, 2]);
  assert.deepEqual(
    t.split(4).map((x) => x.shape[0]),
    [4, 2],
  );
  assert.deepEqual(
    t.split([1, 5]).map((x) => x.shape[0]),
    [1, 5],
  );
  assert.deepEqual(
    t.chunk(3).map((x) => x.toArray()),
    [
      [0, 1],
      [2, 3],
      [4, 5],
    ],
  );
  assert.deepEqual(t.flatten().shape, [6]);
  assert.deepEqual(t.view(2, 3).unflatten(1, [3, 1]).shape, [2, 3, 1]);
});

test('indexing: narrow, select, index, masks, gather and scatter', () => {
  const t = torch.arange(12).view(3, 4);
  assert.deepEqual(t.narrow(1, 1, 2).toArray(), [
    [1, 2],
    [5, 6],
    [9, 10],
  ]);
  assert.deepEqual(t.select(0, 2).toArray(), [8, 9, 10, 11]);
  const rows = torch.tensor([2, 0], { dtype: 'int64' });
  assert.deepEqual(t.index([rows]).toArray(), [
    [8, 9, 10, 11],
    [0, 1, 2, 3],
  ]);
  assert.deepEqual(t.index([null, rows]).toArray(), [
    [2, 0],
    [6, 4],
    [10, 8],
  ]);
  const mask = t.gt(8);
  assert.deepEqual(t.maskedSelect(mask).toArray(), [9, 10, 11]);
  assert.deepEqual(t.maskedFill(mask, -1).sum().item(), 36 - 3);
  const idx = torch.tensor([[3], [0], [1]], { dtype: 'int64' });
  assert.deepEqual(t.gather(1, idx).toArray(), [[3], [4], [9]]);
  assert.deepEqual(torch.zeros([3, 4]).scatter(1, idx, 1).sum(1).toArray(), [1, 1, 1]);
  assert.deepEqual(
    torch
      .zeros([4])
      .scatterAdd(0, torch.tensor([1, 1, 3], { dtype: 'int64' }), torch.ones([3]))
      .toArray(),
    [0, 2, 0, 1],
  );
  assert.deepEqual(t.indexSelect(1, torch.tensor([0, 3], { dtype: 'int64' })).toArray(), [
    [0, 3],
    [4, 7],
    [8, 11],
  ]);
  const z = torch.zeros([3]);
  z.indexPut_([torch.tensor([0, 0], { dtype: 'int64' })], torch.tensor([1, 2]), { accumulate: true });
  assert.deepEqual(z.toArray(), [3, 0, 0]);
});

test('comparisons, where and clamp', () => {
  const x = torch.tensor([-2, -0.5, 0.5, 2]);
  assert.deepEqual(torch.where(x.gt(0), x, 0).toArray(), [0, 0, 0.5, 2]);
  assert.deepEqual(torch.where(x.lt(0), -1, 1).toArray(), [-1, -1, 1, 1]);
  assert.deepEqual(x.clamp(-1, 1).toArray(), [-1, -0.5, 0.5, 1]);
  assert.deepEqual(x.clamp(0).toArray(), [0, 0, 0.5, 2]);
  assert.deepEqual(x.eq(2).toArray(), [false, false, false, true]);
  assert.ok(x.allclose(x.add(1e-9)));
});

test('linear algebra against hand-computed values', () => {
  const a = torch.tensor(
    [
      [4, 2],
      [2, 3],
    ],
    { dtype: 'float64' },
  );
  const [sign, logabsdet] = torch.linalg.slogdet(a);
  assert.equal(sign.item(), 1);
  close(logabsdet.item(), Math.log(8), 1e-12);
  assert.deepEqual(torch.linalg.inv(a).mul(8).toArray(), [
    [3, -2],
    [-2, 4],
  ]);
  const l = torch.linalg.cholesky(a);
  close(l.matmul(l.t()).sub(a).abs().max().item(), 0, 1e-12);
  const x = torch.linalg.solve(a, torch.tensor([[2], [1]], { dtype: 'float64' }));
  assert.deepEqual(
    (x.toArray() as number[][]).map((r) => r[0]),
    [0.5, 0],
  );
  const [q, r] = torch.linalg.qr(a);
  close(q.matmul(r).sub(a).abs().max().item(), 0, 1e-12);
  const [u, s, vh] = torch.linalg.svd(a);
  close(u.mul(s.unsqueeze(0)).matmul(vh).sub(a).abs().max().item(), 0, 1e-12);
  const [evals] = torch.linalg.eigh(a);
  const disc = Math.sqrt(1 + 16);
  const ev = evals.toArray() as number[];
  close(ev[0], (7 - disc) / 2, 1e-12);
  close(ev[1], (7 + disc) / 2, 1e-12);
  const [p, lo, up] = torch.linalg.lu(a);
  close(p.matmul(lo).matmul(up).sub(a).abs().max().item(), 0, 1e-12);
});

test('dtype and device conversion', () => {
  const x = torch.tensor([1.7, -2.2]);
  assert.equal(x.double().dtype, 'float64');
  assert.deepEqual(x.long().toArray(), [1, -2]);
  assert.equal(x.to('float16').dtype, 'float16');
  assert.equal(x.to({ dtype: 'float64', device: 'cpu' }).dtype, 'float64');
  assert.equal(x.cpu().device, 'cpu');
  assert.equal(torch.cuda.isAvailable(), false);
});

test('autograd: backward, grad fields, leaves and retainGrad', () => {
  const w = torch.tensor([1, 2, 3], { requiresGrad: true });
  assert.equal(w.isLeaf, true);
  const h = w.mul(w).retainGrad();
  assert.equal(h.gradFn, 'MulBackward0');
  h.sum().backward();
  assert.deepEqual(w.grad!.toArray(), [2, 4, 6]);
  assert.deepEqual(h.grad!.toArray(), [1, 1, 1]);
  w.mul(3).sum().backward();
  assert.deepEqual(w.grad!.toArray(), [5, 7, 9], 'gradients accumulate');
  w.grad = null;
  assert.equal(w.grad, null);
  assert.equal(torch.noGrad(() => w.mul(2)).requiresGrad, false);
  assert.equal(
    torch.inferenceMode(() => w.mul(2).isDisposed),
    false,
  );
  assert.equal(torch.isGradEnabled(), true);
  const [g] = torch.grad(w.pow(3).sum(), w, { createGraph: true });
  const [gg] = torch.grad(g!.sum(), w);
  assert.deepEqual(gg!.toArray(), [6, 12, 18]);
  const unused = torch.ones([1], { requiresGrad: true });
  assert.deepEqual(torch.grad(w.sum(), [w, unused], { allowUnused: true })[1], null);
});

test('int64 values reach JS exactly or not at all', () => {
  torch.tidy(() => {
    const safe = 2n ** 53n - 1n;
    const big = torch.tensor(new BigInt64Array([safe, safe + 2n, -(safe + 2n)]));
    assert.equal(big.select(0, 0).item(), Number(safe));
    assert.throws(() => big.select(0, 1).item(), /9007199254740993 is beyond 2\^53 - 1/);
    assert.throws(() => big.select(0, 2).item(), /-9007199254740993 is beyond/);
    assert.throws(() => big.toArray(), /toArray\(\): the integer 9007199254740993 is beyond/);
    assert.deepEqual([...(big.toTypedArray() as BigInt64Array)], [safe, safe + 2n, -(safe + 2n)]);
    assert.deepEqual(big.narrow(0, 0, 1).toArray(), [Number(safe)]);
  });
});
