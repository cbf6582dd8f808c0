// genlab flows train|sample|eval|interpolate|manipulate: Glow with exact likelihoods.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageDataset, TensorDataset } from '../data/dataset.js';
import { DataLoader } from '../data/loader.js';
import { loadDataset } from '../data/registry.js';
import { binCentres, bitsPerDim, dequantize, type Quantization, quantization } from '../flows/dequant.js';
import { evaluateBitsPerDim } from '../flows/evaluate.js';
import { Glow, type GlowConfig } from '../flows/glow.js';
import { classDirection, interpolate, manipulate, temperatureGrid } from '../flows/latents.js';
import { Adam } from '../optim/adam.js';
import { clipGradNorm } from '../optim/clip.js';
import { warmupCosine } from '../optim/lr-scheduler.js';
import { tensor } from '../torch/creation.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import { saveImageGrid } from '../train/images.js';
import { plotRunLog } from '../train/plot.js';
import { Run } from '../train/run.js';
import {
  CliError,
  choice,
  commonOptions,
  floatOption,
  intOption,
  type OptionSpec,
  type Parsed,
  parseOrHelp,
  stringOption,
} from './args.js';
import {
  evalEveryOption,
  loadFamilyRun,
  loadModelWeights,
  note,
  openRunFolder,
  report,
  requireOut,
  resumeCheckpoint,
  trainingConfig,
  trainResumably,
} from './common.js';
import type { Family } from './main.js';

interface Defaults {
  steps: number;
  batchSize: number;
  lr: number;
  levels: number;
  depth: number;
  hidden: number;
}

// Budgets of minutes on 2 CPU cores; the paper's models are far larger (K = 32, 512 channels).
const defaults: Record<string, Defaults> = {
  digits: { steps: 800, batchSize: 64, lr: 1e-3, levels: 2, depth: 8, hidden: 64 },
  'fashion-mnist': { steps: 2000, batchSize: 64, lr: 1e-3, levels: 2, depth: 8, hidden: 96 },
};

/** What config.json holds for a flows run. */
export interface FlowsRunConfig {
  family: 'flows';
  data: string;
  root: string;
  levels: number;
  depth: number;
  hidden: number;
  coupling: 'affine' | 'additive';
  permutation: 'lu' | 'plain';
  nBits: number;
  conditional: boolean;
  steps: number;
  batchSize: number;
  lr: number;
  warmup: number;
  clip: number;
  initBatch: number;
  seed: number;
  [key: string]: string | number | boolean;
}

const trainOptions: Record<string, OptionSpec> = {
  ...commonOptions,
  levels: { type: 'string', description: 'L, levels of the multi-scale architecture (default 2)' },
  depth: { type: 'string', description: 'K, flow steps per level (default 8)' },
  hidden: { type: 'string', description: 'channels of the coupling networks (default 64 digits, 96 fashion)' },
  coupling: { type: 'string', description: 'affine (default) or additive' },
  permutation: { type: 'string', description: 'invertible 1×1 conv: lu (default) or plain' },
  'n-bits': { type: 'string', description: 'reduce 8-bit data to n bits (default: keep every level)' },
  conditional: { type: 'boolean', description: 'class-conditional top prior' },
  warmup: { type: 'string', description: 'linear LR warm-up steps (default steps/10, at most 500)' },
  clip: { type: 'string', description: 'clip the gradient norm to this (default 50; 0: off)' },
  'init-batch': { type: 'string', description: 'examples for ActNorm data-dependent init (default 512)' },
  'eval-every': evalEveryOption,
};

function imageShape(ds: TensorDataset): [number, number, number] {
  const s = ds.shape;
  if (s.length !== 3) throw new CliError(`${ds.name}: Glow needs images [C, H, W], got [${s}]`);
  return [s[0], s[1], s[2]];
}

function levelsOf(ds: TensorDataset): number {
  const levels = (ds as ImageDataset).levels;
  if (!levels) throw new CliError(`${ds.name}: Glow needs an image data set with integer grey levels`);
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
  };
}

