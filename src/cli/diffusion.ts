// genlab diffusion train|sample|eval: variational diffusion models (Kingma et al. 2021).
import { join } from 'node:path';
import { defaultConfig } from '../diffusion/config.js';
import {
  evaluateVdmRun,
  loadVdmRun,
  SAMPLERS,
  sampleVdmRun,
  trainVdmRun,
  type VdmEvaluation,
  type VdmTrainResult,
  vdmConfig,
} from '../diffusion/experiment.js';
import { SCHEDULE_KINDS } from '../diffusion/schedules.js';
import { MEMORY_FORMATS } from '../train/config.js';
import { Progress } from '../train/progress.js';
import { choice, flag, float, int, ints, path, text } from './args.js';
import { evalEvery, perData, root, runArg, seed, threads, trainingOptions, trainRunOptions } from './common.js';
import { compress, decompress } from './diffusion-codec.js';
import { type Family, verb } from './verb.js';

/** The per-data defaults that help shows, from the one table in diffusion/config.ts. */
const shown = {
  digits: defaultConfig('digits'),
  'fashion-mnist': defaultConfig('fashion-mnist'),
  swirl: defaultConfig('swirl'),
};

const train = verb({
  summary: 'train a VDM on --data (digits by default)',
  usage: '[options]',
  description: 'Trains a variational diffusion model; writes samples, a loss curve and the test bits/dim.',
  options: {
    data: text('digits, fashion-mnist, mnist, cifar10, or a 2-D toy (swirl, moons…)', { default: 'digits' }),
    root,
    ...trainingOptions(shown),
    schedule: choice('noise schedule', SCHEDULE_KINDS, { defaultText: 'net for digits, else fixed' }),
    objective: choice(
      'what learned schedules minimise: the VLB, or the variance of its estimator',
      ['vlb', 'variance'],
      {
        defaultText: 'variance for digits, else vlb',
      },
    ),
    fixedEndpoints: flag('learned schedules keep γ(0), γ(1) at --gamma-min/--gamma-max'),
    gammaMin: float('γ(0) = −log SNR of the least noisy latent', {
      min: -30,
      max: 30,
      defaultText: '−13.3; −7.8 for the 17-level digits',
    }),
    gammaMax: float('γ(1)', { min: -30, max: 30, defaultText: '5' }),
    timesteps: int('T of the discrete-time loss; 0 = continuous time', { min: 0, max: 1e6, defaultText: '0' }),
    width: int('network width (channels of the U-Net, units of the MLP)', {
      min: 1,
      max: 4096,
      defaultText: perData(shown, 'width'),
    }),
    depth: int('residual blocks per U-Net level, or MLP blocks', {
      min: 1,
      max: 64,
      defaultText: perData(shown, 'depth'),
    }),
    mults: ints('U-Net width per resolution, e.g. 1 (none) or 1,2 (one downsampling)', {
      min: 1,
      max: 64,
      allowNone: true,
      defaultText: '1 for digits, 1,2,4 for 28×28',
    }),
    attention: flag('self-attention in the U-Net blocks'),
    dropout: float('dropout in residual blocks', { min: 0, max: 1, defaultText: '0' }),
    fourier: ints('Fourier-feature exponents n, e.g. 6,7, or none', {
      min: -16,
      max: 16,
      allowNone: true,
      defaultText: 'by grey levels',
    }),
    ema: float('EMA decay of the weights used to sample and evaluate', {
      min: 0,
      max: 0.999999999,
      defaultText: '0.9995',
    }),
    sampleSteps: int('sampler steps for samples.png', { min: 1, max: 1e6, defaultText: perData(shown, 'sampleSteps') }),
    sampler: choice('sampler for samples.png', SAMPLERS, { defaultText: 'ancestral' }),
    timeSamples: int('(t, ε) draws per test image for the final bits/dim', {
      min: 1,
      max: 1e4,
      defaultText: perData(shown, 'evalTimeSamples'),
    }),
    memoryFormat: choice('U-Net layout (channelsLast: faster on CPU)', MEMORY_FORMATS, {
      default: 'channelsLast',
    }),
    out: path('run folder to write', { defaultText: 'runs/vdm-<data>' }),
    evalEvery,
  },
  run: (o, _args, ctx) => {
    // Options named as config fields pass through; these four are named for the command line.
    const { data, out, resume, threads: _t, evalEvery, fixedEndpoints, attention, ema, timeSamples, ...same } = o;
    const cfg = vdmConfig(data, {
      ...same,
      learnEndpoints: fixedEndpoints ? false : undefined,
      attention: attention || undefined,
      emaDecay: ema,
      evalTimeSamples: timeSamples,
    });
    const dir = out ?? join('runs', `vdm-${data}`);
    return trainVdmRun(cfg, dir, trainRunOptions(o, ctx));
  },
  show: (r: VdmTrainResult) => [
    `test bits/dim ${r.testBpd.toFixed(4)} ± ${r.testBpdStderr.toFixed(4)} (recon ${r.recon.toFixed(4)}, prior ${r.prior.toFixed(4)}, diffusion ${r.diff.toFixed(4)}) after ${r.steps} steps`,
    `samples: ${r.samples}; loss curve: ${join(r.run, 'loss.svg')}`,
  ],
});

