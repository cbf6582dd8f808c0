// RMSprop (Hinton's lecture 6e), optionally centered (Graves, 2013) and with momentum.
import { zerosLike } from '../torch/creation.js';
import { addcmul } from '../torch/generated/ops.js';
import type { Tensor } from '../torch/tensor.js';
import { Optimizer, type ParamGroup, type Params, withDefaults } from './optimizer.js';

/**
 * Options of {@link RMSprop}: lr (default 1e-2), alpha (0.99), eps (1e-8), weight decay (0),
 * momentum (0), centered and maximize (false).
 */
export interface RMSpropOptions {
  /** The step size. */
  lr: number;
  /** Smoothing constant of the squared-gradient average. */
  alpha: number;
  /** Added to the denominator for stability. */
  eps: number;
  /** L2 penalty, added to the gradient. */
  weightDecay: number;
  /** Momentum factor of the update; 0 for none. */
  momentum: number;
  /** Normalise by an estimate of the gradient's variance instead of its raw second moment. */
  centered: boolean;
  /** Ascend instead of descend. */
  maximize: boolean;
}

/**
 * Per-parameter state of {@link RMSprop}: the step count, the squared-gradient average, and the
 * momentum buffer and gradient average when used.
 */
export type RMSpropState = { step: number; squareAvg: Tensor; momentumBuffer?: Tensor; gradAvg?: Tensor };

const RMSPROP_DEFAULTS: RMSpropOptions = {
  lr: 1e-2,
  alpha: 0.99,
  eps: 1e-8,
  weightDecay: 0,
  momentum: 0,
  centered: false,
  maximize: false,
};

/** torch.optim.RMSprop; the update is the one of PyTorch 1.13's single-tensor loop. */
export class RMSprop extends Optimizer<RMSpropOptions, RMSpropState> {
  constructor(params: Params<RMSpropOptions>, opts: Partial<RMSpropOptions> = {}) {
    super(params, withDefaults(RMSPROP_DEFAULTS, opts));
  }

  protected override validate(group: ParamGroup<RMSpropOptions>): void {
    super.validate(group);
    if (!(group.alpha >= 0)) throw new Error(`invalid alpha: ${group.alpha}`);
    if (!(group.eps >= 0)) throw new Error(`invalid eps: ${group.eps}`);
    if (!(group.momentum >= 0)) throw new Error(`invalid momentum: ${group.momentum}`);
    if (!(group.weightDecay >= 0)) throw new Error(`invalid weightDecay: ${group.weightDecay}`);
  }

  protected updateParam(p: Tensor, grad: Tensor, group: ParamGroup<RMSpropOptions>): void {
    const { lr, alpha, eps, weightDecay, momentum, centered, maximize } = group;
    let g = maximize ? grad.neg() : grad;
    const s = this.stateOf(p, () => ({ step: 0, squareAvg: zerosLike(p).keep() }));
    s.step += 1;
    if (weightDecay !== 0) g = g.add(p, { alpha: weightDecay });
    s.squareAvg.mul_(alpha).addcmul_(g, g, { value: 1 - alpha });
    let avg: Tensor;
    if (centered) {
      s.gradAvg ??= zerosLike(p).keep();
      s.gradAvg.mul_(alpha).add_(g, { alpha: 1 - alpha });
      avg = addcmul(s.squareAvg, s.gradAvg, s.gradAvg, { value: -1 }).sqrt_();
    } else {
      avg = s.squareAvg.sqrt();
    }
    avg.add_(eps);
    if (momentum > 0) {
      s.momentumBuffer ??= zerosLike(p).keep();
      s.momentumBuffer.mul_(momentum).addcdiv_(g, avg);
      p.add_(s.momentumBuffer, { alpha: -lr });
    } else {
      p.addcdiv_(g, avg, { value: -lr });
    }
  }
}
