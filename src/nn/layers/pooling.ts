// Pooling and resampling layers over [N, C, H, W].
import type { Tensor } from '../../torch/tensor.js';
import * as F from '../functional.js';
import { Module } from '../module.js';

/** The maximum over each kernelSize window of [N, C, H, W], as a layer. */
export class MaxPool2d extends Module<[Tensor], Tensor> {
  constructor(
    readonly kernelSize: number | number[],
    readonly opts: F.Pool2dOptions & { dilation?: number | number[] } = {},
  ) {
    super();
  }
  /** Max-pools x with this layer's kernel and options. */
  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, this.kernelSize, this.opts);
  }
  override extraRepr(): string {
    return `kernelSize=${this.kernelSize}`;
  }
}

/** The mean over each kernelSize window of [N, C, H, W], as a layer. */
export class AvgPool2d extends Module<[Tensor], Tensor> {
  constructor(
    readonly kernelSize: number | number[],
    readonly opts: F.Pool2dOptions & { countIncludePad?: boolean; divisorOverride?: number | null } = {},
  ) {
    super();
  }
  /** Average-pools x with this layer's kernel and options. */
  forward(x: Tensor): Tensor {
    return F.avgPool2d(x, this.kernelSize, this.opts);
  }
  override extraRepr(): string {
    return `kernelSize=${this.kernelSize}`;
  }
}

/** Average pooling of [N, C, H, W] into windows chosen so the output is outputSize, as a layer. */
export class AdaptiveAvgPool2d extends Module<[Tensor], Tensor> {
  constructor(readonly outputSize: number | number[]) {
    super();
  }
  /** Average-pools x down (or up) to [N, C, outputSize]. */
  forward(x: Tensor): Tensor {
    return F.adaptiveAvgPool2d(x, this.outputSize);
  }
  override extraRepr(): string {
    return `outputSize=${this.outputSize}`;
  }
}

/** F.interpolate as a layer. */
export class Upsample extends Module<[Tensor], Tensor> {
  constructor(readonly opts: F.InterpolateOptions) {
    super();
  }
  /** Resamples x by size or scaleFactor with this layer's mode. */
  forward(x: Tensor): Tensor {
    return F.interpolate(x, this.opts);
  }
  override extraRepr(): string {
    const size = this.opts.size === undefined ? `scaleFactor=${this.opts.scaleFactor}` : `size=${this.opts.size}`;
    return `${size}, mode='${this.opts.mode ?? 'nearest'}'`;
  }
}
