// Lossless compression with a trained VDM: images in, a container file out, and back. The coding is
// bits-back.ts; this file ties it to a run (its weights, γ grid and network), to the inputs (a data
// set split or PNG files) and to the container format of src/coding/container.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { LatentGrid } from '../coding/cdf.js';
import { readContainer, sha256, writeContainer } from '../coding/container.js';
import { loadDataset } from '../data/registry.js';
import { noGrad } from '../torch/autograd.js';
import { arange, full, rand, tensor } from '../torch/creation.js';
import { GenlabError } from '../torch/errors.js';
import { Generator } from '../torch/random.js';
import { getNumThreads, setNumThreads } from '../torch/runtime.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import { decodePng, encodePng } from '../train/png.js';
import {
  type BitsBackSettings,
  CHAIN_ORDERS,
  type ChainModel,
  type ChainOrder,
  decodeBitsBack,
  encodeBitsBack,
} from './bits-back.js';
import type { VdmRun } from './experiment.js';
import type { VDM } from './model.js';
import { scheduleValues, vlbTerms } from './vlb.js';

/** Coding settings and their defaults. */
export interface CodecOptions {
  /** T of the discrete-time chain. */
  timesteps?: number;
  /** Latent precision: buckets of 2^−bits. */
  latentBits?: number;
  /** Latents are coded on |z| < 2^range. */
  latentRange?: number;
  /** Images per network call. */
  batch?: number;
  /** The order of pops and pushes (bits-back.ts): the paper's, or Bit-Swap's. */
  order?: ChainOrder;
}

export const CODEC_DEFAULTS = { timesteps: 20, latentBits: 10, latentRange: 3, batch: 10, order: 'bbans' } as const;

/** The container's header for VDM bits-back files. */
const headerSchema = z.strictObject({
  codec: z.literal('vdm-bits-back'),
  /** SHA-256 of the weights coded with (names, dtypes, shapes and bytes of the model's state). */
  model: z.string().regex(/^[0-9a-f]{64}$/),
  timesteps: z.int().min(1).max(100000),
  latentBits: z.int().min(1).max(16),
  latentRange: z.int().min(0).max(8),
  batch: z.int().min(1).max(100000),
  order: z.enum(CHAIN_ORDERS),
  /** libtorch intra-op threads the network ran with; decoding uses the same. */
  threads: z.int().min(1).max(1024),
  /** SHA-256 (first 16 hex digits) of ε̂ on a fixed probe batch: decoding recomputes and compares it. */
  probe: z.string().regex(/^[0-9a-f]{16}$/),
  shape: z.array(z.int().min(1).max(65536)).length(3),
  levels: z.int().min(2).max(256),
  count: z.int().min(0).max(1e9),
  initialBits: z.number().min(0),
});
export type CodecHeader = z.infer<typeof headerSchema>;

/** SHA-256 of the weights the run codes with (after the EMA was copied in, unless raw). */
export function modelHash(model: VDM): string {
  const h: Uint8Array[] = [];
  const state = model.stateDict();
  for (const name of Object.keys(state).sort()) {
    const t = state[name];
    h.push(Buffer.from(`${name}:${t.dtype}:${t.shape.join('x')};`), t.toBytes());
  }
  return sha256(...h).toString('hex');
}

/** The run's VDM as the coder sees it. */
export function chainModel(r: VdmRun, timesteps: number): ChainModel {
  const { info } = r;
  if (info.levels === null || info.shape.length !== 3) {
    throw new GenlabError('usage', `${r.run.dir}: compression needs a run on images with discrete levels`);
  }
  return vdmChainModel(r.model, info.shape, info.levels, timesteps);
}

/** A VDM as the coder sees it: its γ on the grid i/T (float32) and ε̂ for a batch at step i. */
export function vdmChainModel(model: VDM, shape: number[], levels: number, timesteps: number): ChainModel {
  const dims = shape.reduce((a, b) => a * b, 1);
  const grid = Array.from({ length: timesteps + 1 }, (_, i) => i / timesteps);
  const gammas = noGrad(() =>
    tidy(() => Array.from(model.schedule.gamma(tensor(grid, { dtype: 'float32' })).toTypedArray() as Float32Array)),
  );
  const eps = (zv: Float32Array, m: number, i: number): Float32Array =>
    noGrad(() =>
      tidy(() => {
        const zt = tensor(zv, { shape: [m, ...shape] });
        return model
          .eps(zt, full([m], gammas[i], { dtype: 'float32' }))
          .contiguous()
          .toTypedArray() as Float32Array;
      }),
    );
  return { levels, dims, gammas, eps };
}

