// The candidate operations of a DARTS cell edge, and the pseudo-inverted bottleneck (PIB) op of
// PIBConv (Ahmadian et al. 2023) that replaces DARTS's separable convolutions in its search space.

import * as F from '../nn/functional.js';
import { GELU, ReLU } from '../nn/layers/activation.js';
import { Sequential } from '../nn/layers/container.js';
import { Conv2d } from '../nn/layers/conv.js';
import { Identity } from '../nn/layers/linear.js';
import { BatchNorm2d } from '../nn/layers/norm.js';
import { AvgPool2d, MaxPool2d } from '../nn/layers/pooling.js';
import { Module } from '../nn/module.js';
import { cat } from '../torch/functions.js';
import type { Tensor } from '../torch/tensor.js';

/** DARTS's eight candidates (Liu et al. 2019, §2.1). */
export const DARTS_OPS = [
  'none',
  'max_pool_3x3',
  'avg_pool_3x3',
  'skip_connect',
  'sep_conv_3x3',
  'sep_conv_5x5',
  'dil_conv_3x3',
  'dil_conv_5x5',
] as const;

/** PIBConv's search space: DARTS's with the separable convolutions swapped for PIB ops. */
export const PIB_OPS = [
  'none',
  'max_pool_3x3',
  'avg_pool_3x3',
  'skip_connect',
  'pib_conv_3x3',
  'pib_conv_5x5',
  'dil_conv_3x3',
  'dil_conv_5x5',
] as const;

/** Every op a genotype may name (the 7×7 kernels only in hand-written genotypes). */
export const ALL_OPS = [...DARTS_OPS, 'sep_conv_7x7', 'pib_conv_3x3', 'pib_conv_5x5', 'pib_conv_7x7'] as const;
export type OpName = (typeof ALL_OPS)[number];
export const OP_SETS = { darts: DARTS_OPS, pib: PIB_OPS } as const;
export type OpSet = keyof typeof OP_SETS;

export function isOpName(s: string): s is OpName {
  return (ALL_OPS as readonly string[]).includes(s);
}

const noBias = { bias: false } as const;

/** ReLU → conv → BN, the cell's preprocessing of its inputs. */
export class ReLUConvBN extends Sequential {
  constructor(cIn: number, cOut: number, k: number, stride: number, padding: number, affine: boolean) {
    super(new ReLU(), new Conv2d(cIn, cOut, k, { stride, padding, ...noBias }), new BatchNorm2d(cOut, { affine }));
  }
}

/** ReLU → dilated depthwise K×K → 1×1 → BN. */
export class DilConv extends Sequential {
  constructor(c: number, k: number, stride: number, padding: number, dilation: number, affine: boolean) {
    super(
      new ReLU(),
      new Conv2d(c, c, k, { stride, padding, dilation, groups: c, ...noBias }),
      new Conv2d(c, c, 1, noBias),
      new BatchNorm2d(c, { affine }),
    );
  }
}

/** Two stacked (ReLU → depthwise K×K → 1×1 → BN), the first carrying the stride. */
export class SepConv extends Sequential {
  constructor(c: number, k: number, stride: number, padding: number, affine: boolean) {
    super(
      new ReLU(),
      new Conv2d(c, c, k, { stride, padding, groups: c, ...noBias }),
      new Conv2d(c, c, 1, noBias),
      new BatchNorm2d(c, { affine }),
      new ReLU(),
      new Conv2d(c, c, k, { stride: 1, padding, groups: c, ...noBias }),
      new Conv2d(c, c, 1, noBias),
      new BatchNorm2d(c, { affine }),
    );
  }
}

/**
 * The pseudo-inverted bottleneck, as PIBConv's code builds it: depthwise K×K (carrying the stride)
 * → BN → 1×1 C→2C → grouped K×K 2C→C (C groups of two channels) → GELU → 1×1 C→C; no biases,
 * no ReLU in front and no BN at the end, unlike DARTS's ops.
 */
