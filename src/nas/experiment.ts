// DARTS / PIBConv as experiments: a search run (bi-level optimisation of a search network, the
// genotype derived as it goes, α's evolution plotted) and a train run (an evaluation network built
// from a genotype), with functions to load, evaluate and explain (Grad-CAM) a trained run.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { loadCifar10 } from '../data/cifar.js';
import { TensorDataset } from '../data/dataset.js';
import { DataLoader } from '../data/loader.js';
import { loadDataset } from '../data/registry.js';
import { accuracy } from '../metrics/classification.js';
import { camOverlay, gradCam } from '../metrics/gradcam.js';
import { countMacs, type MacReport } from '../metrics/macs.js';
import { adaptiveAvgPool2d, crossEntropy } from '../nn/functional.js';
import { CosineAnnealingLR } from '../optim/lr-scheduler.js';
import { SGD } from '../optim/sgd.js';
import { noGrad } from '../torch/autograd.js';
import { tensor } from '../torch/creation.js';
import { GenlabError } from '../torch/errors.js';
import { cat } from '../torch/functions.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import { checkpointPart } from '../train/checkpoint.js';
import { checkSettings, familyConfig } from '../train/config.js';
import { saveImageGrid } from '../train/images.js';
import { plotRunLog, savePlotSvg } from '../train/plot.js';
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
import { Architect } from './architect.js';
import { countSkips, type Genotype, parseGenotype, writeGenotype } from './genotype.js';
import { cutout, EvalNetwork } from './model.js';
import { OP_SETS } from './ops.js';
import { SearchNetwork } from './search.js';

export const NAS_DATA = ['digits', 'fashion-mnist', 'mnist', 'cifar10'] as const;
type NasData = (typeof NAS_DATA)[number];

/**
 * A data setting as given: a name, or `cifar10:<folder>` (also `mnist:<folder>`, `fashion-mnist:<folder>`)
 * naming the folder of its files, which otherwise comes from `root`.
 */
export function parseNasData(value: string, root = ''): { data: NasData; root: string } {
  const at = value.indexOf(':');
  const name = at < 0 ? value : value.slice(0, at);
  const folder = at < 0 ? root : value.slice(at + 1);
  if (!(NAS_DATA as readonly string[]).includes(name) || (name === 'digits' && at >= 0) || (at >= 0 && !folder))
    throw new GenlabError(
      'usage',
      `unknown data set '${value}'`,
      `{data} is one of digits, fashion-mnist, mnist:<folder>, cifar10:<folder>`,
    );
  return { data: name as NasData, root: folder };
}

const CIFAR_FILES = [
  'data_batch_1.bin',
  'data_batch_2.bin',
  'data_batch_3.bin',
  'data_batch_4.bin',
  'data_batch_5.bin',
];

/** CIFAR-10's binary batches must all be there before anything is read: one line naming the missing ones. */
function checkCifarFolder(root: string, split: 'train' | 'test'): void {
  const nested = join(root, 'cifar-10-batches-bin');
  const dir = existsSync(join(root, 'test_batch.bin')) || !existsSync(nested) ? root : nested;
  const missing = (split === 'train' ? CIFAR_FILES : ['test_batch.bin']).filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0)
    throw new GenlabError(
      'data',
      existsSync(root)
        ? `cifar10: ${dir} lacks ${missing.join(', ')}; nothing is downloaded`
        : `cifar10: data folder ${root} does not exist; nothing is downloaded`,
      "give {data} cifar10:<folder> with CIFAR-10's binary batches (data_batch_1..5.bin, test_batch.bin)",
    );
}

const common = {
  family: z.literal('nas'),
  data: z.enum(NAS_DATA),
  root: z.string(),
  /** Training images used (0: all). */
  trainSize: z.int().min(0),
  /** Image side the images are average-pooled down to (0: as they are), to fit 2 cores. */
  size: z.int().min(0),
  c: z.int().min(2).multipleOf(2),
  layers: z.int().min(1),
  steps: z.int().min(1),
  batchSize: z.int().min(2),
  lr: z.number().positive(),
  lrMin: z.number().min(0),
  momentum: z.number().min(0).max(1),
  weightDecay: z.number().min(0),
  gradClip: z.number().min(0),
  seed: z.int().min(0),
};

