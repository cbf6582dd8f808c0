// genlab diffusion compress|decompress: lossless compression with a trained VDM by bits-back coding.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { CHAIN_ORDERS } from '../diffusion/bits-back.js';
import {
  CODEC_DEFAULTS,
  type CompressResult,
  compressImages,
  type DecompressResult,
  decompressBytes,
  imagesToPngFiles,
  pngFilesIn,
  pngImages,
  readCodecFile,
  splitImages,
} from '../diffusion/compress.js';
import { loadVdmRun } from '../diffusion/experiment.js';
import { GenlabError } from '../torch/errors.js';
import { writeFileAtomic } from '../train/files.js';
import { Progress } from '../train/progress.js';
import { choice, flag, int, path, text } from './args.js';
import { root, runArg, threads } from './common.js';
import { verb } from './verb.js';

const raw = flag('use the trained weights instead of their EMA');

export const compress = verb({
  summary: 'compress images losslessly with a run (bits-back coding)',
  usage: '<run> (--data <set> | --pngs <folder>) --out <file> [options]',
  description:
    "Codes images with the run's VDM through its T-step discrete-time chain by bits-back rANS coding, at a rate close to the model's negative ELBO.",
  args: [runArg],
  options: {
    data: text("a data set split to compress (the run's image shape)"),
    split: choice('split of --data', ['train', 'test', 'all'], { default: 'test' }),
    n: int('images of the split to compress (the first n)', { min: 1, max: 1e9, defaultText: 'all' }),
    root,
    pngs: path("a folder of PNG files of the run's image shape and grey levels"),
    out: path('file to write'),
    timesteps: int('T of the discrete-time chain', { min: 1, max: 10000, default: CODEC_DEFAULTS.timesteps }),
    latentBits: int('latent precision: buckets of 2^-bits', { min: 4, max: 14, default: CODEC_DEFAULTS.latentBits }),
    latentRange: int('latents are coded on |z| < 2^range', { min: 1, max: 5, default: CODEC_DEFAULTS.latentRange }),
    batch: int('images per network call (more is faster, and borrows more initial bits)', {
      min: 1,
      max: 10000,
      default: CODEC_DEFAULTS.batch,
    }),
    order: choice("bbans: the paper's order; bitswap: borrows far fewer initial bits", CHAIN_ORDERS, {
      default: CODEC_DEFAULTS.order,
    }),
    raw,
    threads,
  },
  run: (o, [dir], ctx) => {
    if (!o.out) throw new GenlabError('usage', 'no output file', 'pass {out}');
    if ((o.data === undefined) === (o.pngs === undefined)) {
      throw new GenlabError('usage', 'say what to compress', 'pass either {data} or {pngs}');
    }
    const r = loadVdmRun(dir, { raw: o.raw });
    const K = r.info.levels ?? 0;
    const images =
      o.pngs !== undefined
        ? pngImages(pngFilesIn(o.pngs), r.info.shape, K)
        : splitImages(o.data as string, { split: o.split, n: o.n, root: o.root, levels: K });
    const progress = new Progress({ total: images.count, label: 'compress', quiet: ctx.quiet });
    const res = compressImages(r, images, { ...o, onImages: (d) => progress.update(d) });
    progress.done(`compressed ${images.count} images`);
    writeFileAtomic(o.out, res.bytes);
    const { bytes, ...rest } = res;
    return { file: o.out, bytes: bytes.length, ...rest };
  },
  show: (r: Omit<CompressResult, 'bytes'> & { file: string; bytes: number }) => [
    `wrote ${r.file}: ${r.header.count} images in ${r.bytes} bytes, ${r.fileBpd.toFixed(4)} bits/dim (T=${r.header.timesteps}, latents at 2^-${r.header.latentBits}, ${r.header.order} order)`,
    `net rate ${r.netBpd.toFixed(4)} bits/dim; initial bits ${r.header.initialBits.toFixed(0)} (${r.initialBpd.toFixed(4)} bits/dim over the set)`,
    `encode ${r.imagesPerSecond.toFixed(1)} images/s (${r.seconds.toFixed(1)} s); images sha256 ${r.digest.slice(0, 16)}`,
  ],
});

export const decompress = verb({
  summary: 'decompress a file made by compress, into PNG files',
  usage: '<run> <file> --out <folder> [options]',
  description: 'Decodes a file made by `genlab diffusion compress` with the same run, into numbered PNG files.',
  args: [runArg, { name: 'file', help: 'compressed file' }],
  options: { out: path('folder to write the PNG files into'), raw, threads },
  run: (o, [dir, file], ctx) => {
    if (!o.out) throw new GenlabError('usage', 'no output folder', 'pass {out}');
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new GenlabError('data', `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    const r = loadVdmRun(dir, { raw: o.raw });
    const count = readCodecFile(bytes, file).header.count;
    const progress = new Progress({ total: count, label: 'decompress', quiet: ctx.quiet });
    const res = decompressBytes(r, bytes, file, { onImages: (d) => progress.update(d) });
    progress.done(`decompressed ${count} images`);
    mkdirSync(o.out, { recursive: true });
    const files = imagesToPngFiles(res.images, res.header.levels, o.out, (f, b) => writeFileSync(f, b));
    const { images, ...rest } = res;
    return { folder: o.out, files: files.length, digest: images.digest, ...rest };
  },
  show: (r: Omit<DecompressResult, 'images'> & { folder: string; files: number; digest: string }) => [
    `wrote ${r.files} PNG files into ${r.folder}; images sha256 ${r.digest.slice(0, 16)}`,
    `decode ${r.imagesPerSecond.toFixed(1)} images/s (${r.seconds.toFixed(1)} s)`,
  ],
});
