// genlab diffusion train|sample|eval: variational diffusion models (Kingma et al. 2021).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TensorDataset } from '../data/dataset.js';
import { DataLoader } from '../data/loader.js';
import { loadDataset } from '../data/registry.js';
import { buildModel, type DataInfo, dataInfo, defaultConfig, isToy, type VDMConfig } from '../diffusion/config.js';
import { hasFeatureNet, sampleQuality, testBitsPerDim } from '../diffusion/evaluate.js';
import type { VDM } from '../diffusion/model.js';
import type { SamplerKind } from '../diffusion/sampling.js';
import { SCHEDULE_KINDS, type ScheduleKind } from '../diffusion/schedules.js';
import { Adam } from '../optim/adam.js';
import { clipGradNorm } from '../optim/clip.js';
import { EMA } from '../optim/ema.js';
import { warmupCosine } from '../optim/lr-scheduler.js';
import { ones, zeros } from '../torch/creation.js';
import { cat } from '../torch/functions.js';
import { Generator } from '../torch/random.js';
import { tidy } from '../torch/scope.js';
import { checkpointPart } from '../train/checkpoint.js';
import { saveImageGrid } from '../train/images.js';
import { plotRunLog, saveScatterSvg } from '../train/plot.js';
import { Progress } from '../train/progress.js';
import { type Json, Run } from '../train/run.js';
import {
  CliError,
  choice,
  commonOptions,
  floatOption,
  intOption,
  type OptionSpec,
  type Parsed,
  parseOrHelp,
  stringOption,
} from './args.js';
import {
  evalEveryOption,
  loadFamilyRun,
  note,
  openRunFolder,
  report,
  requireOut,
  resumeCheckpoint,
  trainingConfig,
  trainResumably,
} from './common.js';
import type { Family } from './main.js';

const trainOptions: Record<string, OptionSpec> = {
  ...commonOptions,
  data: {
    type: 'string',
    description: 'digits (default), fashion-mnist, mnist, cifar10, or a 2-D toy (swirl, moons…)',
  },
  schedule: {
    type: 'string',
    description: `noise schedule: ${SCHEDULE_KINDS.join(', ')} (default net for digits, else fixed)`,
  },
  objective: {
    type: 'string',
    description: 'what learned schedules minimise: vlb, or variance of the VLB estimator (default for digits)',
  },
  'fixed-endpoints': { type: 'boolean', description: 'learned schedules keep γ(0), γ(1) at --gamma-min/--gamma-max' },
  'gamma-min': {
    type: 'string',
    description: 'γ(0) = −log SNR of the least noisy latent (default −13.3; −7.8 for the 17-level digits)',
  },
  'gamma-max': { type: 'string', description: 'γ(1) (default 5)' },
  timesteps: { type: 'string', description: 'T of the discrete-time loss; 0 = continuous time (default)' },
  width: { type: 'string', description: 'network width (channels of the U-Net, units of the MLP)' },
  depth: { type: 'string', description: 'residual blocks per U-Net level, or MLP blocks' },
  mults: { type: 'string', description: 'U-Net width per resolution, e.g. 1 (none) or 1,2 (one downsampling)' },
  attention: { type: 'boolean', description: 'self-attention in the U-Net blocks' },
  dropout: { type: 'string', description: 'dropout in residual blocks (default 0)' },
  fourier: { type: 'string', description: 'Fourier-feature exponents n, e.g. 6,7, or none' },
  ema: { type: 'string', description: 'EMA decay of the weights used to sample and evaluate (default 0.9995)' },
  'sample-steps': { type: 'string', description: 'sampler steps for samples.png (default 200)' },
  sampler: { type: 'string', description: 'sampler for samples.png: ancestral (default) or ddim' },
  'time-samples': { type: 'string', description: '(t, ε) draws per test image for the final bits/dim' },
  'eval-every': evalEveryOption,
};

function listOption(p: Parsed, name: string, fallback: number[]): number[] {
  const raw = p.values[name];
  if (raw === undefined) return fallback;
  if (raw === 'none' || raw === '') return [];
  const v = String(raw).split(',').map(Number);
  if (v.some((x) => !Number.isInteger(x)))
    throw new CliError(`--${name} must be integers like 1,2 or 'none', got '${raw}'`, 2);
  return v;
}

const SAMPLERS: readonly SamplerKind[] = ['ancestral', 'ddim'];

function samplerOption(p: Parsed, fallback: SamplerKind): SamplerKind {
  return choice(p, 'sampler', SAMPLERS, fallback);
}

