// The training loop shared by every family: steps, logs, checkpoints, signals and NaN guards.
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
  step(step: number): Record<string, number>;
  /** The state after `step` steps, for a checkpoint. */
  checkpoint(step: number): Checkpoint;
  /** Optional periodic evaluation; its metrics are logged. */
  evaluate?(step: number): Record<string, number>;
  checkpointEvery?: number;
  logEvery?: number;
  evalEvery?: number;
  label?: string;
  quiet?: boolean;
  /** Called after each checkpoint (plots, sample grids). */
  afterCheckpoint?(step: number): void;
}

export interface LoopResult {
  step: number;
  stoppedBy: 'done' | 'signal';
  metrics: Record<string, number>;
}

export class NonFiniteLossError extends Error {}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs steps until done or until SIGINT/SIGTERM, which finish the current step, write a checkpoint
 * and return. A NaN or infinite metric stops the run without overwriting the last good checkpoint.
 */
export async function trainLoop(spec: LoopSpec): Promise<LoopResult> {
  const { run, steps } = spec;
  const start = spec.startStep ?? 0;
  const checkpointEvery = spec.checkpointEvery ?? Math.max(1, Math.ceil(steps / 10));
  const logEvery = spec.logEvery ?? Math.max(1, Math.floor(steps / 200));
  const progress = new Progress({ total: steps, label: spec.label, quiet: spec.quiet });
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
      metrics = spec.step(step);
      for (const [k, v] of Object.entries(metrics)) {
        if (!Number.isFinite(v)) {
          throw new NonFiniteLossError(
            `${k} is ${v} at step ${step}; stopped, and the last good checkpoint (step ${lastSaved}) is kept in ${run.dir}`,
          );
        }
      }
      if (step % logEvery === 0 || step === steps) run.log({ step, ...(metrics as Record<string, Json>) });
      if (spec.evaluate && spec.evalEvery && step % spec.evalEvery === 0 && step !== steps) {
        run.log({ step, ...(spec.evaluate(step) as Record<string, Json>) });
      }
      progress.update(step, metrics);
      if (step % checkpointEvery === 0 || step === steps) save(step);
      await nextTurn();
      if (signal) {
        if (lastSaved !== step) save(step);
        progress.done(`stopped by ${signal} at step ${step}; resume with --resume`);
        return { step, stoppedBy: 'signal', metrics };
      }
    }
    progress.done(`finished ${steps} steps`);
    return { step: steps, stoppedBy: 'done', metrics };
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}
