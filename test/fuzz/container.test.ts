// Fuzzing the compressed-file reader and the bits-back decoder: random mutations of a file made by
// `compressImages` must never crash or hang, and must never decode to other images.
//
// Malformed, checkably: any change to the bytes of a sealed file is refused (the checksum covers
// everything). Re-sealed mutations (bytes changed, then the checksum recomputed, as a forger or a
// bug elsewhere could) reach the header parser and the decoder; those may be accepted only if they
// decode to exactly the original images, and otherwise must be refused with a one-line error.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sha256 } from '../../src/coding/container.js';
import { type CodecImages, compressImages, decompressBytes, splitImages } from '../../src/diffusion/compress.js';
import { loadVdmRun, trainVdmRun, type VdmRun, vdmConfig } from '../../src/diffusion/experiment.js';
import { GenlabError } from '../../src/torch/errors.js';
import { setNumThreads } from '../../src/torch/runtime.js';
import { flip, Prng, splice, Tally, truncate } from './harness.js';

const tmp = mkdtempSync(join(tmpdir(), 'genlab-fuzz-container-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let run: VdmRun;
let images: CodecImages;
let file: Uint8Array;

before(async () => {
  setNumThreads(1);
  const cfg = vdmConfig('digits', { width: 8, depth: 1, batchSize: 16, sampleSteps: 2, evalTimeSamples: 1, steps: 4 });
  await trainVdmRun(cfg, join(tmp, 'run'), { quiet: true });
  run = loadVdmRun(join(tmp, 'run'));
  images = splitImages('digits', { split: 'test', n: 4, levels: 17 });
  file = compressImages(run, images, { timesteps: 2, batch: 2, latentBits: 8 }).bytes;
});

/** Recomputes the trailing SHA-256, so the mutation reaches the parser and decoder. */
function reseal(b: Uint8Array): Uint8Array {
  if (b.length < 32) return b;
  const out = b.slice();
  out.set(sha256(out.subarray(0, out.length - 32)), out.length - 32);
  return out;
}

test('fuzz: mutated compressed files are refused with one-line errors, never decoded wrongly', (t) => {
  const rng = new Prng(13);
  const tally = new Tally('vdm-bits-back container');
  const sealedBody = file.length - 32;
  const headerEnd = 14 + new DataView(file.buffer, file.byteOffset).getUint32(10, true);
  const cases: [string, () => Uint8Array][] = [
    ['flip', () => flip(file, rng.int(file.length), 1 + rng.int(255))],
    ['truncate', () => truncate(file, rng.int(file.length))],
    ['splice', () => splice(file, rng.int(file.length), rng.int(file.length), Uint8Array.of(rng.int(256)))],
    ['resealed header byte', () => reseal(flip(file, rng.int(headerEnd), 1 + rng.int(255)))],
    [
      'resealed header digit',
      () => {
        // Change one digit of the JSON header, so it stays valid JSON with another number.
        const text = new TextDecoder().decode(file.subarray(14, headerEnd));
        const digits = [...text.matchAll(/\d/g)].map((m) => m.index as number);
        const at = 14 + digits[rng.int(digits.length)];
        const out = file.slice();
        out[at] = 0x30 + ((out[at] - 0x30 + 1 + rng.int(9)) % 10);
        return reseal(out);
      },
    ],
    [
      'resealed payload byte',
      () => reseal(flip(file, headerEnd + 4 + rng.int(sealedBody - headerEnd - 4), 1 + rng.int(255))),
    ],
    [
      'resealed payload cut',
      () => {
        const out = reseal(splice(file, headerEnd + 4 + rng.int(sealedBody - headerEnd - 4), sealedBody));
        return out;
      },
    ],
  ];
  for (let i = 0; i < 350; i++) {
    const [kind, make] = cases[i % cases.length];
    const bytes = make();
    tally.run(
      kind,
      `case ${i}`,
      () => decompressBytes(run, bytes, 'f'),
      (e) => e instanceof GenlabError,
      (r) => (Buffer.from(r.images.levels).equals(Buffer.from(images.levels)) ? null : 'decoded other images'),
    );
  }
  tally.finish(t);
  assert.ok(tally.counts.size === cases.length);
});