/** A search run: the search network's weights on one half of the training images, α on the other. */
export const nasSearchConfig = z.strictObject({
  ...common,
  kind: z.literal('search'),
  ops: z.enum(['darts', 'pib']),
  order: z.union([z.literal(1), z.literal(2)]),
  nodes: z.int().min(1).max(8),
  archLr: z.number().positive(),
  archWeightDecay: z.number().min(0),
});
/** A train run: an evaluation network of a genotype, with auxiliary head, drop-path and cutout. */
export const nasTrainConfig = z.strictObject({
  ...common,
  kind: z.literal('train'),
  genotype: z.record(z.string(), z.unknown()),
  /** Test images the accuracy is taken on, the first ones of the test split (0: all). */
  testSize: z.int().min(0).default(0),
  auxiliary: z.boolean(),
  auxWeight: z.number().min(0),
  dropPath: z.number().min(0).max(0.9),
  cutout: z.int().min(0),
});
export const nasRunConfig = z.discriminatedUnion('kind', [nasSearchConfig, nasTrainConfig]);
export type NasSearchConfig = z.infer<typeof nasSearchConfig>;
export type NasTrainConfig = z.infer<typeof nasTrainConfig>;
export type NasRunConfig = z.infer<typeof nasRunConfig>;
export const parseNasConfig = familyConfig('nas', nasRunConfig);

type Budget = Pick<NasSearchConfig, 'steps' | 'batchSize' | 'lr' | 'c' | 'layers' | 'trainSize' | 'size'>;
/** Budgets for 2 cores at one thread: minutes, not DARTS's GPU-days. */
export const NAS_SEARCH_DEFAULTS: Record<string, Budget> = {
  digits: { steps: 300, batchSize: 32, lr: 0.025, c: 4, layers: 5, trainSize: 0, size: 0 },
  'fashion-mnist': { steps: 150, batchSize: 16, lr: 0.025, c: 4, layers: 3, trainSize: 4000, size: 14 },
  cifar10: { steps: 150, batchSize: 16, lr: 0.025, c: 4, layers: 3, trainSize: 4000, size: 16 },
};
export const NAS_TRAIN_DEFAULTS: Record<string, Budget> = {
  digits: { steps: 600, batchSize: 64, lr: 0.025, c: 8, layers: 5, trainSize: 0, size: 0 },
  'fashion-mnist': { steps: 600, batchSize: 64, lr: 0.025, c: 8, layers: 5, trainSize: 20000, size: 14 },
  cifar10: { steps: 600, batchSize: 64, lr: 0.025, c: 8, layers: 5, trainSize: 20000, size: 16 },
};

/** DARTS's SGD of the weights, in search and evaluation alike. */
const WEIGHT_SGD = { momentum: 0.9, weightDecay: 3e-4, gradClip: 5 };

function fill<T>(schema: z.ZodType<T>, base: Record<string, unknown>, overrides: object): T {
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) base[k] = v;
  return checkSettings(schema, base);
}

/** A search config for `data`: DARTS's optimiser settings, the budget of the table, then `overrides`. */
export function nasSearchSettings(
  data: NasData,
  overrides: Partial<Omit<NasSearchConfig, 'family' | 'kind' | 'data'>> = {},
) {
  const d = NAS_SEARCH_DEFAULTS[data] ?? NAS_SEARCH_DEFAULTS['fashion-mnist'];
  const base = {
    family: 'nas',
    kind: 'search',
    data,
    root: '',
    ops: 'darts',
    order: 1,
    nodes: 4,
    ...d,
    ...WEIGHT_SGD,
    lrMin: 0.001,
    archLr: 3e-4,
    archWeightDecay: 1e-3,
    seed: 0,
  };
  return fill(nasSearchConfig, base, overrides);
}

