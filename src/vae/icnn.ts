// Input-convex neural networks (Amos, Xu & Kolter, 2017) and the Brenier maps they define: the
// gradient of a convex function is a monotone map, injective when the function is strictly convex,
// which is what makes the LIDVAE decoder latent-identifiable (Wang, Blei & Cunningham, 2021).

import * as F from '../nn/functional.js';
import { ModuleList } from '../nn/layers/container.js';
import { Linear } from '../nn/layers/linear.js';
import { Module } from '../nn/module.js';
import { Parameter } from '../nn/parameter.js';
import { enableGrad, grad, isGradEnabled, noGrad } from '../torch/autograd.js';
import { empty, full } from '../torch/creation.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';

export interface IcnnOptions {
  /** Width of the hidden layers after the first. */
  hidden: number;
  /** Layers after the first, the last of which has one output (default 2). */
  depth?: number;
  /** Width of the first, squared layer (default `hidden`; the LIDVAE uses the input size for g2). */
  firstWidth?: number;
  /** Convex, non-decreasing activation of the later layers (default lrelu). */
  activation?: 'lrelu' | 'softplus';
  /** Negative slope of the leaky ReLUs, first layer included (default 0.2, TensorFlow's). */
  slope?: number;
  /**
   * How hidden-to-hidden weights are kept non-negative: softplus of a free parameter (strictly
   * positive, so the Hessian stays full rank), or clamping at 0 in the forward pass.
   */
  positivity?: 'softplus' | 'clamp';
  /**
   * Initial α of a learned (α/2)‖x‖² term (α = softplus of a free parameter; default 1, 0 for none).
   * It keeps g strongly convex, so ∇g is injective by construction, and makes ∇g ≈ α·x at
   * initialisation: without it the Hessian of a freshly initialised ICNN is ~1/width and a decoder
   * built from two of them starts almost insensitive to z (its posterior collapses at once).
   */
  quadratic?: number;
}

/**
 * g(x) = h_K with h_0 = leaky_relu(W_0 x + b_0)² and h_{k+1} = σ(W⁺_k h_k + A_k x + b_k), where W⁺_k ≥ 0
 * and σ is convex and non-decreasing: each h_k is convex in x, so g is. Returns g(x) as [B].
 */
export class ICNN extends Module<[Tensor], Tensor> {
  readonly first: Linear;
  /** A_k x + b_k, the unconstrained skip connections from the input. */
  readonly skips: ModuleList<Linear>;
  /** Free parameters of the non-negative weights W⁺_k [out, in]. */
  readonly raw: Parameter[] = [];
  readonly activation: 'lrelu' | 'softplus';
  readonly slope: number;
  readonly positivity: 'softplus' | 'clamp';
  /** softplus⁻¹(α) of the quadratic term, or null. */
  readonly quadratic: Parameter | null;

  constructor(
    readonly inFeatures: number,
    opts: IcnnOptions,
  ) {
    super();
    const depth = opts.depth ?? 2;
    if (!Number.isInteger(depth) || depth < 1) throw new Error(`ICNN: depth must be ≥ 1, got ${depth}`);
    this.activation = opts.activation ?? 'lrelu';
    this.slope = opts.slope ?? 0.2;
    this.positivity = opts.positivity ?? 'softplus';
    const firstWidth = opts.firstWidth ?? opts.hidden;
    this.first = this.registerModule('first', new Linear(inFeatures, firstWidth));
    this.skips = this.registerModule('skips', new ModuleList<Linear>());
    let width = firstWidth;
    for (let k = 0; k < depth; k++) {
      const out = k === depth - 1 ? 1 : opts.hidden;
      this.skips.append(new Linear(inFeatures, out));
      this.raw.push(this.registerParameter(`positive${k}`, positiveInit(out, width, this.positivity)));
      width = out;
    }
    const alpha = opts.quadratic ?? 1;
    if (!(alpha >= 0)) throw new Error(`ICNN: quadratic must be ≥ 0, got ${alpha}`);
    this.quadratic = this.registerParameter(
      'quadratic',
      alpha > 0 ? noGrad(() => tidy(() => new Parameter(full([1], alpha).expm1().log()))) : null,
    );
  }

  /** α of the (α/2)‖x‖² term (0 without one). */
  alpha(): Tensor | null {
    return this.quadratic === null ? null : F.softplus(this.quadratic);
  }

  /** The non-negative weight W⁺_k. */
  positiveWeight(k: number): Tensor {
    const r = this.raw[k];
    return this.positivity === 'softplus' ? F.softplus(r) : F.relu(r);
  }

  forward(x: Tensor): Tensor {
    let h = F.leakyRelu(this.first.forward(x), { negativeSlope: this.slope }).square();
    for (let k = 0; k < this.raw.length; k++) {
      const pre = F.linear(h, this.positiveWeight(k)).add(this.skips.at(k).forward(x));
      h = this.activation === 'lrelu' ? F.leakyRelu(pre, { negativeSlope: this.slope }) : F.softplus(pre);
    }
    const g = h.squeeze(-1);
    const alpha = this.alpha();
    return alpha === null ? g : g.add(x.square().sum(-1).mul(alpha).mul(0.5));
  }

  override extraRepr(): string {
    return `in=${this.inFeatures}, depth=${this.raw.length}, activation=${this.activation}, positivity=${this.positivity}`;
  }
}

/** Positive weights about 1/fanIn (so the sum over a layer stays O(1)), as their free parameters. */
function positiveInit(out: number, fanIn: number, positivity: 'softplus' | 'clamp'): Parameter {
  return noGrad(() =>
    tidy(() => {
      const w = empty([out, fanIn]).uniform_(0.1 / fanIn, 2 / fanIn);
      // softplus⁻¹(w) = log(expm1(w)).
      return new Parameter(positivity === 'softplus' ? w.expm1().log() : w);
    }),
  );
}

/**
 * The Brenier map x ↦ ∇g(x) of a convex potential g. Differentiable in the potential's parameters:
 * with autograd on, the gradient is taken with createGraph so a loss can be backpropagated through
 * it (double backward); under noGrad() it is computed and returned detached.
 */
export class BrenierMap extends Module<[Tensor], Tensor> {
  constructor(readonly potential: ICNN) {
    super();
    this.registerModule('potential', potential);
  }

  forward(x: Tensor): Tensor {
    const createGraph = isGradEnabled();
    return enableGrad(() => {
      const input = createGraph && x.requiresGrad ? x : x.detach().requiresGrad_(true);
      const [g] = grad(this.potential.forward(input).sum(), input, { createGraph });
      return createGraph ? g! : g!.detach();
    });
  }
}
