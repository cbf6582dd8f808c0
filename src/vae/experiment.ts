// A VAE experiment from a JSON config: data, model and optimiser, the training step, evaluation
// (MCC for the ICA benchmark, collapse diagnostics everywhere) and training inside a run folder.
// The CLI and the benchmarks both go through here, so they measure the same thing.
import { writeFileSync } from 'node:fs';
import type { IcaOptions } from '../data/ica.js';
import { DataLoader } from '../data/loader.js';
import { mccDetails } from '../metrics/mcc.js';
import { Adam } from '../optim/adam.js';
import { warmupCosine } from '../optim/lr-scheduler.js';
import { noGrad } from '../torch/autograd.js';
import { randn } from '../torch/creation.js';
import { cat, stack } from '../torch/functions.js';
import { Generator, manualSeed } from '../torch/random.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import { captureCheckpoint, checkpointPart, restoreCheckpoint, type TrainingParts } from '../train/checkpoint.js';
import { saveImageGrid } from '../train/images.js';
import { type LoopResult, trainLoop } from '../train/loop.js';
import { plotRunLog } from '../train/plot.js';
import type { Json } from '../train/run.js';
import { Run } from '../train/run.js';
import type { BrenierDecoderOptions } from './brenier.js';
import { loadVaeData, oneHot, prepareBatch, type VaeData } from './data.js';
import { type CollapseReport, collapseDiagnostics } from './diagnostics.js';
import type { LikelihoodKind } from './likelihoods.js';
import { type AnnealWeights, annealWeights, type ModelKind, VAE, type VaeConfig } from './model.js';
import type { Activation } from './nets.js';
import type { PpcaOptions } from './synthetic.js';

/** Everything a run needs, stored as its config.json. */
export interface VaeRunConfig {
  family: 'vae';
  model: ModelKind;
  data: string;
  root: string;
  likelihood: LikelihoodKind;
  latent: number;
  hidden: number[];
  activation: Activation;
  slope: number;
  xavier: boolean;
  /** With xavier, zero the biases too (default true; ilkhem/iVAE keeps PyTorch's default biases). */
  zeroBias?: boolean;
  /** Separate mean and log-variance encoder networks, as ilkhem/iVAE (default false). */
  splitEncoder?: boolean;
  beta: number;
  /** Gaussian likelihood: fixed variance or 'learned'. */
  variance: number | 'learned';
  steps: number;
  batchSize: number;
  lr: number;
  /** Cosine decay of the learning rate to lr·lrFloor over the run (1 keeps it constant). */
  lrFloor: number;
  seed: number;
  /** Test examples used for evaluation (0: all). */
  evalN: number;
  /** Importance samples of the NLL bound. */
  k: number;
  /** Train with the annealed, reweighted ELBO of iVAE's reference code (see annealWeights). */
  anneal: boolean;
  /** Without annealing: constant weights of the reweighted objective (ilkhem/iVAE's runner uses a 100, b 1, c 0, d 10); unset gives the plain ELBO. */
  weights?: AnnealWeights;
  ica?: IcaOptions;
  ppca?: PpcaOptions;
  brenier?: BrenierDecoderOptions;
}

/** Per-data defaults; the ICA ones follow ilkhem/iVAE (3-layer MLPs of width 50, leaky ReLU 0.1, σ² = 0.01). */
export function defaultRunConfig(model: ModelKind, data: string): VaeRunConfig {
  const base: VaeRunConfig = {
    family: 'vae',
    model,
    data,
    root: '',
    likelihood: 'bernoulli',
    latent: 16,
    hidden: [256, 256],
    activation: 'lrelu',
    slope: 0.1,
    xavier: false,
    beta: model === 'beta-vae' ? 4 : 1,
    variance: 'learned',
    steps: 3000,
    batchSize: 128,
    lr: 1e-3,
    lrFloor: 0.1,
    seed: 0,
    evalN: 0,
    k: 100,
    anneal: false,
  };
  switch (data) {
    case 'ica':
      return {
        ...base,
        likelihood: 'gaussian',
        variance: 0.01,
        latent: 5,
        hidden: [50, 50],
        xavier: true,
        steps: 5000,
        batchSize: 64,
        lr: 1e-2,
        evalN: 0,
        k: 20,
        anneal: true,
        ica: {},
      };
    case 'ppca':
      return { ...base, likelihood: 'gaussian', latent: 2, hidden: [32, 32], steps: 3000, batchSize: 100, ppca: {} };
    case 'digits':
      return { ...base, latent: 16, hidden: [128, 128], batchSize: 64 };
    default:
      return { ...base, latent: 32, hidden: [256, 256], evalN: 1000 };
  }
}

