// Self-attention over the pixels of a feature map, as in the U-Nets of DDPM and VDM.
import type { Tensor } from '../../torch/tensor.js';
import * as init from '../init.js';
import { Module } from '../module.js';
import type { FactoryOptions } from './common.js';
import { Conv2d } from './conv.js';
import { GroupNorm } from './norm.js';

/**
 * x + proj(softmax(q kᵀ / √d) v) over the H·W positions of [N, C, H, W], with `heads` heads, after a
 * GroupNorm. The output projection starts at zero, so a new block is the identity.
 */
export class SelfAttention2d extends Module<[Tensor], Tensor> {
  readonly heads: number;
  readonly norm: GroupNorm;
  readonly qkv: Conv2d;
  readonly proj: Conv2d;

  constructor(
    readonly channels: number,
    opts: FactoryOptions & { heads?: number; groups?: number } = {},
  ) {
    super();
    // `groups` is the GroupNorm's; the factory options alone go on to the convolutions.
    const { heads = 1, groups, ...factory } = opts;
    if (channels % heads !== 0)
      throw new Error(`SelfAttention2d: channels (${channels}) must divide by heads (${heads})`);
    this.heads = heads;
    this.norm = this.registerModule('norm', new GroupNorm(groups ?? Math.min(32, channels), channels, factory));
    this.qkv = this.registerModule('qkv', new Conv2d(channels, 3 * channels, 1, factory));
    this.proj = this.registerModule('proj', new Conv2d(channels, channels, 1, factory));
    init.zeros_(this.proj.weight);
    if (this.proj.bias) init.zeros_(this.proj.bias);
  }

  /** x plus the projected multi-head attention over its H·W positions; same shape [N, C, H, W] as x. */
  forward(x: Tensor): Tensor {
    const [n, c, h, w] = x.shape;
    const d = c / this.heads;
    // [N, 3, heads, d, HW] → q, k, v as [N·heads, HW, d].
    const qkv = this.qkv.forward(this.norm.forward(x)).reshape([n, 3, this.heads, d, h * w]);
    const part = (i: number) =>
      qkv
        .select(1, i)
        .reshape([n * this.heads, d, h * w])
        .transpose(1, 2);
    const q = part(0).mul(1 / Math.sqrt(d));
    const attn = q.bmm(part(1).transpose(1, 2)).softmax(-1);
    const out = attn.bmm(part(2)).transpose(1, 2).reshape([n, c, h, w]);
    return x.add(this.proj.forward(out));
  }

  override extraRepr(): string {
    return `${this.channels}, heads=${this.heads}`;
  }
}
