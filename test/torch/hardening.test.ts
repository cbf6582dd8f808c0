// Issues 22 and 23: no input may kill the process, and no number may be silently wrong.
// Inputs that used to kill Node (SIGSEGV, SIGFPE, a libgomp abort) run in a child process, which must
// catch a JS Error for each and exit 0; the parent asserts the exit status and the messages.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { torch } from '../../src/index.js';
import { N } from '../../src/torch/native.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

type Outcome = { ok?: unknown; error?: string };

/**
 * Runs `body` in a fresh Node process. `attempt(f)` records f's value, or the message of the Error it
 * throws (anything else thrown, or a signal, fails the test). Returns the recorded outcomes in order.
 */
function inChild(body: string): Outcome[] {
  const script = `import { torch } from 'genlab';
const out = [];
const attempt = (f) => {
  try { out.push({ ok: f() }); } catch (e) { if (!(e instanceof Error)) throw e; out.push({ error: e.message }); }
};
${body}
console.log(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
  });
  assert.equal(r.signal, null, `the child was killed by ${r.signal}: ${r.stderr.slice(-500)}`);
  assert.equal(r.status, 0, r.stderr.slice(-500));
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '[]') as Outcome[];
}

function errorOf(o: Outcome | undefined): string {
  assert.ok(o !== undefined && o.error !== undefined, `expected an error, got ${JSON.stringify(o)}`);
  return o.error;
}

test('reading a scalar of an empty tensor throws (was SIGSEGV)', () => {
  const out = inChild(`
attempt(() => torch.ops._localScalarDense(torch.ones([0])));
attempt(() => torch.ops._localScalarDense(torch.ones([2, 3])));
attempt(() => torch.ones([0]).item());
attempt(() => torch.ops._localScalarDense(torch.full([1], 5)));`);
  assert.match(errorOf(out[0]), /^aten::_local_scalar_dense: a tensor with 0 elements cannot be converted to a number/);
  assert.match(errorOf(out[1]), /^aten::_local_scalar_dense: a tensor with 6 elements cannot be converted/);
  assert.match(errorOf(out[2]), /a tensor with 0 elements cannot be converted to a number/);
  assert.deepEqual(out[3], { ok: 5 });
});

test('integer MIN / -1 throws for div, floorDivide; remainder and fmod give 0 (was SIGFPE)', () => {
  const out = inChild(`
const i64 = (xs) => torch.tensor(xs, { dtype: 'int64' });
const i32 = (xs) => torch.tensor(xs, { dtype: 'int32' });
const MIN64 = -(2 ** 63), MIN32 = -(2 ** 31);
attempt(() => i64([MIN64]).div(-1, { roundingMode: 'floor' }));
attempt(() => i64([MIN64]).div(-1, { roundingMode: 'trunc' }));
attempt(() => i64([5, MIN64]).div(i64([1, -1]), { roundingMode: 'floor' }));
attempt(() => torch.ops.floorDivide_Scalar(i64([MIN64]), -1));
attempt(() => torch.ops.floorDivide(i32([7, MIN32]), i32([2, -1])));
attempt(() => torch.ops.div__Scalar_mode(i32([MIN32]), -1, 'trunc'));
attempt(() => i32([MIN32, 7]).remainder(-1).toArray());
attempt(() => i32([MIN32, 7]).remainder(i32([-1, -1])).toArray());
attempt(() => torch.ops.remainder_Scalar_Tensor(MIN32, i32([-1, 3])).toArray());
attempt(() => torch.ops.fmod_Scalar(i64([MIN64, -7]), -1).toTypedArray().join());
attempt(() => torch.ops.fmod_Tensor(i64([MIN64, -7]), i64([-1, 3])).toTypedArray().join());
attempt(() => torch.tensor([-128], { dtype: 'int8' }).div(-1, { roundingMode: 'trunc' }));
attempt(() => i32([MIN32 + 1, 6]).div(i32([-1, -1]), { roundingMode: 'trunc' }).toArray());
attempt(() => torch.ops.floorDivide(i64([MIN64]), torch.tensor([-1], { dtype: 'int32' })));`);
  const overflow64 = /integer overflow: -9223372036854775808 divided by -1 does not fit in int64/;
  const overflow32 = /integer overflow: -2147483648 divided by -1 does not fit in int32/;
  assert.match(errorOf(out[0]), /^aten::div\.Scalar_mode: /);
  assert.match(errorOf(out[0]), overflow64);
  assert.match(errorOf(out[1]), overflow64);
  assert.match(errorOf(out[2]), /^aten::div\.Tensor_mode: integer overflow: -9223372036854775808/);
  assert.match(errorOf(out[3]), /^aten::floor_divide\.Scalar: integer overflow/);
  assert.match(errorOf(out[4]), /^aten::floor_divide: /);
  assert.match(errorOf(out[4]), overflow32);
  assert.match(errorOf(out[5]), /^aten::div_\.Scalar_mode: /);
  assert.match(errorOf(out[5]), overflow32);
  // x % -1 is 0 for every integer x, MIN included: the answer fits, so it is given.
  assert.deepEqual(out[6], { ok: [0, 0] });
  assert.deepEqual(out[7], { ok: [0, 0] });
  assert.deepEqual(out[8], { ok: [0, 1] }); // Python's -2**31 % 3
  assert.deepEqual(out[9], { ok: '0,0' });
  assert.deepEqual(out[10], { ok: '0,-1' });
  // int8 would wrap silently to -128 rather than trap: refused too.
  assert.match(errorOf(out[11]), /integer overflow: -128 divided by -1 does not fit in int8/);
  assert.deepEqual(out[12], { ok: [2147483647, -6] });
  // Promotion: int64 MIN and an int32 -1 divide in int64.
  assert.match(errorOf(out[13]), overflow64);
});

test('integer division by zero raises ZeroDivisionError for every integer dtype and divisor kind', () => {
  const out = inChild(`
for (const dtype of ['uint8', 'int8', 'int16', 'int32', 'int64']) {
  const x = torch.tensor([6, 4], { dtype });
  const zero = torch.tensor([3, 0], { dtype });
  attempt(() => x.div(0, { roundingMode: 'trunc' }));
  attempt(() => x.div(zero, { roundingMode: 'floor' }));
  attempt(() => torch.ops.floorDivide_Scalar(x, 0));
  attempt(() => torch.ops.floorDivide(x, zero));
  attempt(() => x.remainder(0));
  attempt(() => x.remainder(zero));
  attempt(() => torch.ops.fmod_Scalar(x, 0));
  attempt(() => torch.ops.fmod_Tensor(x, zero));
  attempt(() => torch.ops.remainder_Scalar_Tensor(5, zero));
}`);
  assert.equal(out.length, 45);
  for (const o of out)
    assert.match(errorOf(o), /^aten::(div|floor_divide|remainder|fmod)[._A-Za-z]*: ZeroDivisionError/);
});

test('ordinary integer division is unchanged by the guards', () => {
  const x = torch.tensor([-7, 7], { dtype: 'int64' });
  assert.deepEqual(x.div(2, { roundingMode: 'floor' }).toArray(), [-4, 3]);
  assert.deepEqual(x.div(2, { roundingMode: 'trunc' }).toArray(), [-3, 3]);
  assert.deepEqual(x.div(-1, { roundingMode: 'floor' }).toArray(), [7, -7]);
  assert.deepEqual(x.remainder(3).toArray(), [2, 1]);
  assert.deepEqual(x.remainder(-1).toArray(), [0, 0]);
  assert.deepEqual(torch.ops.fmod_Scalar(x, 3).toArray(), [-1, 1]);
  assert.deepEqual(torch.ops.floorDivide(x, torch.tensor([2, -2], { dtype: 'int64' })).toArray(), [-4, -4]);
  assert.equal(x.div(2).dtype, 'float32');
  assert.deepEqual(x.div(2).toArray(), [-3.5, 3.5]);
});

test('setNumThreads refuses counts that are not positive integers up to 1024 (was a libgomp abort)', () => {
  const out = inChild(`
const before = torch.getNumThreads();
for (const n of [1e10, 2 ** 32 + 1, 1025, 0, -1, 1.5, NaN, Infinity]) attempt(() => torch.setNumThreads(n));
attempt(() => torch.setNumThreads('2'));
attempt(() => torch.getNumThreads() === before);
attempt(() => { torch.setNumThreads(2); return torch.getNumThreads(); });`);
  assert.match(errorOf(out[0]), /^setNumThreads: thread count 10000000000 is above genlab's ceiling of 1024 threads/);
  assert.match(errorOf(out[1]), /thread count 4294967297 is above genlab's ceiling of 1024/);
  assert.match(errorOf(out[2]), /thread count 1025 is above/);
  assert.match(errorOf(out[3]), /thread count must be an integer of at least 1, got 0/);
  assert.match(errorOf(out[4]), /got -1/);
  assert.match(errorOf(out[5]), /got 1\.5/);
  assert.match(errorOf(out[6]), /got NaN/);
  assert.match(errorOf(out[7]), /thread count Infinity is above/);
  assert.match(errorOf(out[8]), /thread count must be a number/);
  assert.deepEqual(out[9], { ok: true });
  assert.deepEqual(out[10], { ok: 2 });
});

test('a gradient without storage is materialised: reading it gives zeros (was SIGSEGV)', () => {
  const out = inChild(`
const x = torch.ones([3], { requiresGrad: true });
torch.ops.sgn(x).sum().backward();
attempt(() => x.grad.toArray());
attempt(() => Array.from(x.grad.toTypedArray()));
attempt(() => String(x.grad));
attempt(() => x.grad.sum().item());
x.mul(2).sum().backward();
attempt(() => x.grad.toArray());
const y = torch.ones([2], { requiresGrad: true });
attempt(() => torch.grad([torch.ops.sgn(y).sum()], [y])[0].toArray());
attempt(() => torch.ops._efficientzerotensor([2, 2]).toArray());
attempt(() => torch.ops._efficientzerotensor([3]).add(1).toArray());`);
  assert.deepEqual(out[0], { ok: [0, 0, 0] });
  assert.deepEqual(out[1], { ok: [0, 0, 0] });
  assert.deepEqual(out[2], { ok: 'tensor([0., 0., 0.])' });
  assert.deepEqual(out[3], { ok: 0 });
  // The materialised zeros are x's gradient: a later backward accumulates into them.
  assert.deepEqual(out[4], { ok: [2, 2, 2] });
  assert.deepEqual(out[5], { ok: [0, 0] });
  assert.deepEqual(out[6], {
    ok: [
      [0, 0],
      [0, 0],
    ],
  });
  assert.deepEqual(out[7], { ok: [1, 1, 1] });
});

test('operators that trust their inputs are guarded or refused', () => {
  const out = inChild(`
const seq = torch.tensor([3, 1, 2]);
attempt(() => torch.ops.searchsorted_Tensor(seq, torch.tensor([2.5]), { sorter: torch.tensor([100, -50, 7], { dtype: 'int64' }) }));
attempt(() => torch.ops.searchsorted_Tensor(seq, torch.tensor([2.5]), { sorter: torch.tensor([1, 2, 3], { dtype: 'int64' }) }));
attempt(() => torch.ops.searchsorted_Tensor(seq, torch.tensor([2.5]), { sorter: torch.tensor([1, 2, 0], { dtype: 'int64' }) }).toArray());
attempt(() => torch.ops.segmentReduce(torch.ones([3]), 'sum', { lengths: torch.tensor([5, 7], { dtype: 'int64' }), unsafe: true }));
attempt(() => torch.ops.segmentReduce(torch.ones([3]), 'sum', { lengths: torch.tensor([1, 2], { dtype: 'int64' }) }).toArray());
attempt(() => torch.ops._sparseCooTensorUnsafe(torch.tensor([[100000]], { dtype: 'int64' }), torch.ones([1]), [3]));
attempt(() => torch.ops._indexPutImpl_(torch.ones([3]), [torch.tensor([1], { dtype: 'int64' })], torch.ones([1]), { unsafe: true }));
// Not in the typed wrappers, but reachable through the addon: strides far beyond the storage.
const { N } = await import('./src/torch/native.ts');
attempt(() => N.call(N.lookup('aten::_reshape_alias', ''), N.fromBuffer(new Float32Array([1, 2]), [2], 6), [4], [1e8]));
// A wrong state shape made _sobol_engine_draw write past its buffers.
const i64 = (xs, shape) => torch.tensor(xs, { dtype: 'int64', shape });
attempt(() => torch.ops._sobolEngineDraw(i64([0]), 5, i64([0], [1, 1]), 1000, 0, 'float32'));
attempt(() => torch.ops._sobolEngineFf_(i64([0]), 5, i64([0], [1, 1]), 1000, 0));
// Enumeration codes index libtorch's tables unchecked: an unknown ScalarType aborted the process.
attempt(() => N.fromBuffer(new Uint8Array(4), [4], 99));
attempt(() => N.call(N.lookup('aten::zeros', ''), [2], 99));
attempt(() => N.call(N.lookup('aten::empty', 'memory_format'), [2], null, null, null, null, 9));`);
  assert.match(
    errorOf(out[0]),
    /^aten::searchsorted\.Tensor: sorter holds index -50, outside \[0, 3\) of the sorted dimension/,
  );
  assert.match(errorOf(out[1]), /sorter holds index 3, outside \[0, 3\)/);
  assert.deepEqual(out[2], { ok: [2] });
  assert.match(errorOf(out[3]), /^aten::segment_reduce: unsafe=True switches off libtorch's bounds checks/);
  assert.deepEqual(out[4], { ok: [1, 2] });
  assert.match(errorOf(out[5]), /^aten::_sparse_coo_tensor_unsafe: refused: it skips libtorch's index validation/);
  assert.match(errorOf(out[6]), /^aten::_index_put_impl_: unsafe=True/);
  assert.match(errorOf(out[7]), /^aten::_reshape_alias: refused: it takes any strides without checking them/);
  assert.match(errorOf(out[8]), /^aten::_sobol_engine_draw: refused: SobolEngine's internal state is trusted/);
  assert.match(errorOf(out[9]), /^aten::_sobol_engine_ff_: refused/);
  assert.match(errorOf(out[10]), /^fromBuffer: unknown dtype code 99/);
  assert.match(errorOf(out[11]), /^aten::zeros: argument 'dtype' is not a ScalarType code \(0 to 17\), got 99/);
  assert.match(errorOf(out[12]), /argument 'memory_format' is not a MemoryFormat code \(0 to 3\), got 9/);
});

test('a negative zero keeps its sign as a Scalar', () => {
  const isNegZero = (v: unknown) => Object.is(v, -0);
  assert.ok(isNegZero(torch.ones([1]).mul(-0.0).item()));
  assert.equal(torch.ones([1]).div(-0.0).item(), -Infinity);
  assert.deepEqual(torch.full([2], -0.0).toArray(), [-0, -0]);
  assert.ok((torch.full([2], -0.0).toArray() as number[]).every(isNegZero));
  assert.ok(isNegZero(torch.scalarTensor(-0).item()));
  // +0 is still an integer Scalar and keeps integer tensors integral.
  assert.ok(Object.is(torch.ones([1]).mul(0).item(), 0));
  assert.equal(torch.tensor([3], { dtype: 'int64' }).mul(0).dtype, 'int64');
  // -0 is a floating Scalar: an integer tensor promotes, as it does times -0.0 in PyTorch.
  const p = torch.tensor([3], { dtype: 'int64' }).mul(-0.0);
  assert.equal(p.dtype, 'float32');
  assert.ok(isNegZero(p.item()));
});

test('a stale or forged handle throws instead of reaching another tensor', () => {
  const h1 = N.fromBuffer(new Float32Array([1, 2]), [2], 6);
  N.free(h1);
  // The freed slot is reused by the next tensor; the old handle must not reach it.
  const h2 = N.fromBuffer(new Float32Array([7, 7]), [2], 6);
  try {
    assert.notEqual(h2, h1);
    assert.throws(() => N.toBuffer(h1), /^Error: toBuffer: stale tensor handle \d+: its tensor was freed/);
    assert.throws(() => N.shape(h1), /stale tensor handle/);
    assert.throws(
      () => new (torch.Tensor as never as new (h: number) => torch.Tensor)(h1).toArray(),
      /stale tensor handle/,
    );
    assert.throws(
      () => N.call(N.lookup('aten::neg', ''), h1),
      /^Error: aten::neg: argument 'self': stale tensor handle/,
    );
    // Freeing the stale handle again is a no-op: it does not free the tensor now in its slot.
    N.free(h1);
    assert.deepEqual(Array.from(new Float32Array(N.toBuffer(h2))), [7, 7]);
  } finally {
    N.free(h2);
  }
  for (const forged of [0, 1, 5, 2 ** 20, 2 ** 31 - 1]) {
    assert.throws(() => N.shape(forged), /invalid tensor handle|stale tensor handle/);
  }
  assert.throws(() => N.shape(-1), /use of a disposed tensor/);
  // Every reuse of a slot makes a new handle; all the old ones stay invalid.
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const h = N.fromBuffer(new Float32Array([i]), [1], 6);
    assert.ok(!seen.has(h), `handle ${h} was handed out twice`);
    seen.add(h);
    N.free(h);
  }
  for (const h of seen) assert.equal(tryNumel(h), 'stale');
});

function tryNumel(h: number): string {
  try {
    N.numel(h);
    return 'live';
  } catch (e) {
    return /stale tensor handle/.test((e as Error).message) ? 'stale' : (e as Error).message;
  }
}
