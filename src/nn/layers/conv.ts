// 2-d convolution and its transpose.
import type { Tensor } from '../../torch/tensor.js';
import * as F from '../functional.js';
import * as init from '../init.js';
import { Module } from '../module.js';
import type { Parameter } from '../parameter.js';
import { type FactoryOptions, newParameter, pair } from './common.js';
import { uniformBias } from './linear.js';

/** How a convolution pads the border: with zeros, by reflection, by repeating the edge, or circularly. */
export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';

/**
 * Options of {@link Conv2d}: stride (1), padding (0, or 'same' / 'valid'), dilation (1), groups
 * (1), bias (true) and padding mode ('zeros').
 */
export interface Conv2dLayerOptions extends FactoryOptions {
  /** Step of the kernel, one number or [sh, sw]; 1 by default. */
  stride?: number | number[];
  /**
   * Pixels added on each side, [ph, pw], or 'same' (output as large as the input, stride 1 only) or
   * 'valid' (none); 0 by default.
   */
  padding?: number | number[] | 'same' | 'valid';
  /** Spacing between kernel taps; 1 by default. */
  dilation?: number | number[];
  /** Channel groups convolved separately; both channel counts must divide by it. 1 by default. */
  groups?: number;
  /** Whether to add a learnt bias per output channel; true by default. */
  bias?: boolean;
  /** How the border is padded; 'zeros' is folded into the convolution itself. */
  paddingMode?: PaddingMode;
}

function checkGroups(name: string, inChannels: number, outChannels: number, groups: number): void {
  if (!Number.isInteger(groups) || groups < 1) throw new Error(`${name}: groups must be a positive integer`);
  if (inChannels % groups !== 0 || outChannels % groups !== 0) {
    throw new Error(
      `${name}: inChannels (${inChannels}) and outChannels (${outChannels}) must divide by groups (${groups})`,
    );
  }
}