/** A train config for `data` and a genotype: DARTS's evaluation settings, the table's budget, `overrides`. */
export function nasTrainSettings(
  data: NasData,
  genotype: Genotype,
  overrides: Partial<Omit<NasTrainConfig, 'family' | 'kind' | 'data' | 'genotype'>> = {},
) {
  const d = NAS_TRAIN_DEFAULTS[data] ?? NAS_TRAIN_DEFAULTS['fashion-mnist'];
  const base = {
    family: 'nas',
    kind: 'train',
    data,
    root: '',
    genotype: JSON.parse(genotypeJsonObject(genotype)),
    ...d,
    ...WEIGHT_SGD,
    lrMin: 0,
    testSize: 0,
    auxiliary: true,
    auxWeight: 0.4,
    dropPath: 0.2,
    cutout: data === 'digits' ? 2 : 8,
    seed: 0,
  };
  return fill(nasTrainConfig, base, overrides);
}

function genotypeJsonObject(g: Genotype): string {
  return JSON.stringify({
    normal: g.normal.nodes,
    normal_concat: g.normal.concat,
    reduce: g.reduce.nodes,
    reduce_concat: g.reduce.concat,
  });
}

interface Shape {
  inChannels: number;
  classes: number;
  size: number;
}

/**
 * One split of a run's data, average-pooled to the run's size. `recordsPerFile` reads a CIFAR-10 folder
 * cut down on purpose (tests); the published files hold 10,000 records each.
 */
export function loadNasSplit(
  cfg: { data: string; root: string; size: number },
  split: 'train' | 'test',
  opts: { recordsPerFile?: number } = {},
): TensorDataset {
  if (cfg.data === 'cifar10' && cfg.root) checkCifarFolder(cfg.root, split);
  const ds =
    cfg.data === 'cifar10' && cfg.root
      ? loadCifar10({ root: cfg.root, split, recordsPerFile: opts.recordsPerFile })
      : loadDataset(cfg.data, { root: cfg.root || undefined, split });
  if (cfg.size <= 0 || cfg.size >= ds.x.shape[2]) return ds;
  // The images as float in [0, 1], average-pooled to size × size.
  const x = tidy(() => adaptiveAvgPool2d(ds.x.to('float32').div(ds.divisor ?? 1), cfg.size));
  const small = new TensorDataset(x, ds.y.clone(), { name: ds.name, classes: ds.classes });
  ds.dispose();
  return small;
}

function shapeOf(ds: TensorDataset): Shape {
  const s = ds.x.shape;
  if (s.length !== 4) throw new GenlabError('data', `${ds.name}: nas needs images [N, C, H, W], got [${s}]`);
  return { inChannels: s[1], classes: ds.classes?.length ?? 10, size: s[2] };
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

/** Accuracy of `forward` on a data set, in batches, without autograd. */
export function testAccuracy(forward: (x: Tensor) => Tensor, ds: TensorDataset): number {
  return noGrad(() =>
    tidy(() => {
      const logits: Tensor[] = [];
      const labels: Tensor[] = [];
      for (const b of new DataLoader(ds, { batchSize: 256 })) {
        logits.push(forward(b.x));
        labels.push(b.y);
      }
      return accuracy(cat(logits), cat(labels));
    }),
  );
}

function weightsOptimizer(params: Tensor[], cfg: NasSearchConfig | NasTrainConfig) {
  const optimizer = new SGD(params, { lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay });
  const schedule = new CosineAnnealingLR(optimizer, { tMax: cfg.steps, etaMin: cfg.lrMin });
  return { optimizer, schedule };
}

/**
 * α's evolution in a search run: softmax(α) of each op averaged over the edges of each cell type, as
 * logged (keys `n.<op>`, `r.<op>`), against the step: alpha-normal.svg and alpha-reduce.svg.
 */
export function plotAlphas(dir: string, ops: keyof typeof OP_SETS): void {
  const rows = readFileSync(join(dir, 'log.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, number>];
      } catch {
        return []; // a partial last line of a killed run
      }
    });
  for (const [cell, file, title] of [
    ['n', 'alpha-normal.svg', 'normal cell'],
    ['r', 'alpha-reduce.svg', 'reduction cell'],
  ] as const) {
    const series = OP_SETS[ops].map((o) => {
      const points = rows.filter((r) => typeof r[`${cell}.${o}`] === 'number');
      return { name: o, x: points.map((r) => r.step), y: points.map((r) => r[`${cell}.${o}`]) };
    });
    savePlotSvg(join(dir, file), series, { title: `softmax(α) of the ${title}, mean over edges`, xLabel: 'step' });
  }
}

