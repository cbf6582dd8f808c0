// Experiment 3, Molchanov, Ashukha & Vetrov 2017: LeNet-300-100 with sparse variational dropout,
// trained on the negative ELBO with a KL weight warmed up from 0 to 1, then pruned at log α ≥ 3:
// test error, compression per layer, and pictures of the first layer's surviving weights.
import { crossEntropy } from '../nn/functional.js';
import { klDivergence, pruneVariational, type SparsityRow, sparsityReport, VariationalLinear } from '../nn/index.js';
import { Adam } from '../optim/adam.js';
import { noGrad } from '../torch/autograd.js';
import { GenlabError } from '../torch/errors.js';
import { tidy } from '../torch/scope.js';
import { checkpointPart } from '../train/checkpoint.js';
import { saveImageGrid } from '../train/images.js';
import { plotRunLog } from '../train/plot.js';
import { Run } from '../train/run.js';
import { finishRun, type Interrupted, type TrainOptions, trainLoader, trainParts } from '../train/session.js';
import { trainStep } from '../train/step.js';
import { type BayesRunConfig, imageShape, loadSplit, openBayesRun, parseBayesConfig, testError } from './experiment.js';
import { sparseLeNet } from './models.js';

export interface SparseResult {
  experiment: 'sparse';
  data: string;
  steps: number;
  threshold: number;
  /** Test error of the posterior-mean network before pruning, and of the pruned one. */
  testErrorDense: number;
  testError: number;
  /** Per layer and in total: weights, kept, sparsity, compression (weights / kept). */
  layers: SparsityRow[];
  compression: number;
  pictures: string[];
  run: string;
}

/** The KL weight at a step: linear warm-up from 0 to 1 over `warmup` steps (none when 0). */
export function klWeight(step: number, warmup: number): number {
  return warmup <= 0 ? 1 : Math.min(1, step / warmup);
}

/**
 * Two pictures of the first layer: each of the first 100 hidden units' surviving input weights as
 * an image (grey 0.5 is zero), and the input pixels any surviving weight still reads.
 */
function firstLayerPictures(
  first: VariationalLinear,
  size: number,
  channels: number,
  dir: (f: string) => string,
): string[] {
  const files = ['first-layer-weights.png', 'first-layer-inputs.png'];
  noGrad(() =>
    tidy(() => {
      const w = first.meanWeight();
      const units = Math.min(100, w.shape[0]);
      const shown = w.narrow(0, 0, units);
      const scale = shown.abs().amax(1, { keepdim: true }).clampMin(1e-12);
      const tiles = shown.div(scale).mul(0.5).add(0.5).reshape([units, channels, size, size]);
      saveImageGrid(dir(files[0]), channels === 1 ? tiles : tiles.narrow(1, 0, 1), {
        nrow: 10,
        scale: size <= 8 ? 4 : 2,
      });
      const used = first.weightMask.amax(0).reshape([1, channels, size, size]);
      saveImageGrid(dir(files[1]), channels === 1 ? used : used.narrow(1, 0, 1), {
        nrow: 1,
        scale: size <= 8 ? 16 : 8,
      });
    }),
  );
  return files;
}

/** Trains sparse VD LeNet-300-100 in a run folder; writes results.json, curves and pictures. */
export async function trainSparseRun(
  config: BayesRunConfig,
  dir: string,
  opts: TrainOptions = {},
): Promise<SparseResult | Interrupted> {
  const { cfg, trainSet, testSet, shape: s, run: opened } = openBayesRun(config, dir, opts);
  using run = opened;
  const net = sparseLeNet(s.channels * s.size * s.size, s.classes);
  const optimizer = new Adam(net.parameters(), { lr: cfg.lr });
  const loader = trainLoader(trainSet, cfg);
  const loop = await trainParts(
    run,
    { model: net, stateful: { optimizer }, loaders: { train: loader } },
    {
      steps: cfg.steps,
      label: 'sparse VD',
      evalEvery: Math.max(1, Math.floor(cfg.steps / 5)),
      step: (step) =>
        trainStep({ optimizer }, () => {
          const batch = loader.next();
          const nll = crossEntropy(net.forward(batch.x), batch.y);
          const kl = klDivergence(net).div(trainSet.length);
          return { loss: nll.add(kl.mul(klWeight(step, cfg.klWarmup))), metrics: { nll, kl } };
        }),
      evaluate: () => {
        const total = sparsityReport(net, { threshold: cfg.threshold }).at(-1) as SparsityRow;
        return { testError: testError(net, testSet), compression: total.compression };
      },
      afterCheckpoint: () => {
        plotRunLog(run.path('log.jsonl'), ['nll', 'kl'], run.path('loss.svg'), { title: 'ELBO terms', logY: true });
      },
    },
    opts,
  );
  return finishRun(run, loop, () => {
    const testErrorDense = testError(net, testSet);
    pruneVariational(net, { threshold: cfg.threshold });
    const layers = sparsityReport(net, { threshold: cfg.threshold });
    const error = testError(net, testSet);
    const compression = (layers.at(-1) as SparsityRow).compression;
    run.log({ step: loop.step, testError: error, testErrorDense, compression });
    plotRunLog(run.path('log.jsonl'), ['compression'], run.path('compression.svg'), {
      title: 'compression (weights / kept)',
    });
    const first = net.modules().find((m) => m instanceof VariationalLinear) as VariationalLinear;
    const pictures = firstLayerPictures(first, s.size, s.channels, (f) => run.path(f));
    return {
      experiment: 'sparse' as const,
      data: cfg.data,
      steps: loop.step,
      threshold: cfg.threshold,
      testErrorDense,
      testError: error,
      layers,
      compression,
      pictures,
      run: dir,
    };
  });
}

/** A sparse run's network pruned at `threshold` (the run's by default): test error and compression. */
export function evaluateSparseRun(
  dir: string,
  opts: { threshold?: number } = {},
): { data: string; threshold: number; testError: number; layers: SparsityRow[]; compression: number } {
  const run = Run.load(dir, parseBayesConfig);
  if (run.config.experiment !== 'sparse') {
    throw new GenlabError('run', `${dir}: a bayes ${run.config.experiment} run, not a sparse one`);
  }
  const testSet = loadSplit(run.config, 'test');
  const s = imageShape(testSet);
  const net = sparseLeNet(s.channels * s.size * s.size, s.classes);
  try {
    tidy(() => net.loadStateDict(checkpointPart(run.loadCheckpoint().tensors, 'model.')));
    const threshold = opts.threshold ?? run.config.threshold;
    pruneVariational(net, { threshold });
    const layers = sparsityReport(net, { threshold });
    return {
      data: run.config.data,
      threshold,
      testError: testError(net, testSet),
      layers,
      compression: (layers.at(-1) as SparsityRow).compression,
    };
  } finally {
    net.dispose();
    testSet.dispose();
  }
}