function configFrom(p: Parsed): VDMConfig {
  const data = stringOption(p, 'data', 'digits');
  const d = defaultConfig(data);
  const cfg: VDMConfig = {
    ...d,
    root: stringOption(p, 'root', d.root),
    steps: intOption(p, 'steps', d.steps, 1),
    batchSize: intOption(p, 'batch-size', d.batchSize, 1),
    lr: floatOption(p, 'lr', d.lr),
    seed: intOption(p, 'seed', d.seed),
    schedule: choice<ScheduleKind>(p, 'schedule', SCHEDULE_KINDS, d.schedule),
    objective: choice(p, 'objective', ['vlb', 'variance'] as const, d.objective),
    learnEndpoints: !p.values['fixed-endpoints'],
    gammaMin: floatOption(p, 'gamma-min', d.gammaMin),
    gammaMax: floatOption(p, 'gamma-max', d.gammaMax),
    timesteps: intOption(p, 'timesteps', d.timesteps, 0),
    width: intOption(p, 'width', d.width, 1),
    depth: intOption(p, 'depth', d.depth, 1),
    mults: listOption(p, 'mults', d.mults),
    attention: Boolean(p.values.attention) || d.attention,
    dropout: floatOption(p, 'dropout', d.dropout),
    fourier: listOption(p, 'fourier', d.fourier),
    emaDecay: floatOption(p, 'ema', d.emaDecay),
    sampleSteps: intOption(p, 'sample-steps', d.sampleSteps, 1),
    sampler: samplerOption(p, d.sampler),
    evalTimeSamples: intOption(p, 'time-samples', d.evalTimeSamples, 1),
  };
  if (!(cfg.gammaMax > cfg.gammaMin)) throw new CliError('--gamma-max must exceed --gamma-min', 2);
  if (!(cfg.emaDecay >= 0 && cfg.emaDecay < 1)) throw new CliError('--ema must be in [0, 1)', 2);
  return cfg;
}

function loadSplit(cfg: VDMConfig, split: 'train' | 'test'): TensorDataset {
  return loadDataset(cfg.data, { root: cfg.root || undefined, split, seed: cfg.seed });
}

