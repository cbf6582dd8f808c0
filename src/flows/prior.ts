// The priors of a multi-scale flow: a learned conditional prior at each split, and the top prior.
import { Module } from '../nn/module.js';
import { Parameter } from '../nn/parameter.js';
import { zeros } from '../torch/creation.js';
import { cat } from '../torch/functions.js';
import type { Tensor } from '../torch/tensor.js';
import { ZeroConv2d } from './coupling.js';
import { fromEps, gaussianLogp } from './gaussian.js';

/**
 * Split: of a level's C channels, z2 (the second half) leaves the flow and is scored under
 * N(mean(z1), exp(logs(z1))²), where a zero-initialised conv of z1, the half that goes on, gives
 * mean and logs. Its latent is the standardised eps = (z2 − mean) / exp(logs).
 */
export class Split extends Module<[Tensor], { z1: Tensor; logp: Tensor; eps: Tensor }> {
  readonly prior: ZeroConv2d;

  constructor(readonly channels: number) {
    super();
    if (channels % 2 !== 0) throw new Error(`Split: needs an even channel count, got ${channels}`);
    this.prior = this.registerModule('prior', new ZeroConv2d(channels / 2, channels));
  }

  /** [mean, logs] of z2 given z1. */
  params(z1: Tensor): [Tensor, Tensor] {
    const [mean, logs] = this.prior.forward(z1).chunk(2, 1);
    return [mean, logs];
  }

  /** z1 goes on; z2 is scored (logp, [B]) and returned standardised (eps). */
  forward(z: Tensor): { z1: Tensor; logp: Tensor; eps: Tensor } {
    const [z1, z2] = z.chunk(2, 1);
    const [mean, logs] = this.params(z1);
    return { z1, ...gaussianLogp(z2, mean, logs) };
  }

  /** Rebuilds the level's channels from z1 and eps (scaled beforehand for temperature sampling). */
  reverse(z1: Tensor, eps: Tensor): Tensor {
    const [mean, logs] = this.params(z1);
    return cat([z1, fromEps(eps, mean, logs)], 1);
  }
}

export interface TopPriorOptions {
  /** Learn a mean and log-std per position and channel (the reference's learntop); else N(0, I). */
  learnTop?: boolean;
  /** > 0: add a learned per-class mean and log-std (the reference's ycond). */
  numClasses?: number;
}

/** The prior of the last level's output [C, H, W]: learned, and optionally class-conditional. */
export class TopPrior extends Module<[number, Tensor?], [Tensor, Tensor]> {
  readonly top: Parameter | null;
  readonly classEmbedding: Parameter | null;
  readonly numClasses: number;

  constructor(
    readonly shape: [number, number, number],
    opts: TopPriorOptions = {},
  ) {
    super();
    const [c, h, w] = shape;
    this.numClasses = opts.numClasses ?? 0;
    // Zero-initialised, so training starts from N(0, I) as the reference's conv2d_zeros/linear_zeros.
    this.top = this.registerParameter('top', opts.learnTop === false ? null : Parameter.adopt(zeros([1, 2 * c, h, w])));
    this.classEmbedding = this.registerParameter(
      'classEmbedding',
      this.numClasses > 0 ? Parameter.adopt(zeros([this.numClasses, 2 * c])) : null,
    );
  }

  /** [mean, logs], each broadcastable to [B, C, H, W]. */
  forward(batch: number, y?: Tensor): [Tensor, Tensor] {
    const [c, h, w] = this.shape;
    let p: Tensor = this.top ?? zeros([1, 2 * c, h, w], { dtype: this.dtype() });
    if (this.classEmbedding) {
      if (!y) throw new Error('TopPrior: this prior is class-conditional; pass labels y');
      if (y.shape[0] !== batch) throw new Error(`TopPrior: ${y.shape[0]} labels for a batch of ${batch}`);
      p = this.classEmbedding
        .indexSelect(0, y)
        .view(batch, 2 * c, 1, 1)
        .add(p);
    }
    const [mean, logs] = p.chunk(2, 1);
    return [mean, logs];
  }

  private dtype() {
    return this.classEmbedding?.dtype ?? 'float32';
  }
}
