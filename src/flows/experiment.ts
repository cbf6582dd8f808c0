// A Glow experiment: its config, and functions to train a run, load one, evaluate it, sample it and
// work in its latent space (interpolation, class directions). The CLI and the benchmarks call these.
import { z } from 'zod';
import type { ImageDataset, TensorDataset } from '../data/dataset.js';
import { DataLoader } from '../data/loader.js';
import { loadDataset } from '../data/registry.js';
import { Rng } from '../data/rng.js';
import { Adam } from '../optim/adam.js';
import { warmupCosine } from '../optim/lr-scheduler.js';
import { tensor } from '../torch/creation.js';
import { GenlabError } from '../torch/errors.js';
import { manualSeed } from '../torch/random.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import { checkpointPart } from '../train/checkpoint.js';
import { checkSettings, familyConfig, memoryFormatField } from '../train/config.js';
import { saveImageGrid } from '../train/images.js';
import { plotRunLog } from '../train/plot.js';
import { Run } from '../train/run.js';
import {
  finishRun,
  type Interrupted,
  openTrainingRun,
  type TrainOptions,
  trainingConfig,
  trainLoader,
  trainParts,
} from '../train/session.js';
import { trainStep } from '../train/step.js';
import { binCentres, bitsPerDim, dequantize, type Quantization, quantization } from './dequant.js';
import { evaluateBitsPerDim } from './evaluate.js';
import { Glow, type GlowConfig } from './glow.js';
import { classDirection, interpolate, manipulate, temperatureGrid } from './latents.js';

/** What config.json holds for a flows run. */
export const flowsRunConfig = z.strictObject({
  family: z.literal('flows'),
  data: z.string(),
  root: z.string(),
  levels: z.int().min(1),
  depth: z.int().min(1),
  hidden: z.int().min(1),
  coupling: z.enum(['affine', 'additive']),
  permutation: z.enum(['lu', 'plain']),
  /** Reduce the data to n bits (0: keep every level). */
  nBits: z.int().min(0),
  conditional: z.boolean(),
  steps: z.int().min(1),
  batchSize: z.int().min(1),
  lr: z.number().positive(),
  /** Linear learning-rate warm-up steps: without it the reference code's users saw NaNs early on. */
  warmup: z.int().min(0),
  /** Gradient-norm clip (0: off). */
  clip: z.number().min(0),
  /** Examples for ActNorm's data-dependent initialisation. */
  initBatch: z.int().min(1),
  seed: z.int().min(0),
  /** The activations' layout (GlowConfig.memoryFormat); new runs take FLOWS_MEMORY_FORMAT. */
  memoryFormat: memoryFormatField,
});
export type FlowsRunConfig = z.infer<typeof flowsRunConfig>;
export const parseFlowsConfig = familyConfig('flows', flowsRunConfig);

/** The activation layout of new runs: channels-last, which oneDNN's CPU convolutions run fastest. */
export const FLOWS_MEMORY_FORMAT = 'channelsLast';

type Budget = Pick<FlowsRunConfig, 'steps' | 'batchSize' | 'lr' | 'levels' | 'depth' | 'hidden'>;
/** Budgets of minutes on 2 CPU cores; the paper's models are far larger (K = 32, 512 channels). */
export const FLOWS_DEFAULTS: Record<string, Budget> = {
  digits: { steps: 800, batchSize: 64, lr: 1e-3, levels: 2, depth: 8, hidden: 64 },
  'fashion-mnist': { steps: 2000, batchSize: 64, lr: 1e-3, levels: 2, depth: 8, hidden: 96 },
};

/** A run config for `data`: its defaults, then `overrides` where they are set. */
export function flowsConfig(
  data: string,
  overrides: Partial<Omit<FlowsRunConfig, 'family' | 'data'>> = {},
): FlowsRunConfig {
  const d = FLOWS_DEFAULTS[data] ?? FLOWS_DEFAULTS['fashion-mnist'];
  const steps = overrides.steps ?? d.steps;
  const cfg: FlowsRunConfig = {
    family: 'flows',
    data,
    root: '',
    ...d,
    coupling: 'affine',
    permutation: 'lu',
    nBits: 0,
    conditional: false,
    warmup: Math.min(500, Math.floor(steps / 10)),
    clip: 50,
    initBatch: 512,
    seed: 0,
    memoryFormat: FLOWS_MEMORY_FORMAT,
  };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (cfg as Record<string, unknown>)[k] = v;
  return checkSettings(flowsRunConfig, cfg);
}

