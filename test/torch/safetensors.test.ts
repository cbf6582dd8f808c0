import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as torch from '../../src/torch/index.js';
import { deserialize, loadSafetensors, saveSafetensors, serialize } from '../../src/torch/safetensors.js';

const dir = mkdtempSync(join(tmpdir(), 'genlab-safetensors-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The tensor's elements as raw bytes, so 16-bit floats and NaN payloads compare bit for bit. */
function bits(t: torch.Tensor): Buffer {
  return Buffer.from(t.toBytes());
}

function assertSame(got: torch.Tensor, want: torch.Tensor, name: string): void {
  assert.equal(got.dtype, want.dtype, `${name}: dtype`);
  assert.deepEqual(got.shape, want.shape, `${name}: shape`);
  assert.ok(bits(got).equals(bits(want)), `${name}: bytes differ`);
}

/** One tensor per dtype, with awkward values: NaN payloads, subnormals, -0, extremes. */
function everyDtype(): Record<string, torch.Tensor> {
  const f16bits = new Uint16Array([0x0000, 0x8000, 0x0001, 0x7bff, 0xfc00, 0x7e01, 0x3c00, 0xc2aa]);
  return {
    f32: torch.tensor(new Float32Array([1.5, -0, Number.NaN, Infinity, 1e-45, -3.4e38]), { shape: [2, 3] }),
    f64: torch.tensor(new Float64Array([Math.PI, -Number.MIN_VALUE, Number.MAX_VALUE, -0]), { shape: [4] }),
    f16: torch.tensor(f16bits, { dtype: 'float16', shape: [2, 4] }),
    bf16: torch.tensor(f16bits, { dtype: 'bfloat16', shape: [4, 2] }),
    i64: torch.tensor(new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 0n, 42n])),
    i32: torch.tensor(new Int32Array([-(2 ** 31), 2 ** 31 - 1, 7])),
    i16: torch.tensor(new Int16Array([-32768, 32767, -1])),
    i8: torch.tensor(new Int8Array([-128, 127, 0, 5])),
    u8: torch.tensor(new Uint8Array([0, 255, 128])),
    bool: torch.tensor([[true, false, true]]),
  };
}

test('every dtype round-trips bit-exactly through a file and a buffer', () => {
  const tensors = everyDtype();
  const path = join(dir, 'all.safetensors');
  saveSafetensors(path, tensors);
  for (const loaded of [loadSafetensors(path), deserialize(serialize(tensors))]) {
    assert.deepEqual(Object.keys(loaded.tensors).sort(), Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) assertSame(loaded.tensors[name], t, name);
    assert.deepEqual(loaded.metadata, {});
  }
  // Raw bits survive, not just values: the f16 NaN payload 0x7e01 comes back unchanged.
  const f16 = loadSafetensors(path).tensors.f16;
  assert.deepEqual(
    Array.from(torch.ops.view_dtype(f16, 'int16').toTypedArray() as Int16Array).slice(4, 6),
    [-1024, 0x7e01],
  );
});

test('non-contiguous tensors are written in row-major order', () => {
  const base = torch.arange(24).reshape(2, 3, 4);
  const tensors = {
    transposed: base.transpose(0, 2),
    permuted: base.permute(1, 2, 0).to('float64'),
    column: base.select(2, 1),
    expanded: torch.tensor([1, 2, 3], { dtype: 'int16' }).unsqueeze(0).expand(4, 3),
    half: base.transpose(1, 2).half(),
    bf16: base.reshape(6, 4).t().to('bfloat16'),
  };
  for (const t of Object.values(tensors).slice(0, 4)) assert.equal(t.isContiguous(), false);
  const { tensors: back } = deserialize(serialize(tensors));
  for (const [name, t] of Object.entries(tensors)) {
    assertSame(back[name], t.contiguous(), name);
    assert.ok(back[name].equal(t), name);
  }
  assert.deepEqual(back.transposed.toArray(), tensors.transposed.toArray());
});

