// Brute-force Jacobians through autograd, to check log-determinants on small inputs.
import { grad } from '../torch/autograd.js';
import { zeros } from '../torch/creation.js';
import { linalg, stack } from '../torch/functions.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';

/**
 * J[i, j] = ∂ f(x)_i / ∂ x_j over the flattened output and input, one backward pass per row
 * (torch.autograd.functional.jacobian's loop). Use float64 for checks.
 */
export function jacobian(f: (x: Tensor) => Tensor, x: Tensor): Tensor {
  return tidy(() => {
    const input = x.detach().requiresGrad_();
    const y = f(input).flatten();
    const n = y.shape[0];
    const rows: Tensor[] = [];
    for (let i = 0; i < n; i++) {
      const onehot = zeros([n], { dtype: y.dtype });
      onehot.select(0, i).fill_(1);
      const [g] = grad([y], [input], { gradOutputs: [onehot], retainGraph: i < n - 1, allowUnused: true });
      rows.push(g === null ? zeros([input.numel()], { dtype: y.dtype }) : g.flatten());
    }
    return stack(rows);
  });
}

/** log|det J| of f at x (f must map x to as many numbers as x has). */
export function logAbsDetJacobian(f: (x: Tensor) => Tensor, x: Tensor): number {
  return tidy(() => linalg.slogdet(jacobian(f, x))[1].item());
}