function imageShape(ds: TensorDataset): [number, number, number] {
  const s = ds.shape;
  if (s.length !== 3) throw new GenlabError('data', `${ds.name}: Glow needs images [C, H, W], got [${s}]`);
  return [s[0], s[1], s[2]];
}

function levelsOf(ds: TensorDataset): number {
  const levels = (ds as ImageDataset).levels;
  if (!levels) throw new GenlabError('data', `${ds.name}: Glow needs an image data set with integer grey levels`);
  return levels;
}

export function glowConfig(cfg: FlowsRunConfig, shape: [number, number, number], classes: number): GlowConfig {
  return {
    shape,
    levels: cfg.levels,
    depth: cfg.depth,
    hidden: cfg.hidden,
    coupling: cfg.coupling,
    permutation: cfg.permutation,
    learnTop: true,
    numClasses: cfg.conditional ? classes : 0,
    memoryFormat: cfg.memoryFormat,
  };
}

/** Whole-number upscaling so that small images show at about 64 pixels in grids. */
function gridScale(shape: [number, number, number]): number {
  return Math.max(1, Math.floor(64 / shape[2]));
}

export const TEMPERATURES = [0, 0.5, 0.7, 0.8, 0.9, 1];

export interface FlowsTrainResult {
  data: string;
  steps: number;
  loss: number;
  testBitsPerDim: number;
  testImages: number;
  bins: number;
  params: number;
  trainSeconds: number;
  run: string;
}

/**
 * Trains a Glow by maximum likelihood in a run folder (new, or resumed from its checkpoint), then
 * evaluates the whole test set and writes results.json, loss.svg and a temperature grid.
 */
export async function trainFlowsRun(
  config: FlowsRunConfig,
  dir: string,
  opts: TrainOptions = {},
): Promise<FlowsTrainResult | Interrupted> {
  const cfg = trainingConfig(dir, config, parseFlowsConfig, opts);
  const root = cfg.root || undefined;
  const trainSet = loadDataset(cfg.data, { root, split: 'train' });
  const testSet = loadDataset(cfg.data, { root, split: 'test' });
  const q = quantization(levelsOf(trainSet), cfg.nBits || undefined);
  const shape = imageShape(trainSet);
  const glow = new Glow(glowConfig(cfg, shape, trainSet.classes?.length ?? 10));
  // The run folder is made only once the data has loaded, so a data error leaves nothing behind.
  using run = openTrainingRun(dir, cfg, parseFlowsConfig, opts, {
    label: `glow on ${cfg.data}`,
    extra: { bins: q.bins, params: glow.numParameters() },
  });

  const optimizer = new Adam(glow.parameters(), { lr: cfg.lr });
  const schedule = warmupCosine(optimizer, { warmupSteps: cfg.warmup, totalSteps: cfg.steps + 1 });
  const loader = trainLoader(trainSet, cfg);
  const parts = { model: glow, stateful: { optimizer, schedule }, loaders: { train: loader } };
  const { conditional } = cfg;
  const params = glow.parameters();
  // Data-dependent ActNorm init on one large batch, its own seeded draw (the loader is untouched).
  const initActNorm = () => {
    const init = new DataLoader(trainSet, {
      batchSize: Math.min(cfg.initBatch, trainSet.length),
      shuffle: true,
      seed: cfg.seed + 1,
    });
    tidy(() => {
      const b = init.next();
      glow.initialize(dequantize(b.x, q), conditional ? b.y : undefined);
    });
  };
  const t0 = performance.now();
  const loop = await trainParts(
    run,
    parts,
    {
      steps: cfg.steps,
      label: 'glow',
      evalEvery: Math.max(1, Math.floor(cfg.steps / 5)),
      step: () =>
        trainStep({ optimizer, schedule, clip: { params, maxNorm: cfg.clip }, logLr: true }, () => {
          const batch = loader.next();
          const logp = glow.forward(dequantize(batch.x, q), conditional ? batch.y : undefined);
          return { loss: bitsPerDim(logp, glow.dims, q).mean() };
        }),
      // Periodic checks on up to 2,000 test images; the full test set is evaluated at the end.
      evaluate: () => ({
        testBitsPerDim: evaluateBitsPerDim(glow, testSet, q, { conditional, limit: 2000, seed: cfg.seed }).bitsPerDim,
      }),
      afterCheckpoint: () =>
        plotRunLog(run.path('log.jsonl'), ['loss', 'testBitsPerDim'], run.path('loss.svg'), { title: 'bits/dim' }),
    },
    { ...opts, init: initActNorm },
  );
  return finishRun(run, loop, () => {
    const trainSeconds = (performance.now() - t0) / 1000;
    const test = evaluateBitsPerDim(glow, testSet, q, { conditional, seed: cfg.seed });
    run.log({ step: loop.step, testBitsPerDim: test.bitsPerDim });
    const grid = temperatureGrid(glow, TEMPERATURES, 10, q, { seed: cfg.seed });
    saveImageGrid(run.path('samples.png'), grid, { nrow: 10, scale: gridScale(shape) });
    return {
      data: cfg.data,
      steps: loop.step,
      loss: loop.metrics.loss,
      testBitsPerDim: test.bitsPerDim,
      testImages: test.n,
      bins: q.bins,
      params: glow.numParameters(),
      trainSeconds,
      run: dir,
    };
  });
}

