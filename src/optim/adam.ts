// Adam (optionally AMSGrad) and AdamW, whose weight decay shrinks the weights directly.
import { zerosLike } from '../torch/creation.js';
import { maximum } from '../torch/generated/ops.js';
import type { Tensor } from '../torch/tensor.js';
import { Optimizer, type ParamGroup, type Params, withDefaults } from './optimizer.js';

export interface AdamOptions {
  lr: number;
  /** Decay rates of the first and second moment averages. */
  betas: [number, number];
  eps: number;
  /** Adam: L2 penalty added to the gradient. AdamW: decoupled decay, p ← p·(1 − lr·weightDecay). */
  weightDecay: number;
  /** Normalise by the running maximum of the second moment (Reddi et al., 2018). */
  amsgrad: boolean;
  maximize: boolean;
}

export type AdamState = { step: number; expAvg: Tensor; expAvgSq: Tensor; maxExpAvgSq?: Tensor };

const ADAM_DEFAULTS: AdamOptions = {
  lr: 1e-3,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 0,
  amsgrad: false,
  maximize: false,
};

/** torch.optim.Adam; the update is the one of PyTorch 1.13's single-tensor loop. */
export class Adam extends Optimizer<AdamOptions, AdamState> {
  /** True for AdamW. */
  protected get decoupled(): boolean {
    return false;
  }

  constructor(params: Params<AdamOptions>, opts: Partial<AdamOptions> = {}) {
    super(params, withDefaults(ADAM_DEFAULTS, opts));
  }

  protected override validate(group: ParamGroup<AdamOptions>): void {
    super.validate(group);
    validateBetas(group.betas);
    if (!(group.eps >= 0)) throw new Error(`invalid eps: ${group.eps}`);
    if (!(group.weightDecay >= 0)) throw new Error(`invalid weightDecay: ${group.weightDecay}`);
  }

  protected updateParam(p: Tensor, grad: Tensor, group: ParamGroup<AdamOptions>): void {
    const { lr, eps, weightDecay, amsgrad, maximize } = group;
    const [beta1, beta2] = group.betas;
    let g = maximize ? grad.neg() : grad;
    const s = this.stateOf(p, () => ({ step: 0, expAvg: zerosLike(p).keep(), expAvgSq: zerosLike(p).keep() }));
    s.step += 1;
    if (weightDecay !== 0) {
      if (this.decoupled) p.mul_(1 - lr * weightDecay);
      else g = g.add(p, { alpha: weightDecay });
    }
    s.expAvg.mul_(beta1).add_(g, { alpha: 1 - beta1 });
    s.expAvgSq.mul_(beta2).addcmul_(g, g, { value: 1 - beta2 });
    // Bias corrections in float64 on the host, as PyTorch does with Python floats.
    const stepSize = lr / (1 - beta1 ** s.step);
    const bc2Sqrt = Math.sqrt(1 - beta2 ** s.step);
    let second = s.expAvgSq;
    if (amsgrad) {
      s.maxExpAvgSq ??= zerosLike(p).keep();
      s.maxExpAvgSq.copy_(maximum(s.maxExpAvgSq, s.expAvgSq));
      second = s.maxExpAvgSq;
    }
    // In place after the one allocation: same values as PyTorch's (sqrt / c).add_(eps).
    const denom = second.sqrt().div_(bc2Sqrt).add_(eps);
    p.addcdiv_(s.expAvg, denom, { value: -stepSize });
  }
}

/** torch.optim.AdamW (Loshchilov & Hutter, 2019): weight decay applied to the weights, not the gradient. */
export class AdamW extends Adam {
  protected override get decoupled(): boolean {
    return true;
  }

  constructor(params: Params<AdamOptions>, opts: Partial<AdamOptions> = {}) {
    super(params, withDefaults({ weightDecay: 1e-2 } as Partial<AdamOptions>, opts));
  }
}

export function validateBetas(betas: [number, number]): void {
  if (!Array.isArray(betas) || betas.length !== 2 || betas.some((b) => !(b >= 0 && b < 1))) {
    throw new Error(`invalid betas: ${JSON.stringify(betas)} (each in [0, 1))`);
  }
}
