// NAdam (Dozat, 2016): Adam with Nesterov momentum and a momentum schedule.
import { zerosLike } from '../torch/creation.js';
import type { Tensor } from '../torch/tensor.js';
import { validateBetas } from './adam.js';
import { Optimizer, type ParamGroup, type Params, withDefaults } from './optimizer.js';

/**
 * Options of {@link NAdam}: lr (default 2e-3), betas ([0.9, 0.999]), eps (1e-8), weight decay (0)
 * and momentum decay (4e-3).
 */
export interface NAdamOptions {
  /** The step size. */
  lr: number;
  /** Decay rates of the first and second moment averages. */
  betas: [number, number];
  /** Added to the denominator for stability. */
  eps: number;
  /** L2 penalty, added to the gradient. */
  weightDecay: number;
  /** ψ of the schedule μ_t = β1·(1 − ½·0.96^(t·ψ)). */
  momentumDecay: number;
}

/** muProduct is the float32 running product of the μ_t, as PyTorch keeps it in a float32 tensor. */
export type NAdamState = { step: number; muProduct: number; expAvg: Tensor; expAvgSq: Tensor };

/** torch.optim.NAdam; the update is the one of PyTorch 1.13's single-tensor loop. */
export class NAdam extends Optimizer<NAdamOptions, NAdamState> {
  constructor(params: Params<NAdamOptions>, opts: Partial<NAdamOptions> = {}) {
    super(
      params,
      withDefaults<NAdamOptions>(
        { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3 },
        opts,
      ),
    );
  }

  protected override validate(group: ParamGroup<NAdamOptions>): void {
    super.validate(group);
    validateBetas(group.betas);
    if (!(group.eps >= 0)) throw new Error(`invalid eps: ${group.eps}`);
    if (!(group.weightDecay >= 0)) throw new Error(`invalid weightDecay: ${group.weightDecay}`);
    if (!(group.momentumDecay >= 0)) throw new Error(`invalid momentumDecay: ${group.momentumDecay}`);
  }

  protected updateParam(p: Tensor, grad: Tensor, group: ParamGroup<NAdamOptions>): void {
    const { lr, eps, weightDecay, momentumDecay } = group;
    const [beta1, beta2] = group.betas;
    const s = this.stateOf(p, () => ({
      step: 0,
      muProduct: 1,
      expAvg: zerosLike(p).keep(),
      expAvgSq: zerosLike(p).keep(),
    }));
    s.step += 1;
    const step = s.step;
    const biasCorrection2 = 1 - beta2 ** step;
    const g = weightDecay !== 0 ? grad.add(p, { alpha: weightDecay }) : grad;
    const mu = beta1 * (1 - 0.5 * 0.96 ** (step * momentumDecay));
    const muNext = beta1 * (1 - 0.5 * 0.96 ** ((step + 1) * momentumDecay));
    // float32 products, as PyTorch's 0-dim float32 tensor times a Python float.
    s.muProduct = Math.fround(s.muProduct * Math.fround(mu));
    const muProductNext = Math.fround(Math.fround(s.muProduct * Math.fround(mu)) * Math.fround(muNext));
    s.expAvg.mul_(beta1).add_(g, { alpha: 1 - beta1 });
    s.expAvgSq.mul_(beta2).addcmul_(g, g, { value: 1 - beta2 });
    const denom = s.expAvgSq.div(biasCorrection2).sqrt().add_(eps);
    p.addcdiv_(g, denom, { value: (-lr * (1 - mu)) / (1 - s.muProduct) });
    p.addcdiv_(s.expAvg, denom, { value: (-lr * muNext) / (1 - muProductNext) });
  }
}