/** Whole-number upscaling so that small images show at about 64 pixels in grids. */
function gridScale(shape: [number, number, number]): number {
  return Math.max(1, Math.floor(64 / shape[2]));
}

const TEMPERATURES = [0, 0.5, 0.7, 0.8, 0.9, 1];

async function train(argv: string[]): Promise<void> {
  const p = parseOrHelp(argv, trainOptions, 'genlab flows train [options]', 'Trains a Glow by maximum likelihood.');
  if (!p) return;
  const data = stringOption(p, 'data', 'digits');
  const d = defaults[data] ?? defaults['fashion-mnist'];
  const outDir = requireOut(p, join('runs', `glow-${data}`));
  const steps = intOption(p, 'steps', d.steps, 1);
  const config: FlowsRunConfig = {
    family: 'flows',
    data,
    root: stringOption(p, 'root', ''),
    levels: intOption(p, 'levels', d.levels, 1),
    depth: intOption(p, 'depth', d.depth, 1),
    hidden: intOption(p, 'hidden', d.hidden, 1),
    coupling: choice(p, 'coupling', ['affine', 'additive'] as const, 'affine'),
    permutation: choice(p, 'permutation', ['lu', 'plain'] as const, 'lu'),
    nBits: intOption(p, 'n-bits', 0, 0),
    conditional: Boolean(p.values.conditional),
    steps,
    batchSize: intOption(p, 'batch-size', d.batchSize, 1),
    lr: floatOption(p, 'lr', d.lr),
    warmup: intOption(p, 'warmup', Math.min(500, Math.floor(steps / 10)), 0),
    clip: floatOption(p, 'clip', 50),
    initBatch: intOption(p, 'init-batch', 512, 1),
    seed: intOption(p, 'seed', 0),
  };
  // A new run folder is made only once the data has loaded.
  const { cfg, resume, engine } = trainingConfig(p, outDir, config);
  const root = cfg.root || undefined;
  const trainSet = loadDataset(cfg.data, { root, split: 'train' });
  const testSet = loadDataset(cfg.data, { root, split: 'test' });
  const q = quantization(levelsOf(trainSet), cfg.nBits || undefined);
  const shape = imageShape(trainSet);
  const glow = new Glow(glowConfig(cfg, shape, trainSet.classes?.length ?? 10));
  const run = Run.open(outDir, config, { resume });
  note(
    p,
    `glow on ${cfg.data}: ${JSON.stringify({ ...cfg, bins: q.bins, params: glow.numParameters(), threads: engine.threads })} -> ${outDir}`,
  );

  const optimizer = new Adam(glow.parameters(), { lr: cfg.lr });
  // Warm-up matters: without it the reference code's users saw NaNs in the first steps.
  const schedule = warmupCosine(optimizer, { warmupSteps: cfg.warmup, totalSteps: cfg.steps + 1 });
  const loader = new DataLoader(trainSet, { batchSize: cfg.batchSize, shuffle: true, dropLast: true, seed: cfg.seed });
  const parts = { model: glow, stateful: { optimizer, schedule }, loaders: { train: loader } };
  const start = resumeCheckpoint(p, run, parts);
  if (start === undefined) {
    // Data-dependent ActNorm init on one large batch, its own seeded draw (the loader is untouched).
    const init = new DataLoader(trainSet, {
      batchSize: Math.min(cfg.initBatch, trainSet.length),
      shuffle: true,
      seed: cfg.seed + 1,
    });
    tidy(() => {
      const b = init.next();
      glow.initialize(dequantize(b.x, q), cfg.conditional ? b.y : undefined);
    });
  }
  const conditional = cfg.conditional;
  const params = glow.parameters();
  const t0 = performance.now();
  const result = await trainResumably(p, parts, {
    run,
    steps: cfg.steps,
    startStep: start,
    label: 'glow',
    step: () =>
      tidy(() => {
        const batch = loader.next();
        optimizer.zeroGrad();
        const logp = glow.forward(dequantize(batch.x, q), conditional ? batch.y : undefined);
        const loss = bitsPerDim(logp, glow.dims, q).mean();
        loss.backward();
        const gradNorm = cfg.clip > 0 ? clipGradNorm(params, cfg.clip) : 0;
        const lr = optimizer.paramGroups[0].lr;
        optimizer.step();
        schedule.step();
        return { loss: loss.item(), gradNorm, lr };
      }),
    // Periodic checks on up to 2,000 test images; the full test set is evaluated at the end.
    evaluate: () => ({
      testBitsPerDim: evaluateBitsPerDim(glow, testSet, q, { conditional, limit: 2000, seed: cfg.seed }).bitsPerDim,
    }),
    afterCheckpoint: () =>
      plotRunLog(run.path('log.jsonl'), ['loss', 'testBitsPerDim'], run.path('loss.svg'), { title: 'bits/dim' }),
  });
  if (!result) return;
  const trainSeconds = (performance.now() - t0) / 1000;
  const test = evaluateBitsPerDim(glow, testSet, q, { conditional, seed: cfg.seed });
  run.log({ step: result.step, testBitsPerDim: test.bitsPerDim });
  saveImageGrid(run.path('samples.png'), temperatureGrid(glow, TEMPERATURES, 10, q, { seed: cfg.seed }), {
    nrow: 10,
    scale: gridScale(shape),
  });
  const summary = {
    data: cfg.data,
    steps: result.step,
    loss: result.metrics.loss,
    testBitsPerDim: test.bitsPerDim,
    testImages: test.n,
    bins: q.bins,
    params: glow.numParameters(),
    trainSeconds,
    run: outDir,
  };
  writeFileSync(run.path('results.json'), `${JSON.stringify(summary, null, 2)}\n`);
  report(p, summary, [
    `test ${test.bitsPerDim.toFixed(4)} bits/dim (${q.bins} bins) after ${result.step} steps (${outDir})`,
  ]);
}

