// A VDM run's settings as JSON (saved in config.json), their per-data-set defaults, and the model
// they describe. The defaults are tuned for 2 CPU cores: the digits quickstart trains in 1–2 minutes.
import type { TensorDataset } from '../data/dataset.js';
import { toyName } from '../data/toy.js';
import type { MemoryFormatName } from '../train/config.js';
import { type ScheduleObjective, VDM } from './model.js';
import type { SamplerKind } from './sampling.js';
import { makeSchedule, type ScheduleKind } from './schedules.js';
import { defaultFourierExponents, type EpsNet, MLPDenoiser, UNet } from './unet.js';

export interface VdmConfig {
  data: string;
  root: string;
  steps: number;
  batchSize: number;
  lr: number;
  seed: number;
  schedule: ScheduleKind;
  /** What the schedule's parameters descend: the VLB, or the variance of its estimator. */
  objective: ScheduleObjective;
  learnEndpoints: boolean;
  gammaMin: number;
  gammaMax: number;
  /** 0: continuous time. */
  timesteps: number;
  width: number;
  depth: number;
  /** U-Net width multipliers per resolution; [1] keeps full resolution. */
  mults: number[];
  attention: boolean;
  dropout: number;
  /** Exponents of the Fourier features; [] for none. */
  fourier: number[];
  emaDecay: number;
  /** Gradient-norm clip of the network (0: none). */
  clip: number;
  sampleSteps: number;
  sampler: SamplerKind;
  /** (t, ε) draws per test image for the final bits/dim. */
  evalTimeSamples: number;
  /**
   * The U-Net's activation layout (UNetConfig.memoryFormat). New runs take channels-last, which
   * trains faster on CPU (the digits step by 2–5%, the Fashion-MNIST U-Net's forward and backward
   * by 13%); a config without the field is row-major, the layout every run before 2026-12-02 was
   * trained in, `results/vdm.md` included.
   */
  memoryFormat: 'contiguous' | 'channelsLast';
}

/** What the model needs to know of the data. */
export interface DataInfo {
  /** Per-example shape: [C, H, W] for images, [D] for points. */
  shape: number[];
  /** Grey levels of images; null for continuous data. */
  levels: number | null;
}

export function dataInfo(ds: TensorDataset): DataInfo {
  const shape = ds.x.shape.slice(1);
  const levels = (ds as TensorDataset & { levels?: number }).levels ?? null;
  return { shape, levels: shape.length === 3 ? levels : null };
}

export function isToy(data: string): boolean {
  return toyName(data) !== null;
}

/**
 * γ_min for images with K grey levels. The paper's −13.3 is for 256 levels; keeping the same noise
 * relative to the spacing of the levels gives −13.3 + 2 ln(255/(K − 1)), about −7.8 for the 17-level
 * digits. A lower γ_min only adds low-noise times at which the decoder already rounds z₀ exactly, and
 * with the VLB's uniform weighting in γ those take a share of the training signal.
 */
export function gammaMinFor(levels: number): number {
  return Math.round(10 * (-13.3 + 2 * Math.log(255 / (levels - 1)))) / 10;
}

const COMMON = {
  root: '',
  seed: 0,
  schedule: 'fixed' as ScheduleKind,
  objective: 'vlb' as ScheduleObjective,
  learnEndpoints: true,
  gammaMin: -13.3,
  gammaMax: 5,
  timesteps: 0,
  attention: false,
  dropout: 0,
  emaDecay: 0.9995,
  clip: 1,
  sampler: 'ancestral' as SamplerKind,
  memoryFormat: 'channelsLast' as MemoryFormatName,
};

/** Defaults for a data set; anything the user passes overrides them. */
export function defaultConfig(data: string): VdmConfig {
  if (isToy(data)) {
    return {
      ...COMMON,
      data,
      steps: 8000,
      batchSize: 256,
      lr: 2e-3,
      width: 128,
      depth: 3,
      mults: [],
      fourier: [],
      sampleSteps: 1000,
      evalTimeSamples: 4,
    };
  }
  if (data === 'digits') {
    return {
      ...COMMON,
      data,
      steps: 2000,
      batchSize: 64,
      lr: 4e-3,
      gammaMin: gammaMinFor(17),
      // The learned network schedule trained for low variance gave the cleanest samples and the
      // lowest FID on digits for the same budget (results/vdm.md), at almost no extra cost per step.
      schedule: 'net',
      objective: 'variance',
      width: 32,
      depth: 1,
      mults: [1],
      fourier: defaultFourierExponents(17),
      // 8×8 steps are cheap, and a long ancestral chain gives visibly cleaner samples than 200 steps.
      sampleSteps: 1000,
      evalTimeSamples: 4,
    };
  }
  // 28×28 and 32×32 images: a narrow full-resolution level and two downsamplings keep a CPU step
  // near a second.
  return {
    ...COMMON,
    data,
    steps: 1500,
    batchSize: 64,
    lr: 2e-3,
    width: 16,
    depth: 1,
    mults: [1, 2, 4],
    fourier: defaultFourierExponents(256),
    sampleSteps: 200,
    evalTimeSamples: 1,
  };
}

/** The ε-network and schedule a config describes, with fresh weights. */
export function buildModel(cfg: VdmConfig, info: DataInfo): VDM {
  let net: EpsNet;
  if (info.shape.length === 3) {
    net = new UNet({
      channels: info.shape[0],
      width: cfg.width,
      depth: cfg.depth,
      mults: cfg.mults.length ? cfg.mults : [1],
      attention: cfg.attention,
      dropout: cfg.dropout,
      fourier: info.levels === null ? [] : cfg.fourier,
      memoryFormat: cfg.memoryFormat,
    });
  } else if (info.shape.length === 1) {
    net = new MLPDenoiser({ dims: info.shape[0], width: cfg.width, depth: cfg.depth });
  } else {
    throw new Error(`VDM: data of shape [${info.shape}] is neither images [C, H, W] nor points [D]`);
  }
  const schedule = makeSchedule(cfg.schedule, {
    gammaMin: cfg.gammaMin,
    gammaMax: cfg.gammaMax,
    learnEndpoints: cfg.learnEndpoints,
  });
  return new VDM(net, schedule, { levels: info.levels, timesteps: cfg.timesteps });
}
