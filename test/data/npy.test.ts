// .npy / .npz reading against numpy's own files, written by /usr/bin/python3: every dtype the reader
// supports, Fortran order, big-endian, 0-d and empty arrays, np.savez and np.savez_compressed, and the
// one-line errors for malformed headers.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DataError, readNpy, readNpz } from '../../src/data/index.js';
import * as torch from '../../src/torch/index.js';

const PYTHON = process.env.GENLAB_PYTHON ?? '/usr/bin/python3';
const dir = mkdtempSync(join(tmpdir(), 'genlab-npy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function numpyMissing(): string | false {
  const r = spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' });
  return r.error || r.status !== 0 ? `${PYTHON} cannot import numpy (install python3-numpy); skipped` : false;
}
const skip = numpyMissing();

/** Runs a numpy script in the temp folder; it writes files and prints JSON of the expected values. */
function numpy(script: string): Record<string, { shape: number[]; values: (number | boolean | string)[] }> {
  const pre = `import numpy as np, json, os\nos.chdir(${JSON.stringify(dir)})\n`;
  const r = spawnSync(PYTHON, ['-c', pre + script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

// The expected values travel as JSON: int64 as decimal strings (exact), floats as repr-exact numbers.
const EXPECT = `
def expect(a):
    a = np.asarray(a)
    flat = a.ravel(order='C')
    if a.dtype.kind in 'iu': vals = [str(int(v)) for v in flat]
    elif a.dtype.kind == 'b': vals = [bool(v) for v in flat]
    else: vals = [float(v) for v in flat]
    return {'shape': list(a.shape), 'values': vals}
`;

function check(t: torch.Tensor, want: { shape: number[]; values: (number | boolean | string)[] }, dtype: string) {
  assert.equal(t.dtype, dtype);
  assert.deepEqual(t.shape, want.shape);
  const got =
    dtype === 'int64'
      ? Array.from(t.flatten().toTypedArray() as BigInt64Array, String)
      : dtype === 'bool'
        ? (Array.from(t.to('uint8').flatten().toTypedArray() as Uint8Array) as number[]).map((v) => v === 1)
        : dtype.startsWith('int') || dtype === 'uint8'
          ? Array.from(t.to('int64').flatten().toTypedArray() as BigInt64Array, String)
          : (Array.from(t.to('float64').flatten().toTypedArray() as Float64Array) as number[]);
  assert.deepEqual(got, want.values);
}

test('npy: numpy files of every supported dtype, C and Fortran order, big-endian, 0-d and empty', { skip }, () => {
  const want = numpy(`${EXPECT}
rng = np.random.default_rng(7)
arrays = {
  'f64': rng.standard_normal((3, 4)) * 1e-300,
  'f64big': np.array([[np.pi, -0.0], [-1e-310, 1e308]]),
  'f32': rng.standard_normal((2, 3, 4)).astype(np.float32),
  'f16': np.array([1.5, -2.25, 65504.0], dtype=np.float16),
  'i64': np.array([[-2**63, 2**63 - 1], [0, -1]], dtype=np.int64),
  'i32': np.arange(-5, 7, dtype=np.int32).reshape(3, 4),
  'i16': np.array([-32768, 32767], dtype=np.int16),
  'i8': np.array([-128, 127, 0], dtype=np.int8),
  'u8': np.arange(250, 256, dtype=np.uint8),
  'b': np.array([[True, False, True]]),
  'scalar': np.float64(2.5),
  'empty': np.zeros((0, 3), dtype=np.float32),
}
out = {}
for k, a in arrays.items():
  np.save(k + '.npy', a); out[k] = expect(a)
f = np.asfortranarray(rng.standard_normal((3, 5, 2)))
assert f.flags.f_contiguous and not f.flags.c_contiguous
np.save('fortran.npy', f); out['fortran'] = expect(f)
fi = np.asfortranarray(np.arange(12, dtype=np.int64).reshape(3, 4) * 10**15)
np.save('fortran_i64.npy', fi); out['fortran_i64'] = expect(fi)
be = np.arange(6, dtype='>f8').reshape(2, 3) / 7
np.save('bigendian.npy', be); out['bigendian'] = expect(be)
bi = np.array([1, -2, 3 * 10**12], dtype='>i8')
np.save('bigendian_i64.npy', bi); out['bigendian_i64'] = expect(bi)
print(json.dumps(out))
`);
  const dtypes: Record<string, string> = {
    f64: 'float64',
    f64big: 'float64',
    f32: 'float32',
    f16: 'float16',
    i64: 'int64',
    i32: 'int32',
    i16: 'int16',
    i8: 'int8',
    u8: 'uint8',
    b: 'bool',
    scalar: 'float64',
    empty: 'float32',
    fortran: 'float64',
    fortran_i64: 'int64',
    bigendian: 'float64',
    bigendian_i64: 'int64',
  };
  const header = readFileSync(join(dir, 'fortran.npy')).subarray(0, 128).toString('latin1');
  assert.match(header, /'fortran_order': True/);
  for (const [name, dtype] of Object.entries(dtypes)) {
    const t = readNpy(join(dir, `${name}.npy`));
    try {
      check(t, want[name], dtype);
    } finally {
      t.dispose();
    }
  }
});

test('npz: np.savez (stored) and np.savez_compressed (deflate), with the reference data set keys', { skip }, () => {
  const want = numpy(`${EXPECT}
rng = np.random.default_rng(3)
x = rng.standard_normal((400, 5)).astype(np.float32)
u = np.eye(4, dtype=np.float32)[np.repeat(np.arange(4), 100)]
s = np.asfortranarray(rng.standard_normal((400, 5)))
L = rng.uniform(0.5, 3, (4, 5))
np.savez('plain.npz', x=x, u=u, s=s)
np.savez_compressed('packed.npz', x=x, u=u, s=s, L=L, n=np.int64(400))
print(json.dumps({'x': expect(x), 'u': expect(u), 's': expect(s), 'L': expect(L), 'n': expect(np.int64(400))}))
`);
  for (const file of ['plain.npz', 'packed.npz']) {
    const arrays = torch.loadNpz(join(dir, file));
    try {
      assert.deepEqual(Object.keys(arrays).sort(), file === 'plain.npz' ? ['s', 'u', 'x'] : ['L', 'n', 's', 'u', 'x']);
      check(arrays.x, want.x, 'float32');
      check(arrays.u, want.u, 'float32');
      check(arrays.s, want.s, 'float64');
      if (file === 'packed.npz') {
        check(arrays.L, want.L, 'float64');
        check(arrays.n, want.n, 'int64');
      }
    } finally {
      for (const t of Object.values(arrays)) t.dispose();
    }
  }
});

test('npy/npz: malformed headers and data give one-line data errors', { skip }, () => {
  numpy(
    `np.save('ok.npy', np.arange(6, dtype=np.float64).reshape(2, 3))\nnp.savez_compressed('ok.npz', a=np.ones(3))\nprint('{}')`,
  );
  const ok = readFileSync(join(dir, 'ok.npy'));
  const headerEnd = ok.indexOf(0x0a) + 1;
  const withHeader = (text: string) => {
    const h = Buffer.from(`${text}`.padEnd(headerEnd - 10 - 1, ' ') + '\n', 'latin1');
    const b = Buffer.alloc(10);
    ok.copy(b, 0, 0, 8);
    b.writeUInt16LE(h.length, 8);
    return Buffer.concat([b, h, ok.subarray(headerEnd)]);
  };
  const cases: [string, Buffer, RegExp][] = [
    ['magic', Buffer.concat([Buffer.from('XNUMPY'), ok.subarray(6)]), /not a \.npy file/],
    ['truncated data', ok.subarray(0, ok.length - 3), /needs 48 bytes of data, the file has 45/],
    ['header length past the end', ok.subarray(0, 40), /goes beyond the end/],
    [
      'unsupported dtype',
      withHeader("{'descr': '<c16', 'fortran_order': False, 'shape': (2, 3), }"),
      /unsupported dtype '<c16'/,
    ],
    [
      'object dtype',
      withHeader("{'descr': '|O', 'fortran_order': False, 'shape': (2, 3), }"),
      /unsupported dtype '\|O'/,
    ],
    ['missing key', withHeader("{'descr': '<f8', 'shape': (2, 3), }"), /expected descr, fortran_order and shape/],
    [
      'bad shape',
      withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (2, -3), }"),
      /not a non-negative integer/,
    ],
    ['not a dict', withHeader("['<f8', False, (2, 3)]"), /not a dict literal/],
    [
      'bad bool',
      withHeader("{'descr': '<f8', 'fortran_order': 0, 'shape': (2, 3), }"),
      /not a string, True\/False or a tuple/,
    ],
    ['version', Buffer.concat([ok.subarray(0, 6), Buffer.from([9, 0]), ok.subarray(8)]), /format version 9\.0/],
  ];
  for (const [label, bytes, pattern] of cases) {
    const path = join(dir, `bad-${label.replace(/ /g, '-')}.npy`);
    writeFileSync(path, bytes);
    assert.throws(
      () => readNpy(path),
      (e: unknown) => {
        assert.ok(e instanceof DataError, `${label}: ${String(e)}`);
        assert.match(e.message, pattern, label);
        assert.ok(e.message.startsWith(`npy: ${path}: `), e.message);
        assert.ok(!e.message.includes('\n'), `${label}: one line`);
        return true;
      },
    );
  }
  const npz = readFileSync(join(dir, 'ok.npz'));
  const cut = join(dir, 'cut.npz');
  writeFileSync(cut, npz.subarray(0, npz.length - 30));
  assert.throws(() => readNpz(cut), /npz: .*cut\.npz: not a zip archive/);
  // A flipped byte in the deflated data: inflate or the CRC-32 refuses it.
  const flipped = Buffer.from(npz);
  flipped[60] ^= 0x55;
  writeFileSync(cut, flipped);
  assert.throws(
    () => readNpz(cut),
    (e: unknown) => e instanceof DataError && !e.message.includes('\n'),
  );
  assert.throws(() => readNpy(join(dir, 'absent.npy')), /npy: .*absent\.npy: file not found/);
});