test('0-d and empty tensors round-trip', () => {
  const tensors: Record<string, torch.Tensor> = {};
  for (const [name, t] of Object.entries(everyDtype())) tensors[`scalar_${name}`] = t.flatten().select(0, 1);
  tensors.empty = torch.zeros([0, 3]);
  tensors.emptyInt = torch.zeros([2, 0, 5], { dtype: 'int64' });
  const path = join(dir, 'scalars.safetensors');
  saveSafetensors(path, tensors);
  const { tensors: back } = loadSafetensors(path);
  for (const [name, t] of Object.entries(tensors)) assertSame(back[name], t, name);
  assert.deepEqual(back.scalar_f64.shape, []);
  assert.equal((back.scalar_i64.toTypedArray() as BigInt64Array)[0], 2n ** 63n - 1n);
  assert.throws(() => back.scalar_i64.item(), /beyond 2\^53/);
});

test('metadata round-trips; Map input; the header is what the reference writer makes', () => {
  const metadata = { format: 'pt', step: '1200', note: 'ünïcode ✓' };
  const tensors = new Map([
    ['b', torch.tensor([1, 2])],
    ['a', torch.tensor([3], { dtype: 'float64' })],
    ['__proto__', torch.tensor([true])],
  ]);
  const buf = serialize(tensors, metadata);
  const headerLength = Number(buf.readBigUInt64LE(0));
  assert.equal(headerLength % 8, 0, 'data starts 8-byte aligned');
  const header = buf.subarray(8, 8 + headerLength).toString('utf8');
  assert.equal(
    header.trimEnd(),
    '{"__metadata__":{"format":"pt","step":"1200","note":"ünïcode ✓"},' +
      '"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},' +
      '"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},' +
      '"__proto__":{"dtype":"BOOL","shape":[1],"data_offsets":[16,17]}}',
  );
  assert.match(header, / *$/);

  const back = deserialize(buf);
  assert.deepEqual(back.metadata, metadata);
  assert.ok(Object.hasOwn(back.tensors, '__proto__'));
  assert.equal(Object.getPrototypeOf(back.tensors), Object.prototype);
  const proto: torch.Tensor = Object.getOwnPropertyDescriptor(back.tensors, '__proto__')?.value;
  assert.deepEqual(proto.toArray(), [true]);
  assert.deepEqual(back.tensors.b.toArray(), [1, 2]);

  const path = join(dir, 'meta.safetensors');
  saveSafetensors(path, tensors, metadata);
  assert.deepEqual(loadSafetensors(path).metadata, metadata);
});

test('saving is atomic: it replaces the old file whole and leaves no temporary files', () => {
  const sub = mkdtempSync(join(dir, 'atomic-'));
  const path = join(sub, 'ckpt.safetensors');
  saveSafetensors(path, { w: torch.ones([3]) });
  saveSafetensors(path, { w: torch.zeros([5]) });
  assert.deepEqual(readdirSync(sub), ['ckpt.safetensors']);
  assert.deepEqual(loadSafetensors(path).tensors.w.shape, [5]);

  const before = readFileSync(path);
  const gone = torch.ones([2]);
  gone.dispose();
  assert.throws(
    () => saveSafetensors(path, { ok: torch.ones([1]), gone }),
    /ckpt\.safetensors: tensor 'gone' is disposed/,
  );
  assert.throws(
    () => saveSafetensors(path, { w: torch.ones([1]) }, { step: 3 as unknown as string }),
    /metadata value for 'step' is a number/,
  );
  assert.throws(() => saveSafetensors(path, { __metadata__: torch.ones([1]) }), /'__metadata__' is reserved/);
  assert.throws(
    () => saveSafetensors(join(sub, 'missing-dir', 'x.safetensors'), { w: torch.ones([1]) }),
    /x\.safetensors: cannot write/,
  );
  assert.ok(readFileSync(path).equals(before), 'a failed save must not touch the old file');
  assert.deepEqual(readdirSync(sub), ['ckpt.safetensors']);
});

test('tensors loaded inside tidy() survive when returned', () => {
  const path = join(dir, 'tidy.safetensors');
  saveSafetensors(path, { w: torch.arange(4) });
  const loaded = torch.tidy(() => loadSafetensors(path));
  assert.deepEqual(loaded.tensors.w.toArray(), [0, 1, 2, 3]);
});

// ---- corrupt files ----

