// Options that several families' verbs share, declared once.
import type { TrainOptions } from '../train/session.js';
import { type ArgHelp, flag, float, int, path } from './args.js';
import type { VerbContext } from './verb.js';

export const threads = int('libtorch intra-op threads', { min: 1, max: 1024, defaultText: "libtorch's default" });
export const seed = int('random seed', { min: 0, max: 2 ** 31 - 1, default: 0 });
export const root = path('folder holding the mnist / cifar10 files');
export const resume = flag('continue the run in --out from its last checkpoint, with its saved config');
export const evalEvery = int('steps between test evaluations during training', {
  min: 1,
  max: 1e9,
  defaultText: '5 per run',
});

/** The optimisation options of a train verb; defaults per data set are shown from the family's table. */
export function trainingOptions(defaults: Record<string, { steps: number; batchSize: number; lr: number }>) {
  return {
    steps: int('optimisation steps', { min: 1, max: 1e9, defaultText: perData(defaults, 'steps') }),
    batchSize: int('examples per step', { min: 1, max: 1e6, defaultText: perData(defaults, 'batchSize') }),
    lr: float('learning rate', { min: 1e-12, max: 10, defaultText: perData(defaults, 'lr') }),
    seed,
    threads,
    resume,
  };
}

/** A default that depends on the data set, as help shows it: `600 for digits, 2400 for fashion-mnist`. */
export function perData<T extends object>(table: Record<string, T>, key: keyof T): string {
  return Object.entries(table)
    .map(([data, d]) => `${String(d[key])} for ${data}`)
    .join(', ');
}

export const runArg: ArgHelp = { name: 'run', help: 'run folder' };

/** The first positional, a run folder (the verb declares it in `args`, so it is present). */
export function runDir(args: string[]): string {
  return args[0];
}

/** How a train verb asks its family to run: resume and evaluation from its options, output from the context. */
export function trainRunOptions(o: { resume: boolean; evalEvery?: number }, ctx: VerbContext): TrainOptions {
  return { resume: o.resume, evalEvery: o.evalEvery, quiet: ctx.quiet, log: ctx.log, spell: ctx.spell };
}
