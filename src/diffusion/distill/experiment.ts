// Guided distillation as run folders: train a classifier-free-guided teacher; train a student from
// it (stage 1, then the halving rounds of stage 2, each round's student saved as student-<N>.safetensors);
// load either for sampling. The CLI, the tests and the benchmark call these.
import { existsSync } from 'node:fs';
import type { TensorDataset } from '../../data/dataset.js';
import { loadDataset } from '../../data/registry.js';
import { Module } from '../../nn/module.js';
import { Adam } from '../../optim/adam.js';
import { EMA } from '../../optim/ema.js';
import { noGrad } from '../../torch/autograd.js';
import { rand, randint, randn } from '../../torch/creation.js';
import { GenlabError } from '../../torch/errors.js';
import { loadSafetensors, saveSafetensors } from '../../torch/safetensors.js';
import { tidy } from '../../torch/scope.js';
import type { Tensor } from '../../torch/tensor.js';
import { checkpointPart } from '../../train/checkpoint.js';
import { Run } from '../../train/run.js';
import {
  finishRun,
  type Interrupted,
  openTrainingRun,
  type TrainOptions,
  trainingConfig,
  trainLoader,
  trainParts,
} from '../../train/session.js';
import { trainStep } from '../../train/step.js';
import { loadAutoencoderRun } from './autoencoder.js';
import {
  parseStudentConfig,
  parseTeacherConfig,
  phaseOf,
  rounds,
  type StudentConfig,
  type TeacherConfig,
  totalSteps,
} from './config.js';
import { twoStepTarget } from './guidance.js';
import { type BatchTimes, GuidedModel, GuidedNet, truncatedSnrLoss } from './net.js';
import { writeSampleGrid } from './quality.js';
import { LogSnrCosine } from './samplers.js';
import { type DataSpace, pixelSpace, toModelSpace } from './space.js';

export { toModelSpace };

export function loadSplit(cfg: TeacherConfig, split: 'train' | 'test'): TensorDataset {
  return loadDataset(cfg.data, { root: cfg.root || undefined, split, seed: cfg.seed });
}

function classCount(ds: TensorDataset): number {
  const names = (ds as TensorDataset & { classes?: string[] }).classes;
  return names?.length ?? 10;
}

export function buildNet(cfg: TeacherConfig, shape: number[], classes: number, wConditioned: boolean): GuidedNet {
  return new GuidedNet({
    channels: shape[0],
    width: cfg.width,
    depth: cfg.depth,
    mults: cfg.mults,
    dropout: cfg.dropout,
    classes,
    wConditioned,
    memoryFormat: cfg.memoryFormat,
  });
}

export function buildModel(cfg: TeacherConfig, net: GuidedNet): GuidedModel {
  return new GuidedModel(net, new LogSnrCosine(cfg.gammaMin, cfg.gammaMax), cfg.param);
}

/** Maps a batch of images in [0, 1] to the diffusion's variable (pixels: [−1, 1]; latents: scaled codes). */
export type Encode = (x: Tensor) => Tensor;

/** The space a teacher's config diffuses in: its autoencoder's latents, or pixels of `imageShape`. */
export function spaceOf(cfg: TeacherConfig, imageShape: number[]): DataSpace {
  if (!cfg.latent) return pixelSpace(imageShape);
  const { space, cfg: ae } = loadAutoencoderRun(cfg.latent);
  if (ae.data !== cfg.data)
    throw new GenlabError('usage', `the autoencoder ${cfg.latent} was trained on ${ae.data}, not ${cfg.data}`);
  return space;
}

/** One training batch on the diffusion's scale: x [B, C, H, W] (pixels in [−1, 1] or latents), labels [B], times and z_t. */
function noisyBatch(model: GuidedModel, batch: { x: Tensor; y: Tensor }, t: Tensor, encode: Encode) {
  const x = encode(batch.x);
  const bt = model.times(t, x.ndim);
  const z = x.mul(bt.alpha).add(randn(x.shape).mul(bt.sigma));
  return { x, labels: batch.y, bt, z };
}