/** A trained Glow with its data and quantisation, from a run folder. */
export function loadGlowRun(dir: string): {
  run: Run;
  cfg: FlowsRunConfig;
  glow: Glow;
  q: Quantization;
  test: TensorDataset;
  train: () => TensorDataset;
} {
  const run = loadFamilyRun(dir, 'flows');
  const cfg = run.config as FlowsRunConfig;
  const root = cfg.root || undefined;
  const test = loadDataset(cfg.data, { root, split: 'test' });
  const q = quantization(levelsOf(test), cfg.nBits || undefined);
  const glow = new Glow(glowConfig(cfg, imageShape(test), test.classes?.length ?? 10));
  loadModelWeights(run, glow);
  glow.eval();
  return { run, cfg, glow, q, test, train: () => loadDataset(cfg.data, { root, split: 'train' }) };
}

function numberList(p: Parsed, name: string, fallback: number[]): number[] {
  const raw = stringOption(p, name, '');
  if (raw === '') return fallback;
  const list = raw.split(',').map(Number);
  if (list.some((v) => !Number.isFinite(v))) throw new CliError(`--${name} must be numbers separated by commas`, 2);
  return list;
}

function classIndex(p: Parsed, name: string, classes: string[] | undefined, fallback: number): number {
  const raw = stringOption(p, name, '');
  if (raw === '') return fallback;
  const names = classes ?? [];
  const byName = names.findIndex((c) => c.toLowerCase() === raw.toLowerCase());
  const k = byName >= 0 ? byName : Number(raw);
  if (!Number.isInteger(k) || k < 0 || k >= Math.max(names.length, 1)) {
    throw new CliError(
      `--${name}: unknown class '${raw}' (use 0…${names.length - 1} or a name: ${names.join(', ')})`,
      2,
    );
  }
  return k;
}

const runOptions = { threads: commonOptions.threads, seed: { type: 'string' as const, description: 'random seed' } };