/** A trained Glow with its data and quantisation, from a run folder. */
export interface FlowsRun {
  run: Run<FlowsRunConfig>;
  cfg: FlowsRunConfig;
  glow: Glow;
  q: Quantization;
  test: TensorDataset;
  /** The training split, loaded on demand. */
  train: () => TensorDataset;
}

export function loadFlowsRun(dir: string): FlowsRun {
  const run = Run.load(dir, parseFlowsConfig);
  const cfg = run.config;
  const root = cfg.root || undefined;
  const test = loadDataset(cfg.data, { root, split: 'test' });
  const q = quantization(levelsOf(test), cfg.nBits || undefined);
  const glow = new Glow(glowConfig(cfg, imageShape(test), test.classes?.length ?? 10));
  tidy(() => glow.loadStateDict(checkpointPart(run.loadCheckpoint().tensors, 'model.')));
  glow.eval();
  return { run, cfg, glow, q, test, train: () => loadDataset(cfg.data, { root, split: 'train' }) };
}

/** Bits/dim of a loaded run on its test or training split (the first `limit` images). */
export function evaluateFlowsRun(
  r: FlowsRun,
  opts: { split?: 'test' | 'train'; limit?: number; seed?: number } = {},
): { run: string; data: string; split: string; bitsPerDim: number; nllNats: number; n: number; bins: number } {
  const split = opts.split ?? 'test';
  const seed = opts.seed ?? 0;
  manualSeed(seed);
  const data = split === 'test' ? r.test : r.train();
  const e = evaluateBitsPerDim(r.glow, data, r.q, { conditional: r.cfg.conditional, seed, limit: opts.limit });
  return {
    run: r.run.dir,
    data: r.cfg.data,
    split,
    bitsPerDim: e.bitsPerDim,
    nllNats: e.nllNats,
    n: e.n,
    bins: r.q.bins,
  };
}

/** A class index from an index or a class name (case-insensitive). */
export function classIndex(r: FlowsRun, raw: string, setting: string): number {
  const names = r.test.classes ?? [];
  const byName = names.findIndex((c) => c.toLowerCase() === raw.toLowerCase());
  const k = byName >= 0 ? byName : /^\d+$/.test(raw) ? Number(raw) : -1;
  if (k < 0 || k >= Math.max(names.length, 1)) {
    const choices = `0…${names.length - 1} or a name: ${names.join(', ')}`;
    throw new GenlabError('usage', `unknown class '${raw}'`, `{${setting}} takes ${choices}`);
  }
  return k;
}

