// Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay.
import type { Tensor } from '../torch/tensor.js';
import { Optimizer, type ParamGroup, type Params, withDefaults } from './optimizer.js';

/**
 * Options of {@link SGD}: lr (required), momentum (0), dampening (0), weight decay (0), nesterov
 * and maximize (false).
 */
export interface SGDOptions {
  /** The step size; no default. */
  lr: number;
  /** Momentum factor; 0 for plain SGD. */
  momentum: number;
  /** Shrinks the new gradient's share of the momentum buffer: buffer ← momentum·buffer + (1 − dampening)·gradient. */
  dampening: number;
  /** L2 penalty, added to the gradient. */
  weightDecay: number;
  /** Use Nesterov momentum (needs a momentum and zero dampening). */
  nesterov: boolean;
  /** Ascend instead of descend. */
  maximize: boolean;
}

/** Per-parameter state of {@link SGD}: the momentum buffer, when momentum is used. */
export type SGDState = { momentumBuffer: Tensor };

/** torch.optim.SGD; the update is the one of PyTorch 1.13's single-tensor loop. */
export class SGD extends Optimizer<SGDOptions, SGDState> {
  constructor(params: Params<SGDOptions>, opts: Partial<SGDOptions> & { lr: number }) {
    super(
      params,
      withDefaults<SGDOptions>(
        { lr: opts.lr, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false },
        opts,
      ),
    );
  }

  protected override validate(group: ParamGroup<SGDOptions>): void {
    super.validate(group);
    if (!(group.momentum >= 0)) throw new Error(`invalid momentum: ${group.momentum}`);
    if (!(group.weightDecay >= 0)) throw new Error(`invalid weightDecay: ${group.weightDecay}`);
    if (group.nesterov && (group.momentum <= 0 || group.dampening !== 0)) {
      throw new Error('Nesterov momentum needs a momentum and zero dampening');
    }
  }

  protected updateParam(p: Tensor, grad: Tensor, group: ParamGroup<SGDOptions>): void {
    const { lr, momentum, dampening, weightDecay, nesterov, maximize } = group;
    let d = maximize ? grad.neg() : grad;
    if (weightDecay !== 0) d = d.add(p, { alpha: weightDecay });
    if (momentum !== 0) {
      let s = this.state.get(p);
      if (s === undefined) {
        // The buffer starts as the first gradient, not as zeros.
        s = { momentumBuffer: d.clone().keep() };
        this.state.set(p, s);
      } else {
        s.momentumBuffer.mul_(momentum).add_(d, { alpha: 1 - dampening });
      }
      d = nesterov ? d.add(s.momentumBuffer, { alpha: momentum }) : s.momentumBuffer;
    }
    p.add_(d, { alpha: -lr });
  }
}
