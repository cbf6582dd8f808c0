// The classifier that doubles as the metrics' feature network, as an experiment: its config, and
// functions to train a run, load one, evaluate it and export its weights as a feature network.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { TensorDataset } from '../data/dataset.js';
import { DataLoader } from '../data/loader.js';
import { loadDataset } from '../data/registry.js';
import { accuracy } from '../metrics/classification.js';
import { ClassifierNet, FEATURE_NETS, featureNetPath } from '../metrics/featureNet.js';
import { crossEntropy } from '../nn/functional.js';
import { Adam } from '../optim/adam.js';
import { warmupCosine } from '../optim/lr-scheduler.js';
import { noGrad } from '../torch/autograd.js';
import { GenlabError } from '../torch/errors.js';
import { cat } from '../torch/functions.js';
import { saveSafetensors } from '../torch/safetensors.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import { checkpointPart } from '../train/checkpoint.js';
import { checkSettings, familyConfig } from '../train/config.js';
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

export const CLASSIFIER_DATA = ['digits', 'fashion-mnist', 'mnist', 'cifar10'] as const;

/** What config.json holds for a classifier run. */
export const classifierRunConfig = z.strictObject({
  family: z.literal('classifier'),
  data: z.enum(CLASSIFIER_DATA),
  root: z.string(),
  steps: z.int().min(1),
  batchSize: z.int().min(1),
  lr: z.number().positive(),
  seed: z.int().min(0),
});
export type ClassifierRunConfig = z.infer<typeof classifierRunConfig>;
export const parseClassifierConfig = familyConfig('classifier', classifierRunConfig);

/** Budgets of seconds to minutes on 2 cores; other data sets take the Fashion-MNIST ones. */
export const CLASSIFIER_DEFAULTS: Record<string, Pick<ClassifierRunConfig, 'steps' | 'batchSize' | 'lr'>> = {
  digits: { steps: 600, batchSize: 64, lr: 3e-3 },
  'fashion-mnist': { steps: 2400, batchSize: 128, lr: 2e-3 },
};

/** A run config for `data` with its defaults, then `overrides` where they are set. */
export function classifierConfig(
  data: ClassifierRunConfig['data'],
  overrides: Partial<Omit<ClassifierRunConfig, 'family' | 'data'>> = {},
): ClassifierRunConfig {
  const d = CLASSIFIER_DEFAULTS[data] ?? CLASSIFIER_DEFAULTS['fashion-mnist'];
  const cfg: ClassifierRunConfig = { family: 'classifier', data, root: '', seed: 0, ...d };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (cfg as Record<string, unknown>)[k] = v;
  return checkSettings(classifierRunConfig, cfg);
}

function netConfig(name: string, ds: TensorDataset) {
  const known = FEATURE_NETS[name];
  if (known) return known;
  const shape = ds.x.shape;
  if (shape.length !== 4 || shape[2] !== shape[3]) {
    throw new GenlabError('data', `${name}: the classifier needs square images, got [${shape.slice(1)}]`);
  }
  return { channels: shape[1], size: shape[2], classes: ds.classes?.length ?? 10 };
}

function loadSplit(cfg: Pick<ClassifierRunConfig, 'data' | 'root'>, split: 'train' | 'test'): TensorDataset {
  return loadDataset(cfg.data, { root: cfg.root || undefined, split });
}

/** Test-set accuracy, in batches, without autograd. */
export function evaluateAccuracy(net: ClassifierNet, test: TensorDataset): number {
  const wasTraining = net.training;
  net.eval();
  const acc = noGrad(() =>
    tidy(() => {
      const logits: Tensor[] = [];
      const labels: Tensor[] = [];
      for (const b of new DataLoader(test, { batchSize: 256 })) {
        logits.push(net.forward(b.x));
        labels.push(b.y);
      }
      return accuracy(cat(logits), cat(labels));
    }),
  );
  if (wasTraining) net.train();
  return acc;
}

