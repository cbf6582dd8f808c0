// The plain networks of the VAE family: activations by name and a multilayer perceptron.

import * as F from '../nn/functional.js';
import * as init from '../nn/init.js';
import { ModuleList } from '../nn/layers/container.js';
import { Linear } from '../nn/layers/linear.js';
import { Module } from '../nn/module.js';
import type { Tensor } from '../torch/tensor.js';

export type Activation = 'lrelu' | 'xtanh' | 'relu' | 'tanh' | 'softplus' | 'none';
export const ACTIVATIONS: Activation[] = ['lrelu', 'xtanh', 'relu', 'tanh', 'softplus', 'none'];

/** Applies a named nonlinearity; lrelu and xtanh use `slope` (iVAE's code uses 0.1 for both). */
export function activate(x: Tensor, activation: Activation, slope = 0.1): Tensor {
  switch (activation) {
    case 'lrelu':
      return F.leakyRelu(x, { negativeSlope: slope });
    case 'xtanh':
      return x.tanh().add(x.mul(slope));
    case 'relu':
      return F.relu(x);
    case 'tanh':
      return x.tanh();
    case 'softplus':
      return F.softplus(x);
    case 'none':
      return x;
    default:
      throw new Error(`unknown activation '${activation}' (one of ${ACTIVATIONS.join(', ')})`);
  }
}

export interface MlpOptions {
  /** Width of each hidden layer; [] gives a single linear map. */
  hidden: number[];
  activation?: Activation;
  slope?: number;
  /** Xavier-uniform weights (iVAE's init) instead of PyTorch's default. */
  xavier?: boolean;
  /** With `xavier`, also zero the biases (default true); ilkhem/iVAE keeps PyTorch's default biases. */
  zeroBias?: boolean;
}

/** Linear layers with a nonlinearity between them (none after the last). */
export class MLP extends Module<[Tensor], Tensor> {
  readonly layers: ModuleList<Linear>;
  readonly activation: Activation;
  readonly slope: number;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: MlpOptions,
  ) {
    super();
    const sizes = [inFeatures, ...opts.hidden, outFeatures];
    this.activation = opts.activation ?? 'lrelu';
    this.slope = opts.slope ?? 0.1;
    this.layers = this.registerModule('layers', new ModuleList<Linear>());
    for (let i = 0; i + 1 < sizes.length; i++) {
      const layer = new Linear(sizes[i], sizes[i + 1]);
      if (opts.xavier) {
        init.xavierUniform_(layer.weight);
        if (opts.zeroBias ?? true) init.zeros_(layer.bias!);
      }
      this.layers.append(layer);
    }
  }

  forward(x: Tensor): Tensor {
    let h = x;
    const n = this.layers.length;
    for (let i = 0; i < n; i++) {
      h = this.layers.at(i).forward(h);
      if (i < n - 1) h = activate(h, this.activation, this.slope);
    }
    return h;
  }

  override extraRepr(): string {
    return `${this.inFeatures} → ${this.outFeatures}, activation=${this.activation}`;
  }
}
