// Dropout: random zeroing while training, the identity in eval mode.
import type { Generator } from '../../torch/random.js';
import type { Tensor } from '../../torch/tensor.js';
import * as F from '../functional.js';
import { Module } from '../module.js';

/**
 * While training, zeroes each element with probability p (default 0.5) and scales the rest by 1/(1
 * − p); the identity in eval mode.
 */
export class Dropout extends Module<[Tensor], Tensor> {
  readonly generator: Generator | undefined;

  constructor(
    readonly p = 0.5,
    opts: { generator?: Generator } = {},
  ) {
    super();
    if (!(p >= 0 && p <= 1)) throw new Error(`Dropout: p must be in [0, 1], got ${p}`);
    this.generator = opts.generator;
  }

  /** Drops elements at random while training; returns x unchanged in eval mode. */
  forward(x: Tensor): Tensor {
    return F.dropout(x, { p: this.p, training: this.training, generator: this.generator });
  }

  override extraRepr(): string {
    return `p=${this.p}`;
  }
}
