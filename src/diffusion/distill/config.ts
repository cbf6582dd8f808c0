// What config.json holds for the two kinds of run of guided distillation, and their defaults:
// a teacher run (a class-conditional model trained with label dropout), and a student run (stage 1
// then the rounds of stage 2, from a teacher run). The digits defaults train in minutes on one thread.
import { z } from 'zod';
import { checkSettings, familyConfig, memoryFormatField } from '../../train/config.js';
import { PARAMETERISATIONS } from './guidance.js';

export const teacherRunConfig = z
  .strictObject({
    family: z.literal('distill-teacher'),
    data: z.string(),
    root: z.string(),
    /** An autoencoder run folder: the teacher diffuses in its scaled latents (absent: in pixels). */
    latent: z.string().optional(),
    steps: z.int().min(1),
    batchSize: z.int().min(1),
    lr: z.number().positive(),
    seed: z.int().min(0),
    param: z.enum(PARAMETERISATIONS),
    gammaMin: z.number(),
    gammaMax: z.number(),
    /** Probability that a label is dropped to the null class. */
    pUncond: z.number().min(0).max(1),
    width: z.int().min(1),
    depth: z.int().min(1),
    mults: z.array(z.int().min(1)).min(1),
    dropout: z.number().min(0).max(1),
    /** The U-Net's activation layout; the students of the run inherit it. */
    memoryFormat: memoryFormatField,
    emaDecay: z.number().min(0).lt(1),
    clip: z.number().min(0),
    /** DDIM steps of the teacher's own samples: its "full count". */
    sampleSteps: z.int().min(1),
    /** Guidance weight of samples.png. */
    sampleW: z.number().min(0),
  })
  .refine((c) => c.gammaMax > c.gammaMin, { message: '{gammaMax} must exceed {gammaMin}', path: ['gammaMax'] });
export type TeacherConfig = z.infer<typeof teacherRunConfig>;
export const parseTeacherConfig = familyConfig('distill-teacher', teacherRunConfig) as (
  raw: unknown,
  file: string,
) => TeacherConfig;

const powerOfTwo = (n: number) => Number.isInteger(Math.log2(n));

export const studentRunConfig = z
  .strictObject({
    family: z.literal('distill-student'),
    /** The teacher's run folder. */
    teacher: z.string(),
    /** Stage 1: steps matching the guided teacher at w ~ U[wMin, wMax]. */
    stage1Steps: z.int().min(1),
    /** Stage 2: steps of each halving round. */
    roundSteps: z.int().min(1),
    /** DDIM steps the stage-1 student stands for; rounds halve it down to 1 (a power of two). */
    startSteps: z.int().min(2).refine(powerOfTwo, { message: 'must be a power of two' }),
    wMin: z.number().min(0),
    wMax: z.number().min(0),
    batchSize: z.int().min(1),
    lr: z.number().positive(),
    seed: z.int().min(0),
    clip: z.number().min(0),
    sampleW: z.number().min(0),
  })
  .refine((c) => c.wMax >= c.wMin, { message: '{wMax} must be at least {wMin}', path: ['wMax'] });
export type StudentConfig = z.infer<typeof studentRunConfig>;
export const parseStudentConfig = familyConfig('distill-student', studentRunConfig) as (
  raw: unknown,
  file: string,
) => StudentConfig;

type TeacherSettings = Omit<TeacherConfig, 'family' | 'data'>;

const DIGITS_TEACHER: TeacherSettings = {
  root: '',
  steps: 2000,
  batchSize: 64,
  lr: 2e-3,
  seed: 0,
  param: 'v',
  gammaMin: -12,
  gammaMax: 12,
  pUncond: 0.1,
  width: 32,
  depth: 1,
  mults: [1],
  dropout: 0,
  memoryFormat: 'contiguous',
  emaDecay: 0.999,
  clip: 1,
  sampleSteps: 64,
  sampleW: 1,
};

/**
 * Teacher defaults per data set: digits a 32-wide one-level U-Net (minutes at one thread); 28×28
 * images a 16-wide U-Net that downsamples twice; an autoencoder's latents (7×7 for 28×28 images) a
 * 32-wide one-level U-Net, like digits.
 */
export const TEACHER_DEFAULTS: Record<string, TeacherSettings> = {
  digits: DIGITS_TEACHER,
  'fashion-mnist': { ...DIGITS_TEACHER, width: 16, mults: [1, 2, 2] },
  latents: DIGITS_TEACHER,
};

export function teacherDefaults(data: string, latent?: string): TeacherSettings {
  if (latent) return TEACHER_DEFAULTS.latents;
  return TEACHER_DEFAULTS[data] ?? TEACHER_DEFAULTS['fashion-mnist'];
}

export function teacherConfig(data: string, overrides: Partial<TeacherSettings> = {}): TeacherConfig {
  const cfg: TeacherConfig = { family: 'distill-teacher', data, ...teacherDefaults(data, overrides.latent) };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (cfg as Record<string, unknown>)[k] = v;
  return checkSettings(teacherRunConfig, cfg);
}

export const STUDENT_DEFAULTS: Omit<StudentConfig, 'family' | 'teacher'> = {
  stage1Steps: 400,
  roundSteps: 200,
  startSteps: 16,
  wMin: 0,
  wMax: 4,
  batchSize: 64,
  lr: 5e-4,
  seed: 0,
  clip: 1,
  sampleW: 1,
};

export function studentConfig(
  teacher: string,
  overrides: Partial<Omit<StudentConfig, 'family' | 'teacher'>> = {},
): StudentConfig {
  const cfg: StudentConfig = { family: 'distill-student', teacher, ...STUDENT_DEFAULTS };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (cfg as Record<string, unknown>)[k] = v;
  return checkSettings(studentRunConfig, cfg);
}

/** Where step s (1-based) of a student run is: stage 1, or round r ≥ 1 of stage 2, whose students take n steps. */
export interface Phase {
  round: number;
  /** Sampling steps of the student this phase trains. */
  n: number;
  /** The phase's first and last step. */
  first: number;
  last: number;
}

export function rounds(cfg: StudentConfig): number {
  return Math.round(Math.log2(cfg.startSteps));
}

export function totalSteps(cfg: StudentConfig): number {
  return cfg.stage1Steps + rounds(cfg) * cfg.roundSteps;
}

export function phaseOf(cfg: StudentConfig, step: number): Phase {
  if (step <= cfg.stage1Steps) return { round: 0, n: cfg.startSteps, first: 1, last: cfg.stage1Steps };
  const round = Math.floor((step - cfg.stage1Steps - 1) / cfg.roundSteps) + 1;
  const first = cfg.stage1Steps + (round - 1) * cfg.roundSteps + 1;
  return { round, n: cfg.startSteps / 2 ** round, first, last: first + cfg.roundSteps - 1 };
}
