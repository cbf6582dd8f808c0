// Adadelta (Zeiler, 2012): steps scaled by the ratio of running RMS of updates and of gradients.
import { zerosLike } from '../torch/creation.js';
import type { Tensor } from '../torch/tensor.js';
import { Optimizer, type ParamGroup, type Params, withDefaults } from './optimizer.js';

/** Options of {@link Adadelta}: lr (default 1), rho (0.9), eps (1e-6), weight decay (0) and maximize (false). */
export interface AdadeltaOptions {
  /** Scales the update; 1 is the paper's method. */
  lr: number;
  /** Decay rate of both running averages. */
  rho: number;
  /** Added inside the square roots for stability. */
  eps: number;
  /** L2 penalty, added to the gradient. */
  weightDecay: number;
  /** Ascend instead of descend. */
  maximize: boolean;
}

/**
 * Per-parameter state of {@link Adadelta}: the step count and the running averages of squared
 * gradients and squared updates.
 */
export type AdadeltaState = { step: number; squareAvg: Tensor; accDelta: Tensor };

/** torch.optim.Adadelta; the update is the one of PyTorch 1.13's single-tensor loop. */
export class Adadelta extends Optimizer<AdadeltaOptions, AdadeltaState> {
  constructor(params: Params<AdadeltaOptions>, opts: Partial<AdadeltaOptions> = {}) {
    super(params, withDefaults<AdadeltaOptions>({ lr: 1, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false }, opts));
  }

  protected override validate(group: ParamGroup<AdadeltaOptions>): void {
    super.validate(group);
    if (!(group.rho >= 0 && group.rho <= 1)) throw new Error(`invalid rho: ${group.rho} (in [0, 1])`);
    if (!(group.eps >= 0)) throw new Error(`invalid eps: ${group.eps}`);
    if (!(group.weightDecay >= 0)) throw new Error(`invalid weightDecay: ${group.weightDecay}`);
  }

  protected updateParam(p: Tensor, grad: Tensor, group: ParamGroup<AdadeltaOptions>): void {
    const { lr, rho, eps, weightDecay, maximize } = group;
    let g = maximize ? grad.neg() : grad;
    const s = this.stateOf(p, () => ({ step: 0, squareAvg: zerosLike(p).keep(), accDelta: zerosLike(p).keep() }));
    s.step += 1;
    if (weightDecay !== 0) g = g.add(p, { alpha: weightDecay });
    s.squareAvg.mul_(rho).addcmul_(g, g, { value: 1 - rho });
    const std = s.squareAvg.add(eps).sqrt_();
    const delta = s.accDelta.add(eps).sqrt_().div_(std).mul_(g);
    s.accDelta.mul_(rho).addcmul_(delta, delta, { value: 1 - rho });
    p.add_(delta, { alpha: -lr });
  }
}
