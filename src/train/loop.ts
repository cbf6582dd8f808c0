// The training loop shared by every family: steps, logs, checkpoints, signals and NaN guards.
import { GenlabError } from '../torch/errors.js';
import { tidy } from '../torch/scope.js';
import { Progress } from './progress.js';
import type { Checkpoint, Json, Run } from './run.js';

export interface LoopSpec {
  run: Run;
  /** Total steps of the run. */
  steps: number;
  /** Steps already done (from a resumed checkpoint). */
  startStep?: number;
  /** One optimisation step; returns scalar metrics, at least `loss`. Step numbers start at 1. */
  step(step: number): Record<string, number> | Promise<Record<string, number>>;
  /** The state after `step` steps, for a checkpoint. */
  checkpoint(step: number): Checkpoint;
  /** Optional periodic evaluation; its metrics are logged. */
  evaluate?(step: number): Record<string, number>;
  checkpointEvery?: number;
  logEvery?: number;
  evalEvery?: number;
  label?: string;
  quiet?: boolean;
  /** Where progress goes (stderr by default). */
  progressStream?: NodeJS.WriteStream;
  /** Called after each checkpoint (plots, sample grids). */
  afterCheckpoint?(step: number): void;
  /**
   * How messages spell a setting, e.g. `(s) => \`--${s}\`` on the command line; `'resume'` by
   * default. Messages name settings by their API names, as GenlabError hints do.
   */
  spell?: (setting: string) => string;
}

export interface LoopResult {
  step: number;
  stoppedBy: 'done' | 'signal';
  metrics: Record<string, number>;
}

export class NonFiniteLossError extends Error {}

const quoted = (s: string) => `'${s}'`;

/** Each logged line carries the wall-clock time under this key, in seconds since the Unix epoch. */
export const LOG_TIME_KEY = 'time';
const now = () => Date.now() / 1000;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs steps until done or until SIGINT/SIGTERM, which finish the current step, write a checkpoint
 * and return. A NaN or infinite metric stops the run without overwriting the last good checkpoint.
 */
export async function trainLoop(spec: LoopSpec): Promise<LoopResult> {
  const { run, steps } = spec;
  const start = spec.startStep ?? 0;
  const spell = spec.spell ?? quoted;
  if (!Number.isSafeInteger(steps) || steps < 0) {
    throw new GenlabError('config', `${run.path('config.json')}: 'steps' is ${steps}, not a non-negative integer`);
  }
  if (start > steps) {
    throw new GenlabError(
      'config',
      `${run.path('config.json')}: 'steps' is ${steps}, but the run's checkpoint is already at step ${start}`,
      `set {steps} to ${start} or more to continue it`,
    );
  }
  if (run.training) throw new GenlabError('run', `${run.dir}: this run is already training in this process`);
  const checkpointEvery = spec.checkpointEvery ?? Math.max(1, Math.ceil(steps / 10));
  const logEvery = spec.logEvery ?? Math.max(1, Math.floor(steps / 200));
  const progress = new Progress({ total: steps, label: spec.label, quiet: spec.quiet, stream: spec.progressStream });
  progress.resumeFrom(start);

  let signal: string | null = null;
  const onSignal = (name: string) => () => {
    if (signal) process.exit(130); // a second Ctrl-C means now
    signal = name;
    progress.log(`${name}: finishing the step and writing a checkpoint…`);
  };
  const onInt = onSignal('SIGINT');
  const onTerm = onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  run.training = true;

  let lastSaved = start;
  let metrics: Record<string, number> = {};
  const save = (step: number) => {
    // In a scope: state-dict handles made for the save are freed, live optimizer state is not.
    tidy(() => run.saveCheckpoint(spec.checkpoint(step)));
    lastSaved = step;
    spec.afterCheckpoint?.(step);
  };
  try {
    let step = start;
    while (step < steps) {
      step++;
      metrics = await spec.step(step);
      for (const [k, v] of Object.entries(metrics)) {
        if (!Number.isFinite(v)) {
          throw new NonFiniteLossError(
            `${k} is ${v} at step ${step}; stopped, and the last good checkpoint (step ${lastSaved}) is kept in ${run.dir}`,
          );
        }
      }
      if (step % logEvery === 0 || step === steps)
        run.log({ step, ...(metrics as Record<string, Json>), [LOG_TIME_KEY]: now() });
      if (spec.evaluate && spec.evalEvery && step % spec.evalEvery === 0 && step !== steps) {
        run.log({ step, ...(spec.evaluate(step) as Record<string, Json>), [LOG_TIME_KEY]: now() });
      }
      progress.update(step, metrics);
      if (step % checkpointEvery === 0 || step === steps) save(step);
      await nextTurn();
      if (signal) {
        if (lastSaved !== step) save(step);
        progress.done(`stopped by ${signal} at step ${step}; continue it with ${spell('resume')}`);
        return { step, stoppedBy: 'signal', metrics };
      }
    }
    progress.done(`finished ${steps} steps`);
    return { step: steps, stoppedBy: 'done', metrics };
  } finally {
    run.training = false;
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}
