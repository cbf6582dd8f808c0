// Where the diffusion of guided distillation lives: pixels rescaled to [−1, 1], or an autoencoder's
// scaled latents (autoencoder.ts). Training maps each batch of images in [0, 1] to the model's
// variable; sampling maps z_0 back to images in [0, 1].
import type { Tensor } from '../../torch/tensor.js';

export interface DataSpace {
  /** Shape of one diffusion variable, [C, H, W]. */
  readonly shape: number[];
  /** Shape of one image. */
  readonly imageShape: number[];
  /** Images [B, …] in [0, 1] → the diffusion's variable. */
  toModel(x: Tensor): Tensor;
  /** The diffusion's variable → images in [0, 1]. */
  toImages(z: Tensor): Tensor;
}

/** Data in [0, 1] → the diffusion's [−1, 1]. */
export const toModelSpace = (x: Tensor): Tensor => x.mul(2).sub(1);

/** [−1, 1] → [0, 1], clamped. */
export const fromModelSpace = (z: Tensor): Tensor => z.add(1).div(2).clamp(0, 1);

/** Pixel space: the diffusion runs on the images themselves, rescaled to [−1, 1]. */
export function pixelSpace(shape: number[]): DataSpace {
  return { shape, imageShape: shape, toModel: toModelSpace, toImages: fromModelSpace };
}