export class PseudoInvBottleneck extends Sequential {
  constructor(c: number, k: number, stride: number, affine: boolean) {
    const padding = (k - 1) / 2;
    super(
      new Conv2d(c, c, k, { stride, padding, groups: c, ...noBias }),
      new BatchNorm2d(c, { affine }),
      new Conv2d(c, 2 * c, 1, noBias),
      new Conv2d(2 * c, c, k, { stride: 1, padding, groups: c, ...noBias }),
      new GELU(),
      new Conv2d(c, c, 1, noBias),
    );
  }
}

/** The 'none' op: zeros of the output shape. */
export class Zero extends Module<[Tensor], Tensor> {
  constructor(readonly stride: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    if (this.stride === 1) return x.mul(0);
    // x[:, :, ::s, ::s] * 0: a 1×1 pool with stride s picks exactly those pixels.
    return F.avgPool2d(x, 1, { stride: this.stride }).mul(0);
  }
}

/** Halves the resolution with two 1×1 stride-2 convs offset by one pixel, concatenated, then BN. */
export class FactorizedReduce extends Module<[Tensor], Tensor> {
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  readonly bn: BatchNorm2d;
  constructor(cIn: number, cOut: number, affine: boolean) {
    super();
    if (cOut % 2 !== 0) throw new Error(`FactorizedReduce: output channels must be even, got ${cOut}`);
    this.conv1 = new Conv2d(cIn, cOut / 2, 1, { stride: 2, ...noBias });
    this.conv2 = new Conv2d(cIn, cOut / 2, 1, { stride: 2, ...noBias });
    this.bn = new BatchNorm2d(cOut, { affine });
  }
  forward(x: Tensor): Tensor {
    const r = x.relu();
    const [, , h, w] = r.shape;
    let shifted = r.narrow(2, 1, h - 1).narrow(3, 1, w - 1);
    // Odd sizes: pad the shifted copy back to the size of the first branch's input.
    if (h % 2 === 1) shifted = F.pad(shifted, [0, 1, 0, 1]);
    return this.bn.forward(cat([this.conv1.forward(r), this.conv2.forward(shifted)], 1));
  }
}

/** The module of op `name` on C channels; stride 2 on the edges of a reduction cell that leave its inputs. */
export function makeOp(name: OpName, c: number, stride: number, affine: boolean): Module<[Tensor], Tensor> {
  switch (name) {
    case 'none':
      return new Zero(stride);
    case 'max_pool_3x3':
      return new MaxPool2d(3, { stride, padding: 1 });
    case 'avg_pool_3x3':
      return new AvgPool2d(3, { stride, padding: 1, countIncludePad: false });
    case 'skip_connect':
      return stride === 1 ? new Identity() : new FactorizedReduce(c, c, affine);
    case 'sep_conv_3x3':
      return new SepConv(c, 3, stride, 1, affine);
    case 'sep_conv_5x5':
      return new SepConv(c, 5, stride, 2, affine);
    case 'sep_conv_7x7':
      return new SepConv(c, 7, stride, 3, affine);
    case 'dil_conv_3x3':
      return new DilConv(c, 3, stride, 2, 2, affine);
    case 'dil_conv_5x5':
      return new DilConv(c, 5, stride, 4, 2, affine);
    case 'pib_conv_3x3':
      return new PseudoInvBottleneck(c, 3, stride, affine);
    case 'pib_conv_5x5':
      return new PseudoInvBottleneck(c, 5, stride, affine);
    case 'pib_conv_7x7':
      return new PseudoInvBottleneck(c, 7, stride, affine);
  }
}

/**
 * A cell's preprocessing of its two inputs to C channels: the older one is halved by a factorized
 * reduction when the previous cell was a reduction cell, so that both match.
 */
export function cellInputs(
  cPrevPrev: number,
  cPrev: number,
  c: number,
  reductionPrev: boolean,
  affine: boolean,
): [Module<[Tensor], Tensor>, ReLUConvBN] {
  const first = reductionPrev
    ? new FactorizedReduce(cPrevPrev, c, affine)
    : new ReLUConvBN(cPrevPrev, c, 1, 1, 0, affine);
  return [first, new ReLUConvBN(cPrev, c, 1, 1, 0, affine)];
}
