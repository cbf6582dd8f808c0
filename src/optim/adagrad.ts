// Adagrad (Duchi et al., 2011): per-coordinate steps shrinking with the sum of squared gradients.
import { fullLike } from '../torch/creation.js';
import type { Tensor } from '../torch/tensor.js';
import { Optimizer, type ParamGroup, type Params, withDefaults } from './optimizer.js';

/**
 * Options of {@link Adagrad}: lr (default 1e-2), lr decay (0), weight decay (0), initial
 * accumulator value (0), eps (1e-10) and maximize (false).
 */
export interface AdagradOptions {
  /** The base step size. */
  lr: number;
  /** The step k uses lr / (1 + (k − 1)·lrDecay). */
  lrDecay: number;
  /** L2 penalty, added to the gradient. */
  weightDecay: number;
  /** Starting value of the sum of squared gradients. */
  initialAccumulatorValue: number;
  /** Added to the denominator for stability. */
  eps: number;
  /** Ascend instead of descend. */
  maximize: boolean;
}

/** Per-parameter state of {@link Adagrad}: the step count and the sum of squared gradients. */
export type AdagradState = { step: number; sum: Tensor };

/** torch.optim.Adagrad (dense gradients); the update is the one of PyTorch 1.13's single-tensor loop. */
export class Adagrad extends Optimizer<AdagradOptions, AdagradState> {
  constructor(params: Params<AdagradOptions>, opts: Partial<AdagradOptions> = {}) {
    super(
      params,
      withDefaults<AdagradOptions>(
        { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false },
        opts,
      ),
    );
  }

  protected override validate(group: ParamGroup<AdagradOptions>): void {
    super.validate(group);
    if (!(group.lrDecay >= 0)) throw new Error(`invalid lrDecay: ${group.lrDecay}`);
    if (!(group.weightDecay >= 0)) throw new Error(`invalid weightDecay: ${group.weightDecay}`);
    if (!(group.initialAccumulatorValue >= 0)) {
      throw new Error(`invalid initialAccumulatorValue: ${group.initialAccumulatorValue}`);
    }
    if (!(group.eps >= 0)) throw new Error(`invalid eps: ${group.eps}`);
  }

  protected updateParam(p: Tensor, grad: Tensor, group: ParamGroup<AdagradOptions>): void {
    const { lr, lrDecay, weightDecay, eps, maximize } = group;
    const s = this.stateOf(p, () => ({ step: 0, sum: fullLike(p, group.initialAccumulatorValue).keep() }));
    s.step += 1;
    let g = maximize ? grad.neg() : grad;
    if (weightDecay !== 0) g = g.add(p, { alpha: weightDecay });
    const clr = lr / (1 + (s.step - 1) * lrDecay);
    s.sum.addcmul_(g, g, { value: 1 });
    const std = s.sum.sqrt().add_(eps);
    p.addcdiv_(g, std, { value: -clr });
  }
}
