// The LIDVAE decoder: logits = ∇g2(W·∇g1(z) + b), with g1, g2 input-convex networks and W a
// full-rank linear map. Each factor is injective, so z ↦ p(x|z) is too and the latent is identifiable.

import { Linear } from '../nn/layers/linear.js';
import { Module } from '../nn/module.js';
import { noGrad } from '../torch/autograd.js';
import { linalg } from '../torch/functions.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import { BrenierMap, ICNN, type IcnnOptions } from './icnn.js';

export interface BrenierDecoderOptions {
  /** Width of g1's hidden layers (default 64). */
  hidden1?: number;
  /** Width of g2's hidden layers (default 128); g2's first layer is as wide as the data. */
  hidden2?: number;
  depth?: number;
  activation?: IcnnOptions['activation'];
  positivity?: IcnnOptions['positivity'];
  /** Initial α of each potential's (α/2)‖x‖² term (default 1; 0 for a bare ICNN). */
  quadratic?: number;
  /** Singular values of W are clipped into this range after every optimiser step (default [1e-5, 10]). */
  singularRange?: [number, number];
}

export class BrenierDecoder extends Module<[Tensor], Tensor> {
  readonly g1: BrenierMap;
  readonly linear: Linear;
  readonly g2: BrenierMap;
  readonly singularRange: [number, number];

  constructor(
    readonly latentDim: number,
    readonly dataDim: number,
    opts: BrenierDecoderOptions = {},
  ) {
    super();
    if (dataDim < latentDim) throw new Error(`BrenierDecoder: W must be injective, so dataDim ≥ latentDim`);
    const common = {
      depth: opts.depth,
      activation: opts.activation,
      positivity: opts.positivity,
      quadratic: opts.quadratic,
    };
    this.g1 = this.registerModule('g1', new BrenierMap(new ICNN(latentDim, { hidden: opts.hidden1 ?? 64, ...common })));
    this.linear = this.registerModule('linear', new Linear(latentDim, dataDim));
    this.g2 = this.registerModule(
      'g2',
      new BrenierMap(new ICNN(dataDim, { hidden: opts.hidden2 ?? 128, firstWidth: dataDim, ...common })),
    );
    this.singularRange = opts.singularRange ?? [1e-5, 10];
    this.clipSingularValues_();
  }

  forward(z: Tensor): Tensor {
    return this.g2.forward(this.linear.forward(this.g1.forward(z)));
  }

  /** Projects W onto {singular values in range}, keeping it full rank; call after each optimiser step. */
  clipSingularValues_(): void {
    const [lo, hi] = this.singularRange;
    noGrad(() =>
      tidy(() => {
        const w = this.linear.weight;
        const [u, s, vh] = linalg.svd(w, { fullMatrices: false });
        w.copy_(u.mul(s.clamp(lo, hi).unsqueeze(0)).matmul(vh));
      }),
    );
  }

  /** W's singular values, largest first. */
  singularValues(): number[] {
    return noGrad(() => tidy(() => Array.from(linalg.svdvals(this.linear.weight).toTypedArray() as Float32Array)));
  }
}
