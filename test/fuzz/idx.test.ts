// Fuzzing the IDX reader, plain (parseIdx) and gzipped (readIdx on a file).
//
// Malformed, checkably: an independent decoder below (`reference`) says whether a byte string is a
// valid IDX file (zero bytes, a known type, ubyte with the expected number of dimensions when the
// caller names one, and exactly as many bytes as the sizes imply) and what it holds. The reader must accept exactly the valid ones, with
// the same dims and values. For gzip, a stream Node's own gunzip refuses must be refused too.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DataError, type IdxArray, parseIdx, readIdx } from '../../src/data/index.js';
import { flip, Prng, splice, Tally, truncate } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'genlab-fuzz-idx-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const WIDTH: Record<number, number> = { 8: 1, 9: 1, 11: 2, 12: 4, 13: 4, 14: 8 };

function encode(type: number, dims: number[], values: number[]): Uint8Array {
  const w = WIDTH[type];
  const b = Buffer.alloc(4 + 4 * dims.length + values.length * w);
  b[2] = type;
  b[3] = dims.length;
  for (let i = 0; i < dims.length; i++) b.writeUInt32BE(dims[i], 4 + 4 * i);
  const o = 4 + 4 * dims.length;
  values.forEach((v, i) => {
    if (type === 8) b.writeUInt8(v, o + i);
    else if (type === 9) b.writeInt8(v, o + i);
    else if (type === 11) b.writeInt16BE(v, o + 2 * i);
    else if (type === 12) b.writeInt32BE(v, o + 4 * i);
    else if (type === 13) b.writeFloatBE(v, o + 4 * i);
    else b.writeDoubleBE(v, o + 8 * i);
  });
  return new Uint8Array(b);
}

/** The independent decoder: dims and values of a valid file, or null. */
function reference(b: Uint8Array, ndimWanted?: number): { dims: number[]; values: number[] } | null {
  if (b.length < 4 || b[0] !== 0 || b[1] !== 0) return null;
  const w = WIDTH[b[2]];
  const nd = b[3];
  if (w === undefined || nd === 0) return null;
  // A caller that names the dimensions asks for the ubyte images or labels of MNIST (magic 0x08nn).
  if (ndimWanted !== undefined && (nd !== ndimWanted || b[2] !== 8)) return null;
  if (b.length < 4 + 4 * nd) return null;
  const buf = Buffer.from(b.buffer, b.byteOffset, b.length);
  const dims = Array.from({ length: nd }, (_, i) => buf.readUInt32BE(4 + 4 * i));
  const count = dims.reduce((a, c) => a * c, 1);
  const o = 4 + 4 * nd;
  if (b.length !== o + count * w) return null;
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    const at = o + i * w;
    const t = b[2];
    values.push(
      t === 8
        ? buf.readUInt8(at)
        : t === 9
          ? buf.readInt8(at)
          : t === 11
            ? buf.readInt16BE(at)
            : t === 12
              ? buf.readInt32BE(at)
              : t === 13
                ? buf.readFloatBE(at)
                : buf.readDoubleBE(at),
    );
  }
  return { dims, values };
}

const rng = new Prng(20261201);
const bases: { bytes: Uint8Array; ndim?: number }[] = [
  {
    bytes: encode(
      8,
      [3, 5, 4],
      Array.from({ length: 60 }, (_, i) => (i * 37) % 256),
    ),
    ndim: 3,
  },
  { bytes: encode(8, [7], [4, 3, 2, 1, 0, 9, 9]), ndim: 1 },
  { bytes: encode(11, [2, 3], [-2, 300, 7, 0, -32768, 32767]) },
  { bytes: encode(13, [4], [1.5, -0.25, 1e30, -0]) },
  { bytes: encode(14, [1, 2], [Math.PI, -1e-300]) },
  { bytes: encode(9, [2, 2, 2], [-128, 127, 0, 1, -1, 5, 6, 7]) },
];

const isOwn = (e: unknown) => e instanceof DataError;

/** Does an accepted array match the reference's reading? */
function matches(got: IdxArray, want: { dims: number[]; values: number[] } | null): string | null {
  if (want === null) return 'the reference decoder says the file is malformed';
  if (JSON.stringify(got.dims) !== JSON.stringify(want.dims)) return `dims ${got.dims} != ${want.dims}`;
  const values = Array.from(got.data as ArrayLike<number>);
  for (let i = 0; i < want.values.length; i++) {
    if (!Object.is(values[i], want.values[i])) return `value ${i}: ${values[i]} != ${want.values[i]}`;
  }
  return values.length === want.values.length ? null : `${values.length} values, expected ${want.values.length}`;
}

