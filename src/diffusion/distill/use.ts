// What the CLI does with a trained teacher or student run: sample it, score it (FID/IS, evaluations,
// images/s), and edit or inpaint PNG images with it. Each returns what it computed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TensorDataset } from '../../data/dataset.js';
import { tensor } from '../../torch/creation.js';
import { GenlabError } from '../../torch/errors.js';
import { cat } from '../../torch/functions.js';
import { Generator, manualSeed } from '../../torch/random.js';
import { tidy } from '../../torch/scope.js';
import { saveImageGrid } from '../../train/images.js';
import { readPng } from '../../train/png.js';
import { loadSplit, loadStudentNet, loadStudentRun, loadTeacherRun, type TeacherRun } from './experiment.js';
import {
  cycleLabels,
  drawSamples,
  editImages,
  evalsPerStep,
  imageFromPng,
  inpaintImages,
  type MaskShape,
  namedMask,
  type QualityRow,
  type Source,
  sampleQuality,
} from './quality.js';
import type { DistillSampler } from './samplers.js';

/** A run folder opened for sampling: the guided teacher, or a student at one of its step counts. */
export interface OpenedRun {
  dir: string;
  source: Source;
  teacher: TeacherRun;
  /** Steps to sample with when none are asked for. */
  steps: number;
  /** Step counts a student run has (empty for a teacher: any count). */
  available: number[];
}

function family(dir: string): unknown {
  try {
    return JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).family;
  } catch {
    throw new GenlabError('run', `${dir} is not a run folder (no readable config.json)`);
  }
}

/** Opens a teacher run, or the student of a student run that samples in `steps` (4 by default, or its fewest). */
export function openRun(dir: string, steps?: number): OpenedRun {
  if (family(dir) === 'distill-teacher') {
    const t = loadTeacherRun(dir);
    return {
      dir,
      source: { kind: 'teacher', model: t.model, space: t.space },
      teacher: t,
      steps: steps ?? t.cfg.sampleSteps,
      available: [],
    };
  }
  const s = loadStudentRun(dir);
  const n = steps ?? (s.available.includes(4) ? 4 : s.available[s.available.length - 1]);
  if (n === undefined) throw new GenlabError('run', `${dir} holds no trained student yet`);
  const model = loadStudentNet(dir, s.teacher, n);
  return {
    dir,
    source: { kind: 'student', model, space: s.teacher.space },
    teacher: s.teacher,
    steps: n,
    available: s.available,
  };
}

export interface SampleResult {
  run: string;
  kind: 'teacher' | 'student';
  n: number;
  steps: number;
  w: number;
  sampler: DistillSampler;
  /** Network evaluations per image. */
  evaluations: number;
  file: string;
  seconds: number;
  imagesPerSecond: number;
}

/** A grid with one class per column. */
export function sampleRun(
  r: OpenedRun,
  opts: { file?: string; rows?: number; w?: number; sampler?: DistillSampler; seed?: number },
): SampleResult {
  const classes = r.source.model.net.config.classes;
  const n = classes * (opts.rows ?? 10);
  const w = opts.w ?? 1;
  const sampler = opts.sampler ?? 'ddim';
  const seed = opts.seed ?? 0;
  const file = opts.file ?? join(r.dir, `samples-${sampler}-${r.steps}-w${w}.png`);
  manualSeed(seed);
  const t0 = performance.now();
  tidy(() => {
    const x = drawSamples(r.source, r.teacher.shape, cycleLabels(n, classes), {
      steps: r.steps,
      w,
      sampler,
      generator: new Generator(seed),
    });
    saveImageGrid(file, x, { nrow: classes, scale: r.teacher.space.imageShape[1] <= 16 ? 4 : 2 });
  });
  const seconds = (performance.now() - t0) / 1000;
  const evaluations = r.steps * evalsPerStep(r.source);
  return {
    run: r.dir,
    kind: r.source.kind,
    n,
    steps: r.steps,
    w,
    sampler,
    evaluations,
    file,
    seconds,
    imagesPerSecond: n / seconds,
  };
}

export interface EvalResult {
  run: string;
  kind: 'teacher' | 'student';
  data: string;
  sampler: DistillSampler;
  rows: QualityRow[];
}

