// Experiment 1, after Salimans & Kingma 2016 §5.1: one ConvNet trained four ways on the same
// batches (plain, weight norm with data-dependent init, weight norm with mean-only batch norm,
// batch norm), with training curves, final test errors and time per step.

import { crossEntropy } from '../nn/functional.js';
import { utils } from '../nn/index.js';
import { Adam } from '../optim/adam.js';
import { arange } from '../torch/creation.js';
import { tidy } from '../torch/scope.js';
import { plotRunLog } from '../train/plot.js';
import { finishRun, type Interrupted, type TrainOptions, trainLoader, trainParts } from '../train/session.js';
import { trainStep } from '../train/step.js';
import { type BayesRunConfig, NetSet, openBayesRun, testError } from './experiment.js';
import { CONV_VARIANTS, type ConvVariant, convNet } from './models.js';

export interface ConvergenceRow {
  variant: ConvVariant;
  testError: number;
  /** Training loss of the last step. */
  loss: number;
  /** Mean wall time of one training step in this session, milliseconds. */
  msPerStep: number;
}

export interface ConvergenceResult {
  experiment: 'convergence';
  data: string;
  steps: number;
  rows: ConvergenceRow[];
  run: string;
}

const key = (what: string, v: ConvVariant) => `${what}_${v}`;

/** Trains the four variants side by side in a run folder; writes results.json, loss.svg, test-error.svg. */
export async function trainConvergenceRun(
  config: BayesRunConfig,
  dir: string,
  opts: TrainOptions = {},
): Promise<ConvergenceResult | Interrupted> {
  const { cfg, trainSet, testSet, shape, run: opened } = openBayesRun(config, dir, opts);
  using run = opened;
  const nets = {} as Record<ConvVariant, ReturnType<typeof convNet>>;
  for (const v of CONV_VARIANTS) nets[v] = convNet(v, shape);
  const optimizers = {} as Record<ConvVariant, Adam>;
  for (const v of CONV_VARIANTS) optimizers[v] = new Adam(nets[v].parameters(), { lr: cfg.lr });
  const loader = trainLoader(trainSet, cfg);
  const stateful: Record<string, Adam> = {};
  for (const v of CONV_VARIANTS) stateful[key('adam', v)] = optimizers[v];
  const parts = { model: new NetSet(nets), stateful, loaders: { train: loader } };
  const ms = Object.fromEntries(CONV_VARIANTS.map((v) => [v, 0])) as Record<ConvVariant, number>;
  let timed = 0;
  const losses = CONV_VARIANTS.map((v) => key('loss', v));
  const errors = CONV_VARIANTS.map((v) => key('testError', v));
  const loop = await trainParts(
    run,
    parts,
    {
      steps: cfg.steps,
      label: 'convergence',
      evalEvery: Math.max(1, Math.floor(cfg.steps / 5)),
      step: () =>
        tidy(() => {
          const batch = loader.next();
          const metrics: Record<string, number> = { loss: 0 };
          for (const v of CONV_VARIANTS) {
            const t0 = performance.now();
            const m = trainStep({ optimizer: optimizers[v] }, () => ({
              loss: crossEntropy(nets[v].forward(batch.x), batch.y),
            }));
            const dt = performance.now() - t0;
            ms[v] += dt;
            metrics[key('loss', v)] = m.loss;
            metrics[key('ms', v)] = dt;
            metrics.loss += m.loss / CONV_VARIANTS.length;
          }
          timed++;
          return metrics;
        }),
      evaluate: () => Object.fromEntries(CONV_VARIANTS.map((v) => [key('testError', v), testError(nets[v], testSet)])),
      afterCheckpoint: () => {
        plotRunLog(run.path('log.jsonl'), losses, run.path('loss.svg'), { title: 'training loss', logY: true });
        plotRunLog(run.path('log.jsonl'), errors, run.path('test-error.svg'), { title: 'test error' });
      },
    },
    {
      ...opts,
      // Salimans & Kingma's initialisation, from the first batch of the training set: scales and
      // biases for 'wn-init', scales alone for 'wn-mobn' (its centring is the batch mean's).
      init: () =>
        tidy(() => {
          const first = trainSet.batch(arange(0, Math.min(cfg.batchSize, trainSet.length), 1, { dtype: 'int64' }));
          utils.dataDependentInit(nets['wn-init'], first.x);
          utils.dataDependentInit(nets['wn-mobn'], first.x);
        }),
    },
  );
  return finishRun(run, loop, () => {
    const rows = CONV_VARIANTS.map((v) => ({
      variant: v,
      testError: testError(nets[v], testSet),
      loss: loop.metrics[key('loss', v)],
      msPerStep: timed > 0 ? ms[v] / timed : 0,
    }));
    run.log({ step: loop.step, ...Object.fromEntries(rows.map((r) => [key('testError', r.variant), r.testError])) });
    plotRunLog(run.path('log.jsonl'), errors, run.path('test-error.svg'), { title: 'test error' });
    return { experiment: 'convergence' as const, data: cfg.data, steps: loop.step, rows, run: dir };
  });
}
