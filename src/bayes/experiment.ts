// The bayes family's runs: one config schema for its three experiments (convergence with weight
// norm, gradient variance of the LRT, sparse variational dropout), their defaults, and what they
// share: data, test error, and loading a run's models back.
import { z } from 'zod';
import type { TensorDataset } from '../data/dataset.js';
import { DataLoader } from '../data/loader.js';
import { loadDataset } from '../data/registry.js';
import { Module } from '../nn/index.js';
import { noGrad } from '../torch/autograd.js';
import { GenlabError } from '../torch/errors.js';
import { tidy } from '../torch/scope.js';
import { checkSettings, familyConfig } from '../train/config.js';
import type { Run } from '../train/run.js';
import { openTrainingRun, type TrainOptions, trainingConfig } from '../train/session.js';
import type { ImageShape } from './models.js';

export const BAYES_EXPERIMENTS = ['convergence', 'variance', 'sparse'] as const;
export type BayesExperiment = (typeof BAYES_EXPERIMENTS)[number];
export const BAYES_DATA = ['digits', 'fashion-mnist', 'mnist'] as const;

/** What config.json holds for a bayes run; fields an experiment does not use keep their defaults. */
export const bayesRunConfig = z.strictObject({
  family: z.literal('bayes'),
  experiment: z.enum(BAYES_EXPERIMENTS),
  data: z.enum(BAYES_DATA),
  root: z.string(),
  steps: z.int().min(1),
  batchSize: z.int().min(1),
  lr: z.number().positive(),
  seed: z.int().min(0),
  /** variance: width of the MLP's two hidden layers. */
  hidden: z.int().min(1),
  /** variance: initial dropout rate α of every noise model (≤ 1, the 2015 KL's range). */
  alpha: z.number().gt(0).max(1),
  /** variance: gradient draws per estimator and measurement. */
  repeats: z.int().min(2),
  /** variance: the step of the early measurement (the late one is the last step). */
  earlyStep: z.int().min(1),
  /** sparse: steps over which the KL weight rises linearly from 0 to 1. */
  klWarmup: z.int().min(0),
  /** sparse: prune weights with log α at or above this. */
  threshold: z.number(),
});
export type BayesRunConfig = z.infer<typeof bayesRunConfig>;
export const parseBayesConfig = familyConfig('bayes', bayesRunConfig);

type Budget = Pick<BayesRunConfig, 'steps' | 'batchSize' | 'lr'>;

/** Budgets of seconds (digits) to minutes (Fashion-MNIST, MNIST) on one thread; results/reparam.md ran these. */
export const BAYES_DEFAULTS: Record<BayesExperiment, Record<string, Budget>> = {
  convergence: {
    digits: { steps: 300, batchSize: 64, lr: 3e-3 },
    'fashion-mnist': { steps: 1000, batchSize: 100, lr: 2e-3 },
  },
  variance: {
    digits: { steps: 400, batchSize: 100, lr: 1e-3 },
    'fashion-mnist': { steps: 2000, batchSize: 100, lr: 1e-3 },
  },
  sparse: {
    digits: { steps: 1500, batchSize: 100, lr: 1e-3 },
    'fashion-mnist': { steps: 4000, batchSize: 100, lr: 1e-3 },
  },
};

const OTHERS = { root: '', seed: 0, hidden: 100, alpha: 0.25, repeats: 50, klWarmup: -1, threshold: 3, earlyStep: 0 };

/** A run config for one experiment on `data` with its defaults, then `overrides` where they are set. */
export function bayesConfig(
  experiment: BayesExperiment,
  data: BayesRunConfig['data'],
  overrides: Partial<Omit<BayesRunConfig, 'family' | 'experiment' | 'data'>> = {},
): BayesRunConfig {
  const table = BAYES_DEFAULTS[experiment];
  const d = table[data] ?? table['fashion-mnist'];
  const cfg: Record<string, unknown> = { family: 'bayes', experiment, data, ...OTHERS, ...d };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) cfg[k] = v;
  const steps = cfg.steps as number;
  // Data-dependent defaults: the early measurement at a tenth of the run, the KL warm-up over a third.
  if (cfg.earlyStep === 0) cfg.earlyStep = Math.max(1, Math.floor(steps / 10));
  if (cfg.klWarmup === -1) cfg.klWarmup = Math.floor(steps / 3);
  const checked = checkSettings(bayesRunConfig, cfg);
  if (checked.earlyStep > checked.steps) {
    throw new GenlabError('usage', `{earlyStep} (${checked.earlyStep}) must not exceed {steps} (${checked.steps})`);
  }
  return checked;
}

export function loadSplit(cfg: Pick<BayesRunConfig, 'data' | 'root'>, split: 'train' | 'test'): TensorDataset {
  return loadDataset(cfg.data, { root: cfg.root || undefined, split });
}

export function imageShape(ds: TensorDataset): ImageShape {
  const s = ds.shape;
  return { channels: s[0], size: s[1], classes: ds.classes?.length ?? 10 };
}

/** Test error of a classifier in evaluation mode (posterior means for variational layers). */
export function testError(net: Module, test: TensorDataset): number {
  const wasTraining = net.training;
  net.eval();
  let wrong = 0;
  noGrad(() => {
    for (const b of new DataLoader(test, { batchSize: 500 })) {
      wrong += tidy(() => net.forward(b.x).argmax(1).ne(b.y).sum().item());
    }
  });
  if (wasTraining) net.train();
  return wrong / test.length;
}

/** Several networks trained side by side in one run, saved under their names (`model.<name>.…`). */
export class NetSet<K extends string> extends Module<[], never> {
  readonly nets: Record<K, Module>;

  constructor(nets: Record<K, Module>) {
    super();
    this.nets = nets;
    for (const [name, net] of Object.entries(nets) as [K, Module][]) this.registerModule(name, net);
  }

  forward(): never {
    throw new Error('NetSet: call the forward of one of its nets');
  }
}

/**
 * What every bayes experiment opens with: its config (the saved one under `resume`, which also
 * seeds the generator), both splits loaded before the run folder is made (a data error leaves
 * nothing behind), and the locked run folder, which the caller closes.
 */
export function openBayesRun(
  config: BayesRunConfig,
  dir: string,
  opts: TrainOptions,
): {
  cfg: BayesRunConfig;
  trainSet: TensorDataset;
  testSet: TensorDataset;
  shape: ImageShape;
  run: Run<BayesRunConfig>;
} {
  const cfg = trainingConfig(dir, config, parseBayesConfig, opts);
  const trainSet = loadSplit(cfg, 'train');
  const testSet = loadSplit(cfg, 'test');
  const run = openTrainingRun(dir, cfg, parseBayesConfig, opts, { label: `bayes ${cfg.experiment} on ${cfg.data}` });
  return { cfg, trainSet, testSet, shape: imageShape(trainSet), run };
}