export interface NasSearchResult {
  data: string;
  ops: string;
  order: number;
  steps: number;
  loss: number;
  /** Accuracy of the search network on the held-out half (α's half) of the training images. */
  valAccuracy: number;
  genotype: Genotype;
  skips: { normal: number; reduce: number };
  run: string;
}

/** Searches in a run folder (new, or resumed); writes genotype.json, α plots and results.json. */
export async function searchNasRun(
  config: NasSearchConfig,
  dir: string,
  opts: TrainOptions = {},
): Promise<NasSearchResult | Interrupted> {
  const cfg = trainingConfig(dir, config, parseNasConfig, opts) as NasSearchConfig;
  if (cfg.kind !== 'search') throw new GenlabError('run', `${dir}: a train run, not a search`);
  const all = loadNasSplit(cfg, 'train');
  const n = cfg.trainSize > 0 ? Math.min(cfg.trainSize, all.length) : all.length;
  const half = Math.floor(n / 2);
  const trainSet = all.subset(range(0, half));
  const valSet = all.subset(range(half, n));
  const shape = shapeOf(all);
  const net = new SearchNetwork({
    c: cfg.c,
    layers: cfg.layers,
    classes: shape.classes,
    inChannels: shape.inChannels,
    ops: cfg.ops,
    steps: cfg.nodes,
  });
  using run = openTrainingRun(dir, cfg, parseNasConfig, opts, {
    label: `nas search (${cfg.ops} ops, order ${cfg.order}) on ${cfg.data}`,
    extra: { weights: net.weightParameters().reduce((s, p) => s + p.numel(), 0) },
  });
  const weights = net.weightParameters();
  const { optimizer, schedule } = weightsOptimizer(weights, cfg);
  const architect = new Architect(net, { lr: cfg.archLr, weightDecay: cfg.archWeightDecay, order: cfg.order });
  const trainBatches = trainLoader(trainSet, cfg);
  const valBatches = trainLoader(valSet, { batchSize: cfg.batchSize, seed: cfg.seed + 1 });
  const parts = {
    model: net,
    stateful: { optimizer, schedule, archOptimizer: architect.optimizer },
    loaders: { train: trainBatches, val: valBatches },
  };
  const names = OP_SETS[cfg.ops];
  const alphaMetrics = (): Record<string, number> => {
    const w = net.alphaWeights();
    const out: Record<string, number> = {};
    for (const [cell, rows] of [
      ['n', w.normal],
      ['r', w.reduce],
    ] as const) {
      names.forEach((o, k) => {
        out[`${cell}.${o}`] = rows.reduce((s, r) => s + r[k], 0) / rows.length;
      });
    }
    return out;
  };
  const plots = () => {
    writeGenotype(run.path('genotype.json'), net.genotype());
    plotAlphas(dir, cfg.ops);
    plotRunLog(run.path('log.jsonl'), ['loss'], run.path('loss.svg'), { title: 'training loss', logY: true });
  };
  const loop = await trainParts(
    run,
    parts,
    {
      steps: cfg.steps,
      label: 'nas search',
      step: () =>
        tidy(() => {
          const tb = trainBatches.next();
          const vb = valBatches.next();
          // α first on the validation batch (DARTS's order), then w on the training batch.
          architect.step(tb, vb, { optimizer, momentum: cfg.momentum, weightDecay: cfg.weightDecay });
          const m = trainStep({ optimizer, schedule, clip: { params: weights, maxNorm: cfg.gradClip } }, () => ({
            loss: net.loss(tb.x, tb.y),
          }));
          return { ...m, ...alphaMetrics() };
        }),
      afterCheckpoint: plots,
    },
    opts,
  );
  return finishRun(run, loop, () => {
    plots();
    const genotype = net.genotype();
    const valAccuracy = testAccuracy((x) => net.forward(x), valSet);
    const r = {
      data: cfg.data,
      ops: cfg.ops,
      order: cfg.order,
      steps: loop.step,
      loss: loop.metrics.loss,
      valAccuracy,
      genotype,
      skips: countSkips(genotype),
      run: dir,
    };
    net.dispose();
    return r;
  });
}