/** The model and the EMA of its weights; the optimizer trains the network and the schedule apart. */
function setUp(cfg: VDMConfig, info: DataInfo) {
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
function evalGenerator(cfg: VDMConfig, salt: number): Generator {
  return new Generator(cfg.seed * 1000 + salt);
}

function writePictures(run: Run, model: VDM, cfg: VDMConfig, info: DataInfo, test: TensorDataset): string {
  const generator = evalGenerator(cfg, 7);
  if (info.shape.length === 3) {
    const file = run.path('samples.png');
    tidy(() => {
      const x = model.sample(64, info.shape, { steps: cfg.sampleSteps, sampler: cfg.sampler, generator });
      saveImageGrid(file, x, { nrow: 8, scale: info.shape[1] <= 16 ? 4 : 2 });
    });
    return file;
  }
  const file = run.path('samples.svg');
  tidy(() => writeScatter(file, model, cfg, info, test, 2000, cfg.sampleSteps, generator));
  return file;
}

function writeScatter(
  file: string,
  model: VDM,
  cfg: VDMConfig,
  info: DataInfo,
  test: TensorDataset,
  n: number,
  steps: number,
  generator: Generator,
  sampler: SamplerKind = cfg.sampler,
): void {
  tidy(() => {
    const x = model.sample(n, info.shape, { steps, sampler, generator });
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

/** Loads a run's config, data info, model and EMA weights (used unless raw is set). */
function loadRun(dir: string, opts: { raw?: boolean } = {}) {
  const run = loadFamilyRun(dir, 'diffusion');
  const cfg = run.config as unknown as VDMConfig;
  const test = loadSplit(cfg, 'test');
  const info = dataInfo(test);
  const { model, ema } = setUp(cfg, info);
  tidy(() => {
    const { tensors, state } = run.loadCheckpoint();
    model.loadStateDict(checkpointPart(tensors, 'model.'));
    if (!opts.raw) {
      const shadow = checkpointPart(tensors, 'ema.');
      if (Object.keys(shadow).length > 0) {
        const meta = (state.stateful as Record<string, Record<string, Json>> | undefined)?.ema;
        if (!meta) throw new CliError(`${dir}: the checkpoint has EMA weights but no EMA state`);
        ema.loadStateDict({ tensors: shadow, meta });
        ema.copyTo();
      }
    }
  });
  ema.dispose();
  model.eval();
  return { run, cfg, test, info, model };
}

async function train(argv: string[]): Promise<void> {
  const p = parseOrHelp(
    argv,
    trainOptions,
    'genlab diffusion train [options]',
    'Trains a variational diffusion model; writes samples, a loss curve and the test bits/dim.',
  );
  if (!p) return;
  const fresh = configFrom(p);
  const outDir = requireOut(p, join('runs', `vdm-${fresh.data}`));
  const { cfg, resume, engine } = trainingConfig(p, outDir, fresh);
  const trainSet = loadSplit(cfg, 'train');
  const testSet = loadSplit(cfg, 'test');
  const info = dataInfo(trainSet);
  const run = Run.open(outDir, { family: 'diffusion', ...cfg } as never, { resume });
  note(p, `VDM on ${cfg.data}: ${JSON.stringify({ ...cfg, threads: engine.threads })} -> ${outDir}`);

  const { model, netParams, optimizer, ema } = setUp(cfg, info);
  note(p, `${model.numParameters()} parameters, ${cfg.schedule} schedule (${cfg.objective} objective)`);
  const lrSchedule = warmupCosine(optimizer, {
    warmupSteps: Math.min(100, Math.floor(cfg.steps / 10)),
    totalSteps: cfg.steps,
    etaMin: cfg.lr / 20,
  });
  const loader = new DataLoader(trainSet, { batchSize: cfg.batchSize, shuffle: true, dropLast: true, seed: cfg.seed });
  const parts = { model, stateful: { optimizer, lrSchedule, ema }, loaders: { train: loader } };
  const start = resumeCheckpoint(p, run, parts);
  const learned = model.schedule.learned;
  const testBpd = (timeSamples: number) =>
    ema.withAverage(() => testBitsPerDim(model, testSet, { timeSamples, generator: evalGenerator(cfg, 1) }));
  const plotLoss = () =>
    plotRunLog(run.path('log.jsonl'), ['loss', 'testBpd'], run.path('loss.svg'), {
      title: `VDM on ${cfg.data}: VLB (bits/dim)`,
      xLabel: 'step',
      yLabel: 'bits/dim',
    });

  const result = await trainResumably(p, parts, {
    run,
    steps: cfg.steps,
    startStep: start,
    label: 'vdm',
    step: () =>
      tidy(() => {
        const batch = loader.next();
        optimizer.zeroGrad();
        const s = model.lossAndBackward(batch.x, { objective: cfg.objective });
        if (cfg.clip > 0) clipGradNorm(netParams, cfg.clip);
        optimizer.step();
        lrSchedule.step();
        ema.update();
        const metrics: Record<string, number> = { ...s };
        if (learned) [metrics.gamma0, metrics.gamma1] = model.schedule.endpoints();
        return metrics;
      }),
    evaluate: () => ({ testBpd: testBpd(1).bpd }),
    afterCheckpoint: plotLoss,
  });
  if (!result) return;
  const final = testBpd(cfg.evalTimeSamples);
  run.log({ step: result.step, testBpd: final.bpd });
  plotLoss();
  const picture = ema.withAverage(() => writePictures(run, model, cfg, info, testSet));
  const endpoints = model.schedule.endpoints();
  const summary = {
    data: cfg.data,
    steps: result.step,
    schedule: cfg.schedule,
    objective: cfg.objective,
    loss: result.metrics.loss,
    testBpd: final.bpd,
    testBpdStderr: final.stderr,
    estimatorStd: Number.isFinite(final.estimatorStd) ? final.estimatorStd : null,
    recon: final.recon,
    prior: final.prior,
    diff: final.diff,
    timeSamples: final.timeSamples,
    gamma0: endpoints[0],
    gamma1: endpoints[1],
    samples: picture,
    run: outDir,
  };
  writeFileSync(run.path('results.json'), `${JSON.stringify(summary, null, 2)}\n`);
  report(p, summary, [
    `test bits/dim ${final.bpd.toFixed(4)} ± ${final.stderr.toFixed(4)} (recon ${final.recon.toFixed(4)}, prior ${final.prior.toFixed(4)}, diffusion ${final.diff.toFixed(4)}) after ${result.step} steps`,
    `samples: ${picture}; loss curve: ${run.path('loss.svg')}`,
  ]);
}

// What sample and eval share: the sampler, and the weights, seed and threads they run with.
const samplerSpec: OptionSpec = { type: 'string', description: 'ancestral (default) or ddim' };
const runOptions: Record<string, OptionSpec> = {
  seed: commonOptions.seed,
  threads: commonOptions.threads,
  raw: { type: 'boolean', description: 'use the trained weights instead of their EMA' },
};

/** Seed, run folder and the run's model (EMA weights unless --raw), for sample and eval. */
const openRun = (p: Parsed) => openRunFolder(p, (dir) => loadRun(dir, { raw: Boolean(p.values.raw) }));

const sampleOptions: Record<string, OptionSpec> = {
  n: { type: 'string', description: 'number of samples (default 64 images, 2000 points)' },
  steps: { type: 'string', description: "sampler steps (default: the run's)" },
  sampler: samplerSpec,
  out: { type: 'string', description: 'file to write (default <run>/samples-<sampler>-<steps>.png or .svg)' },
  ...runOptions,
};

async function sample(argv: string[]): Promise<void> {
  const p = parseOrHelp(
    argv,
    sampleOptions,
    'genlab diffusion sample <run> [options]',
    'Draws samples: a PNG grid, or a scatter SVG for 2-D data.',
  );
  if (!p) return;
  const { seed, dir, cfg, test, info, model } = openRun(p);
  const image = info.shape.length === 3;
  const n = intOption(p, 'n', image ? 64 : 2000, 1);
  const steps = intOption(p, 'steps', cfg.sampleSteps, 1);
  const sampler = samplerOption(p, cfg.sampler);
  const out = stringOption(p, 'out', join(dir, `samples-${sampler}-${steps}.${image ? 'png' : 'svg'}`));
  const generator = new Generator(seed);
  const progress = new Progress({ total: steps, label: 'sampling', quiet: Boolean(p.values.quiet) });
  const t0 = performance.now();
  if (image) {
    tidy(() => {
      const x = model.sample(n, info.shape, { steps, sampler, generator, onStep: (d) => progress.update(d) });
      saveImageGrid(out, x, { nrow: Math.ceil(Math.sqrt(n)), scale: info.shape[1] <= 16 ? 4 : 2 });
    });
  } else {
    writeScatter(out, model, cfg, info, test, n, steps, generator, sampler);
  }
  progress.done(`sampled ${n} in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
  report(p, { run: dir, n, steps, sampler, file: out }, [`wrote ${out} (${n} samples, ${steps} ${sampler} steps)`]);
}

const evalOptions: Record<string, OptionSpec> = {
  'time-samples': { type: 'string', description: "(t, ε) draws per test image (default: the run's)" },
  'fid-samples': { type: 'string', description: 'samples for FID/IS (default 1000; 0 skips)' },
  steps: { type: 'string', description: "sampler steps for FID/IS (default: the run's)" },
  sampler: samplerSpec,
  ...runOptions,
};

async function evaluate(argv: string[]): Promise<void> {
  const p = parseOrHelp(
    argv,
    evalOptions,
    'genlab diffusion eval <run> [options]',
    'Test-set bits/dim of the VLB, and FID/IS where a feature network ships for the data.',
  );
  if (!p) return;
  const { seed, dir, cfg, test, model } = openRun(p);
  const timeSamples = intOption(p, 'time-samples', cfg.evalTimeSamples, 1);
  const progress = new Progress({ total: test.length, label: 'bits/dim', quiet: Boolean(p.values.quiet) });
  const bpd = testBitsPerDim(model, test, {
    timeSamples,
    generator: new Generator(seed),
    onBatch: (d) => progress.update(d),
  });
  progress.done(`${test.length} test examples`);
  const result: Record<string, unknown> = {
    data: cfg.data,
    run: dir,
    ...bpd,
    estimatorStd: Number.isFinite(bpd.estimatorStd) ? bpd.estimatorStd : null,
  };
  const lines = [
    `${cfg.data} test bits/dim ${bpd.bpd.toFixed(4)} ± ${bpd.stderr.toFixed(4)} over ${bpd.images} images × ${timeSamples} time samples (recon ${bpd.recon.toFixed(4)}, prior ${bpd.prior.toFixed(4)}, diffusion ${bpd.diff.toFixed(4)})`,
  ];
  if (timeSamples > 1)
    lines.push(`one-draw estimator std ${bpd.estimatorStd.toFixed(4)} bits/dim (per image, averaged)`);
  const fidSamples = intOption(p, 'fid-samples', 1000, 0);
  if (isToy(cfg.data) || fidSamples === 0) {
    // nothing: FID needs images
  } else if (!hasFeatureNet(cfg.data)) {
    result.fid = null;
    lines.push(`FID/IS unavailable: no feature network for ${cfg.data} in assets/feature-nets/`);
  } else {
    const steps = intOption(p, 'steps', cfg.sampleSteps, 1);
    const sampler = samplerOption(p, cfg.sampler);
    const q = sampleQuality(model, cfg.data, test, {
      n: fidSamples,
      steps,
      sampler,
      generator: new Generator(seed + 1),
    });
    if (q) {
      Object.assign(result, { fid: q.fid, inceptionScore: q.inceptionScore, fidSamples: q.samples, steps, sampler });
      lines.push(
        `FID ${q.fid.toFixed(3)}, IS ${q.inceptionScore.toFixed(3)} (${q.samples} samples, ${steps} ${sampler} steps)`,
      );
    }
  }
  report(p, result, lines);
}

export const diffusion: Family = {
  summary: 'variational diffusion models: learned schedules, likelihoods, samples',
  verbs: {
    train: { summary: 'train a VDM on --data (digits by default)', run: train },
    sample: { summary: 'draw samples from a run (PNG grid or 2-D scatter)', run: sample },
    eval: { summary: 'test bits/dim, and FID/IS where a feature net exists', run: evaluate },
  },
};
