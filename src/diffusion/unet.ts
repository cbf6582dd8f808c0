// ε-prediction networks: a U-Net for images and a residual MLP for 2-D points. Both take the latent
// z_t and the normalised γ_t ∈ [0, 1], embedded with sinusoids and an MLP, as the VDM reference does.

import * as F from '../nn/functional.js';
import * as init from '../nn/init.js';
import { SiLU } from '../nn/layers/activation.js';
import { SelfAttention2d } from '../nn/layers/attention.js';
import { ModuleList, Sequential } from '../nn/layers/container.js';
import { Conv2d } from '../nn/layers/conv.js';
import { Dropout } from '../nn/layers/dropout.js';
import { Identity, Linear } from '../nn/layers/linear.js';
import { GroupNorm } from '../nn/layers/norm.js';
import { Module } from '../nn/module.js';
import { arange } from '../torch/creation.js';
import { cat } from '../torch/functions.js';
import type { Tensor } from '../torch/tensor.js';

/** A denoiser: ε̂ from z_t and γ_t normalised to [0, 1] by the configured γ_min and γ_max. */
export interface EpsNet extends Module<[Tensor, Tensor], Tensor> {
  forward(z: Tensor, gNorm: Tensor): Tensor;
}

/** Sinusoidal features of t·1000 (Transformer / DDPM style), [B] → [B, dim]. */
export function timestepEmbedding(t: Tensor, dim: number): Tensor {
  const half = Math.floor(dim / 2);
  const freqs = arange(half, undefined, 1, { dtype: t.dtype })
    .mul(-Math.log(10000) / Math.max(1, half - 1))
    .exp();
  const args = t.mul(1000).unsqueeze(1).mul(freqs);
  const emb = cat([args.sin(), args.cos()], 1);
  return dim % 2 === 1 ? F.pad(emb, [0, 1]) : emb;
}

/**
 * sin and cos of 2ⁿ·2π·z for each n, appended to z along dim 1: they let the network see the fine
 * detail of z at low noise (VDM §3.3). Returns z itself when the list is empty.
 */
export function fourierFeatures(z: Tensor, exponents: number[]): Tensor {
  if (exponents.length === 0) return z;
  const parts = [z];
  for (const n of exponents) {
    const a = z.mul(2 ** n * 2 * Math.PI);
    parts.push(a.sin(), a.cos());
  }
  return cat(parts, 1);
}

/** The VDM default: the two octaves whose period is one and two grey levels, n ∈ {6, 7} for 256 levels. */
export function defaultFourierExponents(levels: number | null): number[] {
  if (levels === null) return [];
  const top = Math.round(Math.log2(levels)) - 1;
  return [top - 1, top];
}

/** Groups for a GroupNorm over c channels: up to 32, at least 4 channels per group. */
export function groupsFor(c: number): number {
  for (const g of [32, 16, 8, 4, 2]) if (c % g === 0 && c / g >= 4) return g;
  return 1;
}

function zeroInit(m: Conv2d | Linear): void {
  init.zeros_(m.weight);
  if (m.bias) init.zeros_(m.bias);
}

/**
 * silu(norm(x)). Channels-last activations take the fused node (GroupNorm.forwardSilu); row-major
 * ones keep ATen's two ops, whose bits the committed row-major results were trained with.
 */
function normSilu(norm: GroupNorm, x: Tensor): Tensor {
  return x.isContiguous() ? F.silu(norm.forward(x)) : norm.forwardSilu(x);
}

/** GroupNorm → SiLU → conv → + cond → GroupNorm → SiLU → dropout → conv (zero init), plus a shortcut. */
export class ResBlock extends Module<[Tensor, Tensor], Tensor> {
  readonly norm1: GroupNorm;
  readonly conv1: Conv2d;
  readonly cond: Linear;
  readonly norm2: GroupNorm;
  readonly dropout: Dropout;
  readonly conv2: Conv2d;
  readonly skip: Conv2d | Identity;

  constructor(cin: number, cout: number, condDim: number, dropout: number) {
    super();
    this.norm1 = this.registerModule('norm1', new GroupNorm(groupsFor(cin), cin));
    this.conv1 = this.registerModule('conv1', new Conv2d(cin, cout, 3, { padding: 1 }));
    this.cond = this.registerModule('cond', new Linear(condDim, cout, { bias: false }));
    this.norm2 = this.registerModule('norm2', new GroupNorm(groupsFor(cout), cout));
    this.dropout = this.registerModule('dropout', new Dropout(dropout));
    this.conv2 = this.registerModule('conv2', new Conv2d(cout, cout, 3, { padding: 1 }));
    zeroInit(this.cond);
    zeroInit(this.conv2);
    this.skip = this.registerModule('skip', cin === cout ? new Identity() : new Conv2d(cin, cout, 1));
  }

