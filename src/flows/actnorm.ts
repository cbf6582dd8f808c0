// ActNorm: a per-channel affine map whose parameters are set from the first batch it sees.
import { Parameter } from '../nn/parameter.js';
import { noGrad } from '../torch/autograd.js';
import { tensor, zeros } from '../torch/creation.js';
import { shiftScaleRelu } from '../torch/functions.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import { Flow } from './flow.js';

export interface ActNormOptions {
  /** logs is stored divided by this, so Adam moves the scale faster (3 in the reference). */
  logscaleFactor?: number;
  /** Target standard deviation of the output after initialisation. */
  scale?: number;
}

/**
 * y = (x + bias) · exp(logs), per channel. On the first forward pass, bias and logs are chosen so
 * that the batch comes out with zero mean and unit variance per channel (data-dependent init).
 * The `initialized` buffer is part of the state dict, so a loaded checkpoint is never re-initialised.
 * log|det| = H · W · Σ logs.
 */
export class ActNorm extends Flow {
  readonly bias: Parameter;
  readonly logs: Parameter;
  readonly initialized: Tensor;
  readonly logscaleFactor: number;
  readonly scale: number;

  constructor(
    readonly channels: number,
    opts: ActNormOptions = {},
  ) {
    super();
    this.logscaleFactor = opts.logscaleFactor ?? 3;
    this.scale = opts.scale ?? 1;
    this.bias = this.registerParameter('bias', Parameter.adopt(zeros([1, channels, 1, 1])));
    this.logs = this.registerParameter('logs', Parameter.adopt(zeros([1, channels, 1, 1])));
    this.initialized = this.registerBuffer('initialized', tensor(new Uint8Array([0])));
  }

  get isInitialized(): boolean {
    return this.initialized.item() !== 0;
  }

  /** Sets bias and logs from a batch so that it comes out normalised; marks the layer initialised. */
  initialize(x: Tensor): void {
    tidy(() =>
      noGrad(() => {
        const mean = x.mean([0, 2, 3], { keepdim: true });
        const std = x.sub(mean).square().mean([0, 2, 3], { keepdim: true }).sqrt();
        this.bias.copy_(mean.neg());
        this.logs.copy_(std.add(1e-6).reciprocal().mul(this.scale).log().div(this.logscaleFactor));
        this.initialized.fill_(1);
      }),
    );
  }

  /** The per-channel log-scale, [1, C, 1, 1]. */
  logScale(): Tensor {
    return this.logs.mul(this.logscaleFactor);
  }

  /** The map alone, without log-determinant (as used inside coupling networks). */
  normalize(x: Tensor): Tensor {
    if (!this.isInitialized) this.initialize(x);
    return x.add(this.bias).mul(this.logScale().exp());
  }

  /**
   * relu(normalize(x)), the coupling network's ActNorm and ReLU, for a temporary x the caller gives up
   * (a convolution's output, which its backward does not save): one fused node where the engine has
   * it, else the bias is added into x in place (torch.shiftScaleRelu with `consume`).
   */
  normalizeRelu(x: Tensor): Tensor {
    if (!this.isInitialized) this.initialize(x);
    return shiftScaleRelu(x, this.bias, this.logScale().exp(), { consume: true });
  }

  forward(x: Tensor): [Tensor, Tensor] {
    if (!this.isInitialized) this.initialize(x);
    const logs = this.logScale();
    const y = x.add(this.bias).mul(logs.exp());
    return [y, logs.sum().mul(x.shape[2] * x.shape[3])];
  }

  reverse(y: Tensor): Tensor {
    return y.mul(this.logScale().neg().exp()).sub(this.bias);
  }

  override extraRepr(): string {
    return `${this.channels}`;
  }
}
