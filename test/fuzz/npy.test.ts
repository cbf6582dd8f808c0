// Fuzzing the .npy and .npz readers against numpy itself (/usr/bin/python3): mutated copies of
// numpy-written files are read by both, and a file genlab accepts must be one numpy accepts, with the
// same dtype, shape and element bytes. genlab may refuse more than numpy (trailing bytes, header
// spellings numpy tolerates, bool bytes other than 0/1, zip oddities), but never less, and a mutation
// that changes only element bytes gives a valid file, which must load.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { GenlabError } from '../../src/torch/errors.js';
import { parseNpy, parseNpz } from '../../src/torch/npy.js';
import type { Tensor } from '../../src/torch/tensor.js';
import { flip, Prng, splice, Tally, truncate } from './harness.js';

const PYTHON = process.env.GENLAB_PYTHON ?? '/usr/bin/python3';
const skip = (() => {
  const r = spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' });
  return r.error || r.status !== 0 ? `${PYTHON} cannot import numpy (install python3-numpy); skipped` : false;
})();
const dir = mkdtempSync(join(tmpdir(), 'genlab-fuzz-npy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** numpy's reading of each file: dtype, shape and C-order little-endian bytes (hex), or null when it refuses. */
type Reading = { dtype: string; shape: number[]; hex: string } | null;
const DTYPES: Record<string, string> = {
  float64: 'float64',
  float32: 'float32',
  float16: 'float16',
  int64: 'int64',
  int32: 'int32',
  int16: 'int16',
  int8: 'int8',
  uint8: 'uint8',
  bool: 'bool',
};

function numpyReadings(files: string[], npz: boolean): Reading[] {
  const script = `
import numpy as np, json, sys, warnings
warnings.simplefilter('ignore')
def one(a):
    a = np.asarray(a)
    a = a.astype(a.dtype.newbyteorder('<')) if a.dtype.byteorder == '>' else a
    return {'dtype': a.dtype.name, 'shape': list(a.shape), 'hex': np.ascontiguousarray(a).tobytes().hex()}
out = []
for f in json.load(sys.stdin):
    try:
        if ${npz ? 'True' : 'False'}:
            with np.load(f, allow_pickle=False) as z:
                out.append({k: one(z[k]) for k in z.files})
        else:
            out.append(one(np.load(f, allow_pickle=False)))
    except Exception:
        out.append(None)
print(json.dumps(out))`;
  const r = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(files), encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

function same(t: Tensor, want: Reading): string | null {
  if (want === null) return 'numpy refuses the file';
  if (DTYPES[want.dtype] !== t.dtype) return `dtype ${t.dtype}, numpy ${want.dtype}`;
  if (JSON.stringify(t.shape) !== JSON.stringify(want.shape)) return `shape [${t.shape}], numpy [${want.shape}]`;
  return Buffer.from(t.toBytes()).toString('hex') === want.hex ? null : 'element bytes differ';
}

const isOwn = (e: unknown) => e instanceof GenlabError && e.kind === 'data';
const rng = new Prng(1907);

function bases(): Uint8Array[] {
  const r = spawnSync(
    PYTHON,
    [
      '-c',
      `import numpy as np, os
os.chdir(${JSON.stringify(dir)})
rng = np.random.default_rng(5)
np.save('b0.npy', rng.standard_normal((3, 4)))
np.save('b1.npy', np.asfortranarray(np.arange(24, dtype=np.int64).reshape(2, 3, 4) - 7))
np.save('b2.npy', rng.standard_normal((5,)).astype(np.float32))
np.save('b3.npy', np.array([[True, False], [False, True]]))
np.save('b4.npy', (np.arange(6) * 1.25).astype('>f8').reshape(3, 2))
np.save('b5.npy', np.arange(10, dtype=np.uint8))
np.save('b6.npy', np.float64(3.5))
np.savez('z0.npz', x=rng.standard_normal((4, 2)).astype(np.float32), u=np.eye(4, dtype=np.float32))
np.savez_compressed('z1.npz', x=rng.standard_normal((6, 3)), s=np.arange(6, dtype=np.int64))`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  return [0, 1, 2, 3, 4, 5, 6].map((i) => new Uint8Array(readFileSync(join(dir, `b${i}.npy`))));
}

/** One mutation; header ones hit the magic, version, length or dict text; data ones only element bytes. */
function mutate(b: Uint8Array): { kind: string; bytes: Uint8Array } {
  const dataStart = b.indexOf(0x0a) + 1;
  switch (rng.int(8)) {
    case 0:
      return { kind: 'truncate', bytes: truncate(b, rng.int(b.length)) };
    case 1:
      return { kind: 'flip-header', bytes: flip(b, rng.int(dataStart), 1 << rng.int(8)) };
    case 2: {
      // A header character replaced by one that might make another valid header.
      const out = b.slice();
      const at = 10 + rng.int(dataStart - 11);
      out[at] = rng.pick([...Buffer.from('\'"(),:{} 0123456789<>|=fiubTF\n\t')]);
      return { kind: 'header-char', bytes: out };
    }
    case 3: {
      const from = rng.int(b.length);
      return { kind: 'splice-delete', bytes: splice(b, from, Math.min(b.length, from + 1 + rng.int(8))) };
    }
    case 4: {
      const from = rng.int(b.length + 1);
      const insert = Uint8Array.from({ length: 1 + rng.int(8) }, () => rng.int(256));
      return { kind: 'splice-insert', bytes: splice(b, from, from, insert) };
    }
    case 5: {
      const out = Buffer.from(b);
      out.writeUInt16LE(rng.pick([0, 1, dataStart - 11, dataStart - 9, 0xffff, rng.int(0x10000)]), 8);
      return { kind: 'header-length', bytes: new Uint8Array(out) };
    }
    case 6:
      return { kind: 'version', bytes: flip(b, 6 + rng.int(2), 1 + rng.int(255)) };
    default:
      if (b.length === dataStart) return { kind: 'truncate', bytes: truncate(b, rng.int(b.length)) };
      return { kind: 'flip-data', bytes: flip(b, dataStart + rng.int(b.length - dataStart), 1 + rng.int(255)) };
  }
}

test('fuzz npy: what genlab accepts, numpy reads the same; element-byte changes always load', { skip }, (t) => {
  const tally = new Tally('npy');
  const base = bases();
  const cases: { kind: string; bytes: Uint8Array; isBool: boolean }[] = base.map((bytes, i) => ({
    kind: 'none',
    bytes,
    isBool: i === 3,
  }));
  for (let c = 0; c < 1200; c++) {
    const i = rng.int(base.length);
    cases.push({ ...mutate(base[i]), isBool: i === 3 });
  }
  const files = cases.map((c, i) => {
    const f = join(dir, `case-${i}.npy`);
    writeFileSync(f, c.bytes);
    return f;
  });
  const want = numpyReadings(files, false);
  cases.forEach((c, i) => {
    const outcome = tally.run(
      c.kind,
      `case ${i}`,
      () => parseNpy(c.bytes, 'fuzz'),
      isOwn,
      (r) => same(r, want[i]),
      (r) => r.dispose(),
    );
    // Element bytes of a non-bool array can be anything: the file stays valid.
    if ((c.kind === 'none' || (c.kind === 'flip-data' && !c.isBool)) && outcome !== 'accepted') {
      tally.failures.push(`${c.kind} case ${i}: refused a valid file`);
    }
    if (c.kind === 'truncate') assert.notEqual(outcome, 'accepted', `case ${i}: a truncated file was accepted`);
  });
  assert.equal(tally.counts.get('none')?.accepted, base.length);
  tally.finish(t);
});

test('fuzz npz: mutated archives (stored and deflated) are refused or read as numpy reads them', { skip }, (t) => {
  const tally = new Tally('npz');
  const zips = [0, 1].map((i) => new Uint8Array(readFileSync(join(dir, `z${i}.npz`))));
  const cases: { kind: string; bytes: Uint8Array }[] = zips.map((bytes) => ({ kind: 'none', bytes }));
  for (let c = 0; c < 400; c++) {
    const z = rng.pick(zips);
    const m = rng.int(4);
    const kind = ['zip-truncate', 'zip-flip', 'zip-splice', 'zip-flip-directory'][m];
    let bytes: Uint8Array;
    if (m === 0) bytes = truncate(z, rng.int(z.length));
    else if (m === 1) bytes = flip(z, rng.int(z.length), 1 + rng.int(255));
    else if (m === 2) {
      const from = rng.int(z.length);
      bytes = splice(z, from, Math.min(z.length, from + 1 + rng.int(4)));
    } else {
      // The central directory and end record: sizes, offsets, methods, flags, names.
      const cd = Buffer.from(z).lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
      bytes = flip(z, cd + rng.int(z.length - cd), 1 << rng.int(8));
    }
    cases.push({ kind, bytes });
  }
  const files = cases.map((c, i) => {
    const f = join(dir, `case-${i}.npz`);
    writeFileSync(f, c.bytes);
    return f;
  });
  const want = numpyReadings(files, true) as unknown as (Record<string, Reading> | null)[];
  cases.forEach((c, i) => {
    const outcome = tally.run(
      c.kind,
      `case ${i}`,
      () => parseNpz(c.bytes, 'fuzz'),
      isOwn,
      (r) => {
        const w = want[i];
        if (w === null) return 'numpy refuses the archive';
        if (Object.keys(r).sort().join() !== Object.keys(w).sort().join()) return `keys ${Object.keys(r)}`;
        for (const k of Object.keys(r)) {
          const problem = same(r[k], w[k]);
          if (problem) return `${k}: ${problem}`;
        }
        return null;
      },
      (r) => {
        for (const v of Object.values(r)) v.dispose();
      },
    );
    if (c.kind === 'none' && outcome !== 'accepted') tally.failures.push(`case ${i}: refused numpy's own archive`);
  });
  tally.finish(t);
});
