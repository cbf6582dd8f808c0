// genlab distill teacher|train|sample|eval (+ edit|inpaint in distill-edit.ts): guided-diffusion
// distillation (Meng et al. 2023): a classifier-free-guided teacher, a w-conditioned student (stage
// 1), and its progressive distillation down to one step (stage 2).
import { join } from 'node:path';
import { autoencoderData } from '../diffusion/distill/autoencoder.js';
import { STUDENT_DEFAULTS, studentConfig, TEACHER_DEFAULTS, teacherConfig } from '../diffusion/distill/config.js';
import {
  type StudentTrainResult,
  type TeacherTrainResult,
  trainStudentRun,
  trainTeacherRun,
} from '../diffusion/distill/experiment.js';
import { PARAMETERISATIONS } from '../diffusion/distill/guidance.js';
import { SAMPLER_KINDS } from '../diffusion/distill/samplers.js';
import { type EvalResult, evaluateRun, openRun, sampleRun } from '../diffusion/distill/use.js';
import { MEMORY_FORMATS } from '../train/config.js';
import { choice, float, floats, int, ints, path, text } from './args.js';
import { perData, root, runArg, seed, threads, trainingOptions, trainRunOptions } from './common.js';
import { autoencoder } from './distill-autoencoder.js';
import { edit, inpaint } from './distill-edit.js';
import { type Family, verb } from './verb.js';

const teacher = verb({
  summary: 'train a classifier-free-guided teacher on --data (digits by default)',
  usage: '[options]',
  description:
    'Trains a class-conditional diffusion model whose labels are dropped to a null class with probability --p-uncond.',
  options: {
    data: text('digits or fashion-mnist', { defaultText: "digits, or the --latent run's" }),
    root,
    latent: path('an autoencoder run (distill autoencoder): diffuse in its scaled latents'),
    ...trainingOptions(TEACHER_DEFAULTS),
    param: choice('what the network predicts', PARAMETERISATIONS, { defaultText: 'v' }),
    pUncond: float('probability of dropping a label to the null class', { min: 0, max: 1, defaultText: '0.1' }),
    gammaMin: float('−log SNR at t = 0 (cosine schedule)', { min: -30, max: 30, defaultText: '−12' }),
    gammaMax: float('−log SNR at t = 1', { min: -30, max: 30, defaultText: '12' }),
    width: int('U-Net width', { min: 1, max: 4096, defaultText: perData(TEACHER_DEFAULTS, 'width') }),
    depth: int('residual blocks per level', { min: 1, max: 64, defaultText: '1' }),
    mults: ints('width per resolution', { min: 1, max: 64, defaultText: '1 for digits, 1,2,2 for 28×28' }),
    memoryFormat: choice('U-Net layout, which students inherit (channelsLast: faster)', MEMORY_FORMATS, {
      defaultText: 'contiguous',
    }),
    ema: float('EMA decay of the weights the student learns from', { min: 0, max: 0.999999, defaultText: '0.999' }),
    sampleSteps: int("guided DDIM steps of the teacher's samples (its full count)", {
      min: 1,
      max: 1e5,
      defaultText: '64',
    }),
    sampleW: float('guidance weight of samples.png', { min: 0, max: 100, defaultText: '1' }),
    out: path('run folder to write', { defaultText: 'runs/distill-teacher-<data>' }),
  },
  run: (o, _a, ctx) => {
    const ae = o.latent ? autoencoderData(o.latent) : undefined;
    const data = o.data ?? ae?.data ?? 'digits';
    const cfg = teacherConfig(data, {
      root: o.root ?? ae?.root,
      latent: o.latent,
      steps: o.steps,
      batchSize: o.batchSize,
      lr: o.lr,
      seed: o.seed,
      param: o.param,
      pUncond: o.pUncond,
      gammaMin: o.gammaMin,
      gammaMax: o.gammaMax,
      width: o.width,
      depth: o.depth,
      mults: o.mults,
      memoryFormat: o.memoryFormat,
      emaDecay: o.ema,
      sampleSteps: o.sampleSteps,
      sampleW: o.sampleW,
    });
    const out = o.out ?? join('runs', `distill-teacher-${data}${o.latent ? '-latent' : ''}`);
    return trainTeacherRun(cfg, out, trainRunOptions(o, ctx));
  },
  show: (r: TeacherTrainResult) => [
    `teacher trained ${r.steps} steps (${r.parameters} parameters), final loss ${r.loss.toFixed(4)}`,
    `samples: ${r.samples}`,
  ],
});

