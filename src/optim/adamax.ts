// Adamax: Adam with the infinity norm in place of the second moment.
import { zerosLike } from '../torch/creation.js';
import { maximum } from '../torch/generated/ops.js';
import type { Tensor } from '../torch/tensor.js';
import { validateBetas } from './adam.js';
import { Optimizer, type ParamGroup, type Params, withDefaults } from './optimizer.js';

/**
 * Options of {@link Adamax}: lr (default 2e-3), betas ([0.9, 0.999]), eps (1e-8), weight decay (0)
 * and maximize (false).
 */
export interface AdamaxOptions {
  /** The step size. */
  lr: number;
  /** Decay rates of the first moment average and of the infinity norm. */
  betas: [number, number];
  /** Added to the denominator for stability. */
  eps: number;
  /** L2 penalty, added to the gradient. */
  weightDecay: number;
  /** Ascend instead of descend. */
  maximize: boolean;
}

/**
 * Per-parameter state of {@link Adamax}: the step count, the moving average of the gradient and the
 * decaying infinity norm.
 */
export type AdamaxState = { step: number; expAvg: Tensor; expInf: Tensor };

/** torch.optim.Adamax; the update is the one of PyTorch 1.13's single-tensor loop. */
export class Adamax extends Optimizer<AdamaxOptions, AdamaxState> {
  constructor(params: Params<AdamaxOptions>, opts: Partial<AdamaxOptions> = {}) {
    super(
      params,
      withDefaults<AdamaxOptions>({ lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false }, opts),
    );
  }

  protected override validate(group: ParamGroup<AdamaxOptions>): void {
    super.validate(group);
    validateBetas(group.betas);
    if (!(group.eps >= 0)) throw new Error(`invalid eps: ${group.eps}`);
    if (!(group.weightDecay >= 0)) throw new Error(`invalid weightDecay: ${group.weightDecay}`);
  }

  protected updateParam(p: Tensor, grad: Tensor, group: ParamGroup<AdamaxOptions>): void {
    const { lr, eps, weightDecay, maximize } = group;
    const [beta1, beta2] = group.betas;
    let g = maximize ? grad.neg() : grad;
    const s = this.stateOf(p, () => ({ step: 0, expAvg: zerosLike(p).keep(), expInf: zerosLike(p).keep() }));
    s.step += 1;
    if (weightDecay !== 0) g = g.add(p, { alpha: weightDecay });
    s.expAvg.mul_(beta1).add_(g, { alpha: 1 - beta1 });
    // PyTorch takes amax over a stacked pair; an elementwise maximum gives the same values without the copy.
    s.expInf.copy_(maximum(s.expInf.mul_(beta2), g.abs().add_(eps)));
    const clr = lr / (1 - beta1 ** s.step);
    p.addcdiv_(s.expAvg, s.expInf, { value: -clr });
  }
}