/** The model a run config describes, for data of the given size. */
export function modelConfig(cfg: VaeRunConfig, data: VaeData): VaeConfig {
  return {
    model: cfg.model,
    dataDim: data.dataDim,
    latentDim: cfg.latent,
    auxDim: cfg.model === 'ivae' ? data.classes : 0,
    hidden: cfg.hidden,
    activation: cfg.activation,
    slope: cfg.slope,
    xavier: cfg.xavier,
    zeroBias: cfg.zeroBias,
    splitEncoder: cfg.splitEncoder,
    likelihood: cfg.likelihood,
    variance: cfg.variance,
    levels: data.levels,
    beta: cfg.beta,
    brenier: cfg.brenier,
  };
}

export function loadRunData(cfg: VaeRunConfig): VaeData {
  return loadVaeData({
    data: cfg.data,
    root: cfg.root || undefined,
    binarize: cfg.likelihood === 'bernoulli',
    evalN: cfg.evalN > 0 ? cfg.evalN : undefined,
    ica: cfg.ica,
    ppca: cfg.ppca,
  });
}

export interface Experiment {
  cfg: VaeRunConfig;
  data: VaeData;
  model: VAE;
  parts: TrainingParts;
  /** One optimisation step; returns its metrics. */
  step(): Record<string, number>;
  dispose(): void;
}

/** Builds data, model, optimiser, schedule and loader; seeds the global generator with cfg.seed first. */
export function buildExperiment(cfg: VaeRunConfig, data = loadRunData(cfg)): Experiment {
  manualSeed(cfg.seed);
  const model = new VAE(modelConfig(cfg, data));
  const optimizer = new Adam(model.parameters(), { lr: cfg.lr });
  const schedule = warmupCosine(optimizer, {
    warmupSteps: Math.min(100, Math.floor(cfg.steps / 20)),
    totalSteps: Math.max(cfg.steps, 2),
    etaMin: cfg.lr * cfg.lrFloor,
  });
  const a0 = typeof cfg.variance === 'number' ? 0.5 / cfg.variance : 1;
  const loader = new DataLoader(data.train, {
    batchSize: cfg.batchSize,
    shuffle: true,
    dropLast: true,
    seed: cfg.seed,
  });
  const parts: TrainingParts = { model, stateful: { optimizer, schedule }, loaders: { train: loader } };
  return {
    cfg,
    data,
    model,
    parts,
    step: () =>
      tidy(() => {
        const { x, u } = prepareBatch(loader.next(), data);
        optimizer.zeroGrad();
        // The schedule's step count is checkpointed, so the annealing resumes where it stopped.
        const t = cfg.anneal
          ? model.annealedLoss(x, u, annealWeights(schedule.lastEpoch, cfg.steps, a0, cfg.beta), data.train.length)
          : cfg.weights
            ? model.annealedLoss(x, u, cfg.weights, data.train.length)
            : model.forward(x, u);
        t.loss.backward();
        optimizer.step();
        schedule.step();
        model.afterStep();
        return { loss: t.loss.item(), kl: t.kl.mean().item() };
      }),
    dispose: () => {
      optimizer.zeroGrad();
      optimizer.disposeState();
      model.dispose();
      loader.dispose();
      data.dispose();
    },
  };
}

export interface VaeEvaluation {
  model: ModelKind;
  data: string;
  /** MCC of the posterior means against the true sources (ICA, PPCA), Pearson and Spearman. */
  mcc?: number;
  mccSpearman?: number;
  collapse: CollapseReport;
}

/** Evaluates on the data's evaluation split with a fixed generator, so repeated evaluations agree. */
export function evaluateExperiment(model: VAE, data: VaeData, cfg: VaeRunConfig, seed = 1234): VaeEvaluation {
  const u = tidy(() => oneHot(data.test.y, data.classes).keep());
  try {
    const out: VaeEvaluation = { model: cfg.model, data: cfg.data, collapse: undefined as never };
    if (data.sources) {
      const means = posteriorMeans(model, data.test.x, model.prior ? u : null);
      out.mcc = mccDetails(data.sources, means).mcc;
      out.mccSpearman = mccDetails(data.sources, means, { method: 'spearman' }).mcc;
      means.dispose();
    }
    out.collapse = collapseDiagnostics(model, data.test.x, model.prior ? u : null, {
      k: cfg.k,
      // Small batches keep tensors small; the MI estimate is then bounded by log(batch).
      batchSize: Math.min(500, data.test.x.size(0)),
      generator: new Generator(seed),
    });
    return out;
  } finally {
    u.dispose();
  }
}

/** E_q[z|x(,u)] for all rows, in batches. */
export function posteriorMeans(model: VAE, x: Tensor, u: Tensor | null): Tensor {
  return noGrad(() =>
    tidy(() => {
      const parts: Tensor[] = [];
      for (let s = 0; s < x.size(0); s += 1000) {
        const len = Math.min(1000, x.size(0) - s);
        parts.push(model.encode(x.narrow(0, s, len), u ? u.narrow(0, s, len) : undefined).mean);
      }
      return cat(parts);
    }),
  );
}