/** ε̂ on a fixed batch of latents at the top and bottom steps, hashed: the libtorch determinism check. */
function probe(cm: ChainModel, batch: number): string {
  const n = batch * cm.dims;
  const z = new Float32Array(n);
  for (let j = 0; j < n; j++) z[j] = Math.sin(j * 0.7 + 0.3) * 1.5;
  const T = cm.gammas.length - 1;
  const a = cm.eps(z, batch, T);
  const b = cm.eps(z, batch, 1);
  return sha256(new Uint8Array(a.buffer), new Uint8Array(b.buffer)).toString('hex').slice(0, 16);
}

/** Images to code: levels [N·D] in 0 … K−1, with their shape. */
export interface CodecImages {
  levels: Uint8Array;
  count: number;
  shape: number[];
  /** SHA-256 of the levels, to compare a round trip at a glance. */
  digest: string;
}

export function imagesFromLevels(levels: Uint8Array, shape: number[]): CodecImages {
  const dims = shape.reduce((a, b) => a * b, 1);
  return { levels, count: levels.length / dims, shape, digest: sha256(levels).toString('hex') };
}

/** The first n images of a data set split, as levels of K. */
export function splitImages(
  data: string,
  opts: { split?: 'train' | 'test' | 'all'; n?: number; root?: string; levels: number },
): CodecImages {
  const ds = loadDataset(data, { split: opts.split ?? 'test', root: opts.root || undefined });
  const n = Math.min(opts.n ?? ds.length, ds.length);
  if (opts.n !== undefined && opts.n > ds.length) {
    throw new GenlabError(
      'usage',
      `${data} ${opts.split ?? 'test'} has ${ds.length} images, not ${opts.n}`,
      'lower {n}',
    );
  }
  const levels = tidy(() => {
    const x = ds.batch(arange(0, n, 1, { dtype: 'int64' })).x as Tensor;
    return Uint8Array.from(
      x
        .mul(opts.levels - 1)
        .round()
        .flatten()
        .toTypedArray() as Float32Array,
    );
  });
  const shape = ds.x.shape.slice(1);
  return imagesFromLevels(levels, shape);
}

/** 8-bit value of level k of K, as written to PNG files: round(255 k / (K − 1)). */
export function levelToByte(k: number, K: number): number {
  return Math.round((255 * k) / (K - 1));
}

/** PNG files (grey for one channel, RGB for three) of the run's image shape, as levels of K. */
export function pngImages(files: string[], shape: number[], K: number): CodecImages {
  const [C, H, W] = shape;
  const D = C * H * W;
  const back = new Int16Array(256).fill(-1);
  for (let k = 0; k < K; k++) back[levelToByte(k, K)] = k;
  const levels = new Uint8Array(files.length * D);
  files.forEach((file, i) => {
    let img: ReturnType<typeof decodePng>;
    try {
      img = decodePng(readFileSync(file), file);
    } catch (e) {
      throw new GenlabError('data', (e as Error).message);
    }
    if (img.width !== W || img.height !== H || img.channels !== C) {
      throw new GenlabError(
        'data',
        `${file}: ${img.width}×${img.height} with ${img.channels} channel(s), but the model codes ${W}×${H} with ${C}`,
      );
    }
    for (let c = 0; c < C; c++)
      for (let p = 0; p < H * W; p++) {
        const v = img.data[p * C + c];
        const k = back[v];
        if (k < 0) throw new GenlabError('data', `${file}: value ${v} is not one of the model's ${K} grey levels`);
        levels[i * D + c * H * W + p] = k;
      }
  });
  return imagesFromLevels(levels, shape);
}

/** Writes images as PNG files img-00000.png … into a folder; returns their paths. */
export function imagesToPngFiles(images: CodecImages, K: number, dir: string, write: (f: string, b: Buffer) => void) {
  const [C, H, W] = images.shape;
  const D = C * H * W;
  const files: string[] = [];
  for (let i = 0; i < images.count; i++) {
    const data = new Uint8Array(D);
    for (let c = 0; c < C; c++)
      for (let p = 0; p < H * W; p++) data[p * C + c] = levelToByte(images.levels[i * D + c * H * W + p], K);
    const file = join(dir, `img-${String(i).padStart(5, '0')}.png`);
    write(file, encodePng({ width: W, height: H, channels: C as 1 | 3, data }));
    files.push(file);
  }
  return files;
}

