// Fuzzing the safetensors reader (deserialize on bytes).
//
// Malformed, checkably, by mutation:
// - a truncated file, a changed header length, a header number (shape or offset) changed to another
//   value or written as 2.0 / 2e0 / -0, a duplicated tensor name, a byte-order mark, a shape nested
//   deeper: always malformed, must be refused;
// - a byte changed inside tensor data: a valid file, which must load with exactly the new bytes,
//   except a BOOL byte above 1, which must be refused;
// - a random byte flipped or spliced in the header: validity unknown, so only no crash and, when
//   accepted, tensors that agree with the header as JSON.parse reads it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '../../src/torch/index.js';
import { deserialize, serialize } from '../../src/torch/safetensors.js';
import { flip, Prng, splice, Tally, truncate } from './harness.js';

const rng = new Prng(8);

function build(): Uint8Array {
  const ts = {
    weight: torch.tensor(
      Float32Array.from({ length: 6 }, (_, i) => i / 3 - 1),
      { shape: [2, 3] },
    ),
    steps: torch.tensor(new BigInt64Array([1n, -2n, 3n])),
    pixels: torch.tensor(new Uint8Array([0, 32, 255, 7, 9]), { shape: [5] }),
    mask: torch.tensor([true, false, true, true]),
    half: torch.tensor(new Uint16Array([0x3c00, 0xc000, 0x7bff]), { dtype: 'float16' }),
  };
  const bytes = new Uint8Array(serialize(ts, { format: 'pt', note: 'fuzz' }));
  torch.dispose(ts);
  return bytes;
}

const base = build();
const headerLength = Number(Buffer.from(base.buffer, base.byteOffset, 8).readBigUInt64LE(0));
const dataStart = 8 + headerLength;
const headerText = Buffer.from(base.subarray(8, dataStart)).toString('utf8');
const header = JSON.parse(headerText) as Record<
  string,
  { dtype: string; shape: number[]; data_offsets: [number, number] }
>;
const boolRange = header.mask.data_offsets;

