// Normalisation layers: LayerNorm, GroupNorm and BatchNorm with running statistics.
import { noGrad } from '../../torch/autograd.js';
import { ones, zeros } from '../../torch/creation.js';
import type { Tensor } from '../../torch/tensor.js';
import * as F from '../functional.js';
import * as init from '../init.js';
import { Module } from '../module.js';
import type { Parameter } from '../parameter.js';
import { type FactoryOptions, newParameter } from './common.js';

/** Normalises over the trailing normalizedShape dims, then scales and shifts elementwise. */
export class LayerNorm extends Module<[Tensor], Tensor> {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly weight: Parameter | null;
  readonly bias: Parameter | null;

  constructor(
    normalizedShape: number | number[],
    opts: FactoryOptions & { eps?: number; elementwiseAffine?: boolean; bias?: boolean } = {},
  ) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.eps = opts.eps ?? 1e-5;
    const affine = opts.elementwiseAffine ?? true;
    this.weight = this.registerParameter('weight', affine ? newParameter(this.normalizedShape, opts) : null);
    const withBias = affine && (opts.bias ?? true);
    this.bias = this.registerParameter('bias', withBias ? newParameter(this.normalizedShape, opts) : null);
    this.resetParameters();
  }

  /** Sets weight to 1 and bias to 0. */
  resetParameters(): void {
    if (this.weight) init.ones_(this.weight);
    if (this.bias) init.zeros_(this.bias);
  }

  /** Normalises x over its trailing normalizedShape dimensions, then applies weight and bias; same shape as x. */
  forward(x: Tensor): Tensor {
    return F.layerNorm(x, this.normalizedShape, { weight: this.weight, bias: this.bias, eps: this.eps });
  }

  override extraRepr(): string {
    return `[${this.normalizedShape}], eps=${this.eps}, elementwiseAffine=${this.weight !== null}`;
  }
}

/** Splits the channels of [N, C, …] into numGroups groups and normalises each per sample. */
export class GroupNorm extends Module<[Tensor], Tensor> {
  readonly eps: number;
  readonly weight: Parameter | null;
  readonly bias: Parameter | null;

  constructor(
    readonly numGroups: number,
    readonly numChannels: number,
    opts: FactoryOptions & { eps?: number; affine?: boolean } = {},
  ) {
    super();
    if (numChannels % numGroups !== 0) {
      throw new Error(`GroupNorm: numChannels (${numChannels}) must divide by numGroups (${numGroups})`);
    }
    this.eps = opts.eps ?? 1e-5;
    const affine = opts.affine ?? true;
    this.weight = this.registerParameter('weight', affine ? newParameter([numChannels], opts) : null);
    this.bias = this.registerParameter('bias', affine ? newParameter([numChannels], opts) : null);
    this.resetParameters();
  }

  /** Sets weight to 1 and bias to 0. */
  resetParameters(): void {
    if (this.weight) init.ones_(this.weight);
    if (this.bias) init.zeros_(this.bias);
  }

  /** Normalises each group of channels of each sample, then applies weight and bias per channel; same shape as x. */
  forward(x: Tensor): Tensor {
    return F.groupNorm(x, this.numGroups, { weight: this.weight, bias: this.bias, eps: this.eps });
  }