/** One mutation of a plain file; the kind names it in the tally. */
function mutate(b: Uint8Array): { kind: string; bytes: Uint8Array } {
  const nd = b[3];
  const head = 4 + 4 * nd;
  switch (rng.int(8)) {
    case 0:
      return { kind: 'truncate', bytes: truncate(b, rng.int(b.length)) };
    case 1:
      return { kind: 'flip-any', bytes: flip(b, rng.int(b.length), 1 + rng.int(255)) };
    case 2:
      return { kind: 'flip-header', bytes: flip(b, rng.int(head), 1 << rng.int(8)) };
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
      const from = rng.int(b.length);
      const to = Math.min(b.length, from + 1 + rng.int(16));
      return { kind: 'splice-duplicate', bytes: splice(b, to, to, b.slice(from, to)) };
    }
    case 6: {
      // A size in the header changed to a neighbour, zero, a power of two or the largest uint32.
      const out = Buffer.from(b);
      const i = rng.int(nd);
      const d = out.readUInt32BE(4 + 4 * i);
      const choices = [d + 1, Math.max(0, d - 1), 0, 2 * d, 2 ** 31, 2 ** 32 - 1, rng.u32()];
      out.writeUInt32BE(rng.pick(choices) >>> 0, 4 + 4 * i);
      return { kind: 'header-number', bytes: new Uint8Array(out) };
    }
    default: {
      const out = b.slice();
      out[rng.int(4)] = rng.pick([0, 1, 3, 8, 9, 10, 11, 12, 13, 14, 15, 255, rng.int(256)]);
      return { kind: 'magic', bytes: out };
    }
  }
}

test('fuzz IDX (plain): accepted exactly when the reference decoder accepts, with the same values', (t) => {
  const tally = new Tally('idx');
  // Unmutated files load (a reader that refuses everything would pass the rest).
  for (const base of bases) {
    tally.run(
      'none',
      'base',
      () => parseIdx(base.bytes, 'fuzz', { dims: base.ndim }),
      isOwn,
      (r) => matches(r, reference(base.bytes, base.ndim)),
    );
  }
  assert.equal(tally.counts.get('none')?.accepted, bases.length);
  for (let c = 0; c < 1500; c++) {
    const base = rng.pick(bases);
    const { kind, bytes } = mutate(base.bytes);
    const want = reference(bytes, base.ndim);
    const outcome = tally.run(
      kind,
      `case ${c}`,
      () => parseIdx(bytes, 'fuzz', { dims: base.ndim }),
      isOwn,
      (r) => matches(r, want),
    );
    if (outcome === 'refused' && want !== null) tally.failures.push(`${kind} case ${c}: refused a valid file`);
    if (kind === 'truncate') assert.notEqual(outcome, 'accepted', `case ${c}: a truncated file was accepted`);
  }
  tally.finish(t);
});

test('fuzz IDX (gzip): a stream gunzip refuses is refused; otherwise as the reference decoder says', (t) => {
  const tally = new Tally('idx.gz');
  const path = join(dir, 'f-idx3-ubyte.gz');
  for (let c = 0; c < 400; c++) {
    const base = rng.pick(bases);
    let kind: string;
    let gz: Uint8Array;
    if (c % 2 === 0) {
      // Mutate the compressed bytes.
      const whole = gzipSync(base.bytes);
      const m = rng.int(3);
      kind = ['gz-truncate', 'gz-flip', 'gz-splice'][m];
      if (m === 0) gz = truncate(whole, rng.int(whole.length));
      else if (m === 1) gz = flip(whole, rng.int(whole.length), 1 + rng.int(255));
      else {
        const from = rng.int(whole.length);
        gz = splice(whole, from, Math.min(whole.length, from + 1 + rng.int(4)));
      }
    } else {
      // A well-formed stream of a mutated file: the capped inflate meets headers that lie.
      const m = mutate(base.bytes);
      kind = `gz-of-${m.kind}`;
      gz = gzipSync(m.bytes);
    }
    let inflated: Uint8Array | null;
    try {
      inflated = gunzipSync(gz);
    } catch {
      inflated = null;
    }
    // What readIdx would see if gz does not start with the gzip magic any more: the bytes as they are.
    const plain = gz.length < 2 || gz[0] !== 0x1f || gz[1] !== 0x8b;
    const want = plain ? reference(gz, base.ndim) : inflated === null ? null : reference(inflated, base.ndim);
    writeFileSync(path, gz);
    const outcome = tally.run(
      kind,
      `case ${c}`,
      () => readIdx(path, { dims: base.ndim }),
      isOwn,
      (r) => matches(r, want),
    );
    if (outcome === 'refused' && want !== null) tally.failures.push(`${kind} case ${c}: refused a valid file`);
    if (kind === 'gz-truncate') assert.notEqual(outcome, 'accepted', `case ${c}: a truncated stream was accepted`);
  }
  tally.finish(t);
});