/** PNG files of a folder, sorted by name. */
export function pngFilesIn(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new GenlabError('data', `${dir}: cannot read the folder (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const files = names.filter((f) => f.toLowerCase().endsWith('.png')).sort();
  if (files.length === 0) throw new GenlabError('data', `${dir}: no PNG files`);
  return files.map((f) => join(dir, f));
}

function settingsOf(o: Required<CodecOptions>): BitsBackSettings {
  const grid: LatentGrid = { bits: o.latentBits, range: o.latentRange };
  return { grid, batch: o.batch, order: o.order };
}

export interface CompressResult {
  bytes: Uint8Array;
  header: CodecHeader;
  /** Bits per dimension of the whole file, of the payload without initial bits, and of the initial bits. */
  fileBpd: number;
  netBpd: number;
  initialBpd: number;
  netBits: number;
  /** The coded chain's own negative ELBO (unquantised densities at the coded latents), bits/dim. */
  sampleBpd: number;
  /** Net and sample bits of each batch, for paired comparisons. */
  batchNetBits: number[];
  batchSampleBits: number[];
  seconds: number;
  imagesPerSecond: number;
  digest: string;
}

/** Compresses images with a run's VDM into a container file's bytes. */
export function compressImages(
  r: VdmRun,
  images: CodecImages,
  opts: CodecOptions & { onImages?: (done: number) => void } = {},
): CompressResult {
  const o = { ...CODEC_DEFAULTS, ...defined(opts) } as Required<CodecOptions>;
  checkImages(r, images);
  const cm = chainModel(r, o.timesteps);
  const t0 = performance.now();
  const enc = encodeBitsBack(cm, images.levels, images.count, settingsOf(o), opts.onImages);
  const seconds = (performance.now() - t0) / 1000;
  const header: CodecHeader = {
    codec: 'vdm-bits-back',
    model: modelHash(r.model),
    timesteps: o.timesteps,
    latentBits: o.latentBits,
    latentRange: o.latentRange,
    batch: o.batch,
    order: o.order,
    threads: getNumThreads(),
    probe: probe(cm, Math.min(o.batch, Math.max(1, images.count))),
    shape: images.shape,
    levels: cm.levels,
    count: images.count,
    initialBits: enc.initialBits,
  };
  const bytes = writeContainer(header, enc.payload);
  const dims = images.count * cm.dims;
  return {
    bytes,
    header,
    fileBpd: (8 * bytes.length) / dims,
    netBpd: enc.netBits / dims,
    initialBpd: enc.initialBits / dims,
    netBits: enc.netBits,
    sampleBpd: enc.sampleAfterBatch[enc.sampleAfterBatch.length - 1] / dims,
    batchNetBits: increments(enc.netAfterBatch),
    batchSampleBits: increments(enc.sampleAfterBatch),
    seconds,
    imagesPerSecond: images.count / seconds,
    digest: images.digest,
  };
}

function increments(cumulative: number[]): number[] {
  return cumulative.map((v, i) => v - (i > 0 ? cumulative[i - 1] : 0));
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function checkImages(r: VdmRun, images: CodecImages): void {
  const want = r.info.shape;
  if (images.shape.join() !== want.join()) {
    throw new GenlabError('data', `images of shape [${images.shape}] but the model codes [${want}]`);
  }
  const K = r.info.levels ?? 0;
  for (const v of images.levels) if (v >= K) throw new GenlabError('data', `a level ${v} beyond the model's ${K}`);
}

/** Parses a container file made by compressImages and checks it against the run. */
export function readCodecFile(bytes: Uint8Array, name: string): { header: CodecHeader; payload: Uint8Array } {
  const { header, payload } = readContainer(bytes, name);
  const parsed = headerSchema.safeParse(header);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new GenlabError('data', `${name}: bad header field '${issue.path.join('.')}': ${issue.message}`);
  }
  return { header: parsed.data, payload };
}

export interface DecompressResult {
  images: CodecImages;
  header: CodecHeader;
  seconds: number;
  imagesPerSecond: number;
}