/** A file from a header (object, JSON text or raw bytes) and data bytes, with an optional lying length. */
function craft(name: string, header: unknown, data: Uint8Array = new Uint8Array(), length?: bigint): string {
  const json = Buffer.isBuffer(header)
    ? header
    : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(length ?? BigInt(json.length));
  const path = join(dir, `${name}.safetensors`);
  writeFileSync(path, Buffer.concat([prefix, json, data]));
  return path;
}

const f32x2 = (begin: number, end: number) => ({ dtype: 'F32', shape: [2], data_offsets: [begin, end] });

const corrupt: [string, () => string, RegExp][] = [
  [
    'too-short',
    () => {
      const p = join(dir, 'too-short.safetensors');
      writeFileSync(p, Buffer.from([1, 0, 0]));
      return p;
    },
    /too short \(3 bytes\)/,
  ],
  [
    'length-beyond-file',
    () => craft('length-beyond-file', {}, new Uint8Array(), 4096n),
    /header length 4096 goes beyond the end of the file/,
  ],
  [
    'length-huge',
    () => craft('length-huge', {}, new Uint8Array(), 2n ** 63n),
    /header length 9223372036854775808 goes beyond/,
  ],
  ['bad-json', () => craft('bad-json', '{"a": {"dtype": "F32",'), /header is not valid JSON/],
  ['not-object', () => craft('not-object', '[1, 2]'), /header is not a JSON object/],
  ['bad-utf8', () => craft('bad-utf8', Buffer.from([0x7b, 0xff, 0x7d])), /not valid UTF-8/],
  [
    'out-of-range',
    () => craft('out-of-range', { a: f32x2(0, 8) }, new Uint8Array(4)),
    /tensor 'a': data_offsets \[0, 8\] are out of range \(data section has 4 bytes\)/,
  ],
  [
    'overlap',
    () => craft('overlap', { a: f32x2(0, 8), b: f32x2(4, 12) }, new Uint8Array(12)),
    /tensor 'b' overlaps tensor 'a'/,
  ],
  [
    'gap',
    () => craft('gap', { a: f32x2(0, 8), b: f32x2(12, 20) }, new Uint8Array(20)),
    /bytes 8\.\.12 of the data section belong to no tensor/,
  ],
  [
    'trailing',
    () => craft('trailing', { a: f32x2(0, 8) }, new Uint8Array(16)),
    /the tensors cover 8 bytes but the data section has 16/,
  ],
  [
    'unknown-dtype',
    () => craft('unknown-dtype', { a: { dtype: 'U16', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)),
    /tensor 'a': unknown dtype 'U16'/,
  ],
  [
    'size-mismatch',
    () => craft('size-mismatch', { a: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 20] } }, new Uint8Array(20)),
    /tensor 'a': shape \[2, 3\] × F32 needs 24 bytes but data_offsets \[0, 20\] hold 20/,
  ],
  [
    'bad-shape',
    () => craft('bad-shape', { a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)),
    /tensor 'a': shape \[-1\] is not a list of non-negative integers/,
  ],
  [
    'reversed-offsets',
    () => craft('reversed-offsets', { a: f32x2(8, 0) }, new Uint8Array(8)),
    /tensor 'a': data_offsets \[8,0\] is not a \[begin, end\] pair/,
  ],
  [
    'bad-metadata',
    () => craft('bad-metadata', { __metadata__: { step: 3 } }),
    /metadata value for 'step' is not a string/,
  ],
  [
    'duplicate-name',
    () =>
      craft(
        'duplicate-name',
        `{"a": ${JSON.stringify(f32x2(0, 8))}, "b": ${JSON.stringify(f32x2(8, 16))}, "a": ${JSON.stringify(f32x2(8, 16))}}`,
        new Uint8Array(16),
      ),
    /header has the key "a" twice in one object/,
  ],
  [
    'duplicate-escaped-name',
    () =>
      craft(
        'duplicate-escaped-name',
        `{"a": ${JSON.stringify(f32x2(0, 8))}, "\\u0061": ${JSON.stringify(f32x2(0, 8))}}`,
        new Uint8Array(8),
      ),
    /header has the key "a" twice in one object/,
  ],
  [
    'duplicate-metadata-key',
    () => craft('duplicate-metadata-key', '{"__metadata__": {"k": "1", "k": "2"}}'),
    /header has the key "k" twice in one object/,
  ],
  [
    'float-shape',
    () => craft('float-shape', '{"a": {"dtype": "F32", "shape": [2.0], "data_offsets": [0, 8]}}', new Uint8Array(8)),
    /tensor 'a': shape holds 2\.0, not an integer written as one/,
  ],
  [
    'exponent-offset',
    () =>
      craft('exponent-offset', '{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8e0]}}', new Uint8Array(8)),
    /tensor 'a': data_offsets holds 8e0, not an integer written as one/,
  ],
  [
    'negative-zero',
    () => craft('negative-zero', '{"a": {"dtype": "F32", "shape": [0], "data_offsets": [-0, 0]}}'),
    /tensor 'a': data_offsets holds -0, not an integer written as one/,
  ],
  [
    'bom',
    () =>
      craft(
        'bom',
        Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ a: f32x2(0, 8) }))]),
        new Uint8Array(8),
      ),
    /header starts with a byte-order mark; the format has none/,
  ],
  [
    'deep-shape',
    () =>
      craft(
        'deep-shape',
        `{"a": {"dtype": "F32", "shape": ${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}, "data_offsets": [0, 0]}}`,
      ),
    /header nests deeper than 64 levels; a safetensors header nests 3$/,
  ],
  [
    'deep-65',
    () => craft('deep-65', `{"__metadata__": ${'['.repeat(64)}${']'.repeat(64)}}`),
    /header nests deeper than 64 levels/,
  ],
  [
    'bool-bytes',
    () =>
      craft(
        'bool-bytes',
        {
          a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
          b: { dtype: 'BOOL', shape: [2], data_offsets: [4, 6] },
        },
        new Uint8Array([0, 0, 128, 63, 1, 7]),
      ),
    /tensor 'b': BOOL data holds bytes other than 0 and 1/,
  ],
];