export interface ClassifierTrainResult {
  data: string;
  steps: number;
  loss: number;
  testAccuracy: number;
  run: string;
}

/** Trains in a run folder (new, or resumed from its checkpoint); writes results.json and loss.svg. */
export async function trainClassifierRun(
  config: ClassifierRunConfig,
  dir: string,
  opts: TrainOptions = {},
): Promise<ClassifierTrainResult | Interrupted> {
  const cfg = trainingConfig(dir, config, parseClassifierConfig, opts);
  const trainSet = loadSplit(cfg, 'train');
  const testSet = loadSplit(cfg, 'test');
  // The run folder is made only once the data has loaded, so a data error leaves nothing behind.
  using run = openTrainingRun(dir, cfg, parseClassifierConfig, opts, { label: `classifier on ${cfg.data}` });
  const net = new ClassifierNet(netConfig(cfg.data, trainSet));
  const optimizer = new Adam(net.parameters(), { lr: cfg.lr, weightDecay: 0 });
  const warmupSteps = Math.min(100, Math.floor(cfg.steps / 10));
  const schedule = warmupCosine(optimizer, { warmupSteps, totalSteps: cfg.steps });
  const loader = trainLoader(trainSet, cfg);
  const parts = { model: net, stateful: { optimizer, schedule }, loaders: { train: loader } };
  const loop = await trainParts(
    run,
    parts,
    {
      steps: cfg.steps,
      label: 'classifier',
      evalEvery: Math.max(1, Math.floor(cfg.steps / 5)),
      step: () =>
        trainStep({ optimizer, schedule }, () => {
          const batch = loader.next();
          return { loss: crossEntropy(net.forward(batch.x), batch.y) };
        }),
      evaluate: () => ({ testAccuracy: evaluateAccuracy(net, testSet) }),
      afterCheckpoint: () =>
        plotRunLog(run.path('log.jsonl'), ['loss'], run.path('loss.svg'), { title: 'training loss', logY: true }),
    },
    opts,
  );
  return finishRun(run, loop, () => {
    const testAccuracy = evaluateAccuracy(net, testSet);
    run.log({ step: loop.step, testAccuracy });
    return { data: cfg.data, steps: loop.step, loss: loop.metrics.loss, testAccuracy, run: dir };
  });
}

/** A trained classifier from a run folder. */
export function loadClassifierRun(dir: string): { run: Run<ClassifierRunConfig>; net: ClassifierNet } {
  const run = Run.load(dir, parseClassifierConfig);
  const test = loadSplit(run.config, 'test');
  const net = new ClassifierNet(netConfig(run.config.data, test));
  test.dispose();
  tidy(() => net.loadStateDict(checkpointPart(run.loadCheckpoint().tensors, 'model.')));
  return { run, net };
}

/** Test accuracy of a run, on its own data or on another data set of the same image shape. */
export function evaluateClassifierRun(
  dir: string,
  opts: { data?: string; root?: string } = {},
): { data: string; testAccuracy: number; n: number } {
  const { run, net } = loadClassifierRun(dir);
  const data = opts.data ?? run.config.data;
  const test = loadDataset(data, { root: (opts.root ?? run.config.root) || undefined, split: 'test' });
  try {
    return { data, testAccuracy: evaluateAccuracy(net, test), n: test.length };
  } finally {
    test.dispose();
    net.dispose();
  }
}

/** Writes a run's model weights alone, as a feature network (by default where metrics look for it). */
export function exportFeatureNet(dir: string, to?: string): { data: string; file: string } {
  const { run, net } = loadClassifierRun(dir);
  const file = to ?? featureNetPath(run.config.data);
  mkdirSync(dirname(file), { recursive: true });
  tidy(() => saveSafetensors(file, net.stateDict(), { data: run.config.data }));
  net.dispose();
  return { data: run.config.data, file };
}
