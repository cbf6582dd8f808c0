// A VDM experiment: its config, and functions to train a run, load one, evaluate it and sample it.
// The CLI and the benchmarks call these.
import { z } from 'zod';
import type { TensorDataset } from '../data/dataset.js';
import { loadDataset } from '../data/registry.js';
import { Adam } from '../optim/adam.js';
import { EMA } from '../optim/ema.js';
import { warmupCosine } from '../optim/lr-scheduler.js';
import { ones, zeros } from '../torch/creation.js';
import { GenlabError } from '../torch/errors.js';
import { cat } from '../torch/functions.js';
import { Generator, manualSeed } from '../torch/random.js';
import { tidy } from '../torch/scope.js';
import { checkpointPart } from '../train/checkpoint.js';
import { checkSettings, familyConfig, memoryFormatField } from '../train/config.js';
import { saveImageGrid } from '../train/images.js';
import { plotRunLog, saveScatterSvg } from '../train/plot.js';
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
import { batchShard } from '../train/shard.js';
import { trainStep, trainStepAsync } from '../train/step.js';
import { buildModel, type DataInfo, dataInfo, defaultConfig, isToy, type VdmConfig } from './config.js';
import { type BitsPerDim, hasFeatureNet, sampleQuality, testBitsPerDim } from './evaluate.js';
import type { VDM } from './model.js';
import type { SamplerKind } from './sampling.js';
import { SCHEDULE_KINDS } from './schedules.js';

export const SAMPLERS = ['ancestral', 'ddim'] as const satisfies readonly SamplerKind[];

/** What config.json holds for a diffusion run: the VDM config and its family. */
export const vdmRunConfig = z
  .strictObject({
    family: z.literal('diffusion'),
    data: z.string(),
    root: z.string(),
    steps: z.int().min(1),
    batchSize: z.int().min(1),
    lr: z.number().positive(),
    seed: z.int().min(0),
    schedule: z.enum(SCHEDULE_KINDS),
    objective: z.enum(['vlb', 'variance']),
    learnEndpoints: z.boolean(),
    gammaMin: z.number(),
    gammaMax: z.number(),
    timesteps: z.int().min(0),
    width: z.int().min(1),
    depth: z.int().min(1),
    mults: z.array(z.int().min(1)),
    attention: z.boolean(),
    dropout: z.number().min(0).max(1),
    fourier: z.array(z.int()),
    emaDecay: z.number().min(0).lt(1),
    clip: z.number().min(0),
    sampleSteps: z.int().min(1),
    sampler: z.enum(SAMPLERS),
    evalTimeSamples: z.int().min(1),
    memoryFormat: memoryFormatField,
  })
  .refine((c) => c.gammaMax > c.gammaMin, { message: '{gammaMax} must exceed {gammaMin}', path: ['gammaMax'] });
export type VdmRunConfig = VdmConfig & { family: 'diffusion' };
export const parseVdmConfig = familyConfig('diffusion', vdmRunConfig) as (raw: unknown, file: string) => VdmRunConfig;

/** A run config for `data`: its defaults (config.ts), then `overrides` where they are set. */
export function vdmConfig(data: string, overrides: Partial<Omit<VdmConfig, 'data'>> = {}): VdmRunConfig {
  const cfg: VdmRunConfig = { family: 'diffusion', ...defaultConfig(data) };
  for (const [k, v] of Object.entries(overrides))
    if (v !== undefined) (cfg as unknown as Record<string, unknown>)[k] = v;
  checkSettings(vdmRunConfig, cfg);
  return cfg;
}

function loadSplit(cfg: VdmConfig, split: 'train' | 'test'): TensorDataset {
  return loadDataset(cfg.data, { root: cfg.root || undefined, split, seed: cfg.seed });
}

/** The model and the EMA of its weights; the optimizer trains the network and the schedule apart. */
function setUp(cfg: VdmConfig, info: DataInfo) {
  const model = buildModel(cfg, info);
  const netParams = model.net.parameters();
  const scheduleParams = model.schedule.parameters();
  const groups = [{ params: netParams }];
  if (scheduleParams.length > 0) groups.push({ params: scheduleParams });
  const optimizer = new Adam(groups, { lr: cfg.lr });
  const ema = new EMA(model.parameters(), { decay: cfg.emaDecay, warmup: { power: 2 / 3 } });
  return { model, netParams, optimizer, ema };
}

/** A fixed generator for evaluations and pictures, so they never disturb the training stream. */
function evalGenerator(cfg: VdmConfig, salt: number): Generator {
  return new Generator(cfg.seed * 1000 + salt);
}

