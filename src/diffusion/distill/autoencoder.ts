// The latent-space variant of guided distillation: a small convolutional autoencoder, trained as its
// own run folder, whose scaled latents the teacher → stage 1 → stage 2 pipeline runs on (the paper's
// latent-diffusion experiments, at a small scale). The encoder halves the image twice (28×28 →
// 7×7, 8×8 → 2×2) into `channels` latent maps; the loss is the decoder's per-pixel binary cross
// entropy plus a small penalty on the latents' squares, which keeps them bounded (a deterministic AE,
// not a VAE). When training ends, each latent channel's mean and standard deviation over the
// training set go into latent.json; the diffusion sees (latent − mean)/std, about unit scale.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { loadDataset } from '../../data/registry.js';
import { binaryCrossEntropyWithLogits } from '../../nn/functional.js';
import { SiLU } from '../../nn/layers/activation.js';
import { Sequential } from '../../nn/layers/container.js';
import { Conv2d, ConvTranspose2d } from '../../nn/layers/conv.js';
import { Module } from '../../nn/module.js';
import { Adam } from '../../optim/adam.js';
import { noGrad } from '../../torch/autograd.js';
import { tensor } from '../../torch/creation.js';
import { GenlabError } from '../../torch/errors.js';
import { cat } from '../../torch/functions.js';
import { tidy } from '../../torch/scope.js';
import type { Tensor } from '../../torch/tensor.js';
import { checkpointPart } from '../../train/checkpoint.js';
import { checkSettings, familyConfig } from '../../train/config.js';
import { saveImageGrid } from '../../train/images.js';
import { Run } from '../../train/run.js';
import {
  finishRun,
  type Interrupted,
  openTrainingRun,
  type TrainOptions,
  trainingConfig,
  trainLoader,
  trainParts,
} from '../../train/session.js';
import { trainStep } from '../../train/step.js';
import type { DataSpace } from './space.js';

export const autoencoderRunConfig = z.strictObject({
  family: z.literal('distill-autoencoder'),
  data: z.string(),
  root: z.string(),
  steps: z.int().min(1),
  batchSize: z.int().min(1),
  lr: z.number().positive(),
  seed: z.int().min(0),
  /** Latent channels: the latent is [channels, H/4, W/4]. */
  channels: z.int().min(1),
  /** Convolution width (the second level has twice as many). */
  width: z.int().min(1),
  /** Weight of mean(latent²) in the loss. */
  latentPenalty: z.number().min(0),
  clip: z.number().min(0),
});
export type AutoencoderConfig = z.infer<typeof autoencoderRunConfig>;
export const parseAutoencoderConfig = familyConfig('distill-autoencoder', autoencoderRunConfig) as (
  raw: unknown,
  file: string,
) => AutoencoderConfig;

export type AutoencoderSettings = Omit<AutoencoderConfig, 'family' | 'data'>;

export const AUTOENCODER_DEFAULTS: AutoencoderSettings = {
  root: '',
  steps: 800,
  batchSize: 64,
  lr: 2e-3,
  seed: 0,
  channels: 4,
  width: 16,
  latentPenalty: 1e-3,
  clip: 1,
};

export function autoencoderConfig(data: string, overrides: Partial<AutoencoderSettings> = {}): AutoencoderConfig {
  const cfg: AutoencoderConfig = { family: 'distill-autoencoder', data, ...AUTOENCODER_DEFAULTS };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (cfg as Record<string, unknown>)[k] = v;
  return checkSettings(autoencoderRunConfig, cfg);
}

/** The layers with a SiLU between each two (none after the last). */
function withSiLU(layers: Module<[Tensor], Tensor>[]): Sequential {
  return new Sequential(...layers.flatMap((l, i) => (i < layers.length - 1 ? [l, new SiLU()] : [l])));
}

/** Encoder: conv → two stride-2 convs (÷4) → a 3×3 conv to the latent maps; the decoder mirrors it. */
export class LatentAutoencoder extends Module<[Tensor], Tensor> {
  readonly encoder: Sequential;
  readonly decoder: Sequential;