/** The teacher's loss: x̂ of a noised batch with labels dropped to ∅ with probability pUncond. */
export function teacherLoss(
  model: GuidedModel,
  batch: { x: Tensor; y: Tensor },
  pUncond: number,
  encode: Encode = toModelSpace,
): Tensor {
  const b = batch.x.shape[0];
  const { x, labels, bt, z } = noisyBatch(model, batch, rand([b]), encode);
  const kept = labels.where(rand([b]).ge(pUncond), model.nullLabel);
  return truncatedSnrLoss(x, model.xHat(z, bt, kept), bt);
}

export interface TeacherTrainResult {
  data: string;
  steps: number;
  loss: number;
  parameters: number;
  samples: string;
  run: string;
}

export async function trainTeacherRun(
  config: TeacherConfig,
  dir: string,
  opts: TrainOptions = {},
): Promise<TeacherTrainResult | Interrupted> {
  const cfg = trainingConfig(dir, config, parseTeacherConfig, opts);
  const train = loadSplit(cfg, 'train');
  const space = spaceOf(cfg, train.x.shape.slice(1));
  const shape = space.shape;
  const where = cfg.latent ? `the latents of ${cfg.latent}` : cfg.data;
  using run = openTrainingRun(dir, cfg, parseTeacherConfig, opts, { label: `guided teacher on ${where}` });
  const net = buildNet(cfg, shape, classCount(train), false);
  const model = buildModel(cfg, net);
  const optimizer = new Adam(net.parameters(), { lr: cfg.lr });
  const ema = new EMA(net.parameters(), { decay: cfg.emaDecay, warmup: { power: 2 / 3 } });
  const loader = trainLoader(train, cfg);
  const plan = { optimizer, ema, clip: { params: net.parameters(), maxNorm: cfg.clip } };
  const loop = await trainParts(
    run,
    { model: net, stateful: { optimizer, ema }, loaders: { train: loader } },
    {
      steps: cfg.steps,
      label: 'teacher',
      step: () =>
        trainStep(plan, () => ({ loss: teacherLoss(model, loader.next(), cfg.pUncond, (x) => space.toModel(x)) })),
    },
    opts,
  );
  return finishRun(run, loop, () => {
    const samples = run.path('samples.png');
    net.eval();
    ema.withAverage(() =>
      writeSampleGrid(samples, { kind: 'teacher', model, space }, shape, {
        steps: cfg.sampleSteps,
        w: cfg.sampleW,
        seed: cfg.seed,
      }),
    );
    return {
      data: cfg.data,
      steps: loop.step,
      loss: loop.metrics.loss,
      parameters: net.numParameters(),
      samples,
      run: dir,
    };
  });
}

/** A trained teacher (its EMA weights), ready to sample. */
export interface TeacherRun {
  run: Run<TeacherConfig>;
  cfg: TeacherConfig;
  /** Shape of the diffusion's variable (the latent's for a latent teacher). */
  shape: number[];
  /** Where the diffusion runs, and the images it decodes to. */
  space: DataSpace;
  classes: number;
  model: GuidedModel;
}

export function loadTeacherRun(dir: string): TeacherRun {
  const run = Run.load(dir, parseTeacherConfig);
  const cfg = run.config;
  const test = loadSplit(cfg, 'test');
  const space = spaceOf(cfg, test.x.shape.slice(1));
  const shape = space.shape;
  const classes = classCount(test);
  const net = buildNet(cfg, shape, classes, false);
  const ema = new EMA(net.parameters(), { decay: cfg.emaDecay });
  tidy(() => {
    const { tensors, state } = run.loadCheckpoint();
    net.loadStateDict(checkpointPart(tensors, 'model.'));
    const meta = (state.stateful as Record<string, Record<string, never>> | undefined)?.ema;
    if (!meta) throw new GenlabError('run', `${dir}: the checkpoint holds no EMA state`);
    ema.loadStateDict({ tensors: checkpointPart(tensors, 'ema.'), meta });
    ema.copyTo();
  });
  ema.dispose();
  net.eval();
  return { run, cfg, shape, space, classes, model: buildModel(cfg, net) };
}