  /**
   * silu(this.forward(x)) as one fused node (F.groupNormSilu), which agrees with the two ops to
   * float32 rounding. A subclass, or an instance whose forward is wrapped (watched, e.g. by
   * Grad-CAM), runs its forward and then SiLU, so what it changes or watches still happens.
   */
  forwardSilu(x: Tensor): Tensor {
    if (Object.getPrototypeOf(this) !== GroupNorm.prototype || Object.hasOwn(this, 'forward')) {
      return F.silu(this.forward(x));
    }
    return F.groupNormSilu(x, this.numGroups, { weight: this.weight, bias: this.bias, eps: this.eps });
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${this.eps}, affine=${this.weight !== null}`;
  }
}

/**
 * Options of {@link BatchNorm1d} and {@link BatchNorm2d}: eps (1e-5), momentum (0.1), affine (true)
 * and whether to track running statistics (true).
 */
export interface BatchNormOptions extends FactoryOptions {
  /** Added to the variance before the square root; 1e-5 by default. */
  eps?: number;
  /** Weight of the new batch in the running averages; null for a cumulative (equal-weight) average. */
  momentum?: number | null;
  /** Whether to learn a per-channel weight and bias; true by default. */
  affine?: boolean;
  /** Whether to keep running averages for eval mode; true by default. */
  trackRunningStats?: boolean;
}

/**
 * Normalises each channel with the batch's statistics while training and with running averages in
 * eval mode. Buffers carry PyTorch's names (running_mean, running_var, num_batches_tracked) so
 * checkpoints open in PyTorch.
 */
abstract class BatchNormBase extends Module<[Tensor], Tensor> {
  readonly eps: number;
  readonly momentum: number | null;
  readonly weight: Parameter | null;
  readonly bias: Parameter | null;
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  readonly numBatchesTracked: Tensor | null;

  constructor(
    readonly numFeatures: number,
    opts: BatchNormOptions = {},
  ) {
    super();
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    const affine = opts.affine ?? true;
    this.weight = this.registerParameter('weight', affine ? newParameter([numFeatures], opts) : null);
    this.bias = this.registerParameter('bias', affine ? newParameter([numFeatures], opts) : null);
    const track = opts.trackRunningStats ?? true;
    const f = { dtype: opts.dtype, device: opts.device };
    this.runningMean = this.registerBuffer('running_mean', track ? zeros([numFeatures], f) : null);
    this.runningVar = this.registerBuffer('running_var', track ? ones([numFeatures], f) : null);
    this.numBatchesTracked = this.registerBuffer(
      'num_batches_tracked',
      track ? zeros([], { dtype: 'int64', device: opts.device }) : null,
    );
    this.resetParameters();
  }

  /** Whether this layer keeps running statistics. */
  get trackRunningStats(): boolean {
    return this.runningMean !== null;
  }

  /** Sets the running mean to 0, the running variance to 1 and the batch count to 0. */
  resetRunningStats(): void {
    noGrad(() => {
      this.runningMean?.zero_();
      this.runningVar?.fill_(1);
      this.numBatchesTracked?.zero_();
    });
  }

  /** Resets the running statistics, weight to 1 and bias to 0. */
  resetParameters(): void {
    this.resetRunningStats();
    if (this.weight) init.ones_(this.weight);
    if (this.bias) init.zeros_(this.bias);
  }

  /** Throws when x has the wrong number of dimensions for this layer. */
  protected abstract checkInput(x: Tensor): void;

  /**
   * Normalises each channel (with the batch's statistics while training, updating the running ones;
   * with the running ones in eval mode), then applies weight and bias.
   */
  forward(x: Tensor): Tensor {
    this.checkInput(x);
    let factor = this.momentum ?? 0;
    if (this.training && this.numBatchesTracked !== null) {
      const count = this.numBatchesTracked;
      noGrad(() => count.add_(1));
      if (this.momentum === null) factor = 1 / count.item();
    }
    // Without running statistics, eval mode also normalises with the batch's own.
    const useBatchStats = this.training || this.runningMean === null;
    return F.batchNorm(x, this.runningMean, this.runningVar, {
      weight: this.weight,
      bias: this.bias,
      training: useBatchStats,
      momentum: factor,
      eps: this.eps,
    });
  }

  override extraRepr(): string {
    return (
      `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.weight !== null}, ` +
      `trackRunningStats=${this.trackRunningStats}`
    );
  }
}

/** BatchNorm over [N, C] or [N, C, L]. */
export class BatchNorm1d extends BatchNormBase {
  /** Accepts [N, C] or [N, C, L]. */
  protected checkInput(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3) throw new Error(`BatchNorm1d: expected a 2-d or 3-d input, got [${x.shape}]`);
  }
}

/** BatchNorm over [N, C, H, W]. */
export class BatchNorm2d extends BatchNormBase {
  /** Accepts [N, C, H, W]. */
  protected checkInput(x: Tensor): void {
    if (x.ndim !== 4) throw new Error(`BatchNorm2d: expected a 4-d input, got [${x.shape}]`);
  }
}
