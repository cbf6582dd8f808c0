// Compression with a run: round trip, the determinism the coder relies on, and every bad-file case.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gaussianCdf } from '../../src/coding/cdf.js';
import { sha256 } from '../../src/coding/container.js';
import { chainModel, compressImages, decompressBytes, splitImages } from '../../src/diffusion/compress.js';
import { loadVdmRun, trainVdmRun, type VdmRun, vdmConfig } from '../../src/diffusion/experiment.js';
import { GenlabError } from '../../src/torch/errors.js';
import { setNumThreads } from '../../src/torch/runtime.js';

const tmp = mkdtempSync(join(tmpdir(), 'genlab-compress-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const tiny = { width: 8, depth: 1, batchSize: 16, sampleSteps: 2, evalTimeSamples: 1 };
let run: VdmRun;
let other: VdmRun;
const settings = { timesteps: 4, batch: 4, latentBits: 9 };

before(async () => {
  setNumThreads(1);
  await trainVdmRun(vdmConfig('digits', { ...tiny, steps: 30 }), join(tmp, 'a'), { quiet: true });
  await trainVdmRun(vdmConfig('digits', { ...tiny, steps: 30, seed: 1 }), join(tmp, 'b'), { quiet: true });
  run = loadVdmRun(join(tmp, 'a'));
  other = loadVdmRun(join(tmp, 'b'));
});

/** Asserts a one-line GenlabError whose message matches. */
function refuses(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof GenlabError, `not a GenlabError: ${e}`);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'));
    return true;
  });
}

test('compress → decompress gives back the images bit for bit', () => {
  const images = splitImages('digits', { split: 'test', n: 24, levels: 17 });
  const c = compressImages(run, images, settings);
  const d = decompressBytes(run, c.bytes, 'x.glz');
  assert.deepEqual(d.images.levels, images.levels);
  assert.equal(d.images.digest, images.digest);
  assert.equal(c.header.count, 24);
  assert.deepEqual(c.header.shape, [1, 8, 8]);
  // The file holds the net bits, the initial bits, the 7-byte state and the container's header.
  const bits = 8 * c.bytes.length;
  assert.ok(bits > c.netBits + c.header.initialBits && bits < c.netBits + c.header.initialBits + 8 * 600);
});

test('encoder- and decoder-side network outputs and integer CDFs are identical bit for bit', () => {
  // The encoder asks for ε̂ at steps 1 … T, the decoder at T … 1, each time on the same batch; here
  // the second pass runs in the other order with other calls (another batch size) in between.
  const cm = chainModel(run, 5);
  const m = 4;
  const z = Float32Array.from({ length: m * 64 }, (_, j) => Math.cos(j * 1.3) * 1.2);
  const first = [1, 2, 3, 4, 5].map((i) => cm.eps(z, m, i));
  const second: Float32Array[] = [];
  for (let i = 5; i >= 1; i--) {
    cm.eps(
      Float32Array.from({ length: 7 * 64 }, (_, j) => Math.sin(j)),
      7,
      i,
    );
    second[i - 1] = cm.eps(z, m, i);
  }
  const grid = { bits: 10, range: 3 };
  for (let i = 0; i < 5; i++) {
    assert.equal(
      sha256(new Uint8Array(second[i].buffer)).toString('hex'),
      sha256(new Uint8Array(first[i].buffer)).toString('hex'),
    );
    for (let j = 0; j < m * 64; j += 17) {
      const a = gaussianCdf(z[j] - 0.1 * first[i][j], 0.05, grid);
      const b = gaussianCdf(z[j] - 0.1 * second[i][j], 0.05, grid);
      const k = Math.round((z[j] - 0.1 * first[i][j]) * 1024);
      for (const kk of [k - 40, k, k + 3]) assert.equal(a.start(kk), b.start(kk));
    }
  }
});

test('bad files: wrong model, truncated, corrupted byte, wrong version, each a one-line error', () => {
  const images = splitImages('digits', { split: 'test', n: 8, levels: 17 });
  const { bytes } = compressImages(run, images, settings);
  refuses(() => decompressBytes(other, bytes, 'f'), /compressed with model [0-9a-f]{12}, but .* is model/);
  for (const at of [0, 5, 20, bytes.length - 1])
    refuses(() => decompressBytes(run, bytes.slice(0, at), 'f'), /truncated|bad magic/);
  for (const at of [30, bytes.length - 100, bytes.length - 40]) {
    const bad = bytes.slice();
    bad[at] ^= 0x10;
    refuses(() => decompressBytes(run, bad, 'f'), /checksum mismatch/);
  }
  const v2 = bytes.slice();
  v2[8] = 1;
  refuses(() => decompressBytes(run, v2, 'f'), /format version 1, but this genlab reads version 2/);
  refuses(() => decompressBytes(run, new TextEncoder().encode('hello, world'), 'f'), /not a genlab compressed file/);
  const longer = new Uint8Array(bytes.length + 3);
  longer.set(bytes);
  refuses(() => decompressBytes(run, longer, 'f'), /unexpected bytes after the end/);
});