  constructor(
    readonly imageChannels: number,
    readonly channels: number,
    width: number,
  ) {
    super();
    const w2 = 2 * width;
    const down = { stride: 2, padding: 1 };
    this.encoder = this.registerModule(
      'encoder',
      withSiLU([
        new Conv2d(imageChannels, width, 3, { padding: 1 }),
        new Conv2d(width, w2, 4, down),
        new Conv2d(w2, w2, 4, down),
        new Conv2d(w2, channels, 3, { padding: 1 }),
      ]),
    );
    this.decoder = this.registerModule(
      'decoder',
      withSiLU([
        new Conv2d(channels, w2, 3, { padding: 1 }),
        new ConvTranspose2d(w2, w2, 4, down),
        new ConvTranspose2d(w2, width, 4, down),
        new Conv2d(width, imageChannels, 3, { padding: 1 }),
      ]),
    );
  }

  /** The decoder's logits of the images x [B, C, H, W] in [0, 1]. */
  forward(x: Tensor): Tensor {
    return this.decoder.forward(this.encoder.forward(x));
  }
}

/** The latent shape of images [C, H, W]. */
export function latentShape(cfg: AutoencoderConfig, image: number[]): number[] {
  const [, h, w] = image;
  if (h % 4 !== 0 || w % 4 !== 0)
    throw new GenlabError('usage', `the autoencoder halves images twice, so ${h}×${w} must divide by 4`);
  return [cfg.channels, h / 4, w / 4];
}

/** Binary cross entropy per pixel (mean) plus latentPenalty · mean(latent²), and the cross entropy alone. */
export function autoencoderLoss(ae: LatentAutoencoder, x: Tensor, penalty: number): { loss: Tensor; bce: Tensor } {
  const latent = ae.encoder.forward(x);
  const bce = binaryCrossEntropyWithLogits(ae.decoder.forward(latent), x);
  return { loss: bce.add(latent.square().mean().mul(penalty)), bce };
}

export interface LatentStats {
  /** Per latent channel, over the training images used. */
  mean: number[];
  std: number[];
  images: number;
}

/** Per-channel mean and standard deviation of the latents of (up to) the first `limit` images. */
export function latentStats(ae: LatentAutoencoder, images: Tensor, limit = 10000, batch = 500): LatentStats {
  return tidy(() =>
    noGrad(() => {
      const n = Math.min(limit, images.shape[0]);
      const parts: Tensor[] = [];
      for (let i = 0; i < n; i += batch) parts.push(ae.encoder.forward(images.narrow(0, i, Math.min(batch, n - i))));
      // [N, C, h, w] → [C, N·h·w]
      const all = cat(parts).transpose(0, 1).flatten(1);
      const mean = Array.from(all.mean([1]).toTypedArray() as Float32Array);
      const std = Array.from(all.std([1]).toTypedArray() as Float32Array);
      return { mean, std, images: n };
    }),
  );
}

function imagesOf(ds: { x: Tensor; images?: () => Tensor }): Tensor {
  return ds.images?.() ?? ds.x;
}

export interface AutoencoderTrainResult {
  data: string;
  steps: number;
  loss: number;
  /** Reconstruction MSE (pixels in [0, 1]) on the first 2,000 test images. */
  testMse: number;
  latentShape: number[];
  stats: LatentStats;
  parameters: number;
  reconstructions: string;
  run: string;
}

export async function trainAutoencoderRun(
  config: AutoencoderConfig,
  dir: string,
  opts: TrainOptions = {},
): Promise<AutoencoderTrainResult | Interrupted> {
  const cfg = trainingConfig(dir, config, parseAutoencoderConfig, opts);
  const train = loadDataset(cfg.data, { root: cfg.root || undefined, split: 'train', seed: cfg.seed });
  const image = train.x.shape.slice(1);
  const shape = latentShape(cfg, image);
  using run = openTrainingRun(dir, cfg, parseAutoencoderConfig, opts, { label: `autoencoder on ${cfg.data}` });
  const ae = new LatentAutoencoder(image[0], cfg.channels, cfg.width);
  const optimizer = new Adam(ae.parameters(), { lr: cfg.lr });
  const loader = trainLoader(train, cfg);
  const plan = { optimizer, clip: { params: ae.parameters(), maxNorm: cfg.clip } };
  const loop = await trainParts(
    run,
    { model: ae, stateful: { optimizer }, loaders: { train: loader } },
    {
      steps: cfg.steps,
      label: 'autoencoder',
      step: () =>
        trainStep(plan, () => {
          const { loss, bce } = autoencoderLoss(ae, loader.next().x, cfg.latentPenalty);
          return { loss, bce: bce.item() };
        }),
    },
    opts,
  );
  return finishRun(run, loop, () => {
    ae.eval();
    const stats = latentStats(ae, imagesOf(train));
    writeFileSync(run.path(LATENT_FILE), `${JSON.stringify(stats, null, 1)}\n`);
    const test = loadDataset(cfg.data, { root: cfg.root || undefined, split: 'test', seed: cfg.seed });
    const testImages = imagesOf(test);
    const reconstructions = run.path('reconstructions.png');
    tidy(() =>
      noGrad(() => {
        const x = testImages.narrow(0, 0, 10);
        saveImageGrid(reconstructions, cat([x, ae.forward(x).sigmoid()]), { nrow: 10, scale: image[1] <= 16 ? 4 : 2 });
      }),
    );
    const testMse = meanSquaredReconstruction(ae, testImages);
    test.dispose();
    return {
      data: cfg.data,
      steps: loop.step,
      loss: loop.metrics.loss,
      testMse,
      latentShape: shape,
      stats,
      parameters: ae.numParameters(),
      reconstructions,
      run: dir,
    };
  });
}

