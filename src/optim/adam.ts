// Adam (optionally AMSGrad) and AdamW, whose weight decay shrinks the weights directly.
import { zerosLike } from '../torch/creation.js';
import {
  _foreachAdd__List,
  _foreachAdd__Scalar,
  _foreachAdd_List,
  _foreachAddcdiv__ScalarList,
  _foreachAddcmul__Scalar,
  _foreachDiv__ScalarList,
  _foreachMaximum__List,
  _foreachMul__Scalar,
  _foreachNeg,
  _foreachSqrt,
} from '../torch/generated/ops.js';
import type { Tensor } from '../torch/tensor.js';
import { Optimizer, type ParamGroup, type Params, withDefaults } from './optimizer.js';

/**
 * Options of {@link Adam} and {@link AdamW}: lr (default 1e-3), betas ([0.9, 0.999]), eps (1e-8),
 * weight decay (0 for Adam, 1e-2 for AdamW), amsgrad and maximize (false).
 */
export interface AdamOptions {
  /** The step size. */
  lr: number;
  /** Decay rates of the first and second moment averages. */
  betas: [number, number];
  /** Added to the denominator for stability. */
  eps: number;
  /** Adam: L2 penalty added to the gradient. AdamW: decoupled decay, p ← p·(1 − lr·weightDecay). */
  weightDecay: number;
  /** Normalise by the running maximum of the second moment (Reddi et al., 2018). */
  amsgrad: boolean;
  /** Ascend instead of descend. */
  maximize: boolean;
}

/**
 * Per-parameter state of {@link Adam}: the step count, the moving averages of the gradient and its
 * square, and with amsgrad their running maximum.
 */
export type AdamState = { step: number; expAvg: Tensor; expAvgSq: Tensor; maxExpAvgSq?: Tensor };

const ADAM_DEFAULTS: AdamOptions = {
  lr: 1e-3,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 0,
  amsgrad: false,
  maximize: false,
};

/** torch.optim.Adam; the update is the one of PyTorch 1.13 (multi-tensor form, same values). */
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
    this.updateGroup([p], [grad], group);
  }

  // PyTorch's multi-tensor Adam: each line is one native call over the whole group, with the
  // same elementwise arithmetic as its single-tensor loop, so the values are bit-identical to it.
  protected override updateGroup(params: Tensor[], grads: Tensor[], group: ParamGroup<AdamOptions>): void {
    const { lr, eps, weightDecay, amsgrad, maximize } = group;
    const [beta1, beta2] = group.betas;
    const states = params.map((p) =>
      this.stateOf(p, () => ({ step: 0, expAvg: zerosLike(p).keep(), expAvgSq: zerosLike(p).keep() })),
    );
    for (const s of states) s.step += 1;
    let g = maximize ? _foreachNeg(grads) : grads;
    if (weightDecay !== 0) {
      if (this.decoupled) _foreachMul__Scalar(params, 1 - lr * weightDecay);
      else g = _foreachAdd_List(g, params, { alpha: weightDecay });
    }
    const expAvg = states.map((s) => s.expAvg);
    const expAvgSq = states.map((s) => s.expAvgSq);
    _foreachMul__Scalar(expAvg, beta1);
    _foreachAdd__List(expAvg, g, { alpha: 1 - beta1 });
    _foreachMul__Scalar(expAvgSq, beta2);
    _foreachAddcmul__Scalar(expAvgSq, g, g, { value: 1 - beta2 });
    let second = expAvgSq;
    if (amsgrad) {
      second = states.map((s, i) => {
        s.maxExpAvgSq ??= zerosLike(params[i]).keep();
        return s.maxExpAvgSq;
      });
      _foreachMaximum__List(second, expAvgSq);
    }
    // Bias corrections in float64 on the host, as PyTorch does with Python floats; the
    // denominator is computed in place after one allocation, as (sqrt / c).add_(eps).
    const denom = _foreachSqrt(second);
    _foreachDiv__ScalarList(
      denom,
      states.map((s) => Math.sqrt(1 - beta2 ** s.step)),
    );
    _foreachAdd__Scalar(denom, eps);
    _foreachAddcdiv__ScalarList(
      params,
      expAvg,
      denom,
      states.map((s) => -lr / (1 - beta1 ** s.step)),
    );
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
