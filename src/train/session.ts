// Training inside a run folder, as every family does it: a fresh run or one resumed from its
// checkpoint, the shared loop with checkpoints of the training parts, and Ctrl-C handled.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dataset } from '../data/dataset.js';
import { DistributedLoader } from '../data/distributed.js';
import type { DataLoader } from '../data/loader.js';
import { DistributedDataParallel } from '../nn/parallel/distributed.js';
import { getRank, getWorldSize } from '../torch/distributed.js';
import { manualSeed } from '../torch/random.js';
import { getNumThreads } from '../torch/runtime.js';
import { tidy } from '../torch/scope.js';
import { captureCheckpoint, restoreCheckpoint, type TrainingParts } from './checkpoint.js';
import { type LoopResult, type LoopSpec, trainLoop } from './loop.js';
import { type ConfigParser, Run } from './run.js';

/** How a family's train function is asked to run; none of it is saved in the run's config. */
export interface TrainOptions {
  /** Continue the run in the folder from its last checkpoint, with the config saved there. */
  resume?: boolean;
  /** No progress output. */
  quiet?: boolean;
  /** Where notes for people go (the CLI sends them to stderr). */
  log?: (message: string) => void;
  /** Steps between evaluations during training (the family's default when unset). */
  evalEvery?: number;
  /** How messages spell a setting: the CLI as a flag (`--resume`); `'resume'` by default. */
  spell?: (setting: string) => string;
  /** Called after each finished training step (progress, or a test that stops a run at a chosen step). */
  onStep?: (step: number) => void;
}

/** A training run that a signal stopped after its checkpoint was saved: `resume` continues it. */
export interface Interrupted {
  interrupted: true;
  step: number;
  run: string;
}

export function isInterrupted(x: unknown): x is Interrupted {
  return typeof x === 'object' && x !== null && (x as Interrupted).interrupted === true;
}

/**
 * The config a training run uses, the given one or under `resume` the one saved in its folder, so
 * that a continued run is the same run; the global generator is seeded with its seed.
 */
export function trainingConfig<C extends { seed: number }>(
  dir: string,
  config: C,
  parse: ConfigParser<C>,
  opts: TrainOptions,
): C {
  const cfg = opts.resume ? Run.load(dir, parse).config : config;
  manualSeed(cfg.seed);
  return cfg;
}

/**
 * Opens (and locks) the run folder for training; call it once the data has loaded, then close it.
 * Notes `label`, the config (with `extra` facts such as a parameter count) and the thread count.
 */
export function openTrainingRun<C>(
  dir: string,
  cfg: C,
  parse: ConfigParser<C>,
  opts: TrainOptions,
  note: { label: string; extra?: Record<string, unknown> },
): Run<C> {
  if (getRank() !== 0) return scratchRun(dir, cfg, parse);
  const run = Run.open(dir, cfg, { resume: opts.resume, parse, notify: opts.log });
  opts.log?.(`${note.label}: ${JSON.stringify({ ...cfg, ...note.extra, threads: getNumThreads() })} -> ${dir}`);
  return run;
}

// Under `genlab launch`, only rank 0 writes the run folder; another rank writes into a scratch
// folder (removed at exit) and reads the real folder's checkpoint when resuming.
const realDirs = new WeakMap<Run<unknown>, string>();

function scratchRun<C>(dir: string, cfg: C, parse: ConfigParser<C>): Run<C> {
  const scratch = mkdtempSync(join(tmpdir(), `genlab-rank${getRank()}-`));
  process.once('exit', () => rmSync(scratch, { recursive: true, force: true }));
  const run = Run.open(scratch, cfg, { parse });
  realDirs.set(run, dir);
  return run;
}

/**
 * The loader a training run draws its batches from: shuffled by the run's seed, whole batches only.
 * Under `genlab launch` each rank reads its shard (DistributedSampler); with one process the order
 * is the same as a plain shuffled DataLoader's.
 */
export function trainLoader(dataset: Dataset, cfg: { batchSize: number; seed: number }): DataLoader {
  return new DistributedLoader(dataset, {
    batchSize: cfg.batchSize,
    shuffle: true,
    dropLast: true,
    seed: cfg.seed,
    numReplicas: getWorldSize(),
    rank: getRank(),
  });
}

/** What a train function returns when the loop ended: results.json is written, or the run was interrupted. */
export function finishRun<R extends object>(run: Run<unknown>, loop: LoopResult, result: () => R): R | Interrupted {
  if (loop.stoppedBy === 'signal') return { interrupted: true, step: loop.step, run: run.dir };
  const r = result();
  writeFileSync(run.path('results.json'), `${JSON.stringify(r, null, 2)}\n`);
  return r;
}

/** `step`, then `onStep` with its number, keeping a synchronous step synchronous. */
function afterEachStep(step: LoopSpec['step'], onStep: (step: number) => void): LoopSpec['step'] {
  return (n) => {
    const metrics = step(n);
    if (metrics instanceof Promise) {
      return metrics.then((m) => {
        onStep(n);
        return m;
      });
    }
    onStep(n);
    return metrics;
  };
}

/**
 * Runs the loop over `parts`: under `resume` they are restored from the run's checkpoint first
 * (and the log cut back to it); otherwise `init` runs (e.g. a data-dependent initialisation).
 */
export async function trainParts<C>(
  run: Run<C>,
  parts: TrainingParts,
  spec: Omit<LoopSpec, 'run' | 'checkpoint' | 'startStep' | 'quiet'>,
  opts: TrainOptions & { init?: () => void },
): Promise<LoopResult> {
  let start: number | undefined;
  const real = realDirs.get(run);
  const source = opts.resume && real ? Run.load(real) : run;
  if (opts.resume && source.hasCheckpoint()) {
    start = tidy(() => restoreCheckpoint(source.loadCheckpoint(), parts));
    if (!real) run.truncateLog(start);
    opts.log?.(`resuming from step ${start}`);
  } else {
    opts.init?.();
  }
  // Several ranks: rank 0's parameters are broadcast and gradients averaged during backward.
  const ddp = getWorldSize() > 1 ? await DistributedDataParallel.create(parts.model) : null;
  try {
    const { onStep } = opts;
    return await trainLoop({
      ...spec,
      step: onStep ? afterEachStep(spec.step, onStep) : spec.step,
      // The loop reads the folder, not the config: any run will do.
      run: run as unknown as Run,
      startStep: start,
      quiet: opts.quiet || getRank() !== 0,
      spell: opts.spell,
      evalEvery: opts.evalEvery ?? spec.evalEvery,
      checkpoint: (step) => captureCheckpoint(step, parts),
    });
  } finally {
    ddp?.release();
  }
}
