// DARTS's bi-level optimisation (Liu et al. 2019, §2.3): α descends the validation loss while w
// descends the training loss. First order takes ∇α L_val(w, α); second order takes the gradient of
// the unrolled objective L_val(w − ξ∇w L_train(w, α), α), eq. (7), with the Hessian-vector product
// of eq. (8) by central finite differences.

import { Adam } from '../optim/adam.js';
import type { Optimizer } from '../optim/optimizer.js';
import { grad, noGrad } from '../torch/autograd.js';
import { zerosLike } from '../torch/creation.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import type { SearchNetwork } from './search.js';

export interface Batch2 {
  x: Tensor;
  y: Tensor;
}

/** How the weights take their step, for the unrolled w' = w − ξ(μ·m + ∇w L_train + λw). */
export interface WeightStep {
  /** ξ, the weights' current learning rate. */
  lr: number;
  momentum: number;
  weightDecay: number;
  /** The momentum buffer of a weight, when the optimizer has one. */
  buffer?: (p: Tensor) => Tensor | undefined;
}

function grads(loss: Tensor, params: Tensor[], createGraph = false): Tensor[] {
  const gs = grad(loss, params, { allowUnused: true, createGraph });
  return gs.map((g, i) => g ?? zerosLike(params[i]));
}

/** ∇α L_val(w, α): the first-order approximation (ξ = 0). */
export function firstOrderArchGrad(net: SearchNetwork, val: Batch2): Tensor[] {
  return grads(net.loss(val.x, val.y), net.archParameters());
}

/** Sets the weights to w − ξ(μ·m + ∇w L_train(w, α) + λw); returns their previous values. */
function unrollWeights(net: SearchNetwork, train: Batch2, step: WeightStep): Tensor[] {
  const ws = net.weightParameters();
  const g = grads(net.loss(train.x, train.y), ws);
  return noGrad(() =>
    ws.map((p, i) => {
      const saved = p.clone();
      let d = g[i].add(p, { alpha: step.weightDecay });
      const m = step.buffer?.(p);
      if (m) d = d.add(m, { alpha: step.momentum });
      p.sub_(d, { alpha: step.lr });
      return saved;
    }),
  );
}

function restore(ws: Tensor[], saved: Tensor[]): void {
  noGrad(() =>
    ws.forEach((p, i) => {
      p.copy_(saved[i]);
    }),
  );
}

/**
 * ∇α L_val(w', α) − ξ [∇α L_train(w⁺, α) − ∇α L_train(w⁻, α)] / 2ε, with w' the unrolled weights,
 * w± = w ± ε ∇w' L_val(w', α) and ε = 0.01 / ‖∇w' L_val(w', α)‖ (DARTS eqs. 7–8). Leaves w as it was.
 */
export function secondOrderArchGrad(
  net: SearchNetwork,
  train: Batch2,
  val: Batch2,
  step: WeightStep,
  r = 0.01,
): Tensor[] {
  const ws = net.weightParameters();
  const as = net.archParameters();
  const saved = unrollWeights(net, train, step);
  const g = grads(net.loss(val.x, val.y), [...as, ...ws]);
  const dAlpha = g.slice(0, as.length);
  const v = g.slice(as.length);
  restore(ws, saved);
  const norm = Math.sqrt(v.reduce((s, t) => s + t.square().sum().item(), 0));
  const eps = r / norm;
  const shifted = (sign: number): Tensor[] => {
    noGrad(() =>
      ws.forEach((p, i) => {
        p.add_(v[i], { alpha: sign * eps });
      }),
    );
    const ga = grads(net.loss(train.x, train.y), as);
    restore(ws, saved);
    return ga;
  };
  const gp = shifted(1);
  const gn = shifted(-1);
  return dAlpha.map((d, i) => d.sub(gp[i].sub(gn[i]).mul(step.lr / (2 * eps))));
}

/**
 * The same gradient with the exact Hessian-vector product (double backward through the unrolled
 * step): what the finite difference of eq. (8) approximates, for checking it.
 */
export function exactUnrolledArchGrad(net: SearchNetwork, train: Batch2, val: Batch2, step: WeightStep): Tensor[] {
  const ws = net.weightParameters();
  const as = net.archParameters();
  const saved = unrollWeights(net, train, step);
  const g = grads(net.loss(val.x, val.y), [...as, ...ws]);
  restore(ws, saved);
  const dAlpha = g.slice(0, as.length);
  const v = g.slice(as.length);
  // ∂w'/∂α = −ξ ∂α∇w L_train(w, α), so its transpose times v is −ξ ∇α ⟨∇w L_train(w, α), v⟩.
  const gw = grads(net.loss(train.x, train.y), ws, true);
  let inner = gw[0].mul(v[0]).sum();
  for (let i = 1; i < gw.length; i++) inner = inner.add(gw[i].mul(v[i]).sum());
  const hv = grads(inner, as);
  return dAlpha.map((d, i) => d.sub(hv[i].mul(step.lr)));
}

export interface ArchitectOptions {
  /** Adam's learning rate for α (DARTS: 3e-4, betas (0.5, 0.999), weight decay 1e-3). */
  lr: number;
  weightDecay: number;
  order: 1 | 2;
}

/** Takes α's steps. */
export class Architect {
  readonly optimizer: Adam;
  constructor(
    readonly net: SearchNetwork,
    readonly opts: ArchitectOptions,
  ) {
    this.optimizer = new Adam(net.archParameters(), {
      lr: opts.lr,
      betas: [0.5, 0.999],
      weightDecay: opts.weightDecay,
    });
  }

  /** One step of α on a validation batch (second order: also a training batch and the weights' step). */
  step(train: Batch2, val: Batch2, weights: { optimizer: Optimizer; momentum: number; weightDecay: number }): void {
    tidy(() => {
      const as = this.net.archParameters();
      const g =
        this.opts.order === 1
          ? firstOrderArchGrad(this.net, val)
          : secondOrderArchGrad(this.net, train, val, {
              lr: weights.optimizer.paramGroups[0].lr,
              momentum: weights.momentum,
              weightDecay: weights.weightDecay,
              buffer: (p) =>
                (weights.optimizer.state.get(p) as { momentumBuffer?: Tensor } | undefined)?.momentumBuffer,
            });
      as.forEach((a, i) => {
        a.grad = g[i];
      });
      this.optimizer.step();
    });
  }
}