/** Prior samples and test reconstructions of image data, as PNG grids. */
export function saveImages(exp: Experiment, dir: string): string[] {
  const { model, data } = exp;
  if (!data.imageShape) return [];
  const shape = data.imageShape;
  const scale = shape[1] <= 8 ? 4 : 2;
  return noGrad(() =>
    tidy(() => {
      const g = new Generator(7);
      const n = Math.min(32, data.test.x.size(0));
      const u = model.prior ? oneHot(data.test.y.narrow(0, 0, n), data.classes) : undefined;
      // iVAE samples come from the conditional prior of the first test labels, repeated.
      const z = randn([2 * n, model.latentDim], { generator: g });
      const zs = u ? z.mul(model.priorLogVar(u.repeat(2, 1))!.mul(0.5).exp()) : z;
      const samples = model.likelihood.mean(model.decode(zs)).reshape([2 * n, ...shape]);
      const x = data.test.x.narrow(0, 0, n);
      const q = model.encode(x, u);
      const recon = model.likelihood.mean(model.decode(q.mean));
      const pairs = stack([x, recon], 1).reshape([2 * n, ...shape]);
      saveImageGrid(`${dir}/samples.png`, samples, { scale });
      saveImageGrid(`${dir}/reconstructions.png`, pairs, { scale });
      return [`${dir}/samples.png`, `${dir}/reconstructions.png`];
    }),
  );
}

export interface TrainOutcome {
  result: LoopResult;
  evaluation?: VaeEvaluation;
}

/**
 * Trains in a run folder (new, or resumed from its checkpoint), then evaluates and writes
 * results.json, loss.svg and, for images, sample grids.
 */
export async function trainVaeRun(
  cfg: VaeRunConfig,
  dir: string,
  opts: { resume?: boolean; quiet?: boolean; log?: (msg: string) => void; evalEvery?: number } = {},
): Promise<TrainOutcome> {
  const run = Run.open(dir, cfg as unknown as { [key: string]: Json }, { resume: opts.resume });
  const exp = buildExperiment(cfg);
  try {
    let start = 0;
    if (opts.resume && run.hasCheckpoint()) {
      start = tidy(() => restoreCheckpoint(run.loadCheckpoint(), exp.parts));
      run.truncateLog(start);
      opts.log?.(`resuming from step ${start}`);
    }
    const result = await trainLoop({
      run,
      steps: cfg.steps,
      startStep: start,
      label: `${cfg.model} ${cfg.data}`,
      quiet: opts.quiet,
      evalEvery: opts.evalEvery,
      step: () => exp.step(),
      evaluate: opts.evalEvery ? () => flatMetrics(evaluateExperiment(exp.model, exp.data, cfg)) : undefined,
      checkpoint: (step) => captureCheckpoint(step, exp.parts),
      afterCheckpoint: () =>
        plotRunLog(run.path('log.jsonl'), ['loss'], run.path('loss.svg'), {
          title: `${cfg.model}: −ELBO (β-weighted)`,
        }),
    });
    if (result.stoppedBy === 'signal') return { result };
    const evaluation = evaluateExperiment(exp.model, exp.data, cfg);
    run.log({ step: result.step, ...flatMetrics(evaluation) });
    saveImages(exp, dir);
    writeFileSync(run.path('results.json'), `${JSON.stringify({ ...evaluation, steps: result.step }, null, 2)}\n`);
    return { result, evaluation };
  } finally {
    exp.dispose();
  }
}

/** The scalar metrics of an evaluation, for logs. */
export function flatMetrics(e: VaeEvaluation): Record<string, number> {
  const c = e.collapse;
  const out: Record<string, number> = {
    activeUnits: c.activeUnits,
    mutualInfo: c.mutualInfo,
    kl: c.kl,
    elbo: c.elbo,
    nll: c.nll,
  };
  if (e.mcc !== undefined) out.mcc = e.mcc;
  if (e.mccSpearman !== undefined) out.mccSpearman = e.mccSpearman;
  return out;
}

/** Rebuilds a trained model from a run folder's config (or a variant of it) and checkpoint. */
export function loadRunModel(
  dir: string,
  config?: VaeRunConfig,
): { cfg: VaeRunConfig; data: VaeData; model: VAE; run: Run } {
  const run = Run.load(dir);
  const cfg = config ?? (run.config as unknown as VaeRunConfig);
  const data = loadRunData(cfg);
  const model = new VAE(modelConfig(cfg, data));
  tidy(() => {
    const { tensors } = run.loadCheckpoint();
    model.loadStateDict(checkpointPart(tensors, 'model.'));
  });
  return { cfg, data, model, run };
}