/** The three networks of a student run: the guided teacher, the previous round's student, and the student. */
class DistillNets extends Module<[], void> {
  readonly teacher: GuidedNet;
  readonly prev: GuidedNet;
  readonly student: GuidedNet;

  constructor(t: TeacherRun) {
    super();
    this.teacher = this.registerModule('teacher', t.model.net);
    this.prev = this.registerModule('prev', buildNet(t.cfg, t.shape, t.classes, true));
    this.student = this.registerModule('student', buildNet(t.cfg, t.shape, t.classes, true));
    // Stage 1 starts from the teacher: its weights, and a w branch whose last layer is zero.
    this.student.loadStateDict(this.teacher.stateDict(), { strict: false });
    this.teacher.requiresGrad_(false);
    this.prev.requiresGrad_(false);
  }

  forward(): void {}
}

/** The file of the student that samples in n steps. */
export const studentFile = (n: number) => `student-${n}.safetensors`;

/** Stage 1: the student's x̂(z, c, w) against the teacher's guided x̂ʷ, at w ~ U[wMin, wMax]. */
export function stage1Loss(
  teacher: GuidedModel,
  student: GuidedModel,
  batch: { x: Tensor; y: Tensor },
  cfg: StudentConfig,
  encode: Encode = toModelSpace,
) {
  const b = batch.x.shape[0];
  const { labels, bt, z } = noisyBatch(student, batch, rand([b]), encode);
  const w = rand([b])
    .mul(cfg.wMax - cfg.wMin)
    .add(cfg.wMin);
  // In its own scope, so the teacher's activations are freed before the student's forward.
  const target = tidy(() => noGrad(() => teacher.guidedXHat(z, bt, labels, w.reshape([b, 1, 1, 1]))));
  return truncatedSnrLoss(target, student.xHat(z, bt, labels, w), bt);
}

/**
 * Stage 2, a round whose student takes n steps: t = (i + 1)/n with i ~ U{0, …, n − 1}; the previous
 * student takes two DDIM steps t → t − ½/n → t − 1/n, and the target is the x̃ that gets there in one.
 */
export function stage2Loss(
  prev: GuidedModel,
  student: GuidedModel,
  batch: { x: Tensor; y: Tensor },
  cfg: StudentConfig,
  n: number,
  encode: Encode = toModelSpace,
) {
  const b = batch.x.shape[0];
  const t = randint(0, n, [b]).to('float32').add(1).div(n);
  const { labels, bt, z } = noisyBatch(student, batch, t, encode);
  const w = rand([b])
    .mul(cfg.wMax - cfg.wMin)
    .add(cfg.wMin);
  const ndim = z.ndim;
  // In its own scope, so the previous student's activations are freed before the student's forward.
  const target = tidy(() =>
    noGrad(() =>
      twoStepTarget(
        (zz, at: BatchTimes) => prev.xHat(zz, at, labels, w),
        z,
        bt,
        prev.times(t.sub(0.5 / n), ndim),
        prev.times(t.sub(1 / n).clamp(0), ndim),
      ),
    ),
  );
  return truncatedSnrLoss(target, student.xHat(z, bt, labels, w), bt);
}

export interface StudentTrainResult {
  teacher: string;
  steps: number;
  /** The final loss of each phase, stage 1 first, with the step count of its student. */
  phases: { round: number; n: number; loss: number; file: string }[];
  samples: string[];
  run: string;
}

/**
 * Trains a student from a teacher run: stage 1 then rounds of stage 2. At a phase's first step the
 * previous round's student becomes the frozen teacher (`prev`) and the optimizer's state starts
 * afresh; at its last step the student is written to student-<n>.safetensors. `onStep` sees each
 * finished step (progress, or a test that stops a run at a chosen step).
 */
