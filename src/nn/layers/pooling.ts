// Pooling and resampling layers over [N, C, H, W].
import type { Tensor } from '../../torch/tensor.js';
import * as F from '../functional.js';
import { Module } from '../module.js';

export class MaxPool2d extends Module<[Tensor], Tensor> {
  constructor(
    readonly kernelSize: number | number[],
    readonly opts: F.Pool2dOptions & { dilation?: number | number[] } = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, this.kernelSize, this.opts);
  }
  override extraRepr(): string {
    return `kernelSize=${this.kernelSize}`;
  }
}

export class AvgPool2d extends Module<[Tensor], Tensor> {
  constructor(
    readonly kernelSize: number | number[],
    readonly opts: F.Pool2dOptions & { countIncludePad?: boolean; divisorOverride?: number | null } = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.avgPool2d(x, this.kernelSize, this.opts);
  }
  override extraRepr(): string {
    return `kernelSize=${this.kernelSize}`;
  }
}

export class AdaptiveAvgPool2d extends Module<[Tensor], Tensor> {
  constructor(readonly outputSize: number | number[]) {
    super();
  }
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
  forward(x: Tensor): Tensor {
    return F.interpolate(x, this.opts);
  }
  override extraRepr(): string {
    const size = this.opts.size === undefined ? `scaleFactor=${this.opts.scaleFactor}` : `size=${this.opts.size}`;
    return `${size}, mode='${this.opts.mode ?? 'nearest'}'`;
  }
}
