// Plumbing every command shares: engine settings, run folders, resumable training, and printing results.

import type { Module } from '../nn/module.js';
import { manualSeed } from '../torch/random.js';
import { getNumThreads, setNumThreads } from '../torch/runtime.js';
import { tidy } from '../torch/scope.js';
import { captureCheckpoint, checkpointPart, restoreCheckpoint, type TrainingParts } from '../train/checkpoint.js';
import { type LoopResult, type LoopSpec, trainLoop } from '../train/loop.js';
import { Run } from '../train/run.js';
import { CliError, intOption, type OptionSpec, type Parsed } from './args.js';

export interface EngineSettings {
  seed: number;
  threads: number;
}

/** Applies --threads, and --seed unless a resumed run brings its own seed. */
export function setupEngine(p: Parsed, savedSeed?: number): EngineSettings {
  const threads = intOption(p, 'threads', getNumThreads(), 1);
  setNumThreads(threads);
  const seed = savedSeed ?? intOption(p, 'seed', 0, 0);
  manualSeed(seed);
  return { seed, threads };
}

export function requireOut(p: Parsed, fallback: string): string {
  const out = p.values.out;
  if (out === undefined) return fallback;
  if (typeof out !== 'string' || out === '') throw new CliError('--out needs a folder', 2);
  return out;
}

export function note(p: Parsed, message: string): void {
  if (!p.values.quiet) process.stderr.write(`${message}\n`);
}

/** `--json`: one JSON object on stdout and nothing else; otherwise readable lines. */
export function report(p: Parsed, result: Record<string, unknown>, lines: string[]): void {
  if (p.values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else process.stdout.write(`${lines.join('\n')}\n`);
}

export function firstPositional(p: Parsed, what: string): string {
  const v = p.positionals[0];
  if (!v) throw new CliError(`missing ${what}`, 2);
  return v;
}

// ---- Verbs that read a finished run: sample, eval, export…

/**
 * The start of a verb on an existing run: applies --threads and --seed, then loads the run folder
 * named by the first argument (in this order, so a bad option is reported before a bad folder).
 */
export function openRunFolder<T extends object>(
  p: Parsed,
  load: (dir: string) => T,
): T & EngineSettings & { dir: string } {
  const engine = setupEngine(p);
  const dir = firstPositional(p, 'run folder');
  return { ...engine, dir, ...load(dir) };
}

/** A run folder of one family; another family's run would fail later with a less helpful message. */
export function loadFamilyRun(dir: string, family: string): Run {
  const run = Run.load(dir);
  if (run.config.family !== family) {
    throw new CliError(`${dir} is not a ${family} run (family '${run.config.family}')`);
  }
  return run;
}

/** Loads the model weights of a run's checkpoint; the optimizer and loader state stay on disk. */
export function loadModelWeights(run: Run, model: Module): void {
  tidy(() => {
    model.loadStateDict(checkpointPart(run.loadCheckpoint().tensors, 'model.'));
  });
}

// ---- Train verbs: a run folder that Ctrl-C stops and --resume continues bit for bit.

/** Exit code of a training run stopped by a signal once its checkpoint was saved (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

/** --eval-every, as the train verbs that evaluate on a schedule describe it. */
export const evalEveryOption: OptionSpec = {
  type: 'string',
  description: 'steps between test evaluations (default: 5 per run)',
};

/**
 * The config a train verb runs with: the one from the flags, or under --resume the one saved in
 * the run folder, so that the continued run is the same run. Threads and its seed are applied.
 */
export function trainingConfig<C extends { seed: number }>(
  p: Parsed,
  outDir: string,
  fresh: C,
): { cfg: C; resume: boolean; engine: EngineSettings } {
  const resume = Boolean(p.values.resume);
  const cfg = resume ? (Run.load(outDir).config as unknown as C) : fresh;
  return { cfg, resume, engine: setupEngine(p, cfg.seed) };
}

/**
 * Under --resume, restores `parts` from the run's checkpoint, drops log lines written after it and
 * returns its step; undefined when there is nothing to restore (a fresh run needs initialising).
 */
export function resumeCheckpoint(p: Parsed, run: Run, parts: TrainingParts): number | undefined {
  if (!p.values.resume || !run.hasCheckpoint()) return undefined;
  const start = tidy(() => restoreCheckpoint(run.loadCheckpoint(), parts));
  run.truncateLog(start);
  note(p, `resuming from step ${start}`);
  return start;
}

/**
 * trainLoop as the train verbs run it: checkpoints hold `parts`, --quiet hides the progress and
 * --eval-every defaults to 5 evaluations a run. Null, with exit code 130, when a signal stopped it.
 */
export async function trainResumably(
  p: Parsed,
  parts: TrainingParts,
  spec: Omit<LoopSpec, 'checkpoint' | 'quiet' | 'evalEvery'>,
): Promise<LoopResult | null> {
  const result = await trainLoop({
    ...spec,
    quiet: Boolean(p.values.quiet),
    evalEvery: intOption(p, 'eval-every', Math.max(1, Math.floor(spec.steps / 5)), 1),
    checkpoint: (step) => captureCheckpoint(step, parts),
  });
  if (result.stoppedBy !== 'signal') return result;
  process.exitCode = EXIT_INTERRUPTED;
  return null;
}