/** Mean squared reconstruction error per pixel (images in [0, 1]) of the first `limit` images. */
export function meanSquaredReconstruction(ae: LatentAutoencoder, images: Tensor, limit = 2000): number {
  return tidy(() =>
    noGrad(() => {
      const n = Math.min(limit, images.shape[0]);
      let sum = 0;
      for (let i = 0; i < n; i += 500) {
        const x = images.narrow(0, i, Math.min(500, n - i));
        sum += ae.forward(x).sigmoid().sub(x).square().mean().item() * x.shape[0];
      }
      return sum / n;
    }),
  );
}

export const LATENT_FILE = 'latent.json';

/** A trained autoencoder as the space a latent teacher diffuses in. */
export class LatentSpace implements DataSpace {
  readonly shape: number[];
  private readonly mean: Tensor;
  private readonly std: Tensor;

  constructor(
    readonly ae: LatentAutoencoder,
    readonly imageShape: number[],
    cfg: AutoencoderConfig,
    stats: LatentStats,
  ) {
    this.shape = latentShape(cfg, imageShape);
    const c = cfg.channels;
    this.mean = tensor(stats.mean, { shape: [1, c, 1, 1] }).keep();
    this.std = tensor(stats.std, { shape: [1, c, 1, 1] }).keep();
  }

  /** Images in [0, 1] → (latent − mean)/std. */
  toModel(x: Tensor): Tensor {
    return noGrad(() => this.ae.encoder.forward(x).sub(this.mean).div(this.std));
  }

  /** Scaled latents → decoded images in [0, 1]. */
  toImages(z: Tensor): Tensor {
    return noGrad(() => this.ae.decoder.forward(z.mul(this.std).add(this.mean)).sigmoid());
  }
}

export interface AutoencoderRun {
  run: Run<AutoencoderConfig>;
  cfg: AutoencoderConfig;
  space: LatentSpace;
}

/** A finished autoencoder run: its weights and latent statistics. */
export function loadAutoencoderRun(dir: string): AutoencoderRun {
  if (!existsSync(dir)) throw new GenlabError('usage', `autoencoder run ${dir} does not exist`);
  const run = Run.load(dir, parseAutoencoderConfig);
  const cfg = run.config;
  const statsFile = run.path(LATENT_FILE);
  if (!existsSync(statsFile))
    throw new GenlabError('run', `${dir} has no ${LATENT_FILE}: its training has not finished`, 'use {resume}');
  const stats = JSON.parse(readFileSync(statsFile, 'utf8')) as LatentStats;
  const test = loadDataset(cfg.data, { root: cfg.root || undefined, split: 'test', seed: cfg.seed });
  const image = test.x.shape.slice(1);
  test.dispose();
  const ae = new LatentAutoencoder(image[0], cfg.channels, cfg.width);
  tidy(() => ae.loadStateDict(checkpointPart(run.loadCheckpoint().tensors, 'model.')));
  ae.eval();
  ae.requiresGrad_(false);
  return { run, cfg, space: new LatentSpace(ae, image, cfg, stats) };
}

/** The data set an autoencoder run was trained on (for a latent teacher's config). */
export function autoencoderData(dir: string): { data: string; root: string } {
  const { config } = Run.load(dir, parseAutoencoderConfig);
  return { data: config.data, root: config.root };
}