  forward(x: Tensor, cond: Tensor): Tensor {
    let h = this.conv1.forward(normSilu(this.norm1, x));
    h = h.add(this.cond.forward(cond).unsqueeze(-1).unsqueeze(-1));
    h = this.conv2.forward(this.dropout.forward(normSilu(this.norm2, h)));
    return this.skip.forward(x).add(h);
  }
}

export interface UNetConfig {
  /** Image channels. */
  channels: number;
  /** Base width (channels of the first level). */
  width: number;
  /** Residual blocks per level. */
  depth: number;
  /** Width multipliers per level; [1] is VDM's single-resolution net, [1, 2] downsamples once. */
  mults?: number[];
  /** Self-attention after each residual block (and in the middle). */
  attention?: boolean;
  dropout?: number;
  /** Exponents n of the Fourier features sin/cos(2ⁿ·2π·z); [] for none. */
  fourier?: number[];
  /**
   * The activations' layout inside the network: 'channelsLast' runs oneDNN's convolutions without
   * reordering and genlab's own kernels for that layout (GroupNorm, and GroupNorm + SiLU as one
   * node); their sums run in another order, so results differ from 'contiguous' (the default) in
   * the last digits. Input and output are row-major either way.
   */
  memoryFormat?: 'contiguous' | 'channelsLast';
}

/** A residual block followed by optional self-attention: one stage of the U-Net. */
export class ResAttn extends Module<[Tensor, Tensor], Tensor> {
  readonly res: ResBlock;
  readonly attn: SelfAttention2d | null;

  constructor(cin: number, cout: number, condDim: number, opts: { dropout: number; attention: boolean }) {
    super();
    this.res = this.registerModule('res', new ResBlock(cin, cout, condDim, opts.dropout));
    this.attn = this.registerModule(
      'attn',
      opts.attention ? new SelfAttention2d(cout, { groups: groupsFor(cout) }) : null,
    );
  }

  forward(x: Tensor, cond: Tensor): Tensor {
    const h = this.res.forward(x, cond);
    return this.attn ? this.attn.forward(h) : h;
  }
}

/**
 * The ε-prediction U-Net of VDM, with optional down/up-sampling between levels (DDPM's layout):
 * conv_in, `depth` blocks per level, each output kept as a skip, a middle block, and `depth + 1`
 * blocks per level on the way up, each taking a skip. With mults [1] it is VDM's net, which keeps
 * the full resolution throughout.
 */
export class UNet extends Module<[Tensor, Tensor], Tensor> implements EpsNet {
  readonly config: Required<UNetConfig>;
  readonly embed: Sequential;
  readonly convIn: Conv2d;
  /** ResAttn stages and stride-2 convolutions. */
  readonly down: ModuleList<ResAttn | Conv2d>;
  readonly mid1: ResBlock;
  readonly midAttn: SelfAttention2d | null;
  readonly mid2: ResBlock;
  /** ResAttn stages and convolutions after nearest-neighbour upsampling. */
  readonly up: ModuleList<ResAttn | Conv2d>;
  readonly normOut: GroupNorm;
  readonly convOut: Conv2d;