/** A file from header text and data bytes (the length prefix recomputed). */
function file(text: string, data: Uint8Array = base.subarray(dataStart)): Uint8Array {
  const json = Buffer.from(text, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  return new Uint8Array(Buffer.concat([prefix, json, data]));
}

/** Every number literal in the header text inside shape or data_offsets: [start, end) positions. */
const numberSpans: [number, number][] = [];
for (const m of headerText.matchAll(/"(shape|data_offsets)":\[([0-9,]*)\]/g)) {
  let at = (m.index ?? 0) + m[0].indexOf('[') + 1;
  for (const part of m[2].split(',')) {
    if (part !== '') numberSpans.push([at, at + part.length]);
    at += part.length + 1;
  }
}

const isOwn = (e: unknown) => e instanceof Error && e.message.startsWith('safetensors: ');

type Loaded = ReturnType<typeof deserialize>;
const release = (r: Loaded) => torch.dispose(r.tensors);

/** Loaded tensors agree with the header JSON.parse reads from the file: names, shapes, bytes. */
function agrees(bytes: Uint8Array, r: Loaded): string | null {
  const n = Number(Buffer.from(bytes.buffer, bytes.byteOffset, 8).readBigUInt64LE(0));
  let h: Record<string, { shape: number[]; data_offsets: [number, number] }>;
  try {
    h = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8'));
  } catch {
    return 'its header is not JSON';
  }
  const names = Object.keys(h).filter((k) => k !== '__metadata__');
  if (names.sort().join() !== Object.keys(r.tensors).sort().join()) return 'tensor names differ from the header';
  for (const name of names) {
    const t = r.tensors[name];
    if (t.shape.join() !== h[name].shape.join()) return `'${name}' has shape [${t.shape}]`;
    const [b, e] = h[name].data_offsets;
    const want = Buffer.from(bytes.subarray(8 + n + b, 8 + n + e));
    const got = Buffer.from(
      (torch.ops.view_dtype(t.reshape(-1).contiguous(), 'uint8').toTypedArray() as Uint8Array).slice(),
    );
    if (!got.equals(want)) return `'${name}' holds other bytes than the file`;
  }
  return null;
}

function mutate(): { kind: string; bytes: Uint8Array; malformed: boolean | null } {
  switch (rng.int(10)) {
    case 0:
      return { kind: 'truncate', bytes: truncate(base, rng.int(base.length)), malformed: true };
    case 1: {
      const out = Buffer.from(base);
      const choices = [headerLength + 1, headerLength - 1, headerLength + 8, headerLength - 8, 0, rng.u32()];
      out.writeBigUInt64LE(BigInt(rng.pick(choices)), 0);
      return { kind: 'header-length', bytes: new Uint8Array(out), malformed: true };
    }
    case 2: {
      // A byte of tensor data: valid unless it makes a BOOL byte above 1.
      const at = rng.int(base.length - dataStart);
      const bytes = flip(base, dataStart + at, 1 + rng.int(255));
      const inBool = at >= boolRange[0] && at < boolRange[1];
      return { kind: 'flip-data', bytes, malformed: inBool && bytes[dataStart + at] > 1 };
    }
    case 3: {
      const [s, e] = rng.pick(numberSpans);
      const v = Number(headerText.slice(s, e));
      const choices = [`${v + 1}`, `${v * 2 + 3}`, `${v}.0`, `${v}e0`, `-${v}`, `${2 ** 53}`, '1e400', `${v} .5`];
      const replacement = rng.pick(choices);
      return {
        kind: 'header-number',
        bytes: file(headerText.slice(0, s) + replacement + headerText.slice(e)),
        malformed: true,
      };
    }
    case 4: {
      // A second entry under an existing name, first in the object.
      const name = rng.pick(Object.keys(header).filter((k) => k !== '__metadata__'));
      const dup = `"${name}":${JSON.stringify(header[name])},`;
      return { kind: 'duplicate-name', bytes: file(`{${dup}${headerText.trimEnd().slice(1)}`), malformed: true };
    }
    case 5:
      return { kind: 'bom', bytes: file(`\ufeff${headerText}`), malformed: true };
    case 6: {
      const name = rng.pick(['weight', 'steps', 'pixels']);
      const depth = 1 + rng.int(rng.int(2) === 0 ? 10 : 200_000);
      const shape = JSON.stringify(header[name].shape);
      const text = headerText.replace(`"${name}":{"dtype":"${header[name].dtype}","shape":${shape}`, (m) =>
        m.replace(`"shape":${shape}`, `"shape":${'['.repeat(depth)}${shape}${']'.repeat(depth)}`),
      );
      return { kind: 'nest-shape', bytes: file(text), malformed: true };
    }
    case 7:
      return { kind: 'flip-header', bytes: flip(base, 8 + rng.int(headerLength), 1 << rng.int(8)), malformed: null };
    case 8: {
      const from = 8 + rng.int(headerLength);
      return {
        kind: 'splice-header',
        bytes: splice(base, from, Math.min(dataStart, from + 1 + rng.int(6))),
        malformed: null,
      };
    }
    default: {
      const from = rng.int(base.length + 1);
      const insert = Uint8Array.from({ length: 1 + rng.int(6) }, () => rng.int(256));
      return { kind: 'splice-insert', bytes: splice(base, from, from, insert), malformed: null };
    }
  }
}

test('fuzz safetensors: malformed files refused, data changes loaded as they are, no crash', (t) => {
  const tally = new Tally('safetensors');
  const live = torch.memory().tensors;
  tally.run(
    'none',
    'base',
    () => deserialize(base),
    isOwn,
    (r) => torch.tidy(() => agrees(base, r)),
    release,
  );
  assert.equal(tally.counts.get('none')?.accepted, 1);
  for (let c = 0; c < 900; c++) {
    const { kind, bytes, malformed } = mutate();
    const outcome = tally.run(
      kind,
      `case ${c}`,
      () => deserialize(bytes, { name: 'fuzz' }),
      isOwn,
      (r) => (malformed ? 'the mutation makes it malformed' : torch.tidy(() => agrees(bytes, r))),
      release,
    );
    if (outcome === 'refused' && malformed === false) tally.failures.push(`${kind} case ${c}: refused a valid file`);
  }
  // Refused loads free what they made; accepted ones were released above.
  assert.equal(torch.memory().tensors, live);
  tally.finish(t);
});