const train = verb({
  summary: 'distill a teacher run: stage 1 (w-conditioned student), then halving rounds to 1 step',
  usage: '<teacher run> [options]',
  description:
    'Stage 1 matches the guided teacher at w ~ U[--w-min, --w-max]; each stage-2 round halves the steps. Every round is saved as student-<N>.safetensors.',
  args: [{ name: 'teacher', help: 'teacher run folder' }],
  options: {
    stage1Steps: int('stage-1 optimisation steps', {
      min: 1,
      max: 1e9,
      defaultText: String(STUDENT_DEFAULTS.stage1Steps),
    }),
    roundSteps: int('optimisation steps per halving round', {
      min: 1,
      max: 1e9,
      defaultText: String(STUDENT_DEFAULTS.roundSteps),
    }),
    startSteps: int('sampling steps of the stage-1 student (a power of two)', {
      min: 2,
      max: 65536,
      defaultText: String(STUDENT_DEFAULTS.startSteps),
    }),
    wMin: float('smallest guidance weight trained', { min: 0, max: 100, defaultText: '0' }),
    wMax: float('largest guidance weight trained', { min: 0, max: 100, defaultText: '4' }),
    batchSize: int('examples per step', { min: 1, max: 1e6, defaultText: '64' }),
    lr: float('learning rate', { min: 1e-12, max: 10, defaultText: '5e-4' }),
    sampleW: float('guidance weight of the sample grids', { min: 0, max: 100, defaultText: '1' }),
    seed,
    threads,
    resume: trainingOptions({}).resume,
    out: path('run folder to write', { defaultText: 'runs/distill-student' }),
  },
  run: (o, [dir], ctx) => {
    const { out, threads: _t, resume: _r, ...settings } = o;
    const cfg = studentConfig(dir, settings);
    return trainStudentRun(cfg, out ?? join('runs', 'distill-student'), trainRunOptions(o, ctx));
  },
  show: (r: StudentTrainResult) => [
    ...r.phases.map(
      (p) =>
        `${p.round === 0 ? 'stage 1' : `round ${p.round}`}: ${p.n}-step student, loss ${p.loss.toFixed(4)} -> ${p.file}`,
    ),
    `sample grids: ${r.samples.join(', ')}`,
  ],
});

const common = {
  w: float('guidance weight', { min: 0, max: 100, default: 1 }),
  sampler: choice("ddim, or the paper's stochastic sampler", SAMPLER_KINDS, { default: 'ddim' }),
  seed,
  threads,
};

const sample = verb({
  summary: 'a grid of samples (one class per column) from a teacher or student run',
  usage: '<run> [options]',
  description: 'Samples a teacher (guided DDIM, two evaluations a step) or the student a round wrote for --steps.',
  args: [runArg],
  options: {
    steps: int('sampling steps (a student run: one its rounds wrote)', {
      min: 1,
      max: 1e5,
      defaultText: "teacher's count; 4 for a student",
    }),
    rows: int('rows of the grid', { min: 1, max: 100, default: 10 }),
    out: path('PNG to write', { defaultText: '<run>/samples-<sampler>-<steps>-w<w>.png' }),
    ...common,
  },
  run: (o, [dir]) => sampleRun(openRun(dir, o.steps), { ...o, file: o.out }),
  show: (r) => [
    `wrote ${r.file}: ${r.n} ${r.kind} samples, ${r.steps} ${r.sampler} steps at w = ${r.w}, ${r.evaluations} evaluations each, ${r.imagesPerSecond.toFixed(1)} images/s`,
  ],
});

const evaluate = verb({
  summary: 'FID and IS (shipped feature net) for each step count and guidance weight',
  usage: '<run> [options]',
  description: 'One row per (steps, w): FID against the test set, IS, network evaluations per image and images/s.',
  args: [runArg],
  options: {
    steps: ints('step counts', { min: 1, max: 1e5, defaultText: "teacher's count; a student's rounds" }),
    ws: floats('guidance weights', { min: 0, max: 100, default: [0, 0.3, 1, 2, 4] }),
    n: int('samples per row', { min: 2, max: 1e6, default: 1000 }),
    ...common,
  },
  run: (o, [dir]) => {
    const r = openRun(dir);
    const steps = o.steps ?? (r.available.length ? r.available : [r.steps]);
    return evaluateRun(dir, { steps, ws: o.ws, n: o.n, sampler: o.sampler, seed: o.seed });
  },
  show: (e: EvalResult) => [
    `${e.kind} ${e.run} on ${e.data} (${e.sampler}):`,
    ...e.rows.map(
      (r) =>
        `  steps ${String(r.steps).padStart(4)}  w ${r.w.toFixed(1).padStart(4)}  FID ${r.fid.toFixed(3).padStart(8)}  IS ${r.inceptionScore.toFixed(3)}  evals ${r.evaluations}  ${r.imagesPerSecond.toFixed(0)} images/s`,
    ),
  ],
});

export const distill: Family = {
  summary: 'guided-diffusion distillation: guided teacher, w-conditioned student, 1–4 step sampling',
  verbs: { autoencoder, teacher, train, sample, eval: evaluate, edit, inpaint },
};
