// Sample grids: a batch of images [N, C, H, W] in [0, 1] laid out as one PNG.
import * as ops from '../torch/generated/ops.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import { type RawImage, writePng } from './png.js';

export interface GridOptions {
  /** Images per row (default 8, as torchvision's make_grid). */
  nrow?: number;
  /** Pixels between and around tiles, in output pixels (default 2). */
  padding?: number;
  /** Whole-number nearest-neighbour upscaling, so 8×8 digits are visible (default 1). */
  scale?: number;
  /** Grey level of the padding in [0, 1] (default 0, black). */
  padValue?: number;
}

/** Bytes of the images as uint8 [N, H, W, C]: clamped to [0, 1], NaN as 0, rounded. */
function toBytes(images: Tensor): { bytes: Uint8Array; n: number; c: number; h: number; w: number } {
  let shape = images.shape;
  if (shape.length === 3) shape = [shape[0], 1, shape[1], shape[2]];
  if (shape.length !== 4 || (shape[1] !== 1 && shape[1] !== 3)) {
    throw new Error(`image grid: expected [N, 1 or 3, H, W] images, got [${images.shape}]`);
  }
  const [n, c, h, w] = shape;
  const bytes = tidy(() => {
    const x = ops.nanToNum(images.detach().to({ dtype: 'float32', device: 'cpu' }), { nan: 0 });
    const u8 = x.reshape(shape).clamp(0, 1).mul(255).round().to('uint8');
    return u8.permute(0, 2, 3, 1).contiguous().toTypedArray() as Uint8Array;
  });
  return { bytes, n, c, h, w };
}

/** Lays the images out in a grid; returns the raw image (greyscale for C = 1, RGB for C = 3). */
export function imageGrid(images: Tensor, opts: GridOptions = {}): RawImage {
  const { bytes, n, c, h, w } = toBytes(images);
  const scale = opts.scale ?? 1;
  const pad = opts.padding ?? 2;
  if (!Number.isInteger(scale) || scale < 1)
    throw new Error(`image grid: scale must be a positive integer, got ${scale}`);
  if (!Number.isInteger(pad) || pad < 0) throw new Error(`image grid: padding must be a whole number, got ${pad}`);
  if (n === 0) throw new Error('image grid: no images');
  const cols = Math.min(opts.nrow ?? 8, n);
  const rows = Math.ceil(n / cols);
  const th = h * scale;
  const tw = w * scale;
  const width = cols * (tw + pad) + pad;
  const height = rows * (th + pad) + pad;
  const fill = Math.round(Math.min(1, Math.max(0, opts.padValue ?? 0)) * 255);
  const data = new Uint8Array(width * height * c).fill(fill);
  for (let k = 0; k < n; k++) {
    const x0 = pad + (k % cols) * (tw + pad);
    const y0 = pad + Math.floor(k / cols) * (th + pad);
    for (let yy = 0; yy < th; yy++) {
      const srcRow = (k * h + Math.floor(yy / scale)) * w * c;
      const dst = ((y0 + yy) * width + x0) * c;
      for (let xx = 0; xx < tw; xx++) {
        const s = srcRow + Math.floor(xx / scale) * c;
        for (let ch = 0; ch < c; ch++) data[dst + xx * c + ch] = bytes[s + ch];
      }
    }
  }
  return { width, height, channels: c as 1 | 3, data };
}

/** Writes images [N, C, H, W] (values in [0, 1], clamped) as a PNG grid; returns its size in pixels. */
export function saveImageGrid(path: string, images: Tensor, opts: GridOptions = {}): { width: number; height: number } {
  const img = imageGrid(images, opts);
  writePng(path, img);
  return { width: img.width, height: img.height };
}
