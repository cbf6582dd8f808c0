// RAdam (Liu et al., 2020): Adam whose adaptive step is switched on, and rectified, once the
// variance of the second-moment estimate is tractable.
import { zerosLike } from '../torch/creation.js';
import type { Tensor } from '../torch/tensor.js';
import { validateBetas } from './adam.js';
import { cPow } from './libm.js';
import { Optimizer, type ParamGroup, type Params, withDefaults } from './optimizer.js';

/** Options of {@link RAdam}: lr (default 1e-3), betas ([0.9, 0.999]), eps (1e-8) and weight decay (0). */
export interface RAdamOptions {
  /** The step size. */
  lr: number;
  /** Decay rates of the first and second moment averages. */
  betas: [number, number];
  /** Added to the denominator for stability. */
  eps: number;
  /** L2 penalty, added to the gradient. */
  weightDecay: number;
}

/** Per-parameter state of {@link RAdam}: the step count and the moving averages of the gradient and its square. */
export type RAdamState = { step: number; expAvg: Tensor; expAvgSq: Tensor };

/** torch.optim.RAdam; the update is the one of PyTorch 1.13's single-tensor loop. */
export class RAdam extends Optimizer<RAdamOptions, RAdamState> {
  constructor(params: Params<RAdamOptions>, opts: Partial<RAdamOptions> = {}) {
    super(params, withDefaults<RAdamOptions>({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 }, opts));
  }

  protected override validate(group: ParamGroup<RAdamOptions>): void {
    super.validate(group);
    validateBetas(group.betas);
    if (!(group.eps >= 0)) throw new Error(`invalid eps: ${group.eps}`);
    if (!(group.weightDecay >= 0)) throw new Error(`invalid weightDecay: ${group.weightDecay}`);
  }

  protected updateParam(p: Tensor, grad: Tensor, group: ParamGroup<RAdamOptions>): void {
    const { lr, eps, weightDecay } = group;
    const [beta1, beta2] = group.betas;
    const s = this.stateOf(p, () => ({ step: 0, expAvg: zerosLike(p).keep(), expAvgSq: zerosLike(p).keep() }));
    s.step += 1;
    const step = s.step;
    const biasCorrection1 = 1 - cPow(beta1, step);
    const biasCorrection2 = 1 - cPow(beta2, step);
    const g = weightDecay !== 0 ? grad.add(p, { alpha: weightDecay }) : grad;
    s.expAvg.mul_(beta1).add_(g, { alpha: 1 - beta1 });
    s.expAvgSq.mul_(beta2).addcmul_(g, g, { value: 1 - beta2 });
    const corrected = s.expAvg.div(biasCorrection1);
    // Length of the approximated simple moving average, at infinity and at this step.
    const rhoInf = 2 / (1 - beta2) - 1;
    const rhoT = rhoInf - (2 * step * cPow(beta2, step)) / biasCorrection2;
    if (rhoT > 5) {
      const rect = Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
      // A number divided by a tensor is a reciprocal times the number in PyTorch.
      const adaptiveLr = s.expAvgSq.sqrt().add_(eps).reciprocal().mul(Math.sqrt(biasCorrection2));
      p.add_(corrected.mul(lr).mul(adaptiveLr).mul(rect), { alpha: -1 });
    } else {
      p.add_(corrected.mul(lr), { alpha: -1 });
    }
  }
}
