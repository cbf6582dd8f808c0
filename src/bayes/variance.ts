// Experiment 2, Kingma, Salimans & Welling 2015's Table 1: the variance of minibatch gradient
// estimates of a 3-layer MLP's top and bottom weights, early and late in training, for five
// estimators: the local reparameterisation trick, one weight sample per minibatch, one per
// example (all three on the same fully factorised posterior), and Gaussian dropout A and B
// (each its own network with learned α); and the variance against the minibatch size.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { TensorDataset } from '../data/dataset.js';
import { crossEntropy } from '../nn/functional.js';
import { klDivergence, type Module, VariationalLinear, type WeightSampling } from '../nn/index.js';
import { Adam } from '../optim/adam.js';
import { grad } from '../torch/autograd.js';
import { randint } from '../torch/creation.js';
import { defaultGenerator, Generator, manualSeed } from '../torch/random.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import { plotRunLog, type Series, savePlotSvg } from '../train/plot.js';
import { finishRun, type Interrupted, type TrainOptions, trainLoader, trainParts } from '../train/session.js';
import { trainStep } from '../train/step.js';
import { type BayesRunConfig, NetSet, openBayesRun, testError } from './experiment.js';
import { MLP_KINDS, type MlpKind, noisyMlp } from './models.js';

/** The five estimators, as the rows of the table: which network, and how its noise is drawn. */
export const ESTIMATORS = [
  { name: 'local reparameterisation', net: 'weights', sampling: 'lrt' },
  { name: 'one weight sample per minibatch', net: 'weights', sampling: 'batch' },
  { name: 'one weight sample per example', net: 'weights', sampling: 'example' },
  { name: 'Gaussian dropout A', net: 'dropout-a', sampling: 'lrt' },
  { name: 'Gaussian dropout B', net: 'dropout-b', sampling: 'lrt' },
] as const satisfies readonly { name: string; net: MlpKind; sampling: WeightSampling }[];

export interface VarianceRow {
  estimator: string;
  /** Mean over the layer's weights of the gradient's variance across minibatch draws. */
  top: { early: number; late: number };
  bottom: { early: number; late: number };
}

export interface VarianceResult {
  experiment: 'variance';
  data: string;
  steps: number;
  earlyStep: number;
  batchSize: number;
  repeats: number;
  rows: VarianceRow[];
  /** Late in training: variance against examples per minibatch, per estimator. */
  bySize: { estimator: string; size: number; top: number; bottom: number }[];
  testError: Record<MlpKind, number>;
  run: string;
}

interface Measured {
  estimator: string;
  top: number;
  bottom: number;
}

/** Per-example weights cost examples × weights of memory: those minibatches go through in chunks. */
const CHUNK = 100;

function setSampling(net: Module, sampling: WeightSampling): void {
  for (const m of net.modules()) if (m instanceof VariationalLinear) m.sampling = sampling;
}

/** Bottom and top weight matrices (θ) of an MLP. */
function ends(net: Module): [Tensor, Tensor] {
  const ws = net.namedParameters().filter(([n]) => n.endsWith('.weight'));
  return [ws[0][1], ws[ws.length - 1][1]];
}

/**
 * Variance of the minibatch gradient of the expected log-likelihood term (the KL's gradient has none)
 * over `repeats` draws of a minibatch of `size` and of the noise. The draws are seeded by `seed`, the
 * same minibatches for every estimator; the global generator's state is put back afterwards, so a
 * measurement leaves the training untouched.
 */
export function gradientVariance(
  net: Module,
  sampling: WeightSampling,
  data: TensorDataset,
  size: number,
  repeats: number,
  seed: number,
): { top: number; bottom: number } {
  const saved = defaultGenerator.getState();
  const pick = new Generator(seed);
  manualSeed(seed + 1);
  setSampling(net, sampling);
  const [bottom, top] = ends(net);
  const acc = [bottom, top].map((w) => ({ sum: new Float64Array(w.numel()), sq: new Float64Array(w.numel()) }));
  try {
    for (let r = 0; r < repeats; r++) {
      tidy(() => {
        const idx = randint(0, data.length, [size], { generator: pick });
        const batch = data.batch(idx);
        // One weight sample per minibatch must be shared by the whole minibatch: no chunks there.
        const chunk = sampling === 'example' ? CHUNK : size;
        let grads: Tensor[] | null = null;
        for (let s = 0; s < size; s += chunk) {
          const n = Math.min(chunk, size - s);
          const logits = net.forward(batch.x.narrow(0, s, n));
          const loss = crossEntropy(logits, batch.y.narrow(0, s, n), { reduction: 'sum' }).div(size);
          const g = grad(loss, [bottom, top]) as Tensor[];
          grads = grads === null ? g : grads.map((t, i) => t.add(g[i]));
        }
        (grads as Tensor[]).forEach((g, i) => {
          const v = g.to('float64').contiguous().toTypedArray() as Float64Array;
          const { sum, sq } = acc[i];
          for (let j = 0; j < v.length; j++) {
            sum[j] += v[j];
            sq[j] += v[j] * v[j];
          }
        });
      });
    }
  } finally {
    setSampling(net, 'lrt');
    defaultGenerator.setState(saved);
  }
  const [b, t] = acc.map(({ sum, sq }) => {
    let total = 0;
    for (let j = 0; j < sum.length; j++) total += (sq[j] - (sum[j] * sum[j]) / repeats) / (repeats - 1);
    return total / sum.length;
  });
  return { top: t, bottom: b };
}

