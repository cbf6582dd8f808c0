// Rprop (Riedmiller & Braun, 1993): per-coordinate step sizes that grow while the gradient keeps
// its sign and shrink when it flips; only the gradient's sign is used.
import { fullLike, zerosLike } from '../torch/creation.js';
import type { Tensor } from '../torch/tensor.js';
import { Optimizer, type ParamGroup, type Params, withDefaults } from './optimizer.js';

/**
 * Options of {@link Rprop}: lr (the initial step, default 1e-2), etas ([0.5, 1.2]), step sizes
 * ([1e-6, 50]) and maximize (false).
 */
export interface RpropOptions {
  /** The initial step size. */
  lr: number;
  /** [shrink, grow] factors, with 0 < shrink < 1 < grow. */
  etas: [number, number];
  /** [minimum, maximum] step sizes. */
  stepSizes: [number, number];
  /** Ascend instead of descend. */
  maximize: boolean;
}

/** Per-parameter state of {@link Rprop}: the step count, the previous gradient and each element's step size. */
export type RpropState = { step: number; prev: Tensor; stepSize: Tensor };

/** torch.optim.Rprop; the update is the one of PyTorch 1.13's single-tensor loop. */
export class Rprop extends Optimizer<RpropOptions, RpropState> {
  constructor(params: Params<RpropOptions>, opts: Partial<RpropOptions> = {}) {
    super(
      params,
      withDefaults<RpropOptions>({ lr: 1e-2, etas: [0.5, 1.2], stepSizes: [1e-6, 50], maximize: false }, opts),
    );
  }

  protected override validate(group: ParamGroup<RpropOptions>): void {
    super.validate(group);
    const [minus, plus] = group.etas;
    if (!(minus > 0 && minus < 1 && plus > 1))
      throw new Error(`invalid etas: ${minus}, ${plus} (0 < shrink < 1 < grow)`);
  }

  protected updateParam(p: Tensor, grad: Tensor, group: ParamGroup<RpropOptions>): void {
    const [etaMinus, etaPlus] = group.etas;
    const [minStep, maxStep] = group.stepSizes;
    const s = this.stateOf(p, () => ({
      step: 0,
      prev: zerosLike(p).keep(),
      stepSize: fullLike(grad, group.lr).keep(),
    }));
    s.step += 1;
    const g = group.maximize ? grad.neg() : grad;
    const sign = g.mul(s.prev).sign();
    sign.maskedFill_(sign.gt(0), etaPlus);
    sign.maskedFill_(sign.lt(0), etaMinus);
    sign.maskedFill_(sign.eq(0), 1);
    s.stepSize.mul_(sign).clamp_(minStep, maxStep);
    // Where the sign flipped, skip this step and forget the gradient, so the next step does not shrink again.
    const kept = g.clone().maskedFill_(sign.eq(etaMinus), 0);
    p.addcmul_(kept.sign(), s.stepSize, { value: -1 });
    s.prev.copy_(kept);
  }
}