async function sample(argv: string[]): Promise<void> {
  const options: Record<string, OptionSpec> = {
    ...runOptions,
    temperatures: { type: 'string', description: `one row per temperature (default ${TEMPERATURES.join(',')})` },
    n: { type: 'string', description: 'samples per row (default 10)' },
    class: { type: 'string', description: 'class to sample, for a class-conditional run (default: all in turn)' },
    out: { type: 'string', description: 'PNG to write (default <run>/samples.png)' },
  };
  const p = parseOrHelp(argv, options, 'genlab flows sample <run> [options]', 'A temperature grid of samples.');
  if (!p) return;
  const { seed, dir, glow, q, test, cfg } = openRunFolder(p, loadGlowRun);
  const temperatures = numberList(p, 'temperatures', TEMPERATURES);
  const n = intOption(p, 'n', 10, 1);
  const classes = p.values.class === undefined ? undefined : [classIndex(p, 'class', test.classes, 0)];
  if (classes && !cfg.conditional) throw new CliError('--class needs a class-conditional run (--conditional)', 2);
  const out = stringOption(p, 'out', join(dir, 'samples.png'));
  const grid = temperatureGrid(glow, temperatures, n, q, { seed, classes });
  saveImageGrid(out, grid, { nrow: n, scale: gridScale(glow.config.shape) });
  report(p, { run: dir, file: out, temperatures, n }, [
    `wrote ${out}: ${temperatures.length} rows (T = ${temperatures.join(', ')}) of ${n}`,
  ]);
}

async function evaluate(argv: string[]): Promise<void> {
  const options: Record<string, OptionSpec> = {
    ...runOptions,
    split: { type: 'string', description: 'test (default) or train' },
    limit: { type: 'string', description: 'evaluate the first n images only' },
  };
  const p = parseOrHelp(argv, options, 'genlab flows eval <run> [options]', 'Bits/dim of a trained Glow.');
  if (!p) return;
  const { seed, dir, glow, q, test, cfg, train: trainSet } = openRunFolder(p, loadGlowRun);
  const split = choice(p, 'split', ['test', 'train'] as const, 'test');
  const data = split === 'test' ? test : trainSet();
  const limit = p.values.limit === undefined ? undefined : intOption(p, 'limit', data.length, 1);
  const r = evaluateBitsPerDim(glow, data, q, { conditional: cfg.conditional, seed, limit });
  const correction = Math.log2(q.bins);
  report(p, { run: dir, data: cfg.data, split, bitsPerDim: r.bitsPerDim, nllNats: r.nllNats, n: r.n, bins: q.bins }, [
    `${cfg.data} ${split}: ${r.bitsPerDim.toFixed(4)} bits/dim on ${r.n} images`,
    `  (−log p of the dequantised data in [−½, ½): ${r.nllNats.toFixed(2)} nats/image, plus log2(${q.bins}) = ${correction.toFixed(3)} bits/dim for the ${q.bins} bins)`,
  ]);
}

/** n distinct indices of examples of one class (or any class), in a seeded random order. */
function pickIndices(labels: Int32Array, n: number, seed: number, cls?: number): number[] {
  const pool = [...labels.keys()].filter((i) => cls === undefined || labels[i] === cls);
  let s = seed * 2654435761 + 12345;
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  if (pool.length < n) throw new CliError(`only ${pool.length} images to pick ${n} from`);
  return pool.slice(0, n);
}

function gather(ds: TensorDataset, idx: number[]): { x: Tensor; y: Tensor } {
  return tidy(() => ds.batch(tensor(BigInt64Array.from(idx, BigInt))));
}