function measureAll(
  nets: Record<MlpKind, Module>,
  data: TensorDataset,
  size: number,
  repeats: number,
  seed: number,
): Measured[] {
  return ESTIMATORS.map((e) => ({
    estimator: e.name,
    ...gradientVariance(nets[e.net], e.sampling, data, size, repeats, seed),
  }));
}

/** Sizes of the variance-against-examples sweep: 10 to 1000 by half decades, within the data. */
export function sweepSizes(n: number): number[] {
  return [10, 32, 100, 316, 1000].filter((s) => s <= n);
}

/** Trains the three networks side by side; measures at earlyStep and at the end; writes results.json and plots. */
export async function trainVarianceRun(
  config: BayesRunConfig,
  dir: string,
  opts: TrainOptions = {},
): Promise<VarianceResult | Interrupted> {
  const opened = openBayesRun(config, dir, opts);
  using run = opened.run;
  const { cfg, trainSet, testSet, shape: s } = opened;
  const inputs = s.channels * s.size * s.size;
  const nets = {} as Record<MlpKind, Module>;
  for (const k of MLP_KINDS) nets[k] = noisyMlp(k, inputs, cfg.hidden, s.classes, cfg.alpha);
  const optimizers = {} as Record<MlpKind, Adam>;
  const stateful: Record<string, Adam> = {};
  for (const k of MLP_KINDS) {
    optimizers[k] = new Adam(nets[k].parameters(), { lr: cfg.lr });
    stateful[`adam_${k}`] = optimizers[k];
  }
  const loader = trainLoader(trainSet, cfg);
  const earlyFile = run.path('variance-early.json');
  const measureSeed = cfg.seed * 7919 + 17;
  const loop = await trainParts(
    run,
    { model: new NetSet(nets), stateful, loaders: { train: loader } },
    {
      steps: cfg.steps,
      label: 'variance',
      evalEvery: Math.max(1, Math.floor(cfg.steps / 5)),
      step: (step) => {
        const metrics = tidy(() => {
          const batch = loader.next();
          const out: Record<string, number> = { loss: 0 };
          for (const k of MLP_KINDS) {
            // The negative ELBO per example: cross-entropy plus KL over the training set's size.
            const m = trainStep({ optimizer: optimizers[k] }, () => ({
              loss: crossEntropy(nets[k].forward(batch.x), batch.y).add(klDivergence(nets[k]).div(trainSet.length)),
            }));
            out[`loss_${k}`] = m.loss;
            out.loss += m.loss / MLP_KINDS.length;
          }
          return out;
        });
        if (step === cfg.earlyStep) {
          const early = measureAll(nets, trainSet, cfg.batchSize, cfg.repeats, measureSeed);
          writeFileSync(earlyFile, `${JSON.stringify(early, null, 2)}\n`);
        }
        return metrics;
      },
      evaluate: () => Object.fromEntries(MLP_KINDS.map((k) => [`testError_${k}`, testError(nets[k], testSet)])),
      afterCheckpoint: () =>
        plotRunLog(
          run.path('log.jsonl'),
          MLP_KINDS.map((k) => `loss_${k}`),
          run.path('loss.svg'),
          { title: 'training loss (negative ELBO per example)', logY: true },
        ),
    },
    opts,
  );
  return finishRun(run, loop, () => {
    const early = existsSync(earlyFile) ? (JSON.parse(readFileSync(earlyFile, 'utf8')) as Measured[]) : [];
    const late = measureAll(nets, trainSet, cfg.batchSize, cfg.repeats, measureSeed);
    const rows = ESTIMATORS.map((e, i) => ({
      estimator: e.name,
      top: { early: early[i]?.top ?? Number.NaN, late: late[i].top },
      bottom: { early: early[i]?.bottom ?? Number.NaN, late: late[i].bottom },
    }));
    const bySize: VarianceResult['bySize'] = [];
    for (const size of sweepSizes(trainSet.length)) {
      for (const m of measureAll(nets, trainSet, size, cfg.repeats, measureSeed + size)) bySize.push({ ...m, size });
    }
    for (const layer of ['top', 'bottom'] as const) {
      const series: Series[] = ESTIMATORS.map((e) => {
        const pts = bySize.filter((b) => b.estimator === e.name);
        return { name: e.name, x: pts.map((p) => Math.log10(p.size)), y: pts.map((p) => p[layer]) };
      });
      savePlotSvg(run.path(`variance-${layer}.svg`), series, {
        title: `gradient variance, ${layer} layer, end of training`,
        xLabel: 'log10 examples per minibatch',
        yLabel: 'mean variance',
        logY: true,
      });
    }
    const errors = Object.fromEntries(MLP_KINDS.map((k) => [k, testError(nets[k], testSet)])) as Record<
      MlpKind,
      number
    >;
    return {
      experiment: 'variance' as const,
      data: cfg.data,
      steps: loop.step,
      earlyStep: cfg.earlyStep,
      batchSize: cfg.batchSize,
      repeats: cfg.repeats,
      rows,
      bySize,
      testError: errors,
      run: dir,
    };
  });
}
