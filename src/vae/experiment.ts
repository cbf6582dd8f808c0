// A VAE experiment from a JSON config: data, model and optimiser, the training step, evaluation
// (MCC for the ICA benchmark, collapse diagnostics everywhere) and training inside a run folder.
// The CLI and the benchmarks both go through here, so they measure the same thing.
import { z } from 'zod';
import { mccDetails } from '../metrics/mcc.js';
import { Adam } from '../optim/adam.js';
import { warmupCosine } from '../optim/lr-scheduler.js';
import { noGrad } from '../torch/autograd.js';
import { randn } from '../torch/creation.js';
import { GenlabError } from '../torch/errors.js';
import { cat, stack } from '../torch/functions.js';
import { Generator, manualSeed } from '../torch/random.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import { checkpointPart, type TrainingParts } from '../train/checkpoint.js';
import { checkSettings, familyConfig } from '../train/config.js';
import { saveImageGrid } from '../train/images.js';
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
import { icaFileData, loadVaeData, oneHot, prepareBatch, VAE_DATA, type VaeData } from './data.js';
import { type CollapseReport, collapseDiagnostics } from './diagnostics.js';
import { LIKELIHOODS } from './likelihoods.js';
import { type AnnealWeights, annealWeights, MODEL_KINDS, type ModelKind, VAE, type VaeConfig } from './model.js';
import { ACTIVATIONS } from './nets.js';
import { EpochPlateau, type PlateauOptions, referenceSetting } from './reference.js';

const count = z.int().min(1);
/** The nonlinear-ICA benchmark's settings (data/ica.ts); unset fields take its defaults. */
const icaOptions = z.strictObject({
  segments: count.optional(),
  perSegment: count.optional(),
  dim: count.optional(),
  dataDim: count.optional(),
  layers: count.optional(),
  activation: z.enum(['lrelu', 'xtanh', 'none']).optional(),
  slope: z.number().optional(),
  source: z.enum(['gauss', 'laplace']).optional(),
  scaleRange: z.tuple([z.number(), z.number()]).optional(),
  condThreshold: z.number().optional(),
  condSamples: count.optional(),
  repeatMatrix: z.boolean().optional(),
  uncentered: z.boolean().optional(),
  noise: z.number().min(0).optional(),
  seed: z.int().min(0).optional(),
});
/** Probabilistic PCA data (synthetic.ts). */
const ppcaOptions = z.strictObject({
  n: count.optional(),
  dataDim: count.optional(),
  trueDim: count.optional(),
  loadingScale: z.number().positive().optional(),
  noise: z.number().min(0).optional(),
  seed: z.int().min(0).optional(),
});
/** The latent-identifiable decoder's Brenier maps (brenier.ts). */
const brenierOptions = z.strictObject({
  hidden1: count.optional(),
  hidden2: count.optional(),
  depth: count.optional(),
  activation: z.string().optional(),
  positivity: z.string().optional(),
  quadratic: z.number().optional(),
  singularRange: z.tuple([z.number(), z.number()]).optional(),
});

/** Everything a run needs, stored as its config.json. */
export const vaeRunConfig = z.strictObject({
  family: z.literal('vae'),
  model: z.enum(MODEL_KINDS),
  data: z.enum(VAE_DATA),
  root: z.string(),
  likelihood: z.enum(LIKELIHOODS),
  latent: count,
  hidden: z.array(count),
  activation: z.enum(ACTIVATIONS),
  slope: z.number(),
  xavier: z.boolean(),
  /** With xavier, zero the biases too (default true; ilkhem/iVAE keeps PyTorch's default biases). */
  zeroBias: z.boolean().optional(),
  /** Separate mean and log-variance encoder networks, as ilkhem/iVAE (default false). */
  splitEncoder: z.boolean().optional(),
  beta: z.number().min(0),
  /** Gaussian likelihood: fixed variance or 'learned'. */
  variance: z.union([z.number().positive(), z.literal('learned')]),
  steps: count,
  batchSize: count,
  lr: z.number().positive(),
  /** Cosine decay of the learning rate to lr·lrFloor over the run (1 keeps it constant). */
  lrFloor: z.number().min(0),
  /** 'cosine' (default: warmup, then cosine decay to lr·lrFloor) or 'plateau' (ReduceLROnPlateau per epoch, as ilkhem/iVAE's runner). */
  lrSchedule: z.enum(['cosine', 'plateau']).optional(),
  /** The plateau schedule's settings (reference.ts). */
  plateau: z
    .strictObject({ factor: z.number().gt(0).max(1), patience: z.int().min(0), threshold: z.number().min(0) })
    .optional(),
  /** ica: train on an external .npz data set (keys x, u and s, as the reference code saves them) instead of generating one. */
  icaFile: z.string().optional(),
  /** The preset the run was configured from, if any (its settings are in the fields). */
  preset: z.literal('reference').optional(),
  seed: z.int().min(0),
  /** Test examples used for evaluation (0: all). */
  evalN: z.int().min(0),
  /** Importance samples of the NLL bound. */
  k: count,
  /** Train with the annealed, reweighted ELBO of ilkhem/iVAE's `IVAE_wrapper` (see annealWeights; its runner does not anneal). */
  anneal: z.boolean(),
  /** Without annealing: constant weights of the reweighted objective (ilkhem/iVAE's runner uses a 100, b 1, c 0, d 10); unset gives the plain ELBO. */
  weights: z.strictObject({ a: z.number(), b: z.number(), c: z.number(), d: z.number() }).optional(),
  ica: icaOptions.optional(),
  ppca: ppcaOptions.optional(),
  brenier: brenierOptions.optional(),
});
export type VaeRunConfig = z.infer<typeof vaeRunConfig>;
export const parseVaeConfig = familyConfig('vae', vaeRunConfig);