async function interpolateCmd(argv: string[]): Promise<void> {
  const options: Record<string, OptionSpec> = {
    ...runOptions,
    pairs: { type: 'string', description: 'rows, each between two random test images (default 4)' },
    steps: { type: 'string', description: 'images per row, ends included (default 8)' },
    out: { type: 'string', description: 'PNG to write (default <run>/interpolation.png)' },
  };
  const p = parseOrHelp(
    argv,
    options,
    'genlab flows interpolate <run> [options]',
    'Latent interpolation between test images.',
  );
  if (!p) return;
  const { seed, dir, glow, q, test, cfg } = openRunFolder(p, loadGlowRun);
  const pairs = intOption(p, 'pairs', 4, 1);
  const steps = intOption(p, 'steps', 8, 2);
  const idx = pickIndices(test.labels(), 2 * pairs, seed);
  const out = stringOption(p, 'out', join(dir, 'interpolation.png'));
  tidy(() => {
    const a = gather(test, idx.slice(0, pairs));
    const b = gather(test, idx.slice(pairs));
    const opts = cfg.conditional ? { ya: a.y, yb: b.y } : {};
    saveImageGrid(out, interpolate(glow, binCentres(a.x, q), binCentres(b.x, q), steps, q, opts), {
      nrow: steps,
      scale: gridScale(glow.config.shape),
    });
  });
  report(p, { run: dir, file: out, pairs, steps, indices: idx }, [`wrote ${out}: ${pairs} rows of ${steps}`]);
}

async function manipulateCmd(argv: string[]): Promise<void> {
  const options: Record<string, OptionSpec> = {
    ...runOptions,
    from: { type: 'string', description: 'source class, index or name (default 0)' },
    to: { type: 'string', description: 'target class, index or name (default 1)' },
    n: { type: 'string', description: 'test images of the source class, one row each (default 4)' },
    alphas: { type: 'string', description: 'multiples of the direction, one column each (default 0,0.25,…,1.5)' },
    out: { type: 'string', description: 'PNG to write (default <run>/manipulation.png)' },
  };
  const p = parseOrHelp(
    argv,
    options,
    'genlab flows manipulate <run> [options]',
    'Moves test images along the class-mean latent direction from one class to another.',
  );
  if (!p) return;
  const { seed, dir, glow, q, test, cfg, train: trainOf } = openRunFolder(p, loadGlowRun);
  if (cfg.conditional) throw new CliError('manipulate needs an unconditional run (the prior would hold the class)', 2);
  const from = classIndex(p, 'from', test.classes, 0);
  const to = classIndex(p, 'to', test.classes, 1);
  const n = intOption(p, 'n', 4, 1);
  const alphas = numberList(p, 'alphas', [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5]);
  const out = stringOption(p, 'out', join(dir, 'manipulation.png'));
  const trainSet = trainOf();
  const labels = trainSet.labels();
  const ofClass = (k: number) => [...labels.keys()].filter((i) => labels[i] === k).slice(0, 2000);
  tidy(() => {
    const xa = binCentres(gather(trainSet, ofClass(from)).x, q);
    const xb = binCentres(gather(trainSet, ofClass(to)).x, q);
    const direction = classDirection(glow, xa, xb);
    const x = binCentres(gather(test, pickIndices(test.labels(), n, seed, from)).x, q);
    saveImageGrid(out, manipulate(glow, x, direction, alphas, q), {
      nrow: alphas.length,
      scale: gridScale(glow.config.shape),
    });
  });
  const names = test.classes ?? [];
  report(p, { run: dir, file: out, from, to, alphas, n }, [
    `wrote ${out}: ${n} '${names[from] ?? from}' images moved toward '${names[to] ?? to}' (α = ${alphas.join(', ')})`,
  ]);
}

export const flows: Family = {
  summary: 'Glow: invertible flows with exact likelihoods',
  verbs: {
    train: { summary: 'train a Glow on --data (digits, fashion-mnist, mnist, cifar10)', run: train },
    sample: { summary: 'temperature grid of samples from a run', run: sample },
    eval: { summary: 'test bits/dim of a run', run: evaluate },
    interpolate: { summary: 'latent interpolation strips between test images', run: interpolateCmd },
    manipulate: { summary: 'move images along a class-mean latent direction', run: manipulateCmd },
  },
};