/** Decompresses a container file's bytes with the run it was made with. */
export function decompressBytes(
  r: VdmRun,
  bytes: Uint8Array,
  name: string,
  opts: { onImages?: (done: number) => void } = {},
): DecompressResult {
  const { header, payload } = readCodecFile(bytes, name);
  const hash = modelHash(r.model);
  if (header.model !== hash) {
    throw new GenlabError(
      'data',
      `${name} was compressed with model ${header.model.slice(0, 12)}, but ${r.run.dir} is model ${hash.slice(0, 12)}`,
      'decompress with the run (and the same {raw} setting) it was made with',
    );
  }
  if (header.shape.join() !== r.info.shape.join() || header.levels !== r.info.levels) {
    throw new GenlabError('data', `${name}: images [${header.shape}] of ${header.levels} levels do not fit the model`);
  }
  const dims = header.shape.reduce((a, b) => a * b, 1);
  if (header.count * dims > 2 ** 30)
    throw new GenlabError('data', `${name}: ${header.count} images is more than a file can hold`);
  const threads = getNumThreads();
  if (threads !== header.threads) setNumThreads(header.threads);
  try {
    const cm = chainModel(r, header.timesteps);
    if (probe(cm, Math.min(header.batch, Math.max(1, header.count))) !== header.probe) {
      throw new GenlabError(
        'data',
        `${name}: this libtorch computes the network differently from the one that compressed it (probe mismatch), so it cannot decode the file exactly`,
        'decompress on the machine and libtorch build that compressed it',
      );
    }
    const t0 = performance.now();
    const levels = decodeBitsBack(cm, payload, header.count, settingsOf(header), opts.onImages);
    const seconds = (performance.now() - t0) / 1000;
    return {
      images: imagesFromLevels(levels, header.shape),
      header,
      seconds,
      imagesPerSecond: header.count / seconds,
    };
  } finally {
    if (threads !== header.threads) setNumThreads(threads);
  }
}

/**
 * The model's discrete-time negative ELBO at T steps of each image, in bits/dim, averaged over
 * `reps` draws of (t, ε): the figure the coded rate should approach.
 */
export function discreteNelbo(
  r: VdmRun,
  images: CodecImages,
  timesteps: number,
  opts: { reps?: number; seed?: number; batchSize?: number } = {},
): { bpd: number; stderr: number; recon: number; prior: number; diff: number; perImageBits: Float64Array } {
  const { model } = r;
  const K = r.info.levels ?? 2;
  const reps = opts.reps ?? 8;
  const gen = new Generator(opts.seed ?? 0);
  const D = images.shape.reduce((a, b) => a * b, 1);
  const per = new Float64Array(images.count);
  const parts = { recon: 0, prior: 0, diff: 0 };
  const bs = opts.batchSize ?? 250;
  noGrad(() => {
    for (let s = 0; s < images.count; s += bs) {
      const e = Math.min(images.count, s + bs);
      tidy(() => {
        const lv = Float32Array.from(images.levels.subarray(s * D, e * D));
        const x = tensor(lv, { shape: [e - s, ...images.shape] }).div(K - 1);
        const { k, f } = model.encode(x);
        for (let rep = 0; rep < reps; rep++) {
          // Times uniform on [0, 1), rounded up onto the grid i/T by scheduleValues.
          const u = rand([e - s], { generator: gen });
          const values = scheduleValues(model.schedule, u, timesteps);
          const terms = vlbTerms({ f, k, levels: K, values, eps: model.eps, generator: gen });
          const tot = terms.total.toTypedArray() as Float32Array;
          for (let i = 0; i < e - s; i++) per[s + i] += tot[i] / reps;
          parts.recon += terms.recon.sum().item();
          parts.prior += terms.prior.sum().item();
          parts.diff += terms.diff.sum().item();
        }
      });
    }
  });
  const toBpd = D * Math.LN2;
  let mean = 0;
  for (const v of per) mean += v / images.count;
  let v2 = 0;
  for (const v of per) v2 += (v - mean) ** 2;
  const n = images.count;
  return {
    bpd: mean / toBpd,
    stderr: Math.sqrt(v2 / Math.max(1, n - 1) / n) / toBpd,
    recon: parts.recon / (n * reps) / toBpd,
    prior: parts.prior / (n * reps) / toBpd,
    diff: parts.diff / (n * reps) / toBpd,
    perImageBits: per.map((v) => v / Math.LN2),
  };
}