/** FID/IS rows for each step count (a student: each one its rounds wrote) and each w. */
export function evaluateRun(
  dir: string,
  opts: {
    steps: number[];
    ws: number[];
    n: number;
    sampler?: DistillSampler;
    seed?: number;
    onRow?: (r: QualityRow) => void;
  },
): EvalResult {
  const first = openRun(dir, opts.steps[0]);
  const test: TensorDataset = loadSplit(first.teacher.cfg, 'test');
  const rows: QualityRow[] = [];
  for (const steps of opts.steps) {
    const r = steps === first.steps ? first : openRun(dir, steps);
    for (const w of opts.ws) {
      manualSeed(opts.seed ?? 0);
      const row = sampleQuality(r.source, first.teacher.cfg.data, test, {
        n: opts.n,
        steps,
        w,
        sampler: opts.sampler,
        seed: opts.seed ?? 0,
      });
      rows.push(row);
      opts.onRow?.(row);
    }
  }
  return { run: dir, kind: first.source.kind, data: first.teacher.cfg.data, sampler: opts.sampler ?? 'ddim', rows };
}

function readImages(r: OpenedRun, files: string[]) {
  if (files.length === 0) throw new GenlabError('usage', 'no input images', 'pass PNG files with {images}');
  return cat(files.map((f) => imageFromPng(readPng(f), r.teacher.space.imageShape, f)));
}

export interface StripResult {
  run: string;
  file: string;
  images: number;
  columns: number;
  steps: number;
  evaluations: number;
}

function writeStrips(
  r: OpenedRun,
  file: string,
  strips: ReturnType<typeof editImages>,
  columns: number,
  images: number,
) {
  saveImageGrid(file, strips, { nrow: columns, scale: r.teacher.space.imageShape[1] <= 16 ? 4 : 2 });
  return { run: r.dir, file, images, columns, steps: r.steps, evaluations: r.steps * evalsPerStep(r.source) };
}

/** Class-guided editing: each image, then its edits towards `target` from each noise level. */
export function editRun(
  r: OpenedRun,
  files: string[],
  opts: { target: number; levels: number[]; w: number; sampler?: DistillSampler; seed?: number; file?: string },
): StripResult {
  const classes = r.source.model.net.config.classes;
  if (opts.target < 0 || opts.target >= classes)
    throw new GenlabError('usage', `{target} must be a class 0–${classes - 1}`);
  return tidy(() => {
    const images = readImages(r, files);
    const strips = editImages(r.source, images, { ...opts, steps: r.steps, seed: opts.seed ?? 0 });
    const file = opts.file ?? join(r.dir, `edit-${opts.target}.png`);
    return writeStrips(r, file, strips, 1 + opts.levels.length, files.length);
  });
}

/** Inpainting: each image, its masked version, and completions; the mask is a PNG (white = fill) or a named shape; one class for all images or one each. */
export function inpaintRun(
  r: OpenedRun,
  files: string[],
  opts: {
    labels: number[];
    mask: string | MaskShape;
    samples: number;
    w: number;
    sampler?: DistillSampler;
    seed?: number;
    file?: string;
  },
): StripResult {
  const [, h, w] = r.teacher.space.imageShape;
  return tidy(() => {
    const images = readImages(r, files);
    const mask = opts.mask.endsWith('.png')
      ? imageFromPng(readPng(opts.mask), [1, h, w], opts.mask).ge(0.5).to('float32')
      : namedMask(opts.mask as MaskShape, h, w);
    const given = opts.labels.length === 1 ? files.map(() => opts.labels[0]) : opts.labels;
    if (given.length !== files.length)
      throw new GenlabError(
        'usage',
        `${files.length} images but ${given.length} classes`,
        'give one {class} for all, or one per image',
      );
    const labels = tensor(given, { dtype: 'int64' });
    const strips = inpaintImages(r.source, images, mask, { ...opts, labels, steps: r.steps, seed: opts.seed ?? 0 });
    const file = opts.file ?? join(r.dir, 'inpaint.png');
    return writeStrips(r, file, strips, 2 + opts.samples, files.length);
  });
}
