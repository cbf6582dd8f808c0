// Observation models p(x|z). The decoder gives one location per data dimension (a mean or logits);
// scales, when there are any, are parameters of the likelihood itself. That keeps every decoder,
// including the LIDVAE's Brenier map (whose output has the data's size), interchangeable.
import { Module } from '../nn/module.js';
import { Parameter } from '../nn/parameter.js';
import { full, scalarTensor } from '../torch/creation.js';
import type { Tensor } from '../torch/tensor.js';
import { bernoulliLogProb, discretizedLogisticLogProb, normalLogProb } from './distributions.js';

export type LikelihoodKind = 'gaussian' | 'bernoulli' | 'logistic';
export const LIKELIHOODS: LikelihoodKind[] = ['gaussian', 'bernoulli', 'logistic'];

export abstract class Likelihood extends Module<[Tensor, Tensor], Tensor> {
  abstract readonly kind: LikelihoodKind;

  /** log p(x | loc) summed over the last (data) dimension; loc may carry extra leading sample dims. */
  abstract override forward(x: Tensor, loc: Tensor): Tensor;

  /** E[x | loc], for reconstructions and sample grids. */
  abstract mean(loc: Tensor): Tensor;
}

/** N(loc, σ²I): σ² fixed (iVAE uses 0.01) or learned per dimension. */
export class GaussianLikelihood extends Likelihood {
  readonly kind = 'gaussian';
  readonly logVar: Tensor;
  readonly learned: boolean;

  constructor(dim: number, opts: { variance?: number | 'learned' } = {}) {
    super();
    const v = opts.variance ?? 'learned';
    this.learned = v === 'learned';
    if (!this.learned && !((v as number) > 0)) throw new Error(`GaussianLikelihood: variance must be > 0, got ${v}`);
    this.logVar = this.learned
      ? this.registerParameter('logVar', Parameter.adopt(full([dim], 0)))
      : this.registerBuffer('logVar', scalarTensor(Math.log(v as number)));
  }

  forward(x: Tensor, loc: Tensor): Tensor {
    return normalLogProb(x, loc, this.logVar).sum(-1);
  }

  mean(loc: Tensor): Tensor {
    return loc;
  }
}

/** Bernoulli(σ(loc)) on binary data. */
export class BernoulliLikelihood extends Likelihood {
  readonly kind = 'bernoulli';

  forward(x: Tensor, loc: Tensor): Tensor {
    return bernoulliLogProb(x, loc).sum(-1);
  }

  mean(loc: Tensor): Tensor {
    return loc.sigmoid();
  }
}

/** A logistic binned to `levels` grey levels in [0, 1], with a learned log-scale per dimension. */
export class DiscretizedLogisticLikelihood extends Likelihood {
  readonly kind = 'logistic';
  readonly logScale: Parameter;

  constructor(
    dim: number,
    readonly levels: number,
  ) {
    super();
    if (!Number.isInteger(levels) || levels < 2) throw new Error(`levels must be an integer ≥ 2, got ${levels}`);
    this.logScale = this.registerParameter('logScale', Parameter.adopt(full([dim], Math.log(0.1))));
  }

  forward(x: Tensor, loc: Tensor): Tensor {
    return discretizedLogisticLogProb(x, loc, this.logScale.clampMin(-7), this.levels).sum(-1);
  }

  mean(loc: Tensor): Tensor {
    return loc.clamp(0, 1);
  }
}

export function makeLikelihood(
  kind: LikelihoodKind,
  dim: number,
  opts: { variance?: number | 'learned'; levels?: number } = {},
): Likelihood {
  switch (kind) {
    case 'gaussian':
      return new GaussianLikelihood(dim, { variance: opts.variance });
    case 'bernoulli':
      return new BernoulliLikelihood();
    case 'logistic':
      return new DiscretizedLogisticLikelihood(dim, opts.levels ?? 256);
    default:
      throw new Error(`unknown likelihood '${kind}' (one of ${LIKELIHOODS.join(', ')})`);
  }
}
