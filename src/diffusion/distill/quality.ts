// Sampling a guided teacher (two evaluations a step) or a distilled student (one), sample grids, FID
// and IS on the shipped feature networks, and the editing and inpainting of given images.
import type { TensorDataset } from '../../data/dataset.js';
import { extractBatched } from '../../metrics/extractor.js';
import { classifierExtractor, loadFeatureNet } from '../../metrics/featureNet.js';
import { fidFromFeatures } from '../../metrics/fid.js';
import { inceptionScore } from '../../metrics/inception.js';
import { maxPool2d } from '../../nn/functional.js';
import { arange, full, randn, tensor } from '../../torch/creation.js';
import { GenlabError } from '../../torch/errors.js';
import { cat } from '../../torch/functions.js';
import { Generator } from '../../torch/random.js';
import { tidy } from '../../torch/scope.js';
import type { Tensor } from '../../torch/tensor.js';
import { saveImageGrid } from '../../train/images.js';
import type { RawImage } from '../../train/png.js';
import { hasFeatureNet } from '../evaluate.js';
import type { GuidedModel } from './net.js';
import { type Denoiser, type DistillSampler, sampleGrid } from './samplers.js';
import { type DataSpace, fromModelSpace, toModelSpace } from './space.js';

/** What draws samples: the guided teacher, or a w-conditioned student; in pixels, or in an autoencoder's latents. */
export interface Source {
  kind: 'teacher' | 'student';
  model: GuidedModel;
  /** Where the model diffuses; absent: pixels in [−1, 1]. */
  space?: DataSpace;
}

const toImages = (s: Source, z: Tensor): Tensor => (s.space ? s.space.toImages(z) : fromModelSpace(z));
const toModel = (s: Source, x: Tensor): Tensor => (s.space ? s.space.toModel(x) : toModelSpace(x));

/** Network evaluations per sampler step: two for the guided teacher (conditional and unconditional), one for a student. */
export const evalsPerStep = (s: Source): number => (s.kind === 'teacher' ? 2 : 1);

/** x̂ of the batch at one time, guided at weight w. */
export function denoiserFor(s: Source, labels: Tensor, w: number): Denoiser {
  return (z, t) => {
    const bt = s.model.timesAt(t, z.shape[0], z.ndim, z.dtype as 'float32');
    if (s.kind === 'teacher') return s.model.guidedXHat(z, bt, labels, w);
    return s.model.xHat(z, bt, labels, full([z.shape[0]], w, { dtype: z.dtype }));
  };
}

export interface DrawOptions {
  steps: number;
  w: number;
  sampler?: DistillSampler;
  generator?: Generator;
}

/** Samples [B, …] in [0, 1] for the given labels; `shape` is the diffusion variable's (a latent's for a latent model). */
export function drawSamples(s: Source, shape: number[], labels: Tensor, opts: DrawOptions): Tensor {
  return tidy(() => {
    const z1 = randn([labels.shape[0], ...shape], { generator: opts.generator });
    const z0 = sampleGrid(denoiserFor(s, labels, opts.w), s.model.schedule, z1, {
      steps: opts.steps,
      sampler: opts.sampler,
      generator: opts.generator,
    });
    return toImages(s, z0);
  });
}

/** Labels 0, 1, …, classes − 1, 0, 1, … for n samples. */
export const cycleLabels = (n: number, classes: number): Tensor =>
  arange(0, n, 1, { dtype: 'int64' }).remainder(classes);

/** A grid with one class per column, ten rows. */
export function writeSampleGrid(
  file: string,
  s: Source,
  shape: number[],
  opts: DrawOptions & { seed: number; rows?: number },
): string {
  const classes = s.model.net.config.classes;
  tidy(() => {
    const x = drawSamples(s, shape, cycleLabels(classes * (opts.rows ?? 10), classes), {
      ...opts,
      generator: opts.generator ?? new Generator(opts.seed),
    });
    saveImageGrid(file, x, { nrow: classes, scale: x.shape[2] <= 16 ? 4 : 2 });
  });
  return file;
}