export async function trainStudentRun(
  config: StudentConfig,
  dir: string,
  opts: TrainOptions = {},
): Promise<StudentTrainResult | Interrupted> {
  const cfg = trainingConfig(dir, config, parseStudentConfig, opts);
  if (!existsSync(cfg.teacher)) throw new GenlabError('usage', `teacher run ${cfg.teacher} does not exist`);
  const t = loadTeacherRun(cfg.teacher);
  const data = loadSplit(t.cfg, 'train');
  using run = openTrainingRun(dir, cfg, parseStudentConfig, opts, { label: `guided distillation of ${cfg.teacher}` });
  const nets = new DistillNets(t);
  const teacher = t.model;
  const prev = buildModel(t.cfg, nets.prev);
  const student = buildModel(t.cfg, nets.student);
  const params = nets.student.parameters();
  const optimizer = new Adam(params, { lr: cfg.lr });
  const loader = trainLoader(data, cfg);
  const plan = { optimizer, clip: { params, maxNorm: cfg.clip } };
  const loop = await trainParts(
    run,
    { model: nets, stateful: { optimizer }, loaders: { train: loader } },
    {
      steps: totalSteps(cfg),
      label: 'distill',
      step: (step) => {
        const phase = phaseOf(cfg, step);
        if (step === phase.first && phase.round > 0) {
          noGrad(() => nets.prev.loadStateDict(nets.student.stateDict()));
          optimizer.disposeState();
        }
        const m = trainStep(plan, () => {
          const batch = loader.next();
          const encode = (x: Tensor) => t.space.toModel(x);
          const loss =
            phase.round === 0
              ? stage1Loss(teacher, student, batch, cfg, encode)
              : stage2Loss(prev, student, batch, cfg, phase.n, encode);
          return { loss };
        });
        if (step === phase.last) {
          const meta = { round: String(phase.round), step: String(step), loss: String(m.loss) };
          tidy(() => saveSafetensors(run.path(studentFile(phase.n)), nets.student.stateDict(), meta));
        }
        return { ...m, round: phase.round, n: phase.n };
      },
    },
    opts,
  );
  return finishRun(run, loop, () => {
    nets.student.eval();
    const samples: string[] = [];
    const phases: StudentTrainResult['phases'] = [];
    for (let r = 0; r <= rounds(cfg); r++) {
      const n = cfg.startSteps / 2 ** r;
      const metadata = tidy(() => loadSafetensors(run.path(studentFile(n))).metadata);
      phases.push({ round: r, n, loss: Number(metadata.loss), file: studentFile(n) });
      const s = loadStudentNet(run.dir, t, n);
      const file = run.path(`samples-${n}.png`);
      writeSampleGrid(file, { kind: 'student', model: s, space: t.space }, t.shape, {
        steps: n,
        w: cfg.sampleW,
        seed: cfg.seed,
      });
      samples.push(file);
    }
    return { teacher: cfg.teacher, steps: loop.step, phases, samples, run: dir };
  });
}

/** The student of a run that samples in n steps (stage 1's for startSteps, a round's below). */
export function loadStudentNet(dir: string, t: TeacherRun, n: number): GuidedModel {
  const file = `${dir}/${studentFile(n)}`;
  if (!existsSync(file)) {
    throw new GenlabError('run', `${dir} has no ${n}-step student (${studentFile(n)})`, 'choose {steps} a round wrote');
  }
  const net = buildNet(t.cfg, t.shape, t.classes, true);
  tidy(() => net.loadStateDict(loadSafetensors(file).tensors));
  net.eval();
  return buildModel(t.cfg, net);
}

/** A student run: its config, teacher, and the step counts its rounds wrote. */
export interface StudentRun {
  run: Run<StudentConfig>;
  cfg: StudentConfig;
  teacher: TeacherRun;
  available: number[];
}

export function loadStudentRun(dir: string): StudentRun {
  const run = Run.load(dir, parseStudentConfig);
  const teacher = loadTeacherRun(run.config.teacher);
  const available: number[] = [];
  for (let n = run.config.startSteps; n >= 1; n /= 2) if (existsSync(run.path(studentFile(n)))) available.push(n);
  return { run, cfg: run.config, teacher, available };
}
