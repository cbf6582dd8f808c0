// Coupling layers: half the channels pass through and parameterise an invertible map of the other half.
import * as F from '../nn/functional.js';
import * as init from '../nn/init.js';
import { Conv2d } from '../nn/layers/conv.js';
import { Module } from '../nn/module.js';
import { Parameter } from '../nn/parameter.js';
import { zeros } from '../torch/creation.js';
import { cat } from '../torch/functions.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import { ActNorm } from './actnorm.js';
import { Flow } from './flow.js';

/**
 * A 3×3 convolution that starts as the zero map, scaled per channel by exp(3 · logs), like the
 * reference's conv2d_zeros with one difference: the reference appends an "edge" input channel that
 * marks the padded border, and this pads with zeros only. Ending a network with it makes every
 * coupling and prior start as the identity.
 */
export class ZeroConv2d extends Module<[Tensor], Tensor> {
  readonly conv: Conv2d;
  readonly logs: Parameter;

  constructor(
    inChannels: number,
    readonly outChannels: number,
    readonly logscaleFactor = 3,
  ) {
    super();
    this.conv = this.registerModule('conv', new Conv2d(inChannels, outChannels, 3, { padding: 1 }));
    init.zeros_(this.conv.weight);
    init.zeros_(this.conv.bias!);
    this.logs = this.registerParameter('logs', Parameter.adopt(zeros([1, outChannels, 1, 1])));
  }

  forward(x: Tensor): Tensor {
    return this.conv.forward(x).mul(this.logs.mul(this.logscaleFactor).exp());
  }
}

/** conv3×3 → ActNorm → ReLU → conv1×1 → ActNorm → ReLU → ZeroConv2d, as the reference's f(). */
export class CouplingNet extends Module<[Tensor], Tensor> {
  readonly conv1: Conv2d;
  readonly norm1: ActNorm;
  readonly conv2: Conv2d;
  readonly norm2: ActNorm;
  readonly out: ZeroConv2d;

  constructor(inChannels: number, outChannels: number, width: number) {
    super();
    // ActNorm replaces the bias; weights N(0, 0.05²) as the reference's default initializer.
    this.conv1 = this.registerModule('conv1', new Conv2d(inChannels, width, 3, { padding: 1, bias: false }));
    this.norm1 = this.registerModule('norm1', new ActNorm(width));
    this.conv2 = this.registerModule('conv2', new Conv2d(width, width, 1, { bias: false }));
    this.norm2 = this.registerModule('norm2', new ActNorm(width));
    this.out = this.registerModule('out', new ZeroConv2d(width, outChannels));
    init.normal_(this.conv1.weight, 0, 0.05);
    init.normal_(this.conv2.weight, 0, 0.05);
  }

  // A tidy() per layer frees each layer's intermediates (autograd keeps what backward needs) before
  // the next allocates, as Python's reference counting does, so the allocator hands back memory
  // still in cache: 1 ms of a 33 ms digits training step. The scope of this forward alone would free
  // them only after the last layer. Within a layer, ActNorm and ReLU are one fused node
  // (torch.shiftScaleRelu), the same numbers in fewer passes over the layer's activations.
  forward(x: Tensor): Tensor {
    const h = tidy(() => this.norm1.normalizeRelu(this.conv1.forward(x)));
    const h2 = tidy(() => this.norm2.normalizeRelu(this.conv2.forward(h)));
    return this.out.forward(h2);
  }
}

export type CouplingKind = 'affine' | 'additive';

/**
 * Splits channels into (xa, xb); xa is copied and h = NN(xa) transforms xb:
 * - additive: yb = xb + h, log|det| = 0 (NICE);
 * - affine:   yb = (xb + shift) · sigmoid(raw + 2), with [shift, raw] = h. The sigmoid keeps the
 *   scale in (0, 1), and +2 starts it near 0.88, which the reference found more stable than exp.
 */
export class Coupling extends Flow {
  readonly net: CouplingNet;

  constructor(
    readonly channels: number,
    readonly kind: CouplingKind = 'affine',
    width = 512,
  ) {
    super();
    if (channels % 2 !== 0) throw new Error(`Coupling: needs an even channel count, got ${channels}`);
    const half = channels / 2;
    this.net = this.registerModule('net', new CouplingNet(half, kind === 'affine' ? channels : half, width));
  }

  forward(x: Tensor): [Tensor, Tensor] {
    const [xa, xb] = x.chunk(2, 1);
    const h = this.net.forward(xa);
    if (this.kind === 'additive') return [cat([xa, xb.add(h)], 1), zeros([], { dtype: x.dtype })];
    const [shift, raw] = h.chunk(2, 1);
    const logScale = F.logsigmoid(raw.add(2));
    const yb = xb.add(shift).mul(logScale.exp());
    return [cat([xa, yb], 1), logScale.sum([1, 2, 3])];
  }

  reverse(y: Tensor): Tensor {
    const [ya, yb] = y.chunk(2, 1);
    const h = this.net.forward(ya);
    if (this.kind === 'additive') return cat([ya, yb.sub(h)], 1);
    const [shift, raw] = h.chunk(2, 1);
    return cat([ya, yb.div(F.sigmoid(raw.add(2))).sub(shift)], 1);
  }

  override extraRepr(): string {
    return `${this.channels}, kind='${this.kind}'`;
  }
}