/** Samples as a PNG grid (images) or as a scatter over the test data (2-D points). */
function writeSamples(
  file: string,
  model: VDM,
  cfg: VdmConfig,
  info: DataInfo,
  test: TensorDataset,
  opts: { n: number; steps: number; sampler: SamplerKind; generator: Generator; onStep?: (done: number) => void },
): void {
  const { n, steps, sampler, generator } = opts;
  tidy(() => {
    const x = model.sample(n, info.shape, { steps, sampler, generator, onStep: opts.onStep });
    if (info.shape.length === 3) {
      saveImageGrid(file, x, { nrow: Math.ceil(Math.sqrt(n)), scale: info.shape[1] <= 16 ? 4 : 2 });
      return;
    }
    const real = test.x.narrow(0, 0, Math.min(n, test.length));
    const labels = cat([zeros([real.shape[0]], { dtype: 'int64' }), ones([n], { dtype: 'int64' })]);
    saveScatterSvg(file, cat([real, x]), {
      title: `${cfg.data}: test data and ${n} VDM samples (${steps} ${sampler} steps)`,
      labels,
      classes: ['data', 'samples'],
      radius: 1.5,
      opacity: 0.5,
      equalAspect: true,
    });
  });
}

export interface VdmTrainResult {
  data: string;
  steps: number;
  schedule: string;
  objective: string;
  loss: number;
  testBpd: number;
  testBpdStderr: number;
  estimatorStd: number | null;
  recon: number;
  prior: number;
  diff: number;
  timeSamples: number;
  gamma0: number;
  gamma1: number;
  samples: string;
  run: string;
}

/**
 * Trains a VDM in a run folder (new, or resumed from its checkpoint), then evaluates the test
 * bits/dim with the EMA weights and writes results.json, loss.svg and samples.
 */
export async function trainVdmRun(
  config: VdmRunConfig,
  dir: string,
  opts: TrainOptions = {},
): Promise<VdmTrainResult | Interrupted> {
  const cfg = trainingConfig(dir, config, parseVdmConfig, opts);
  const trainSet = loadSplit(cfg, 'train');
  const testSet = loadSplit(cfg, 'test');
  const info = dataInfo(trainSet);
  using run = openTrainingRun(dir, cfg, parseVdmConfig, opts, { label: `VDM on ${cfg.data}` });
  const { model, netParams, optimizer, ema } = setUp(cfg, info);
  opts.log?.(`${model.numParameters()} parameters, ${cfg.schedule} schedule (${cfg.objective} objective)`);
  const lrSchedule = warmupCosine(optimizer, {
    warmupSteps: Math.min(100, Math.floor(cfg.steps / 10)),
    totalSteps: cfg.steps,
    etaMin: cfg.lr / 20,
  });
  const loader = trainLoader(trainSet, cfg);
  const parts = { model, stateful: { optimizer, lrSchedule, ema }, loaders: { train: loader } };
  const learned = model.schedule.learned;
  const shard = batchShard();
  const testBpd = (timeSamples: number) =>
    ema.withAverage(() => testBitsPerDim(model, testSet, { timeSamples, generator: evalGenerator(cfg, 1) }));
  const plotLoss = () =>
    plotRunLog(run.path('log.jsonl'), ['loss', 'testBpd'], run.path('loss.svg'), {
      title: `VDM on ${cfg.data}: VLB (bits/dim)`,
      xLabel: 'step',
      yLabel: 'bits/dim',
    });
  const plan = {
    optimizer,
    schedule: lrSchedule,
    ema,
    clip: { params: netParams, maxNorm: cfg.clip },
    after: () => {
      if (!learned) return undefined;
      const [gamma0, gamma1] = model.schedule.endpoints();
      return { gamma0, gamma1 };
    },
  };
  const loop = await trainParts(
    run,
    parts,
    {
      steps: cfg.steps,
      label: 'vdm',
      evalEvery: Math.max(1, Math.floor(cfg.steps / 5)),
      step: () =>
        shard.worldSize === 1
          ? trainStep(plan, () => {
              // The VDM runs its own backward: the variance objective needs a surrogate loss.
              const { loss, ...metrics } = model.lossAndBackward(loader.next().x, { objective: cfg.objective });
              return { loss, metrics };
            })
          : // Several ranks: draws and batch means of the global batch (awaits an all-reduce).
            trainStepAsync(plan, async () => {
              const x = loader.next().x;
              const { loss, ...metrics } = await model.lossAndBackwardShard(x, { objective: cfg.objective, shard });
              return { loss, metrics };
            }),
      evaluate: () => ({ testBpd: testBpd(1).bpd }),
      afterCheckpoint: plotLoss,
    },
    opts,
  );
  return finishRun(run, loop, () => {
    const final = testBpd(cfg.evalTimeSamples);
    run.log({ step: loop.step, testBpd: final.bpd });
    plotLoss();
    const samples = run.path(info.shape.length === 3 ? 'samples.png' : 'samples.svg');
    const n = info.shape.length === 3 ? 64 : 2000;
    ema.withAverage(() =>
      writeSamples(samples, model, cfg, info, testSet, {
        n,
        steps: cfg.sampleSteps,
        sampler: cfg.sampler,
        generator: evalGenerator(cfg, 7),
      }),
    );
    const endpoints = model.schedule.endpoints();
    const summary: VdmTrainResult = {
      data: cfg.data,
      steps: loop.step,
      schedule: cfg.schedule,
      objective: cfg.objective,
      loss: loop.metrics.loss,
      testBpd: final.bpd,
      testBpdStderr: final.stderr,
      estimatorStd: Number.isFinite(final.estimatorStd) ? final.estimatorStd : null,
      recon: final.recon,
      prior: final.prior,
      diff: final.diff,
      timeSamples: final.timeSamples,
      gamma0: endpoints[0],
      gamma1: endpoints[1],
      samples,
      run: dir,
    };
    return summary;
  });
}

