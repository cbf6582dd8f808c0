// Mean-only batch normalisation (Salimans & Kingma 2016, §3): y = x − μ_B + b per channel. It
// centres the pre-activations as batch norm does but leaves their scale to weight normalisation,
// so the noise it adds is only the batch mean's, which the paper found to help.
import { noGrad } from '../../torch/autograd.js';
import { zeros } from '../../torch/creation.js';
import { GenlabError } from '../../torch/errors.js';
import type { Tensor } from '../../torch/tensor.js';
import { Module } from '../module.js';
import type { Parameter } from '../parameter.js';
import { type FactoryOptions, newParameter } from './common.js';

/**
 * Subtracts the per-channel mean of the batch (dim 1 of [N, C] or [N, C, H, W]) while training and
 * a running mean at evaluation, then adds a learned bias. The running mean follows PyTorch's
 * momentum convention: running ← (1 − momentum)·running + momentum·batch.
 */
export class MeanOnlyBatchNorm extends Module<[Tensor], Tensor> {
  readonly momentum: number;
  readonly bias: Parameter | null;
  readonly runningMean: Tensor;

  constructor(
    readonly numFeatures: number,
    opts: FactoryOptions & { momentum?: number; bias?: boolean } = {},
  ) {
    super();
    this.momentum = opts.momentum ?? 0.1;
    if (!(this.momentum >= 0 && this.momentum <= 1)) {
      throw new GenlabError('usage', `MeanOnlyBatchNorm: momentum must be in [0, 1], got ${this.momentum}`);
    }
    this.bias = this.registerParameter('bias', opts.bias === false ? null : newParameter([numFeatures], opts));
    if (this.bias) noGrad(() => this.bias?.zero_());
    this.runningMean = this.registerBuffer(
      'running_mean',
      zeros([numFeatures], { dtype: opts.dtype, device: opts.device }),
    );
  }

  forward(x: Tensor): Tensor {
    if (x.ndim < 2 || x.shape[1] !== this.numFeatures) {
      throw new GenlabError('usage', `MeanOnlyBatchNorm: expected [N, ${this.numFeatures}, …] input, got [${x.shape}]`);
    }
    const shape = Array(x.ndim).fill(1);
    shape[1] = -1;
    let mean: Tensor;
    if (this.training) {
      const dims = [0, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 2)];
      mean = x.mean(dims);
      const batch = mean.detach();
      noGrad(() => this.runningMean.mul_(1 - this.momentum).add_(batch.mul(this.momentum)));
    } else mean = this.runningMean;
    const centred = x.sub(mean.view(shape));
    return this.bias ? centred.add(this.bias.view(shape)) : centred;
  }

  override extraRepr(): string {
    return `${this.numFeatures}, momentum=${this.momentum}, bias=${this.bias !== null}`;
  }
}