// What sample and eval share: the sampler, and the weights, seed and threads they run with.
const runOptions = {
  sampler: choice('sampler', SAMPLERS, { defaultText: "the run's" }),
  seed,
  threads,
  raw: flag('use the trained weights instead of their EMA'),
};

const sample = verb({
  summary: 'draw samples from a run (PNG grid or 2-D scatter)',
  usage: '<run> [options]',
  description: 'Draws samples: a PNG grid, or a scatter SVG for 2-D data.',
  args: [runArg],
  options: {
    n: int('number of samples', { min: 1, max: 1e6, defaultText: '64 images, 2000 points' }),
    steps: int('sampler steps', { min: 1, max: 1e6, defaultText: "the run's" }),
    out: path('file to write', { defaultText: '<run>/samples-<sampler>-<steps>.png or .svg' }),
    ...runOptions,
  },
  run: (o, [dir], ctx) => {
    const r = loadVdmRun(dir, { raw: o.raw });
    const steps = o.steps ?? r.cfg.sampleSteps;
    const progress = new Progress({ total: steps, label: 'sampling', quiet: ctx.quiet });
    const out = sampleVdmRun(r, {
      file: o.out,
      n: o.n,
      steps,
      sampler: o.sampler,
      seed: o.seed,
      onStep: (d) => progress.update(d),
    });
    progress.done(`sampled ${out.n} in ${out.seconds.toFixed(1)}s`);
    return out;
  },
  show: (r) => [`wrote ${r.file} (${r.n} samples, ${r.steps} ${r.sampler} steps)`],
});

const evaluate = verb({
  summary: 'test bits/dim, and FID/IS where a feature net exists',
  usage: '<run> [options]',
  description: 'Test-set bits/dim of the VLB, and FID/IS where a feature network ships for the data.',
  args: [runArg],
  options: {
    timeSamples: int('(t, ε) draws per test image', { min: 1, max: 1e4, defaultText: "the run's" }),
    fidSamples: int('samples for FID/IS (0 skips)', { min: 0, max: 1e6, default: 1000 }),
    steps: int('sampler steps for FID/IS', { min: 1, max: 1e6, defaultText: "the run's" }),
    ...runOptions,
  },
  run: (o, [dir], ctx) => {
    const r = loadVdmRun(dir, { raw: o.raw });
    const progress = new Progress({ total: r.test.length, label: 'bits/dim', quiet: ctx.quiet });
    const e = evaluateVdmRun(r, { ...o, onBatch: (d) => progress.update(d) });
    progress.done(`${r.test.length} test examples`);
    return e;
  },
  show: (e: VdmEvaluation) => {
    const lines = [
      `${e.data} test bits/dim ${e.bpd.toFixed(4)} ± ${e.stderr.toFixed(4)} over ${e.images} images × ${e.timeSamples} time samples (recon ${e.recon.toFixed(4)}, prior ${e.prior.toFixed(4)}, diffusion ${e.diff.toFixed(4)})`,
    ];
    if (e.timeSamples > 1)
      lines.push(`one-draw estimator std ${e.estimatorStd.toFixed(4)} bits/dim (per image, averaged)`);
    if (e.fid === null) lines.push(`FID/IS unavailable: no feature network for ${e.data} in assets/feature-nets/`);
    else if (e.fid !== undefined) {
      lines.push(
        `FID ${e.fid.toFixed(3)}, IS ${e.inceptionScore?.toFixed(3)} (${e.fidSamples} samples, ${e.steps} ${e.sampler} steps)`,
      );
    }
    return lines;
  },
});

export const diffusion: Family = {
  summary: 'variational diffusion models: learned schedules, likelihoods, samples',
  verbs: { train, sample, eval: evaluate, compress, decompress },
};