/** A trained VDM from a run folder, with the EMA of its weights unless `raw`. */
export interface VdmRun {
  run: Run<VdmRunConfig>;
  cfg: VdmRunConfig;
  test: TensorDataset;
  info: DataInfo;
  model: VDM;
}

export function loadVdmRun(dir: string, opts: { raw?: boolean } = {}): VdmRun {
  const run = Run.load(dir, parseVdmConfig);
  const cfg = run.config;
  const test = loadSplit(cfg, 'test');
  const info = dataInfo(test);
  const { model, ema } = setUp(cfg, info);
  tidy(() => {
    const { tensors, state } = run.loadCheckpoint();
    model.loadStateDict(checkpointPart(tensors, 'model.'));
    const shadow = checkpointPart(tensors, 'ema.');
    if (!opts.raw && Object.keys(shadow).length > 0) {
      const meta = (state.stateful as Record<string, Record<string, never>> | undefined)?.ema;
      if (!meta) throw new GenlabError('config', `${dir}: the checkpoint has EMA weights but no EMA state`);
      ema.loadStateDict({ tensors: shadow, meta });
      ema.copyTo();
    }
  });
  ema.dispose();
  model.eval();
  return { run, cfg, test, info, model };
}

export interface VdmSampleOptions {
  file?: string;
  n?: number;
  steps?: number;
  sampler?: SamplerKind;
  seed?: number;
  onStep?: (done: number) => void;
}

/** Draws samples into a PNG grid (images) or a scatter SVG (points); the file defaults into the run. */
export function sampleVdmRun(
  r: VdmRun,
  opts: VdmSampleOptions = {},
): { run: string; n: number; steps: number; sampler: SamplerKind; file: string; seconds: number } {
  const image = r.info.shape.length === 3;
  const n = opts.n ?? (image ? 64 : 2000);
  const steps = opts.steps ?? r.cfg.sampleSteps;
  const sampler = opts.sampler ?? r.cfg.sampler;
  const file = opts.file ?? r.run.path(`samples-${sampler}-${steps}.${image ? 'png' : 'svg'}`);
  const seed = opts.seed ?? 0;
  manualSeed(seed);
  const t0 = performance.now();
  writeSamples(file, r.model, r.cfg, r.info, r.test, {
    n,
    steps,
    sampler,
    generator: new Generator(seed),
    onStep: opts.onStep,
  });
  return { run: r.run.dir, n, steps, sampler, file, seconds: (performance.now() - t0) / 1000 };
}

export interface VdmEvaluation extends BitsPerDim {
  data: string;
  run: string;
  /** FID and IS on a shipped feature network; null when none ships for the data. */
  fid?: number | null;
  inceptionScore?: number;
  fidSamples?: number;
  steps?: number;
  sampler?: SamplerKind;
}

/** Test bits/dim of the VLB, and FID/IS where a feature network ships for the data. */
export function evaluateVdmRun(
  r: VdmRun,
  opts: {
    timeSamples?: number;
    fidSamples?: number;
    steps?: number;
    sampler?: SamplerKind;
    seed?: number;
    onBatch?: (done: number) => void;
  } = {},
): VdmEvaluation {
  const { cfg, model, test } = r;
  const seed = opts.seed ?? 0;
  manualSeed(seed);
  const timeSamples = opts.timeSamples ?? cfg.evalTimeSamples;
  const bpd = testBitsPerDim(model, test, { timeSamples, generator: new Generator(seed), onBatch: opts.onBatch });
  const out: VdmEvaluation = { data: cfg.data, run: r.run.dir, ...bpd };
  const fidSamples = opts.fidSamples ?? 1000;
  if (isToy(cfg.data) || fidSamples === 0) return out;
  if (!hasFeatureNet(cfg.data)) {
    out.fid = null;
    return out;
  }
  const steps = opts.steps ?? cfg.sampleSteps;
  const sampler = opts.sampler ?? cfg.sampler;
  const q = sampleQuality(model, cfg.data, test, { n: fidSamples, steps, sampler, generator: new Generator(seed + 1) });
  if (q) Object.assign(out, { fid: q.fid, inceptionScore: q.inceptionScore, fidSamples: q.samples, steps, sampler });
  return out;
}