export interface NasTrainResult {
  data: string;
  layers: number;
  steps: number;
  loss: number;
  testAccuracy: number;
  /** Parameters without the auxiliary head (dropped after training). */
  params: number;
  /** Multiply-accumulates per image, counted on a forward pass. */
  macs: number;
  run: string;
}

function evalNetwork(cfg: NasTrainConfig, shape: Shape, file: string): EvalNetwork {
  const genotype = parseGenotype(cfg.genotype, `${file} genotype`);
  return new EvalNetwork(genotype, {
    c: cfg.c,
    layers: cfg.layers,
    classes: shape.classes,
    inChannels: shape.inChannels,
    auxiliary: cfg.auxiliary,
  });
}

function macsOf(net: EvalNetwork, ds: TensorDataset): MacReport {
  return tidy(() => countMacs(net, ds.batch(tensor([0], { dtype: 'int64' })).x));
}

/** Trains an evaluation network of the config's genotype; writes results.json and loss.svg. */
export async function trainNasRun(
  config: NasTrainConfig,
  dir: string,
  opts: TrainOptions = {},
): Promise<NasTrainResult | Interrupted> {
  const cfg = trainingConfig(dir, config, parseNasConfig, opts) as NasTrainConfig;
  if (cfg.kind !== 'train') throw new GenlabError('run', `${dir}: a search run, not a train run`);
  const all = loadNasSplit(cfg, 'train');
  const trainSet = cfg.trainSize > 0 && cfg.trainSize < all.length ? all.subset(range(0, cfg.trainSize)) : all;
  const testSet = testSubset(loadNasSplit(cfg, 'test'), cfg.testSize);
  const net = evalNetwork(cfg, shapeOf(all), 'config.json');
  using run = openTrainingRun(dir, cfg, parseNasConfig, opts, {
    label: `nas train (${cfg.layers} cells) on ${cfg.data}`,
    extra: { params: net.numParametersNoAux() },
  });
  const { optimizer, schedule } = weightsOptimizer(net.parameters(), cfg);
  const loader = trainLoader(trainSet, cfg);
  const params = net.parameters();
  const loop = await trainParts(
    run,
    { model: net, stateful: { optimizer, schedule }, loaders: { train: loader } },
    {
      steps: cfg.steps,
      label: 'nas train',
      evalEvery: Math.max(1, Math.floor(cfg.steps / 5)),
      step: (step) =>
        tidy(() => {
          const b = loader.next();
          // Drop-path rises linearly over training, as DARTS's evaluation does per epoch.
          net.dropPathProb = (cfg.dropPath * (step - 1)) / cfg.steps;
          return trainStep({ optimizer, schedule, clip: { params, maxNorm: cfg.gradClip } }, () => {
            const logits = net.forward(cutout(b.x, cfg.cutout));
            const loss = crossEntropy(logits, b.y);
            const aux = net.lastAux;
            return { loss: aux && cfg.auxWeight > 0 ? loss.add(crossEntropy(aux, b.y).mul(cfg.auxWeight)) : loss };
          });
        }),
      evaluate: () => ({ testAccuracy: evalAccuracy(net, testSet) }),
      afterCheckpoint: () =>
        plotRunLog(run.path('log.jsonl'), ['loss'], run.path('loss.svg'), { title: 'training loss', logY: true }),
    },
    opts,
  );
  return finishRun(run, loop, () => {
    const acc = evalAccuracy(net, testSet);
    run.log({ step: loop.step, testAccuracy: acc });
    return {
      data: cfg.data,
      layers: cfg.layers,
      steps: loop.step,
      loss: loop.metrics.loss,
      testAccuracy: acc,
      params: net.numParametersNoAux(),
      macs: macsOf(net, testSet).total,
      run: dir,
    };
  });
}

