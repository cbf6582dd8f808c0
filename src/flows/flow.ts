// The contract every invertible layer of a flow honours.
import { Module } from '../nn/module.js';
import type { Tensor } from '../torch/tensor.js';

/**
 * An invertible map y = f(x) on [B, C, H, W] batches. forward() also returns log|det ∂f/∂x| per
 * example: a [B] tensor, or a 0-d tensor when it does not depend on the data (ActNorm, 1×1 conv),
 * which broadcasts when summed. reverse() is the exact inverse.
 */
export abstract class Flow extends Module<[Tensor], [Tensor, Tensor]> {
  abstract override forward(x: Tensor): [Tensor, Tensor];
  abstract reverse(y: Tensor): Tensor;
}
