// Gradient clipping, as torch.nn.utils.clip_grad_norm_ and clip_grad_value_.
import { noGrad } from '../torch/autograd.js';
import { stack } from '../torch/functions.js';
import { _foreachMul__List, _foreachNorm_Scalar, norm_ScalarOpt_dim } from '../torch/generated/ops.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';

function gradsOf(params: Tensor | Tensor[]): Tensor[] {
  const list = Array.isArray(params) ? params : [params];
  const grads: Tensor[] = [];
  for (const p of list) {
    const g = p.grad;
    if (g !== null) grads.push(g);
  }
  return grads;
}

/** The p-norm over every element of t, computed as torch.norm(t, p) does. */
function fullNorm(t: Tensor, p: number): Tensor {
  return norm_ScalarOpt_dim(t, p, [...Array(t.ndim).keys()]);
}

/**
 * Scales the gradients in place so that their joint p-norm (as if concatenated into one vector)
 * is at most maxNorm, and returns that norm before clipping. normType may be Infinity.
 * Like PyTorch, it always multiplies by min(1, maxNorm / (norm + 1e-6)). The per-gradient norms
 * and the scaling are multi-tensor (`_foreach_*`) calls: two native calls, not one per gradient.
 *
 * PyTorch returns the norm as a 0-dim tensor, so that a GPU step need not wait for it; this
 * returns a number, which is what a JavaScript caller logs or compares (genlab reads the norm on
 * the host in any case). Use `torch.tensor(norm)` where a tensor is needed.
 */
export function clipGradNorm(
  params: Tensor | Tensor[],
  maxNorm: number,
  normType = 2,
  opts: { errorIfNonfinite?: boolean } = {},
): number {
  return tidy(() =>
    noGrad(() => {
      const grads = gradsOf(params);
      if (grads.length === 0) return 0;
      const devices = grads.map((g) => g.device);
      const device = devices[0];
      const norms = _foreachNorm_Scalar(grads, { ord: normType }).map((n, i) =>
        devices[i] === device ? n : n.to({ device }),
      );
      const stacked = stack(norms);
      const total = normType === Infinity ? stacked.max() : fullNorm(stacked, normType);
      const value = total.item();
      if (opts.errorIfNonfinite && !Number.isFinite(value)) {
        throw new Error(`clipGradNorm: the total norm of order ${normType} of the gradients is ${value}`);
      }
      // maxNorm / (norm + 1e-6), written as PyTorch evaluates it (a reciprocal times a scalar).
      const coef = total.add(1e-6).reciprocal().mul(maxNorm).clamp(null, 1);
      const coefs = new Map([[device, coef]]);
      _foreachMul__List(
        grads,
        devices.map((d) => coefs.get(d) ?? coefs.set(d, coef.to({ device: d })).get(d)!),
      );
      return value;
    }),
  );
}

/** Clamps every gradient element into [-clipValue, clipValue], in place. */
export function clipGradValue(params: Tensor | Tensor[], clipValue: number): void {
  tidy(() =>
    noGrad(() => {
      for (const g of gradsOf(params)) g.clamp_(-clipValue, clipValue);
    }),
  );
}
