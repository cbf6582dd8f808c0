// genlab bayes convergence|variance|sparse|prune: weight normalisation and variational dropout.
import { join } from 'node:path';
import {
  BAYES_DATA,
  BAYES_DEFAULTS,
  type BayesExperiment,
  type BayesRunConfig,
  bayesConfig,
  type ConvergenceResult,
  evaluateSparseRun,
  type SparseResult,
  trainConvergenceRun,
  trainSparseRun,
  trainVarianceRun,
  type VarianceResult,
} from '../bayes/index.js';
import { choice, float, int, path } from './args.js';
import { evalEvery, root, runArg, threads, trainingOptions, trainRunOptions } from './common.js';
import { type Family, verb } from './verb.js';

const data = choice('data set (mnist needs --root)', BAYES_DATA, { default: 'fashion-mnist' });
const out = (e: BayesExperiment) => path('run folder to write', { defaultText: `runs/bayes-${e}-<data>` });
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const sci = (x: number) => x.toExponential(2);

type Common = Partial<Pick<BayesRunConfig, 'root' | 'steps' | 'batchSize' | 'lr' | 'seed'>>;
function settings(o: Common): Common {
  return { root: o.root, steps: o.steps, batchSize: o.batchSize, lr: o.lr, seed: o.seed };
}

const convergence = verb({
  summary: 'a ConvNet trained plain, with weight norm (+ data init), with WN + mean-only BN, with BN',
  usage: '[--data fashion-mnist|digits|mnist] [options]',
  description:
    'Trains the four variants on the same batches; reports test errors and time per step, and writes loss.svg and test-error.svg.',
  options: { data, root, ...trainingOptions(BAYES_DEFAULTS.convergence), evalEvery, out: out('convergence') },
  run: (o, _args, ctx) => {
    const cfg = bayesConfig('convergence', o.data, settings(o));
    const dir = o.out ?? join('runs', `bayes-convergence-${o.data}`);
    return trainConvergenceRun(cfg, dir, trainRunOptions(o, ctx));
  },
  show: (r: ConvergenceResult) => [
    ...r.rows.map(
      (x) =>
        `${x.variant.padEnd(8)} test error ${pct(x.testError)}, loss ${x.loss.toFixed(4)}, ${x.msPerStep.toFixed(1)} ms/step`,
    ),
    `${r.steps} steps on ${r.data}; curves in ${r.run}`,
  ],
});

const variance = verb({
  summary: "gradient variance of five estimators, early and late (Kingma et al. 2015's Table 1)",
  usage: '[--data fashion-mnist|digits|mnist] [options]',
  description:
    'Trains a 3-layer MLP with weight noise, Gaussian dropout A and B; measures the minibatch gradient variance of the top and bottom layers, and against the minibatch size.',
  options: {
    data,
    root,
    ...trainingOptions(BAYES_DEFAULTS.variance),
    hidden: int('hidden units per layer', { min: 1, max: 1 << 14, default: 100 }),
    alpha: float('initial dropout rate α, at most 1', { min: 1e-6, max: 1, default: 0.25 }),
    repeats: int('gradient draws per measurement', { min: 2, max: 1e5, default: 50 }),
    earlyStep: int('step of the early measurement', { min: 1, max: 1e9, defaultText: 'a tenth of --steps' }),
    evalEvery,
    out: out('variance'),
  },
  run: (o, _args, ctx) => {
    const cfg = bayesConfig('variance', o.data, {
      ...settings(o),
      hidden: o.hidden,
      alpha: o.alpha,
      repeats: o.repeats,
      earlyStep: o.earlyStep,
    });
    const dir = o.out ?? join('runs', `bayes-variance-${o.data}`);
    return trainVarianceRun(cfg, dir, trainRunOptions(o, ctx));
  },
  show: (r: VarianceResult) => [
    `gradient variance, minibatch ${r.batchSize}, ${r.repeats} draws (top early / late, bottom early / late):`,
    ...r.rows.map(
      (x) =>
        `  ${x.estimator.padEnd(32)} ${sci(x.top.early)} / ${sci(x.top.late)}   ${sci(x.bottom.early)} / ${sci(x.bottom.late)}`,
    ),
    `test error: ${Object.entries(r.testError)
      .map(([k, v]) => `${k} ${pct(v)}`)
      .join(', ')}; run ${r.run}`,
  ],
});

const sparseLines = (r: { testError: number; compression: number; layers: SparseResult['layers'] }) =>
  r.layers.map(
    (l) =>
      `  ${l.layer.padEnd(6)} kept ${String(l.kept).padStart(7)} of ${String(l.weights).padStart(7)} (${pct(l.sparsity)} pruned, ${l.compression.toFixed(1)}×)`,
  );

const sparse = verb({
  summary: 'sparse variational dropout on LeNet-300-100: test error and compression',
  usage: '[--data fashion-mnist|digits|mnist] [options]',
  description:
    'Trains LeNet-300-100 with sparse VD, prunes at log α ≥ --threshold, and draws the first layer’s surviving weights.',
  options: {
    data,
    root,
    ...trainingOptions(BAYES_DEFAULTS.sparse),
    klWarmup: int('steps of linear KL warm-up', { min: 0, max: 1e9, defaultText: 'a third of --steps' }),
    threshold: float('prune weights with log α at or above this', { min: -8, max: 8, default: 3 }),
    evalEvery,
    out: out('sparse'),
  },
  run: (o, _args, ctx) => {
    const cfg = bayesConfig('sparse', o.data, { ...settings(o), klWarmup: o.klWarmup, threshold: o.threshold });
    const dir = o.out ?? join('runs', `bayes-sparse-${o.data}`);
    return trainSparseRun(cfg, dir, trainRunOptions(o, ctx));
  },
  show: (r: SparseResult) => [
    `test error ${pct(r.testError)} pruned (${pct(r.testErrorDense)} before), compression ${r.compression.toFixed(1)}× at log α ≥ ${r.threshold}`,
    ...sparseLines(r),
    `pictures: ${r.pictures.join(', ')} in ${r.run}`,
  ],
});

const prune = verb({
  summary: 'test error and compression of a sparse run pruned at a threshold',
  usage: '<run> [--threshold t]',
  description: 'Loads a sparse run, prunes at log α ≥ --threshold and evaluates it on the test set.',
  args: [runArg],
  options: { threshold: float('log α threshold', { min: -8, max: 8, defaultText: "the run's" }), threads },
  run: (o, [dir]) => evaluateSparseRun(dir, { threshold: o.threshold }),
  show: (r) => [
    `${r.data}: test error ${pct(r.testError)}, compression ${r.compression.toFixed(1)}× at log α ≥ ${r.threshold}`,
    ...sparseLines(r),
  ],
});

export const bayes: Family = {
  summary: 'weight normalisation and variational dropout: convergence, gradient variance, sparsity',
  verbs: { convergence, variance, sparse, prune },
};
