// Elementwise nonlinearities as modules.
import type { Tensor } from '../../torch/tensor.js';
import * as F from '../functional.js';
import { Module } from '../module.js';

/** max(x, 0) elementwise, as a layer. */
export class ReLU extends Module<[Tensor], Tensor> {
  /** Applies max(x, 0) to every element. */
  forward(x: Tensor): Tensor {
    return F.relu(x);
  }
}

/** x for positive x, negativeSlope·x otherwise (negativeSlope 0.01 by default), as a layer. */
export class LeakyReLU extends Module<[Tensor], Tensor> {
  readonly negativeSlope: number;
  constructor(opts: { negativeSlope?: number } = {}) {
    super();
    this.negativeSlope = opts.negativeSlope ?? 0.01;
  }
  /** Applies the leaky ReLU with this layer's negativeSlope. */
  forward(x: Tensor): Tensor {
    return F.leakyRelu(x, { negativeSlope: this.negativeSlope });
  }
  override extraRepr(): string {
    return `negativeSlope=${this.negativeSlope}`;
  }
}

/** x·sigmoid(x) elementwise (also called swish), as a layer. */
export class SiLU extends Module<[Tensor], Tensor> {
  /** Applies x·sigmoid(x) to every element. */
  forward(x: Tensor): Tensor {
    return F.silu(x);
  }
}

/** x·Φ(x) elementwise, with Φ the standard normal CDF, exact or (approximate: 'tanh') by a tanh formula; as a layer. */
export class GELU extends Module<[Tensor], Tensor> {
  readonly approximate: 'none' | 'tanh';
  constructor(opts: { approximate?: 'none' | 'tanh' } = {}) {
    super();
    this.approximate = opts.approximate ?? 'none';
  }
  /** Applies the GELU, exact or tanh-approximated as configured. */
  forward(x: Tensor): Tensor {
    return F.gelu(x, { approximate: this.approximate });
  }
  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/** The hyperbolic tangent elementwise, as a layer. */
export class Tanh extends Module<[Tensor], Tensor> {
  /** Applies tanh to every element. */
  forward(x: Tensor): Tensor {
    return F.tanh(x);
  }
}

/** The logistic sigmoid 1 / (1 + e^−x) elementwise, as a layer. */
export class Sigmoid extends Module<[Tensor], Tensor> {
  /** Applies the logistic sigmoid to every element. */
  forward(x: Tensor): Tensor {
    return F.sigmoid(x);
  }
}

/**
 * log(1 + e^(beta·x)) / beta elementwise, linear above threshold for stability (beta 1, threshold
 * 20 by default); as a layer.
 */
export class Softplus extends Module<[Tensor], Tensor> {
  readonly beta: number;
  readonly threshold: number;
  constructor(opts: { beta?: number; threshold?: number } = {}) {
    super();
    this.beta = opts.beta ?? 1;
    this.threshold = opts.threshold ?? 20;
  }
  /** Applies the softplus with this layer's beta and threshold. */
  forward(x: Tensor): Tensor {
    return F.softplus(x, { beta: this.beta, threshold: this.threshold });
  }
  override extraRepr(): string {
    return `beta=${this.beta}, threshold=${this.threshold}`;
  }
}

/** x for positive x, alpha·(e^x − 1) otherwise (alpha 1 by default), as a layer. */
export class ELU extends Module<[Tensor], Tensor> {
  readonly alpha: number;
  constructor(opts: { alpha?: number } = {}) {
    super();
    this.alpha = opts.alpha ?? 1;
  }
  /** Applies the ELU with this layer's alpha. */
  forward(x: Tensor): Tensor {
    return F.elu(x, { alpha: this.alpha });
  }
  override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/** Softmax along a dim, as a layer. */
export class Softmax extends Module<[Tensor], Tensor> {
  constructor(readonly dim: number) {
    super();
  }
  /** Softmax of x along this layer's dim. */
  forward(x: Tensor): Tensor {
    return F.softmax(x, this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}