/** Rows of samples, one per temperature, written as a PNG grid. */
export function sampleFlowsRun(
  r: FlowsRun,
  opts: { file: string; temperatures?: number[]; n?: number; classes?: number[]; seed?: number },
): { run: string; file: string; temperatures: number[]; n: number } {
  const temperatures = opts.temperatures ?? TEMPERATURES;
  const n = opts.n ?? 10;
  if (opts.classes && !r.cfg.conditional) {
    throw new GenlabError('usage', 'a class to sample needs a class-conditional run', 'train with {conditional}');
  }
  const seed = opts.seed ?? 0;
  manualSeed(seed);
  const grid = temperatureGrid(r.glow, temperatures, n, r.q, { seed, classes: opts.classes });
  saveImageGrid(opts.file, grid, { nrow: n, scale: gridScale(r.glow.config.shape) });
  return { run: r.run.dir, file: opts.file, temperatures, n };
}

/** n distinct indices of examples of one class (or of any class), in a seeded random order. */
function pickIndices(labels: Int32Array, n: number, seed: number, cls?: number): number[] {
  const pool = [...labels.keys()].filter((i) => cls === undefined || labels[i] === cls);
  if (pool.length < n) throw new GenlabError('usage', `only ${pool.length} images to pick ${n} from`);
  const order = new Rng(seed).permutation(pool.length);
  return Array.from(order.subarray(0, n), (i) => pool[i]);
}

function gather(ds: TensorDataset, idx: number[]): { x: Tensor; y: Tensor } {
  return tidy(() => ds.batch(tensor(BigInt64Array.from(idx, BigInt))));
}

/** Rows of latent interpolations, each between two random test images, written as a PNG grid. */
export function interpolateFlowsRun(
  r: FlowsRun,
  opts: { file: string; pairs?: number; steps?: number; seed?: number },
): { run: string; file: string; pairs: number; steps: number; indices: number[] } {
  const pairs = opts.pairs ?? 4;
  const steps = opts.steps ?? 8;
  const seed = opts.seed ?? 0;
  manualSeed(seed);
  const idx = pickIndices(r.test.labels(), 2 * pairs, seed);
  tidy(() => {
    const a = gather(r.test, idx.slice(0, pairs));
    const b = gather(r.test, idx.slice(pairs));
    const ys = r.cfg.conditional ? { ya: a.y, yb: b.y } : {};
    const grid = interpolate(r.glow, binCentres(a.x, r.q), binCentres(b.x, r.q), steps, r.q, ys);
    saveImageGrid(opts.file, grid, { nrow: steps, scale: gridScale(r.glow.config.shape) });
  });
  return { run: r.run.dir, file: opts.file, pairs, steps, indices: idx };
}

export const ALPHAS = [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5];

/** Test images of class `from` moved along the class-mean latent direction toward class `to`. */
export function manipulateFlowsRun(
  r: FlowsRun,
  opts: { file: string; from: number; to: number; n?: number; alphas?: number[]; seed?: number },
): {
  run: string;
  file: string;
  from: number;
  to: number;
  fromName: string;
  toName: string;
  alphas: number[];
  n: number;
} {
  if (r.cfg.conditional) {
    throw new GenlabError('usage', 'manipulation needs an unconditional run (the prior would hold the class)');
  }
  const { from, to } = opts;
  const n = opts.n ?? 4;
  const alphas = opts.alphas ?? ALPHAS;
  const seed = opts.seed ?? 0;
  manualSeed(seed);
  const trainSet = r.train();
  const labels = trainSet.labels();
  const ofClass = (k: number) => [...labels.keys()].filter((i) => labels[i] === k).slice(0, 2000);
  tidy(() => {
    const xa = binCentres(gather(trainSet, ofClass(from)).x, r.q);
    const xb = binCentres(gather(trainSet, ofClass(to)).x, r.q);
    const direction = classDirection(r.glow, xa, xb);
    const x = binCentres(gather(r.test, pickIndices(r.test.labels(), n, seed, from)).x, r.q);
    saveImageGrid(opts.file, manipulate(r.glow, x, direction, alphas, r.q), {
      nrow: alphas.length,
      scale: gridScale(r.glow.config.shape),
    });
  });
  trainSet.dispose();
  const names = r.test.classes ?? [];
  const name = (k: number) => names[k] ?? String(k);
  return { run: r.run.dir, file: opts.file, from, to, fromName: name(from), toName: name(to), alphas, n };
}
