// Affine maps, lookup tables and shape-only layers.
import type { Tensor } from '../../torch/tensor.js';
import * as F from '../functional.js';
import * as init from '../init.js';
import { Module } from '../module.js';
import type { Parameter } from '../parameter.js';
import { type FactoryOptions, newParameter } from './common.js';

/**
 * y = x·Wᵀ + b with W of shape [out, in]. Initialised as PyTorch: W ~ kaiming uniform with a = √5,
 * i.e. U(±1/√in), and b ~ U(±1/√in).
 */
export class Linear extends Module<[Tensor], Tensor> {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: FactoryOptions & { bias?: boolean } = {},
  ) {
    super();
    this.weight = this.registerParameter('weight', newParameter([outFeatures, inFeatures], opts));
    this.bias = this.registerParameter('bias', opts.bias === false ? null : newParameter([outFeatures], opts));
    this.resetParameters(opts);
  }

  /** Refills weight and bias with PyTorch's default initialisation (see the class). */
  resetParameters(opts: init.InitOptions = {}): void {
    init.kaimingUniform_(this.weight, { a: Math.sqrt(5), generator: opts.generator });
    if (this.bias) uniformBias(this.bias, this.weight, opts);
  }

  /** Maps [..., in] to [..., out]. */
  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, { bias: this.bias });
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

/** PyTorch's default bias: U(±1/√fanIn) of the weight. */
export function uniformBias(bias: Tensor, weight: Tensor, opts: init.InitOptions = {}): void {
  const { fanIn } = init.calculateFanInAndFanOut(weight);
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  init.uniform_(bias, -bound, bound, opts);
}

/** A table of numEmbeddings vectors, initialised N(0, 1); the paddingIdx row starts at zero. */
export class Embedding extends Module<[Tensor], Tensor> {
  readonly weight: Parameter;
  readonly paddingIdx: number | null;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    opts: FactoryOptions & { paddingIdx?: number } = {},
  ) {
    super();
    const p = opts.paddingIdx;
    if (p !== undefined && (p >= numEmbeddings || p < -numEmbeddings)) {
      throw new Error(`Embedding: paddingIdx ${p} out of range for ${numEmbeddings} embeddings`);
    }
    this.paddingIdx = p === undefined ? null : p < 0 ? p + numEmbeddings : p;
    this.weight = this.registerParameter('weight', newParameter([numEmbeddings, embeddingDim], opts));
    this.resetParameters(opts);
  }

  /** Refills the table with N(0, 1) draws and zeroes the paddingIdx row. */
  resetParameters(opts: init.InitOptions = {}): void {
    init.normal_(this.weight, 0, 1, opts);
    if (this.paddingIdx !== null) {
      const row = this.weight.select(0, this.paddingIdx);
      init.zeros_(row);
      row.dispose();
    }
  }

  /** Looks up the rows of the int64 indices: [...] gives [..., embeddingDim]. */
  forward(indices: Tensor): Tensor {
    return F.embedding(indices, this.weight, { paddingIdx: this.paddingIdx });
  }

  override extraRepr(): string {
    const pad = this.paddingIdx === null ? '' : `, paddingIdx=${this.paddingIdx}`;
    return `${this.numEmbeddings}, ${this.embeddingDim}${pad}`;
  }
}

/** Returns its input itself (no copy, no new handle), as nn.Identity. */
export class Identity extends Module<[Tensor], Tensor> {
  /** Returns x itself. */
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Flattens dims startDim..endDim (by default all but the batch dim). */
export class Flatten extends Module<[Tensor], Tensor> {
  readonly startDim: number;
  readonly endDim: number;

  constructor(opts: { startDim?: number; endDim?: number } = {}) {
    super();
    this.startDim = opts.startDim ?? 1;
    this.endDim = opts.endDim ?? -1;
  }

  /** Flattens x from startDim to endDim. */
  forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }

  override extraRepr(): string {
    return `startDim=${this.startDim}, endDim=${this.endDim}`;
  }
}
