// One optimisation step, as every family takes it: zeroGrad → loss → backward → clip → step →
// schedule → EMA, inside one tidy so that the step's temporaries are freed when it ends.

import { clipGradNorm } from '../optim/clip.js';
import type { Optimizer } from '../optim/optimizer.js';
import { tidy, tidyAsync } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';

export interface StepPlan {
  optimizer: Optimizer;
  /** Clips the joint gradient norm of `params` to `maxNorm` (0: no clipping); logged as `gradNorm`. */
  clip?: { params: Tensor[]; maxNorm: number };
  /** Learning-rate schedule, stepped after the optimizer. */
  schedule?: { step(): void };
  /** Weight average, updated after the optimizer. */
  ema?: { update(): void };
  /** Log the first group's learning rate of this step as `lr`. */
  logLr?: boolean;
  /** Runs last (e.g. a projection of the weights); the metrics it returns are logged too. */
  after?(): Record<string, number> | undefined;
}

/**
 * What the forward pass gives: the loss (a tensor, whose backward the step runs, or a number when
 * the forward already ran its own backward, as VDM's variance objective does) and other metrics.
 */
export interface StepOutput {
  loss: Tensor | number;
  metrics?: Record<string, Tensor | number>;
}

const value = (v: Tensor | number): number => (typeof v === 'number' ? v : v.item());

/** Takes one step; returns its scalar metrics, `loss` first. */
export function trainStep(plan: StepPlan, forward: () => StepOutput): Record<string, number> {
  return tidy(() => {
    plan.optimizer.zeroGrad();
    return finishStep(plan, forward());
  });
}

/**
 * trainStep for a forward that awaits, e.g. a collective for a term over the global batch when
 * several ranks train (src/train/shard.ts).
 */
export function trainStepAsync(plan: StepPlan, forward: () => Promise<StepOutput>): Promise<Record<string, number>> {
  return tidyAsync(async () => {
    plan.optimizer.zeroGrad();
    return finishStep(plan, await forward());
  });
}

/** The rest of a step once the forward ran: backward, clip, optimizer, schedule, EMA, `after`. */
function finishStep(plan: StepPlan, out: StepOutput): Record<string, number> {
  if (typeof out.loss !== 'number') out.loss.backward();
  const metrics: Record<string, number> = { loss: value(out.loss) };
  for (const [k, v] of Object.entries(out.metrics ?? {})) metrics[k] = value(v);
  if (plan.clip && plan.clip.maxNorm > 0) {
    const norm = clipGradNorm(plan.clip.params, plan.clip.maxNorm) as Tensor | number;
    metrics.gradNorm = value(norm);
  }
  if (plan.logLr) metrics.lr = plan.optimizer.paramGroups[0].lr;
  plan.optimizer.step();
  plan.schedule?.step();
  plan.ema?.update();
  Object.assign(metrics, plan.after?.());
  return metrics;
}
