// Averaged SGD (Polyak & Juditsky, 1992), with the decaying step size of Bottou (2012).
import { zerosLike } from '../torch/creation.js';
import type { Tensor } from '../torch/tensor.js';
import { Optimizer, type ParamGroup, type Params, withDefaults } from './optimizer.js';

/**
 * Options of {@link ASGD}: lr (default 1e-2), lambd (1e-4), alpha (0.75), t0 (1e6), weight decay
 * (0) and maximize (false).
 */
export interface ASGDOptions {
  /** The initial step size. */
  lr: number;
  /** Decay term: the step size after k steps is lr / (1 + lambd·lr·k)^alpha, and weights shrink by 1 − lambd·eta. */
  lambd: number;
  /** Power of the step-size decay. */
  alpha: number;
  /** Step after which averaging starts. */
  t0: number;
  /** L2 penalty, added to the gradient. */
  weightDecay: number;
  /** Ascend instead of descend. */
  maximize: boolean;
}

/** eta and mu are float32 values, as PyTorch keeps them in float32 tensors. `ax` is the average. */
export type ASGDState = { step: number; eta: number; mu: number; ax: Tensor };

/** torch.optim.ASGD; the update is the one of PyTorch 1.13's single-tensor loop. */
export class ASGD extends Optimizer<ASGDOptions, ASGDState> {
  constructor(params: Params<ASGDOptions>, opts: Partial<ASGDOptions> = {}) {
    super(
      params,
      withDefaults<ASGDOptions>({ lr: 1e-2, lambd: 1e-4, alpha: 0.75, t0: 1e6, weightDecay: 0, maximize: false }, opts),
    );
  }

  protected override validate(group: ParamGroup<ASGDOptions>): void {
    super.validate(group);
    if (!(group.weightDecay >= 0)) throw new Error(`invalid weightDecay: ${group.weightDecay}`);
  }

  protected updateParam(p: Tensor, grad: Tensor, group: ParamGroup<ASGDOptions>): void {
    const { lr, lambd, alpha, t0, weightDecay, maximize } = group;
    const s = this.stateOf(p, () => ({ step: 0, eta: Math.fround(lr), mu: 1, ax: zerosLike(p).keep() }));
    let g = maximize ? grad.neg() : grad;
    s.step += 1;
    if (weightDecay !== 0) g = g.add(p, { alpha: weightDecay });
    p.mul_(1 - lambd * s.eta);
    p.add_(g, { alpha: -s.eta });
    if (s.mu !== 1) s.ax.add_(p.sub(s.ax).mul(s.mu));
    else s.ax.copy_(p);
    s.eta = Math.fround(lr / (1 + lambd * lr * s.step) ** alpha);
    s.mu = Math.fround(1 / Math.max(1, s.step - t0));
  }
}
