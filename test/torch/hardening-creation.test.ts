// Issue 23, creation side: tensor() refuses values it would otherwise wrap or turn into NaN, infers
// bool only from all-boolean data, and asFloat() marks a floating Scalar (JS cannot tell 2.0 from 2).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { torch } from '../../src/index.js';

test('integer-valued numbers are integer Scalars; asFloat() asks for a floating one', () => {
  const i = torch.tensor([3, -2], { dtype: 'int64' });
  assert.equal(i.mul(2).dtype, 'int64');
  assert.equal(i.mul(2.0).dtype, 'int64'); // JS cannot tell 2.0 from 2: like a Python int
  assert.deepEqual(i.mul(2).toArray(), [6, -4]);
  assert.equal(i.mul(2.5).dtype, 'float32');
  assert.deepEqual(i.mul(2.5).toArray(), [7.5, -5]);
  const f = torch.ops.mul_Scalar(i, torch.asFloat(2) as never);
  assert.equal(f.dtype, 'float32');
  assert.deepEqual(f.toArray(), [6, -4]);
  assert.equal(torch.ops.add_Scalar(i, torch.asFloat(1) as never).dtype, 'float32');
  assert.equal(
    torch.ops.add_Scalar(torch.tensor([1], { dtype: 'float64' }), torch.asFloat(1) as never).dtype,
    'float64',
  );
  assert.equal(torch.tensor([1.5]).mul(2).dtype, 'float32');
  assert.throws(() => torch.asFloat('2' as never), /asFloat\(\): expected a number, got string/);
  assert.throws(() => torch.ops.mul_Scalar(i, { double: 2 } as never), /argument 'other' expects a number/);
});

test('tensor() refuses values an integer dtype cannot hold, instead of wrapping them', () => {
  assert.throws(
    () => torch.tensor([1e20], { dtype: 'int64' }),
    /^RangeError: tensor\(\): element \[0\] = 100000000000000000000 does not fit in int64 \(range -2\^63 to 2\^63 - 1\)/,
  );
  assert.throws(
    () => torch.tensor([[1, 3e9]], { dtype: 'int32' }),
    /element \[0, 1\] = 3000000000 does not fit in int32 \(range -2147483648 to 2147483647\)/,
  );
  assert.throws(
    () => torch.tensor([300], { dtype: 'uint8' }),
    /element \[0\] = 300 does not fit in uint8 \(range 0 to 255\)/,
  );
  assert.throws(() => torch.tensor([-1], { dtype: 'uint8' }), /= -1 does not fit in uint8/);
  assert.throws(() => torch.tensor([128], { dtype: 'int8' }), /= 128 does not fit in int8/);
  assert.throws(() => torch.tensor([40000], { dtype: 'int16' }), /= 40000 does not fit in int16/);
  assert.throws(() => torch.tensor([NaN], { dtype: 'int64' }), /= NaN does not fit in int64/);
  assert.throws(() => torch.tensor([Infinity], { dtype: 'int32' }), /= Infinity does not fit in int32/);
  assert.throws(() => torch.tensor([2 ** 63], { dtype: 'int64' }), /does not fit in int64/);
  assert.throws(() => torch.tensor(new Float64Array([1, 3e9]), { dtype: 'int32' }), /element \[1\] = 3000000000/);
  assert.throws(
    () => torch.tensor(new Int32Array([1, 256]), { dtype: 'uint8' }),
    /element \[1\] = 256 does not fit in uint8/,
  );
  // The ends of each range, and fractions (truncated toward zero, as in PyTorch), are accepted.
  assert.deepEqual(torch.tensor([-(2 ** 63)], { dtype: 'int64' }).toTypedArray(), BigInt64Array.of(-(2n ** 63n)));
  assert.deepEqual(torch.tensor([-2147483648, 2147483647], { dtype: 'int32' }).toArray(), [-2147483648, 2147483647]);
  assert.deepEqual(torch.tensor([0, 255], { dtype: 'uint8' }).toArray(), [0, 255]);
  assert.deepEqual(torch.tensor([2.7, -2.7], { dtype: 'int64' }).toArray(), [2, -2]);
  // Floating dtypes follow IEEE rounding, as PyTorch's do.
  assert.deepEqual(torch.tensor([1e39]).toArray(), [Infinity]);
});

test('tensor() infers bool only from all-boolean data, and names bad elements and ragged rows', () => {
  const mixed = torch.tensor([true, 2]);
  assert.equal(mixed.dtype, 'float32');
  assert.deepEqual(mixed.toArray(), [1, 2]);
  assert.deepEqual(torch.tensor([[2], [false]]).toArray(), [[2], [0]]);
  assert.equal(torch.tensor([[true], [false]]).dtype, 'bool');
  assert.equal(torch.tensor([]).dtype, 'float32');
  assert.equal(torch.tensor([true, 2], { dtype: 'int64' }).dtype, 'int64');
  assert.throws(
    () => torch.tensor([1, 'a' as never]),
    /^Error: tensor\(\): element \[1\] is a string, not a number or boolean/,
  );
  assert.throws(
    () =>
      torch.tensor([
        [1, 2],
        [null as never, 3],
      ]),
    /element \[1, 0\] is null, not a number/,
  );
  assert.throws(
    () =>
      torch.tensor([
        [1, 2],
        [undefined as never, 3],
      ]),
    /element \[1, 0\] is undefined/,
  );
  assert.throws(() => torch.tensor([1n as never]), /element \[0\] is a bigint/);
  assert.throws(() => torch.tensor('7' as never), /the value is a string/);
  assert.throws(
    () => torch.tensor([[1, 2], [3]]),
    /ragged nested array: element \[1\] has length 1 where length 2 was expected/,
  );
  assert.throws(() => torch.tensor([[1, 2], 3] as never), /ragged nested array: element \[1\] has a single value/);
  assert.throws(
    () => torch.tensor([1, [2]] as never),
    /ragged nested array: element \[1\] is an array, but its siblings are not/,
  );
  assert.throws(
    () =>
      torch.tensor([
        [[1], [2]],
        [[3], [4, 5]],
      ]),
    /element \[1, 1\] has length 2 where length 1/,
  );
});