/** The first `n` images of a test set (all with n = 0). */
function testSubset(ds: TensorDataset, n: number): TensorDataset {
  return n > 0 && n < ds.length ? ds.subset(range(0, n)) : ds;
}

function evalAccuracy(net: EvalNetwork, ds: TensorDataset): number {
  const was = net.training;
  net.eval();
  try {
    return testAccuracy((x) => net.forward(x), ds);
  } finally {
    net.train(was);
  }
}

/** A trained evaluation network from a train run's folder, in eval mode. */
export function loadNasRun(dir: string): { run: Run<NasRunConfig>; net: EvalNetwork; cfg: NasTrainConfig } {
  const run = Run.load(dir, parseNasConfig);
  const cfg = run.config;
  if (cfg.kind !== 'train')
    throw new GenlabError('run', `${dir}: a search run; train a network from its genotype.json first`);
  const test = loadNasSplit(cfg, 'test');
  const net = evalNetwork(cfg, shapeOf(test), run.path('config.json'));
  test.dispose();
  tidy(() => net.loadStateDict(checkpointPart(run.loadCheckpoint().tensors, 'model.')));
  net.eval();
  return { run, net, cfg };
}

/** Test accuracy, parameters and MACs of a trained run. */
export function evaluateNasRun(dir: string): {
  data: string;
  layers: number;
  testAccuracy: number;
  n: number;
  params: number;
  macs: number;
} {
  const { net, cfg } = loadNasRun(dir);
  const test = testSubset(loadNasSplit(cfg, 'test'), cfg.testSize);
  try {
    return {
      data: cfg.data,
      layers: cfg.layers,
      testAccuracy: testAccuracy((x) => net.forward(x), test),
      n: test.length,
      params: net.numParametersNoAux(),
      macs: macsOf(net, test).total,
    };
  } finally {
    test.dispose();
    net.dispose();
  }
}

export interface NasGradCamResult {
  layer: string;
  file: string;
  /** Per image: its label, the predicted class (the one explained). */
  labels: number[];
  predicted: number[];
}

/**
 * Grad-CAM of a trained run's layer (a module name such as `cells.4`; the last cell by default) on
 * the first `n` test images: a PNG of the images (top row) over their heat-map overlays (bottom row).
 */
export function gradcamNasRun(dir: string, opts: { layer?: string; n?: number; out?: string } = {}): NasGradCamResult {
  const { run, net, cfg } = loadNasRun(dir);
  const test = loadNasSplit(cfg, 'test');
  const layerName = opts.layer ?? `cells.${cfg.layers - 1}`;
  try {
    const names = net.namedModules().map(([k]) => k);
    if (!names.includes(layerName)) {
      const cells = names.filter((k) => /^cells\.\d+$/.test(k));
      throw new GenlabError(
        'usage',
        `no layer '${layerName}' in the network`,
        `name one in {layer}, e.g. ${cells.join(', ')}, stem`,
      );
    }
    const layer = net.getSubmodule(layerName);
    const n = Math.min(opts.n ?? 8, test.length);
    const file = opts.out ?? run.path(`gradcam-${layerName.replace(/\./g, '-')}.png`);
    return tidy(() => {
      const b = test.batch(tensor(range(0, n), { dtype: 'int64' }));
      const r = gradCam(net, b.x, { layer });
      const over = camOverlay(b.x, r.cam);
      const rgb = b.x.shape[1] === 1 ? b.x.expand([-1, 3, -1, -1]) : b.x;
      const scale = Math.max(1, Math.round(96 / b.x.shape[2]));
      saveImageGrid(file, cat([rgb, over]), { nrow: n, scale });
      return { layer: layerName, file, labels: b.y.toArray() as number[], predicted: r.target };
    });
  } finally {
    test.dispose();
    net.dispose();
  }
}
