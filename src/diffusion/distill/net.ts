// The networks of guided distillation: VDM's U-Net with a class embedding (one extra row for the
// null class of classifier-free guidance) and, for students, a sinusoidal embedding of the guidance
// weight w, both added to the time embedding. The w branch ends in a zero-initialised layer, so a
// student built from the teacher's weights starts as the teacher's conditional model.
import * as init from '../../nn/init.js';
import { SiLU } from '../../nn/layers/activation.js';
import { Sequential } from '../../nn/layers/container.js';
import { Embedding, Linear } from '../../nn/layers/linear.js';
import { Module } from '../../nn/module.js';
import { full } from '../../torch/creation.js';
import { cat } from '../../torch/functions.js';
import type { Tensor } from '../../torch/tensor.js';
import type { MemoryFormatName } from '../../train/config.js';
import { timestepEmbedding, UNet } from '../unet.js';
import { type Coef, guidedCombination, type Parameterisation, truncatedSnrWeight, xFromOutput } from './guidance.js';
import type { LogSnrCosine } from './samplers.js';

export interface GuidedNetConfig {
  channels: number;
  width: number;
  depth: number;
  mults: number[];
  dropout: number;
  classes: number;
  /** A student: takes the guidance weight w as an input. */
  wConditioned: boolean;
  /** The U-Net's activation layout (row-major by default). */
  memoryFormat?: MemoryFormatName;
}

/** The embedding of w: sinusoids → Linear → SiLU → Linear (zero-initialised). */
function wEmbedding(width: number): Sequential {
  const last = new Linear(4 * width, 4 * width);
  init.zeros_(last.weight);
  if (last.bias) init.zeros_(last.bias);
  return new Sequential(new Linear(width, 4 * width), new SiLU(), last);
}

export class GuidedNet extends Module<[Tensor, Tensor, Tensor, Tensor?], Tensor> {
  readonly config: GuidedNetConfig;
  readonly unet: UNet;
  readonly label: Embedding;
  readonly wEmbed: Sequential | null;

  constructor(config: GuidedNetConfig) {
    super();
    this.config = config;
    const { channels, width, depth, mults, dropout, classes, memoryFormat } = config;
    this.unet = this.registerModule('unet', new UNet({ channels, width, depth, mults, dropout, memoryFormat }));
    this.label = this.registerModule('label', new Embedding(classes + 1, 4 * width));
    this.wEmbed = this.registerModule('wEmbed', config.wConditioned ? wEmbedding(width) : null);
  }

  /** The network's output for latents z [B, …] at times t [B] ∈ [0, 1], labels [B] (int64; `classes` is null) and w [B]. */
  forward(z: Tensor, t: Tensor, labels: Tensor, w?: Tensor): Tensor {
    let extra = this.label.forward(labels);
    if (this.wEmbed) {
      if (!w) throw new Error('GuidedNet: a w-conditioned student needs w');
      // w ∈ [0, 4] or so: the sinusoids of w/4 (timestepEmbedding scales by 1000) span its range.
      extra = extra.add(this.wEmbed.forward(timestepEmbedding(w.div(4), this.config.width)));
    }
    return this.unet.forward(z, t, extra);
  }
}

/** Per-example coefficients of one batch: times [B] and α, σ broadcast over examples. */
export interface BatchTimes {
  t: Tensor;
  alpha: Tensor;
  sigma: Tensor;
}

/** A network with its schedule and parameterisation: x̂ (conditional, guided, or a student's). */
export class GuidedModel {
  constructor(
    readonly net: GuidedNet,
    readonly schedule: LogSnrCosine,
    readonly param: Parameterisation,
  ) {}

  get nullLabel(): number {
    return this.net.config.classes;
  }

  /** x̂(z, t, c[, w]) for per-example times. */
  xHat(z: Tensor, bt: BatchTimes, labels: Tensor, w?: Tensor): Tensor {
    const out = this.net.forward(z, bt.t, labels, w);
    return xFromOutput(out, z, bt.alpha, bt.sigma, this.param);
  }

  /**
   * The teacher's guided x̂ʷ = (1 + w) x̂(z, c) − w x̂(z, ∅): two network evaluations, run as one
   * batch of 2B.
   */
  guidedXHat(z: Tensor, bt: BatchTimes, labels: Tensor, w: Coef): Tensor {
    const b = z.shape[0];
    const both = this.xHat(
      cat([z, z]),
      { t: cat([bt.t, bt.t]), alpha: cat([bt.alpha, bt.alpha]), sigma: cat([bt.sigma, bt.sigma]) },
      cat([labels, full([b], this.nullLabel, { dtype: 'int64' })]),
    );
    return guidedCombination(both.narrow(0, 0, b), both.narrow(0, b, b), w);
  }

  times(t: Tensor, ndim: number): BatchTimes {
    return { t, ...this.schedule.atTensor(t, ndim) };
  }

  /** Same time for the whole batch. */
  timesAt(t: number, batch: number, ndim: number, dtype: 'float32' | 'float64' = 'float32'): BatchTimes {
    return this.times(full([batch], t, { dtype }), ndim);
  }
}

/** The batch mean of max(1, SNR)·mean((x − x̂)²): the truncated-SNR loss on x-space errors. */
export function truncatedSnrLoss(x: Tensor, xHat: Tensor, bt: BatchTimes): Tensor {
  const perExample = xHat
    .sub(x)
    .square()
    .mean(x.shape.slice(1).map((_, i) => i + 1));
  return perExample.mul(truncatedSnrWeight(bt.alpha, bt.sigma).flatten()).mean();
}
