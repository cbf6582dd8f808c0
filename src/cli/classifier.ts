// genlab classifier train|eval|export: the small classifier that doubles as the metrics' feature network.
import { join } from 'node:path';
import {
  CLASSIFIER_DATA,
  CLASSIFIER_DEFAULTS,
  type ClassifierTrainResult,
  classifierConfig,
  evaluateClassifierRun,
  exportFeatureNet,
  trainClassifierRun,
} from '../classifier/experiment.js';
import { choice, path } from './args.js';
import { evalEvery, root, runArg, threads, trainingOptions, trainRunOptions } from './common.js';
import { type Family, verb } from './verb.js';

const data = choice('data set', CLASSIFIER_DATA, { default: 'digits' });

const train = verb({
  summary: 'train on --data (digits, fashion-mnist, mnist, cifar10)',
  usage: '[options]',
  description: 'Trains the feature-network classifier; writes results.json and a loss curve.',
  options: {
    data,
    root,
    ...trainingOptions(CLASSIFIER_DEFAULTS),
    out: path('run folder to write', { defaultText: 'runs/classifier-<data>' }),
    evalEvery,
  },
  run: (o, _args, ctx) => {
    const cfg = classifierConfig(o.data, {
      root: o.root,
      steps: o.steps,
      batchSize: o.batchSize,
      lr: o.lr,
      seed: o.seed,
    });
    const dir = o.out ?? join('runs', `classifier-${o.data}`);
    return trainClassifierRun(cfg, dir, trainRunOptions(o, ctx));
  },
  show: (r: ClassifierTrainResult) => [
    `test accuracy ${(r.testAccuracy * 100).toFixed(2)}% after ${r.steps} steps (${r.run})`,
  ],
});

const evaluate = verb({
  summary: 'test accuracy of a run',
  usage: '<run> [options]',
  description: 'Test accuracy of a trained classifier, on its own data set or another of the same shape.',
  args: [runArg],
  options: { data: choice('data set to evaluate on', CLASSIFIER_DATA, { defaultText: "the run's" }), root, threads },
  run: (o, [dir]) => evaluateClassifierRun(dir, { data: o.data, root: o.root }),
  show: (r) => [`${r.data} test accuracy ${(r.testAccuracy * 100).toFixed(2)}% on ${r.n} images`],
});

const exportNet = verb({
  summary: 'write a run’s weights as the shipped feature network',
  usage: '<run> [--to file]',
  description: 'Writes the model weights alone, as a feature network for FID/IS.',
  args: [runArg],
  options: { to: path('file to write', { defaultText: 'the shipped feature-net path' }) },
  run: (o, [dir]) => exportFeatureNet(dir, o.to),
  show: (r) => [`wrote ${r.file}`],
});

export const classifier: Family = {
  summary: 'the classifier behind FID/IS: train, evaluate, export',
  verbs: { train, eval: evaluate, export: exportNet },
};
