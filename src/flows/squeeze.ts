// Squeeze: trade space for channels, each 2×2 block of pixels becoming 4 channels (log|det| = 0).
import type { Tensor } from '../torch/tensor.js';

/**
 * [B, C, H, W] → [B, 4C, H/2, W/2]; channel c·4 + 2i + j holds pixel (2y + i, 2x + j) of channel c.
 * x may lie in any layout (reshape copies where a view cannot); the result is row-major.
 */
export function squeeze2d(x: Tensor, factor = 2): Tensor {
  const [b, c, h, w] = x.shape;
  if (h % factor !== 0 || w % factor !== 0) {
    throw new Error(`squeeze2d: ${h}×${w} does not divide by ${factor}; choose fewer levels`);
  }
  return x
    .reshape(b, c, h / factor, factor, w / factor, factor)
    .permute(0, 1, 3, 5, 2, 4)
    .reshape(b, c * factor * factor, h / factor, w / factor);
}

/** The inverse of squeeze2d, for x in any layout. */
export function unsqueeze2d(x: Tensor, factor = 2): Tensor {
  const [b, c, h, w] = x.shape;
  const f2 = factor * factor;
  if (c % f2 !== 0) throw new Error(`unsqueeze2d: ${c} channels do not divide by ${f2}`);
  return x
    .reshape(b, c / f2, factor, factor, h, w)
    .permute(0, 1, 4, 2, 5, 3)
    .reshape(b, c / f2, h * factor, w * factor);
}
