// Training inside a run folder, as every family does it: a fresh run or one resumed from its
// checkpoint, the shared loop with checkpoints of the training parts, and Ctrl-C handled.
import { tidy } from '../torch/scope.js';
import { captureCheckpoint, restoreCheckpoint, type TrainingParts } from './checkpoint.js';
import { type LoopResult, type LoopSpec, trainLoop } from './loop.js';
import type { Run } from './run.js';

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
  if (opts.resume && run.hasCheckpoint()) {
    start = tidy(() => restoreCheckpoint(run.loadCheckpoint(), parts));
    run.truncateLog(start);
    opts.log?.(`resuming from step ${start}`);
  } else {
    opts.init?.();
  }
  return trainLoop({
    ...spec,
    // The loop reads the folder, not the config: any run will do.
    run: run as unknown as Run,
    startStep: start,
    quiet: opts.quiet,
    spell: opts.spell,
    evalEvery: opts.evalEvery ?? spec.evalEvery,
    checkpoint: (step) => captureCheckpoint(step, parts),
  });
}