/**
 * Per-data defaults. The ICA ones are genlab's own (3-layer MLPs of width 50, leaky ReLU 0.1, Xavier
 * init with zero biases, σ² = 0.01, the annealed objective of ilkhem/iVAE's `IVAE_wrapper`, cosine
 * decay); they are not the reference runner's setting, which `preset: 'reference'` gives (reference.ts).
 */
export function defaultRunConfig(model: ModelKind, data: VaeRunConfig['data']): VaeRunConfig {
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

/**
 * genlab's default ICA data: 40 segments of 1000 points, 5 sources, a 3-layer mixing MLP with leaky ReLU
 * and a fresh matrix per layer (one of the paper's described variants). The reference runner mixes with
 * xtanh and one repeated matrix (`preset: 'reference'`).
 */
export const ICA_DEFAULTS = {
  segments: 40,
  perSegment: 1000,
  dim: 5,
  layers: 3,
  activation: 'lrelu',
  source: 'gauss',
} as const satisfies z.infer<typeof icaOptions>;
export const PPCA_DEFAULTS = { trueDim: 1, noise: 0.1 } as const;

/** The settings a user gives for a run; unset ones take the per-data defaults of defaultRunConfig. */
export interface VaeSettings {
  root?: string;
  likelihood?: VaeRunConfig['likelihood'];
  latent?: number;
  hidden?: number[];
  activation?: VaeRunConfig['activation'];
  beta?: number;
  variance?: number | 'learned';
  steps?: number;
  batchSize?: number;
  lr?: number;
  lrFloor?: number;
  seed?: number;
  evalN?: number;
  k?: number;
  anneal?: boolean;
  /** ica: the benchmark's settings (segments, perSegment, dim, layers, activation, source). */
  ica?: z.infer<typeof icaOptions>;
  /** ppca: true latent dimension and noise. */
  ppca?: z.infer<typeof ppcaOptions>;
  /** Seed of generated data (ica, ppca; default 1). */
  dataSeed?: number;
  /** lidvae: widths of the hidden layers of g1 and g2 (g2 defaults to g1's). */
  icnnHidden?: number[];
  slope?: number;
  /** Xavier-uniform weights instead of PyTorch's default init; zeroBias also zeroes the biases. */
  xavier?: boolean;
  zeroBias?: boolean;
  splitEncoder?: boolean;
  /** Constant weights of the reweighted ELBO (with anneal off). */
  weights?: AnnealWeights;
  lrSchedule?: 'cosine' | 'plateau';
  plateau?: PlateauOptions;
  /** ica: an external .npz data set with keys x, u, s. */
  icaFile?: string;
  /** Steps as whole epochs (drop-last batches of the training set); overrides steps. */
  epochs?: number;
  /** 'reference': ilkhem/iVAE's runner setting (ivae or vae on ica); explicit settings override it. */
  preset?: 'reference';
}

/** The preset's settings under the given ones (explicit settings win). */
function withPreset(model: ModelKind, data: VaeRunConfig['data'], s: VaeSettings): VaeSettings {
  if (s.preset === undefined) return s;
  if ((model !== 'ivae' && model !== 'vae') || data !== 'ica') {
    throw new GenlabError(
      'usage',
      `the reference preset is ilkhem/iVAE's runner for ivae or vae on ica, not ${model} on ${data}`,
      'choose {model} ivae or vae and {data} ica',
    );
  }
  const { ica, epochs, ...ref } = referenceSetting(model);
  return {
    ...ref,
    likelihood: 'gaussian',
    // The runner reports its last epochs' model; explicit steps replace its 20 epochs.
    epochs: s.steps === undefined ? epochs : undefined,
    ...definedOnly(s),
    ica: { ...ica, ...definedOnly(s.ica) },
  };
}

/** Rows of the ICA data a config will train on, for epochs → steps. */
function icaRows(d: VaeRunConfig): number {
  if (d.icaFile) return icaFileData(d.icaFile).rows;
  return (d.ica?.segments ?? ICA_DEFAULTS.segments) * (d.ica?.perSegment ?? ICA_DEFAULTS.perSegment);
}

function definedOnly<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A run config from the per-data defaults and the given settings, checked for consistency. */
export function vaeConfig(model: ModelKind, data: VaeRunConfig['data'], given: VaeSettings = {}): VaeRunConfig {
  const s = withPreset(model, data, given);
  const d = defaultRunConfig(model, data);
  const set = <K extends keyof VaeRunConfig>(k: K, v: VaeRunConfig[K] | undefined) => {
    if (v !== undefined) d[k] = v;
  };
  set('root', s.root);
  set('likelihood', s.likelihood);
  // On the ICA benchmark the latent dimension defaults to the source dimension.
  set('latent', s.latent ?? s.ica?.dim);
  set('hidden', s.hidden);
  set('activation', s.activation);
  set('beta', s.beta);
  set('variance', s.variance);
  set('steps', s.steps);
  set('batchSize', s.batchSize);
  set('lr', s.lr);
  set('lrFloor', s.lrFloor);
  set('seed', s.seed);
  set('evalN', s.evalN);
  set('k', s.k);
  set('anneal', s.anneal);
  set('slope', s.slope);
  set('xavier', s.xavier);
  set('zeroBias', s.zeroBias);
  set('splitEncoder', s.splitEncoder);
  set('weights', s.weights);
  set('lrSchedule', s.lrSchedule);
  set('plateau', s.plateau);
  set('preset', s.preset);
  if (s.lrSchedule === 'plateau' && !d.plateau) d.plateau = { factor: 0.1, patience: 0, threshold: 1e-4 };
  if (s.weights && s.anneal === undefined) d.anneal = false;
  if (s.icaFile !== undefined) {
    if (data !== 'ica')
      throw new GenlabError('usage', `an .npz data file is for ica data, not ${data}`, 'check {data}');
    d.icaFile = s.icaFile;
    if (s.latent === undefined) d.latent = icaFileData(s.icaFile).dim;
  }
  const dataSeed = s.dataSeed ?? 1;
  if (data === 'ica') {
    d.ica = { ...ICA_DEFAULTS, ...definedOnly(s.ica), seed: dataSeed };
  }
  if (data === 'ppca') d.ppca = { ...PPCA_DEFAULTS, ...definedOnly(s.ppca), seed: dataSeed };
  if (s.epochs !== undefined) {
    const rows = data === 'ica' ? icaRows(d) : 0;
    const perEpoch = Math.floor(rows / d.batchSize);
    if (perEpoch < 1)
      throw new GenlabError('usage', `epochs need ica data with at least {batchSize} rows`, 'give {steps}');
    d.steps = s.epochs * perEpoch;
  }
  if (model === 'lidvae') {
    const [h1, h2] = s.icnnHidden ?? [64, 128];
    d.brenier = { hidden1: h1, hidden2: h2 ?? h1 };
  }
  if (d.likelihood === 'bernoulli' && (data === 'ica' || data === 'ppca')) {
    throw new GenlabError(
      'usage',
      `a bernoulli likelihood needs image data; ${data} is real-valued`,
      'choose another {likelihood}',
    );
  }
  return checkSettings(vaeRunConfig, d);
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
    brenier: cfg.brenier as VaeConfig['brenier'],
  };
}