export interface QualityRow {
  fid: number;
  inceptionScore: number;
  samples: number;
  steps: number;
  w: number;
  /** Network evaluations per image. */
  evaluations: number;
  imagesPerSecond: number;
}

/** The test images' features per data set and size, computed once a process (10,000 images for Fashion-MNIST). */
const REAL_FEATURES = new Map<string, Tensor>();

/** FID against the test images and IS of n samples, in the shipped classifier's features. */
export function sampleQuality(
  s: Source,
  data: string,
  test: TensorDataset,
  opts: DrawOptions & { n: number; seed: number; batchSize?: number },
): QualityRow {
  if (!hasFeatureNet(data))
    throw new GenlabError('usage', `no feature network ships for ${data}, so FID/IS cannot be computed`);
  const shape = s.space?.shape ?? test.x.shape.slice(1);
  const classes = s.model.net.config.classes;
  const generator = new Generator(opts.seed);
  // The guided teacher evaluates a batch of 2B (conditional and unconditional together), so it draws
  // 125 at a time: its forward passes hold 250 images, like a student's.
  const batch = opts.batchSize ?? (s.kind === 'teacher' ? 125 : 250);
  const net = loadFeatureNet(data);
  try {
    return tidy(() => {
      const parts: Tensor[] = [];
      const t0 = performance.now();
      for (let done = 0; done < opts.n; done += batch) {
        const m = Math.min(batch, opts.n - done);
        const labels = arange(done, done + m, 1, { dtype: 'int64' }).remainder(classes);
        parts.push(drawSamples(s, shape, labels, { ...opts, generator }));
      }
      const seconds = (performance.now() - t0) / 1000;
      const samples = cat(parts);
      const extractor = classifierExtractor(net);
      const key = `${data}:${test.length}`;
      let realFeatures = REAL_FEATURES.get(key);
      if (!realFeatures) {
        const real = (test as TensorDataset & { images?: () => Tensor }).images?.() ?? test.x;
        realFeatures = extractBatched(extractor, real, 'features').keep();
        REAL_FEATURES.set(key, realFeatures);
      }
      const fid = fidFromFeatures(extractBatched(extractor, samples, 'features'), realFeatures);
      return {
        fid,
        inceptionScore: inceptionScore(extractBatched(extractor, samples, 'probs')).mean,
        samples: opts.n,
        steps: opts.steps,
        w: opts.w,
        evaluations: opts.steps * evalsPerStep(s),
        imagesPerSecond: opts.n / seconds,
      };
    });
  } finally {
    net.dispose();
  }
}

/** PNG pixels → [1, C, H, W] in [0, 1] (grey for one channel, alpha dropped). */
export function imageFromPng(img: RawImage, shape: number[], name: string): Tensor {
  const [c, h, w] = shape;
  if (img.width !== w || img.height !== h) {
    throw new GenlabError('usage', `${name} is ${img.width}×${img.height}, but the model's images are ${w}×${h}`);
  }
  const src = img.channels;
  const out = new Float32Array(c * h * w);
  for (let p = 0; p < h * w; p++) {
    const px = img.data.subarray(p * src, p * src + src);
    const grey = src >= 3 ? (px[0] + px[1] + px[2]) / 3 : px[0];
    for (let ch = 0; ch < c; ch++) out[ch * h * w + p] = (c === 3 && src >= 3 ? px[ch] : grey) / 255;
  }
  return tensor(out, { shape: [1, c, h, w] });
}

export const MASK_SHAPES = ['centre', 'left', 'right', 'top', 'bottom'] as const;
export type MaskShape = (typeof MASK_SHAPES)[number];

