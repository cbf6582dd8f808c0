// The setting of ilkhem/iVAE's runner (main.py → runners/ivae.py with configs/ivae.yaml or vae.yaml),
// as genlab settings, and the learning-rate schedule it uses (PyTorch's ReduceLROnPlateau, stepped
// once per epoch on the epoch's mean training loss).
//
// What the runner does (not `IVAE_wrapper` in models/wrappers.py, which main.py never calls):
// - data: 40 segments × 1000 points, 5 Gaussian sources with scales U(0.5, 3), mixed by 3 layers of
//   one repeated well-conditioned matrix with xtanh (tanh(x) + 0.1x) between them;
// - model: every MLP (encoder mean, encoder log-variance, decoder, prior) has 3 linear layers of
//   width 100 with xtanh, PyTorch's default init (biases not zeroed); decoder variance σ² = 0.1;
// - objective: the reweighted ELBO with constant weights, a = 100, b = 1, c = 0, d = 10 for the
//   iVAE (ivae.yaml) and a = 1000, b = c = d = 1 for the VAE (vae.yaml), no annealing;
// - optimiser: Adam at lr 0.01, ReduceLROnPlateau(factor 0.1, patience 0) on the epoch's mean loss;
//   batches of 64 (drop_last), 20 epochs = 12,500 steps.
import type { Json } from '../optim/state.js';
import type { Tensor } from '../torch/tensor.js';
import type { AnnealWeights } from './model.js';

/** The schedule's settings: PyTorch's ReduceLROnPlateau in mode 'min' with a relative threshold. */
export interface PlateauOptions {
  /** Multiplies the rate when the loss did not improve (PyTorch's default 0.1). */
  factor: number;
  /** Epochs without improvement tolerated before reducing (the runner passes 0; PyTorch's default is 10). */
  patience: number;
  /** Relative improvement that counts (PyTorch's default 1e-4). */
  threshold: number;
}

/** The settings of the reference runner; `epochs` is turned into steps by the experiment. */
export interface ReferenceSetting {
  hidden: number[];
  activation: 'xtanh';
  slope: number;
  /** PyTorch's default Linear init, biases included. */
  xavier: false;
  splitEncoder: true;
  variance: number;
  anneal: false;
  weights: AnnealWeights;
  lr: number;
  lrSchedule: 'plateau';
  plateau: PlateauOptions;
  batchSize: number;
  epochs: number;
  ica: {
    segments: number;
    perSegment: number;
    dim: number;
    dataDim: number;
    layers: number;
    activation: 'xtanh';
    slope: number;
    source: 'gauss';
    scaleRange: [number, number];
    repeatMatrix: true;
  };
}

/** The runner's setting for the iVAE (configs/ivae.yaml) or the VAE (configs/vae.yaml). */
export function referenceSetting(model: 'ivae' | 'vae'): ReferenceSetting {
  return {
    hidden: [100, 100],
    activation: 'xtanh',
    slope: 0.1,
    xavier: false,
    splitEncoder: true,
    variance: 0.1,
    anneal: false,
    weights: model === 'ivae' ? { a: 100, b: 1, c: 0, d: 10 } : { a: 1000, b: 1, c: 1, d: 1 },
    lr: 0.01,
    lrSchedule: 'plateau',
    plateau: { factor: 0.1, patience: 0, threshold: 1e-4 },
    batchSize: 64,
    epochs: 20,
    ica: {
      segments: 40,
      perSegment: 1000,
      dim: 5,
      dataDim: 5,
      layers: 3,
      activation: 'xtanh',
      slope: 0.1,
      source: 'gauss',
      scaleRange: [0.5, 3],
      repeatMatrix: true,
    },
  };
}

/**
 * ReduceLROnPlateau stepped per epoch: `observe` each step's loss, `step` after each optimiser step;
 * at the end of every epoch of `stepsPerEpoch` steps the mean loss is compared with the best so far
 * (better means below best·(1 − threshold)) and after more than `patience` epochs without
 * improvement every group's rate is multiplied by `factor`. The new rate applies from the next epoch.
 */
export class EpochPlateau {
  /** Optimiser steps taken (the annealing schedules' `lastEpoch`, for symmetry). */
  lastEpoch = 0;
  private sum = 0;
  private count = 0;
  private best = Number.POSITIVE_INFINITY;
  private badEpochs = 0;

  constructor(
    readonly optimizer: { paramGroups: { lr: number }[] },
    readonly stepsPerEpoch: number,
    readonly opts: PlateauOptions,
  ) {}

  /** The loss of the step being taken. */
  observe(loss: Tensor | number): void {
    this.sum += typeof loss === 'number' ? loss : loss.item();
    this.count += 1;
  }

  step(): void {
    this.lastEpoch += 1;
    if (this.lastEpoch % this.stepsPerEpoch !== 0 || this.count === 0) return;
    const current = this.sum / this.count;
    this.sum = 0;
    this.count = 0;
    if (current < this.best * (1 - this.opts.threshold)) {
      this.best = current;
      this.badEpochs = 0;
    } else this.badEpochs += 1;
    if (this.badEpochs > this.opts.patience) {
      for (const g of this.optimizer.paramGroups) {
        const lr = g.lr * this.opts.factor;
        // PyTorch skips changes smaller than eps = 1e-8.
        if (g.lr - lr > 1e-8) g.lr = lr;
      }
      this.badEpochs = 0;
    }
  }

  stateDict(): { tensors: Record<string, Tensor>; meta: { [key: string]: Json } } {
    return {
      tensors: {},
      meta: {
        lastEpoch: this.lastEpoch,
        sum: this.sum,
        count: this.count,
        // JSON has no infinity: null stands for "no epoch finished yet".
        best: Number.isFinite(this.best) ? this.best : null,
        badEpochs: this.badEpochs,
        lrs: this.optimizer.paramGroups.map((g) => g.lr),
      },
    };
  }

  loadStateDict(sd: { meta: { [key: string]: Json } }): void {
    const m = sd.meta as Record<string, number | null | number[]>;
    this.lastEpoch = m.lastEpoch as number;
    this.sum = m.sum as number;
    this.count = m.count as number;
    this.best = m.best === null ? Number.POSITIVE_INFINITY : (m.best as number);
    this.badEpochs = m.badEpochs as number;
    (m.lrs as number[]).forEach((lr, i) => {
      this.optimizer.paramGroups[i].lr = lr;
    });
  }
}