  constructor(config: UNetConfig) {
    super();
    this.config = {
      mults: [1],
      attention: false,
      dropout: 0,
      fourier: [],
      memoryFormat: 'contiguous',
      ...config,
    };
    const { channels, width, depth, mults, attention, dropout, fourier } = this.config;
    const condDim = 4 * width;
    const stage = { dropout, attention };
    this.embed = this.registerModule(
      'embed',
      new Sequential(new Linear(width, condDim), new SiLU(), new Linear(condDim, condDim), new SiLU()),
    );
    const cin = channels * (1 + 2 * fourier.length);
    this.convIn = this.registerModule('convIn', new Conv2d(cin, width, 3, { padding: 1 }));

    const down: (ResAttn | Conv2d)[] = [];
    const skips: number[] = [width];
    let c = width;
    mults.forEach((m, level) => {
      for (let i = 0; i < depth; i++) {
        down.push(new ResAttn(c, width * m, condDim, stage));
        c = width * m;
        skips.push(c);
      }
      if (level < mults.length - 1) {
        down.push(new Conv2d(c, c, 3, { stride: 2, padding: 1 }));
        skips.push(c);
      }
    });
    this.down = this.registerModule('down', new ModuleList(down));

    this.mid1 = this.registerModule('mid1', new ResBlock(c, c, condDim, dropout));
    this.midAttn = this.registerModule('midAttn', attention ? new SelfAttention2d(c, { groups: groupsFor(c) }) : null);
    this.mid2 = this.registerModule('mid2', new ResBlock(c, c, condDim, dropout));

    const up: (ResAttn | Conv2d)[] = [];
    [...mults].reverse().forEach((m, r) => {
      for (let i = 0; i < depth + 1; i++) {
        up.push(new ResAttn(c + skips.pop()!, width * m, condDim, stage));
        c = width * m;
      }
      if (r < mults.length - 1) up.push(new Conv2d(c, c, 3, { padding: 1 }));
    });
    this.up = this.registerModule('up', new ModuleList(up));
    this.normOut = this.registerModule('normOut', new GroupNorm(groupsFor(c), c));
    this.convOut = this.registerModule('convOut', new Conv2d(c, channels, 3, { padding: 1 }));
    zeroInit(this.convOut);
  }

  /**
   * `extra`, when given, is added to the time embedding [B, 4·width] (class and guidance-weight
   * embeddings of guided distillation); without it the net is exactly VDM's.
   */
  forward(z: Tensor, gNorm: Tensor, extra?: Tensor): Tensor {
    let cond = this.embed.forward(timestepEmbedding(gNorm, this.config.width));
    if (extra) cond = cond.add(extra);
    const input = fourierFeatures(z, this.config.fourier);
    let h: Tensor;
    if (this.config.memoryFormat === 'channelsLast') {
      // Converting the input lets conv_in run channels-last too; a one-channel input has no
      // channels-last form of its own (its strides are row-major either way), so conv_in's output
      // is converted as well, which is a no-op when the input carried the layout through.
      h = this.convIn.forward(input.contiguous('channelsLast')).contiguous('channelsLast');
    } else {
      h = this.convIn.forward(input);
    }
    const hs = [h];
    for (const m of this.down) {
      h = m instanceof ResAttn ? m.forward(h, cond) : m.forward(h);
      hs.push(h);
    }
    h = this.mid1.forward(h, cond);
    if (this.midAttn) h = this.midAttn.forward(h);
    h = this.mid2.forward(h, cond);
    for (const m of this.up) {
      if (m instanceof ResAttn) h = m.forward(cat([h, hs.pop()!], 1), cond);
      else h = m.forward(F.interpolate(h, { scaleFactor: 2, mode: 'nearest' }));
    }
    return this.convOut.forward(normSilu(this.normOut, h)).contiguous();
  }
}

export interface MLPConfig {
  /** Data dimensions (2 for the toys). */
  dims: number;
  width: number;
  depth: number;
}

/** A residual MLP denoiser for low-dimensional data; each block adds a projection of the γ embedding. */
export class MLPDenoiser extends Module<[Tensor, Tensor], Tensor> implements EpsNet {
  readonly config: MLPConfig;
  readonly embed: Sequential;
  readonly inp: Linear;
  readonly blocks: ModuleList<Linear>;
  readonly conds: ModuleList<Linear>;
  readonly out: Linear;

  constructor(config: MLPConfig) {
    super();
    this.config = config;
    const { dims, width, depth } = config;
    this.embed = this.registerModule('embed', new Sequential(new Linear(64, width), new SiLU()));
    this.inp = this.registerModule('inp', new Linear(dims, width));
    const blocks: Linear[] = [];
    const conds: Linear[] = [];
    for (let i = 0; i < depth; i++) {
      blocks.push(new Linear(width, width));
      conds.push(new Linear(width, width));
    }
    this.blocks = this.registerModule('blocks', new ModuleList(blocks));
    this.conds = this.registerModule('conds', new ModuleList(conds));
    this.out = this.registerModule('out', new Linear(width, dims));
    zeroInit(this.out);
  }

  forward(z: Tensor, gNorm: Tensor): Tensor {
    const cond = this.embed.forward(timestepEmbedding(gNorm, 64));
    let h = this.inp.forward(z);
    for (let i = 0; i < this.blocks.length; i++) {
      h = h.add(this.blocks.at(i).forward(F.silu(h.add(this.conds.at(i).forward(cond)))));
    }
    return this.out.forward(F.silu(h));
  }
}