/** A named mask [1, 1, H, W]: 1 where the image is to be filled in. */
export function namedMask(shape: MaskShape, h: number, w: number): Tensor {
  const m = new Float32Array(h * w);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const inside =
        shape === 'centre'
          ? y >= h / 4 && y < (3 * h) / 4 && x >= w / 4 && x < (3 * w) / 4
          : shape === 'left'
            ? x < w / 2
            : shape === 'right'
              ? x >= w / 2
              : shape === 'top'
                ? y < h / 2
                : y >= h / 2;
      m[y * w + x] = inside ? 1 : 0;
    }
  return tensor(m, { shape: [1, 1, h, w] });
}

/**
 * Class-guided editing (SDEdit with the distilled sampler): noise each image to level t_start,
 * z = α x + σ ε, then denoise in `steps` steps towards `target`. Returns [B·(1 + levels), …]: each
 * image followed by its edits at each level, a strip per image.
 */
export function editImages(
  s: Source,
  images: Tensor,
  opts: { target: number; levels: number[]; steps: number; w: number; sampler?: DistillSampler; seed: number },
): Tensor {
  const generator = new Generator(opts.seed);
  return tidy(() => {
    const b = images.shape[0];
    const x = toModel(s, images);
    const labels = full([b], opts.target, { dtype: 'int64' });
    const columns = [images];
    for (const level of opts.levels) {
      const { alpha, sigma } = s.model.schedule.at(level);
      const z = x.mul(alpha).add(randn(x.shape, { generator }).mul(sigma));
      const z0 = sampleGrid(denoiserFor(s, labels, opts.w), s.model.schedule, z, {
        steps: opts.steps,
        tStart: level,
        sampler: opts.sampler,
        generator,
      });
      columns.push(toImages(s, z0));
    }
    return interleave(columns);
  });
}

/** [k tensors of B images] → [B·k]: image i of each in turn, so a grid with k columns shows a strip per image. */
function interleave(columns: Tensor[]): Tensor {
  return cat(
    columns.map((c) => c.unsqueeze(1)),
    1,
  ).flatten(0, 1);
}

/** A pixel mask [1, 1, H, W] on the grid of the diffusion's variable [B, C, h, w]: max-pooled when h < H. */
function latentMask(mask: Tensor, shape: number[]): Tensor {
  const [h, w] = [shape[2], shape[3]];
  if (mask.shape[2] === h && mask.shape[3] === w) return mask;
  return maxPool2d(mask, [mask.shape[2] / h, mask.shape[3] / w]);
}

/**
 * Inpainting: the region where mask = 1 is generated; elsewhere the latent is replaced, at each
 * grid time, by the given image noised to that time (α_t x + σ_t ε). Returns strips of the image,
 * the image with its hole grey, and `samples` completions.
 */
export function inpaintImages(
  s: Source,
  images: Tensor,
  mask: Tensor,
  opts: { labels: Tensor; samples: number; steps: number; w: number; sampler?: DistillSampler; seed: number },
): Tensor {
  const generator = new Generator(opts.seed);
  return tidy(() => {
    const x = toModel(s, images);
    const keep = mask.rsub(1);
    const columns = [images, images.mul(keep).add(mask.mul(0.5))];
    // In latent space, a latent cell is generated when any pixel it covers is in the hole.
    const zMask = latentMask(mask, x.shape);
    const zKeep = zMask.rsub(1);
    const project = (z: Tensor, t: number) => {
      const { alpha, sigma } = s.model.schedule.at(t);
      const known = x.mul(alpha).add(randn(x.shape, { generator }).mul(sigma));
      return z.mul(zMask).add(known.mul(zKeep));
    };
    for (let k = 0; k < opts.samples; k++) {
      const z1 = randn(x.shape, { generator });
      const z0 = sampleGrid(denoiserFor(s, opts.labels, opts.w), s.model.schedule, z1, {
        steps: opts.steps,
        sampler: opts.sampler,
        generator,
        project,
      });
      // The known pixels are the image's own; only the hole is generated.
      columns.push(toImages(s, z0).mul(mask).add(images.mul(keep)));
    }
    return interleave(columns);
  });
}