/** Cross-correlation of [N, Cin, H, W] with a [Cout, Cin/groups, kh, kw] kernel; PyTorch's init. */
export class Conv2d extends Module<[Tensor], Tensor> {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number] | 'same' | 'valid';
  readonly dilation: [number, number];
  readonly groups: number;
  readonly paddingMode: PaddingMode;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: number | number[],
    opts: Conv2dLayerOptions = {},
  ) {
    super();
    this.groups = opts.groups ?? 1;
    checkGroups('Conv2d', inChannels, outChannels, this.groups);
    this.kernelSize = pair(kernelSize);
    this.stride = pair(opts.stride ?? 1);
    const padding = opts.padding ?? 0;
    this.padding = typeof padding === 'string' ? padding : pair(padding);
    if (padding === 'same' && this.stride.some((s) => s !== 1))
      throw new Error("Conv2d: padding 'same' needs stride 1");
    this.dilation = pair(opts.dilation ?? 1);
    this.paddingMode = opts.paddingMode ?? 'zeros';
    const [kh, kw] = this.kernelSize;
    this.weight = this.registerParameter('weight', newParameter([outChannels, inChannels / this.groups, kh, kw], opts));
    this.bias = this.registerParameter('bias', opts.bias === false ? null : newParameter([outChannels], opts));
    this.resetParameters(opts);
  }

  /** Refills weight and bias with PyTorch's default initialisation (kaiming uniform with a = √5, bias U(±1/√fanIn)). */
  resetParameters(opts: init.InitOptions = {}): void {
    init.kaimingUniform_(this.weight, { a: Math.sqrt(5), generator: opts.generator });
    if (this.bias) uniformBias(this.bias, this.weight, opts);
  }

  /** Convolves [N, Cin, H, W] into [N, Cout, H', W'], padding the border as paddingMode says. */
  forward(x: Tensor): Tensor {
    const { bias, stride, dilation, groups } = this;
    if (this.paddingMode === 'zeros')
      return F.conv2d(x, this.weight, { bias, stride, padding: this.padding, dilation, groups });
    const padded = F.pad(x, this.explicitPadding(), { mode: this.paddingMode });
    try {
      return F.conv2d(padded, this.weight, { bias, stride, padding: 0, dilation, groups });
    } finally {
      padded.dispose();
    }
  }

  /** [left, right, top, bottom] for F.pad; 'same' puts any odd extra pixel on the right/bottom. */
  private explicitPadding(): number[] {
    const out: number[] = [];
    for (const d of [1, 0]) {
      if (this.padding === 'valid') out.push(0, 0);
      else if (this.padding === 'same') {
        const total = this.dilation[d] * (this.kernelSize[d] - 1);
        out.push(Math.floor(total / 2), total - Math.floor(total / 2));
      } else out.push(this.padding[d], this.padding[d]);
    }
    return out;
  }

  override extraRepr(): string {
    const parts = [
      `${this.inChannels}, ${this.outChannels}`,
      `kernelSize=[${this.kernelSize}]`,
      `stride=[${this.stride}]`,
    ];
    if (this.padding !== 'valid' && (typeof this.padding === 'string' || this.padding.some((p) => p !== 0))) {
      parts.push(typeof this.padding === 'string' ? `padding='${this.padding}'` : `padding=[${this.padding}]`);
    }
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=[${this.dilation}]`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (this.bias === null) parts.push('bias=false');
    if (this.paddingMode !== 'zeros') parts.push(`paddingMode='${this.paddingMode}'`);
    return parts.join(', ');
  }
}

/**
 * Options of {@link ConvTranspose2d}: stride (1), padding (0), output padding (0), dilation (1),
 * groups (1) and bias (true).
 */
export interface ConvTranspose2dLayerOptions extends FactoryOptions {
  /** Step of the kernel, one number or [sh, sw]; 1 by default. */
  stride?: number | number[];
  /** Rows and columns removed from each side of the full output; 0 by default. */
  padding?: number | number[];
  /**
   * Extra rows and columns added to one side of the output, to pick among the sizes a strided
   * convolution maps to the same size; 0 by default.
   */
  outputPadding?: number | number[];
  /** Spacing between kernel taps; 1 by default. */
  dilation?: number | number[];
  /** Channel groups handled separately; both channel counts must divide by it. 1 by default. */
  groups?: number;
  /** Whether to add a learnt bias per output channel; true by default. */
  bias?: boolean;
}

/** The adjoint of Conv2d (a "deconvolution"); weight is [Cin, Cout/groups, kh, kw]. */
export class ConvTranspose2d extends Module<[Tensor], Tensor> {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly outputPadding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: number | number[],
    opts: ConvTranspose2dLayerOptions = {},
  ) {
    super();
    this.groups = opts.groups ?? 1;
    checkGroups('ConvTranspose2d', inChannels, outChannels, this.groups);
    this.kernelSize = pair(kernelSize);
    this.stride = pair(opts.stride ?? 1);
    this.padding = pair(opts.padding ?? 0);
    this.outputPadding = pair(opts.outputPadding ?? 0);
    this.dilation = pair(opts.dilation ?? 1);
    const [kh, kw] = this.kernelSize;
    this.weight = this.registerParameter('weight', newParameter([inChannels, outChannels / this.groups, kh, kw], opts));
    this.bias = this.registerParameter('bias', opts.bias === false ? null : newParameter([outChannels], opts));
    this.resetParameters(opts);
  }

  /** As PyTorch, fan-in is taken from the weight's dim 1 (Cout/groups·kh·kw). */
  resetParameters(opts: init.InitOptions = {}): void {
    init.kaimingUniform_(this.weight, { a: Math.sqrt(5), generator: opts.generator });
    if (this.bias) uniformBias(this.bias, this.weight, opts);
  }

  /**
   * Maps [N, Cin, H, W] to [N, Cout, H', W'], with H' = (H − 1)·stride − 2·padding + dilation·(kh −
   * 1) + outputPadding + 1.
   */
  forward(x: Tensor): Tensor {
    return F.convTranspose2d(x, this.weight, {
      bias: this.bias,
      stride: this.stride,
      padding: this.padding,
      outputPadding: this.outputPadding,
      groups: this.groups,
      dilation: this.dilation,
    });
  }

  override extraRepr(): string {
    const parts = [
      `${this.inChannels}, ${this.outChannels}`,
      `kernelSize=[${this.kernelSize}]`,
      `stride=[${this.stride}]`,
    ];
    if (this.padding.some((p) => p !== 0)) parts.push(`padding=[${this.padding}]`);
    if (this.outputPadding.some((p) => p !== 0)) parts.push(`outputPadding=[${this.outputPadding}]`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=[${this.dilation}]`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (this.bias === null) parts.push('bias=false');
    return parts.join(', ');
  }
}