export function loadRunData(cfg: VaeRunConfig): VaeData {
  return loadVaeData({
    data: cfg.data,
    root: cfg.root || undefined,
    binarize: cfg.likelihood === 'bernoulli',
    evalN: cfg.evalN > 0 ? cfg.evalN : undefined,
    ica: cfg.ica,
    icaFile: cfg.icaFile,
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
  const plateau =
    cfg.lrSchedule === 'plateau'
      ? new EpochPlateau(
          optimizer,
          Math.max(1, Math.floor(data.train.length / cfg.batchSize)),
          cfg.plateau ?? { factor: 0.1, patience: 0, threshold: 1e-4 },
        )
      : null;
  const schedule =
    plateau ??
    warmupCosine(optimizer, {
      warmupSteps: Math.min(100, Math.floor(cfg.steps / 20)),
      totalSteps: Math.max(cfg.steps, 2),
      etaMin: cfg.lr * cfg.lrFloor,
    });
  const a0 = typeof cfg.variance === 'number' ? 0.5 / cfg.variance : 1;
  const loader = trainLoader(data.train, cfg);
  const parts: TrainingParts = { model, stateful: { optimizer, schedule }, loaders: { train: loader } };
  return {
    cfg,
    data,
    model,
    parts,
    step: () =>
      trainStep({ optimizer, schedule, after: () => void model.afterStep() }, () => {
        const { x, u } = prepareBatch(loader.next(), data);
        // The schedule's step count is checkpointed, so the annealing resumes where it stopped.
        const t = cfg.anneal
          ? model.annealedLoss(x, u, annealWeights(schedule.lastEpoch, cfg.steps, a0, cfg.beta), data.train.length)
          : cfg.weights
            ? model.annealedLoss(x, u, cfg.weights, data.train.length)
            : model.forward(x, u);
        plateau?.observe(t.loss);
        return { loss: t.loss, metrics: { kl: t.kl.mean() } };
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
  /** MCC of one sample of q(z|x,u) per point, the reference code's measure (ICA, PPCA). */
  mccSample?: number;
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
      const sampled = posteriorSamples(model, data.test.x, model.prior ? u : null, new Generator(seed + 1));
      out.mccSample = mccDetails(data.sources, sampled).mcc;
      sampled.dispose();
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

/** One draw of q(z|x(,u)) for all rows, in batches. */
export function posteriorSamples(model: VAE, x: Tensor, u: Tensor | null, generator: Generator): Tensor {
  return noGrad(() =>
    tidy(() => {
      const parts: Tensor[] = [];
      for (let s = 0; s < x.size(0); s += 1000) {
        const len = Math.min(1000, x.size(0) - s);
        const q = model.encode(x.narrow(0, s, len), u ? u.narrow(0, s, len) : undefined);
        parts.push(model.sampleLatent(q, { generator }));
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

export type VaeTrainResult = VaeEvaluation & { steps: number; loss: number; run: string };

/**
 * Trains in a run folder (new, or resumed from its checkpoint), then evaluates and writes
 * results.json, loss.svg and, for images, sample grids.
 */
export async function trainVaeRun(
  config: VaeRunConfig,
  dir: string,
  opts: TrainOptions = {},
): Promise<VaeTrainResult | Interrupted> {
  const cfg = trainingConfig(dir, config, parseVaeConfig, opts);
  using run = openTrainingRun(dir, cfg, parseVaeConfig, opts, { label: `${cfg.model} on ${cfg.data}` });
  const exp = buildExperiment(cfg);
  try {
    const loop = await trainParts(
      run,
      exp.parts,
      {
        steps: cfg.steps,
        label: `${cfg.model} ${cfg.data}`,
        step: () => exp.step(),
        evaluate: opts.evalEvery ? () => flatMetrics(evaluateExperiment(exp.model, exp.data, cfg)) : undefined,
        afterCheckpoint: () =>
          plotRunLog(run.path('log.jsonl'), ['loss'], run.path('loss.svg'), {
            title: `${cfg.model}: −ELBO (β-weighted)`,
          }),
      },
      opts,
    );
    return finishRun(run, loop, () => {
      const evaluation = evaluateExperiment(exp.model, exp.data, cfg);
      run.log({ step: loop.step, ...flatMetrics(evaluation) });
      saveImages(exp, dir);
      return { ...evaluation, steps: loop.step, loss: loop.metrics.loss, run: dir };
    });
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
  if (e.mccSample !== undefined) out.mccSample = e.mccSample;
  return out;
}

/** Rebuilds a trained model from a run folder's config (or a variant of it) and checkpoint. */
export function loadRunModel(
  dir: string,
  config?: VaeRunConfig,
): { cfg: VaeRunConfig; data: VaeData; model: VAE; run: Run<VaeRunConfig> } {
  const run = Run.load(dir, parseVaeConfig);
  const cfg = config ?? run.config;
  const data = loadRunData(cfg);
  const model = new VAE(modelConfig(cfg, data));
  tidy(() => {
    const { tensors } = run.loadCheckpoint();
    model.loadStateDict(checkpointPart(tensors, 'model.'));
  });
  return { cfg, data, model, run };
}

/** Evaluates a trained run, with the run's settings unless k or evalN are given. */
export function evaluateVaeRun(
  dir: string,
  opts: { k?: number; evalN?: number; seed?: number } = {},
): VaeEvaluation & { run: string } {
  const saved = Run.load(dir, parseVaeConfig).config;
  const cfg = { ...saved, k: opts.k ?? saved.k, evalN: opts.evalN ?? saved.evalN };
  const { data, model } = loadRunModel(dir, cfg);
  try {
    return { ...evaluateExperiment(model, data, cfg, opts.seed), run: dir };
  } finally {
    model.dispose();
    data.dispose();
  }
}
