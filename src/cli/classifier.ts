// genlab classifier train|eval|export: the small classifier that doubles as the metrics' feature network.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TensorDataset } from '../data/dataset.js';
import type { DataLoader as Loader } from '../data/loader.js';
import { DataLoader } from '../data/loader.js';
import { loadDataset } from '../data/registry.js';
import { accuracy } from '../metrics/classification.js';
import { ClassifierNet, FEATURE_NETS, featureNetPath } from '../metrics/featureNet.js';
import { crossEntropy } from '../nn/functional.js';
import { Adam } from '../optim/adam.js';
import { warmupCosine } from '../optim/lr-scheduler.js';
import { noGrad } from '../torch/autograd.js';
import { cat } from '../torch/functions.js';
import { saveSafetensors } from '../torch/safetensors.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import { plotRunLog } from '../train/plot.js';
import { Run } from '../train/run.js';
import { commonOptions, floatOption, intOption, parseOrHelp, stringOption } from './args.js';
import {
  evalEveryOption,
  firstPositional,
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

const defaults: Record<string, { steps: number; batchSize: number; lr: number }> = {
  digits: { steps: 600, batchSize: 64, lr: 3e-3 },
  'fashion-mnist': { steps: 2400, batchSize: 128, lr: 2e-3 },
};

function datasetShape(name: string, ds: TensorDataset): { channels: number; size: number; classes: number } {
  const config = FEATURE_NETS[name];
  if (config) return config;
  const shape = ds.x.shape;
  if (shape.length !== 4 || shape[2] !== shape[3]) throw new Error(`${name}: the classifier needs square images`);
  return { channels: shape[1], size: shape[2], classes: ds.classes?.length ?? 10 };
}

/** Test-set accuracy, in batches, without autograd. */
export function evaluateAccuracy(net: ClassifierNet, test: TensorDataset): number {
  const wasTraining = net.training;
  net.eval();
  const acc = noGrad(() =>
    tidy(() => {
      const logits: Tensor[] = [];
      const labels: Tensor[] = [];
      const loader = new DataLoader(test, { batchSize: 256 });
      for (const b of loader) {
        logits.push(net.forward(b.x));
        labels.push(b.y);
      }
      return accuracy(cat(logits), cat(labels));
    }),
  );
  if (wasTraining) net.train();
  return acc;
}

const trainOptions = { ...commonOptions, 'eval-every': evalEveryOption };

async function train(argv: string[]): Promise<void> {
  const p = parseOrHelp(
    argv,
    trainOptions,
    'genlab classifier train [options]',
    'Trains the feature-network classifier.',
  );
  if (!p) return;
  const data = stringOption(p, 'data', 'digits');
  const d = defaults[data] ?? defaults['fashion-mnist'];
  const outDir = requireOut(p, join('runs', `classifier-${data}`));
  const config = {
    family: 'classifier',
    data,
    root: stringOption(p, 'root', ''),
    steps: intOption(p, 'steps', d.steps, 1),
    batchSize: intOption(p, 'batch-size', d.batchSize, 1),
    lr: floatOption(p, 'lr', d.lr),
    seed: intOption(p, 'seed', 0),
  };
  // A new run folder is made only once the data has loaded.
  const { cfg, resume, engine } = trainingConfig(p, outDir, config);

  const trainSet = loadDataset(cfg.data, { root: cfg.root || undefined, split: 'train' });
  const testSet = loadDataset(cfg.data, { root: cfg.root || undefined, split: 'test' });
  const run = Run.open(outDir, config, { resume });
  // Printed once the data loaded, so that a data error stays a one-line message.
  note(p, `classifier on ${cfg.data}: ${JSON.stringify({ ...cfg, threads: engine.threads })} -> ${outDir}`);
  const net = new ClassifierNet(datasetShape(cfg.data, trainSet));
  const optimizer = new Adam(net.parameters(), { lr: cfg.lr, weightDecay: 0 });
  const schedule = warmupCosine(optimizer, {
    warmupSteps: Math.min(100, Math.floor(cfg.steps / 10)),
    totalSteps: cfg.steps,
  });
  const loader: Loader = new DataLoader(trainSet, {
    batchSize: cfg.batchSize,
    shuffle: true,
    dropLast: true,
    seed: cfg.seed,
  });
  const parts = { model: net, stateful: { optimizer, schedule }, loaders: { train: loader } };
  const start = resumeCheckpoint(p, run, parts);
  const result = await trainResumably(p, parts, {
    run,
    steps: cfg.steps,
    startStep: start,
    label: 'classifier',
    step: () =>
      tidy(() => {
        const batch = loader.next();
        optimizer.zeroGrad();
        const loss = crossEntropy(net.forward(batch.x), batch.y);
        loss.backward();
        optimizer.step();
        schedule.step();
        return { loss: loss.item() };
      }),
    evaluate: () => ({ testAccuracy: evaluateAccuracy(net, testSet) }),
    afterCheckpoint: () =>
      plotRunLog(run.path('log.jsonl'), ['loss'], run.path('loss.svg'), { title: 'training loss', logY: true }),
  });
  if (!result) return;
  const testAccuracy = evaluateAccuracy(net, testSet);
  run.log({ step: result.step, testAccuracy });
  const summary = { data: cfg.data, steps: result.step, loss: result.metrics.loss, testAccuracy, run: outDir };
  writeFileSync(run.path('results.json'), `${JSON.stringify(summary, null, 2)}\n`);
  report(p, summary, [`test accuracy ${(testAccuracy * 100).toFixed(2)}% after ${result.step} steps (${outDir})`]);
}

function loadRunNet(dir: string): { run: Run; net: ClassifierNet; data: string; root?: string } {
  const run = loadFamilyRun(dir, 'classifier');
  const data = String(run.config.data);
  const root = (run.config.root as string) || undefined;
  const trainSet = loadDataset(data, { root, split: 'test' });
  const net = new ClassifierNet(datasetShape(data, trainSet));
  trainSet.dispose();
  loadModelWeights(run, net);
  return { run, net, data, root };
}

async function evaluate(argv: string[]): Promise<void> {
  const options = { data: commonOptions.data, root: commonOptions.root, threads: commonOptions.threads };
  const p = parseOrHelp(
    argv,
    options,
    'genlab classifier eval <run> [options]',
    'Test accuracy of a trained classifier.',
  );
  if (!p) return;
  const { net, data, root } = openRunFolder(p, loadRunNet);
  const name = stringOption(p, 'data', data);
  const test = loadDataset(name, { root: stringOption(p, 'root', root ?? '') || undefined, split: 'test' });
  const testAccuracy = evaluateAccuracy(net, test);
  report(p, { data: name, testAccuracy, n: test.length }, [
    `${name} test accuracy ${(testAccuracy * 100).toFixed(2)}% on ${test.length} images`,
  ]);
}

async function exportNet(argv: string[]): Promise<void> {
  const options = {
    to: { type: 'string' as const, description: 'file to write (default: the shipped feature-net path)' },
  };
  const p = parseOrHelp(
    argv,
    options,
    'genlab classifier export <run> [--to file]',
    'Writes the model weights alone, as a feature network.',
  );
  if (!p) return;
  const { net, data } = loadRunNet(firstPositional(p, 'run folder'));
  const to = stringOption(p, 'to', featureNetPath(data));
  mkdirSync(dirname(to), { recursive: true });
  tidy(() => saveSafetensors(to, net.stateDict(), { data }));
  report(p, { data, file: to }, [`wrote ${to}`]);
}

export const classifier: Family = {
  summary: 'the classifier behind FID/IS: train, evaluate, export',
  verbs: {
    train: { summary: 'train on --data (digits, fashion-mnist, mnist, cifar10)', run: train },
    eval: { summary: 'test accuracy of a run', run: evaluate },
    export: { summary: 'write a run’s weights as the shipped feature network', run: exportNet },
  },
};