for (const [name, make, problem] of corrupt) {
  test(`a corrupt file (${name}) throws an Error naming the file and the problem`, () => {
    const path = make();
    const live = torch.memory().tensors;
    assert.throws(
      () => loadSafetensors(path),
      (e: unknown) => {
        assert.ok(e instanceof Error);
        assert.ok(e.message.includes(path), `message names the file: ${e.message}`);
        assert.match(e.message, problem);
        return true;
      },
    );
    // The buffer reader reports the same problem under the name it is given.
    assert.throws(
      () => deserialize(readFileSync(path), { name: 'upload.bin' }),
      (e: Error) => {
        assert.match(e.message, /^safetensors: upload\.bin: /);
        assert.match(e.message, problem);
        return true;
      },
    );
    assert.equal(torch.memory().tensors, live, 'a failed load frees what it made');
  });
}

test('strictness keeps what is legal: escapes in names, integers up to 2^53, nesting at the limit is only refused for its content', () => {
  const names = { 'a"b': f32x2(0, 8), 'tab\there': f32x2(8, 16), é: f32x2(16, 24) };
  const path = craft('legal-names', names, new Uint8Array(24));
  assert.deepEqual(Object.keys(loadSafetensors(path).tensors).sort(), Object.keys(names).sort());
  // Whitespace and padding as the reference writer leaves them.
  const padded = craft(
    'padded',
    `  {"__metadata__": {"format": "pt"},\n "a": {"dtype": "U8", "shape": [ 3 ], "data_offsets": [0, 3]}}    `,
    new Uint8Array([1, 2, 3]),
  );
  const back = loadSafetensors(padded);
  assert.deepEqual(Array.from(back.tensors.a.toTypedArray() as Uint8Array), [1, 2, 3]);
  assert.deepEqual(back.metadata, { format: 'pt' });
  // 64 levels is the limit: 63 arrays inside the root object parse, and fail only as metadata.
  assert.throws(
    () => loadSafetensors(craft('deep-64', `{"__metadata__": ${'['.repeat(63)}${']'.repeat(63)}}`)),
    /'__metadata__' is not an object/,
  );
});

test('a missing file is reported with its path', () => {
  const path = join(dir, 'nope.safetensors');
  assert.ok(!existsSync(path));
  assert.throws(() => loadSafetensors(path), /safetensors: .*nope\.safetensors: cannot open: ENOENT/);
});
