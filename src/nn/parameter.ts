// Parameter: a tensor a Module owns and trains.
import { Tensor } from '../torch/tensor.js';

/**
 * A leaf tensor that lives outside tidy() scopes until disposed, as nn.Parameter. It shares storage
 * with the tensor it is made from but is a separate handle, detached from any graph: the caller still
 * owns (and may dispose) the source tensor.
 */
export class Parameter extends Tensor {
  constructor(data: Tensor, requiresGrad = true) {
    const detached = data.detach();
    super(detached);
    detached.dispose();
    this.keep();
    if (requiresGrad) this.requiresGrad = true;
  }

  /** A Parameter made from `data`, which is disposed: for freshly made tensors nobody else holds. */
  static adopt(data: Tensor, requiresGrad = true): Parameter {
    const p = new Parameter(data, requiresGrad);
    data.dispose();
    return p;
  }
}
