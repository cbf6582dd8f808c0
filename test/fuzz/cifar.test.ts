// Fuzzing the CIFAR-10 binary reader: parseCifarBatch on bytes, and loadCifar10 on gzipped files.
//
// Malformed, checkably: a batch file is valid when it holds exactly the expected number of 3,073-byte
// records and every label byte is 0..9. Changing a pixel byte gives another valid file, which must
// load with that pixel; anything else (a cut, a spliced byte, a record more or less, a label of 10 or
// more) must be refused.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DataError, loadCifar10, parseCifarBatch } from '../../src/data/index.js';
import { flip, Prng, splice, Tally, truncate } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'genlab-fuzz-cifar-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const RECORD = 3073;
const RECORDS = 4;

function batch(n: number, seed: number): Uint8Array {
  const r = new Prng(seed);
  const b = new Uint8Array(n * RECORD);
  for (let i = 0; i < n; i++) {
    b[i * RECORD] = r.int(10);
    for (let p = 1; p < RECORD; p++) b[i * RECORD + p] = r.int(256);
  }
  return b;
}

/** The reference reading: labels and channel-first pixels of a valid file, or null. */
function reference(b: Uint8Array): { labels: number[]; pixels: Uint8Array } | null {
  if (b.length !== RECORDS * RECORD) return null;
  const labels: number[] = [];
  const pixels = new Uint8Array(RECORDS * (RECORD - 1));
  for (let i = 0; i < RECORDS; i++) {
    if (b[i * RECORD] > 9) return null;
    labels.push(b[i * RECORD]);
    pixels.set(b.subarray(i * RECORD + 1, (i + 1) * RECORD), i * (RECORD - 1));
  }
  return { labels, pixels };
}

function matches(
  got: { labels: ArrayLike<number>; pixels: Uint8Array },
  want: ReturnType<typeof reference>,
): string | null {
  if (want === null) return 'the file is malformed';
  if (Array.from(got.labels).join() !== want.labels.join()) return `labels ${Array.from(got.labels)}`;
  return Buffer.from(got.pixels).equals(Buffer.from(want.pixels)) ? null : 'pixels differ';
}

const rng = new Prng(3073);
const base = batch(RECORDS, 1);
const isOwn = (e: unknown) => e instanceof DataError;

function mutate(b: Uint8Array): { kind: string; bytes: Uint8Array } {
  switch (rng.int(8)) {
    case 0:
      return { kind: 'truncate', bytes: truncate(b, rng.int(b.length)) };
    case 1: {
      // Cut at a record boundary: whole records, but fewer than the file must hold.
      return { kind: 'truncate-records', bytes: truncate(b, RECORD * rng.int(RECORDS)) };
    }
    case 2:
      return { kind: 'flip-any', bytes: flip(b, rng.int(b.length), 1 + rng.int(255)) };
    case 3: {
      const out = b.slice();
      out[RECORD * rng.int(RECORDS)] = rng.int(256);
      return { kind: 'label-byte', bytes: out };
    }
    case 4: {
      const from = rng.int(b.length);
      return { kind: 'splice-delete', bytes: splice(b, from, Math.min(b.length, from + 1 + rng.int(8))) };
    }
    case 5: {
      const from = rng.int(b.length + 1);
      return {
        kind: 'splice-insert',
        bytes: splice(
          b,
          from,
          from,
          Uint8Array.from({ length: 1 + rng.int(8) }, () => rng.int(256)),
        ),
      };
    }
    case 6: {
      // One whole record more, copied from the file.
      const k = rng.int(RECORDS);
      return { kind: 'extra-record', bytes: splice(b, b.length, b.length, b.slice(k * RECORD, (k + 1) * RECORD)) };
    }
    default: {
      const k = rng.int(RECORDS);
      return { kind: 'drop-record', bytes: splice(b, k * RECORD, (k + 1) * RECORD) };
    }
  }
}

test('fuzz CIFAR-10 batches: accepted exactly when whole and labelled 0..9, with the same bytes', (t) => {
  const tally = new Tally('cifar');
  tally.run(
    'none',
    'base',
    () => parseCifarBatch(base, 'fuzz', RECORDS),
    isOwn,
    (r) => matches(r, reference(base)),
  );
  assert.equal(tally.counts.get('none')?.accepted, 1);
  for (let c = 0; c < 1200; c++) {
    const { kind, bytes } = mutate(base);
    const want = reference(bytes);
    const outcome = tally.run(
      kind,
      `case ${c}`,
      () => parseCifarBatch(bytes, 'fuzz', RECORDS),
      isOwn,
      (r) => matches(r, want),
    );
    if (outcome === 'refused' && want !== null) tally.failures.push(`${kind} case ${c}: refused a valid file`);
    if (kind.startsWith('truncate') || kind.endsWith('-record')) {
      assert.notEqual(outcome, 'accepted', `case ${c}: a ${kind} file was accepted`);
    }
  }
  tally.finish(t);
});

test('fuzz CIFAR-10 gzipped batch files through loadCifar10', (t) => {
  const tally = new Tally('cifar.gz');
  const root = join(dir, 'gz');
  const path = join(root, 'test_batch.bin');
  mkdirSync(root, { recursive: true });
  for (let c = 0; c < 150; c++) {
    let kind: string;
    let file: Uint8Array;
    if (c % 2 === 0) {
      const whole = gzipSync(base);
      kind = rng.int(2) === 0 ? 'gz-truncate' : 'gz-flip';
      file =
        kind === 'gz-truncate'
          ? truncate(whole, rng.int(whole.length))
          : flip(whole, rng.int(whole.length), 1 + rng.int(255));
    } else {
      const m = mutate(base);
      kind = `gz-of-${m.kind}`;
      file = gzipSync(m.bytes);
    }
    let inner: Uint8Array | null;
    const gz = file.length >= 2 && file[0] === 0x1f && file[1] === 0x8b;
    try {
      inner = gz ? gunzipSync(file) : file;
    } catch {
      inner = null;
    }
    const want = inner === null ? null : reference(inner);
    writeFileSync(path, file);
    const outcome = tally.run(
      kind,
      `case ${c}`,
      () => loadCifar10({ root, split: 'test', recordsPerFile: RECORDS }),
      isOwn,
      (ds) => {
        const pixels = new Uint8Array(ds.raw.toTypedArray() as Uint8Array);
        return matches({ labels: ds.labels(), pixels }, want);
      },
      (ds) => ds.dispose(),
    );
    if (outcome === 'refused' && want !== null) tally.failures.push(`${kind} case ${c}: refused a valid file`);
    if (kind === 'gz-truncate') assert.notEqual(outcome, 'accepted', `case ${c}: a truncated stream was accepted`);
  }
  tally.finish(t);
});
