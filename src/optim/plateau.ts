// ReduceLROnPlateau: cuts the learning rate when a monitored metric stops improving. Unlike the
// closed-form schedules in lr-scheduler.ts it depends on the metrics seen, so its state is saved.
import type { LrGroups } from './lr-scheduler.js';
import { expectArray, expectNumber, type StateDict } from './state.js';

/**
 * Options of {@link ReduceLROnPlateau}: mode ('min'), factor (0.1), patience (10), threshold (1e-4,
 * relative), cooldown (0), minimum lr (0) and eps (1e-8).
 */
export interface PlateauOptions {
  /** 'min': lower is better (a loss); 'max': higher is better (an accuracy). */
  mode: 'min' | 'max';
  /** New lr = lr · factor; below 1. */
  factor: number;
  /** Steps without improvement tolerated before a cut. */
  patience: number;
  /** How much better counts as better: relative (best · (1 ∓ threshold)) or absolute (best ∓ threshold). */
  threshold: number;
  /** Whether threshold is relative to the best value ('rel', the default) or absolute. */
  thresholdMode: 'rel' | 'abs';
  /** Steps after a cut during which no further cut happens (and bad steps are not counted). */
  cooldown: number;
  /** Lower bound on each group's lr: one number, or one per group. */
  minLr: number | number[];
  /** Cuts smaller than this are skipped. */
  eps: number;
}

const DEFAULTS: PlateauOptions = {
  mode: 'min',
  factor: 0.1,
  patience: 10,
  threshold: 1e-4,
  thresholdMode: 'rel',
  cooldown: 0,
  minLr: 0,
  eps: 1e-8,
};

/** torch.optim.lr_scheduler.ReduceLROnPlateau; call step(metric) once per evaluation. */
export class ReduceLROnPlateau {
  readonly optimizer: LrGroups;
  readonly opts: PlateauOptions;
  readonly minLrs: number[];
  best: number;
  numBadSteps = 0;
  cooldownCounter = 0;
  lastEpoch = 0;

  constructor(optimizer: LrGroups, opts: Partial<PlateauOptions> = {}) {
    this.optimizer = optimizer;
    this.opts = { ...DEFAULTS, ...opts };
    const { factor, mode, thresholdMode, patience, cooldown, minLr } = this.opts;
    if (!(factor < 1 && factor >= 0)) throw new Error(`ReduceLROnPlateau: factor must be in [0, 1), got ${factor}`);
    if (mode !== 'min' && mode !== 'max') throw new Error(`ReduceLROnPlateau: unknown mode '${mode}'`);
    if (thresholdMode !== 'rel' && thresholdMode !== 'abs') {
      throw new Error(`ReduceLROnPlateau: unknown thresholdMode '${thresholdMode}'`);
    }
    if (!(Number.isInteger(patience) && patience >= 0) || !(Number.isInteger(cooldown) && cooldown >= 0)) {
      throw new Error('ReduceLROnPlateau: patience and cooldown must be whole numbers ≥ 0');
    }
    const groups = optimizer.paramGroups.length;
    this.minLrs = Array.isArray(minLr) ? [...minLr] : Array(groups).fill(minLr);
    if (this.minLrs.length !== groups) {
      throw new Error(`ReduceLROnPlateau: ${this.minLrs.length} minLr values for ${groups} parameter groups`);
    }
    this.best = mode === 'min' ? Infinity : -Infinity;
  }

  /** Records one value of the monitored metric (NaN never counts as better) and cuts the rates if it has stalled. */
  step(metric: number): void {
    this.lastEpoch += 1;
    if (this.isBetter(metric)) {
      this.best = metric;
      this.numBadSteps = 0;
    } else {
      this.numBadSteps += 1;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadSteps = 0;
    }
    if (this.numBadSteps > this.opts.patience) {
      this.reduce();
      this.cooldownCounter = this.opts.cooldown;
      this.numBadSteps = 0;
    }
  }

  /** The groups' current rates. */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The best value so far and the counters, as meta, for checkpoints. */
  stateDict(): StateDict {
    return {
      tensors: {},
      meta: {
        best: this.best,
        numBadSteps: this.numBadSteps,
        cooldownCounter: this.cooldownCounter,
        lastEpoch: this.lastEpoch,
        lrs: this.getLastLr(),
      },
    };
  }

  /** Restores the counters and the best value, and sets the optimizer's rates to the saved ones. */
  loadStateDict(sd: StateDict): void {
    const lrs = expectArray(sd.meta.lrs, 'meta.lrs').map((v, i) => expectNumber(v, `lrs[${i}]`));
    if (lrs.length !== this.optimizer.paramGroups.length) {
      throw new Error(
        `loadStateDict: ${lrs.length} rates saved, optimizer has ${this.optimizer.paramGroups.length} groups`,
      );
    }
    // JSON has no Infinity: a best of ±Infinity (nothing seen yet) is saved as null.
    this.best =
      sd.meta.best === null
        ? this.opts.mode === 'min'
          ? Infinity
          : -Infinity
        : expectNumber(sd.meta.best, 'meta.best');
    this.numBadSteps = expectNumber(sd.meta.numBadSteps, 'meta.numBadSteps');
    this.cooldownCounter = expectNumber(sd.meta.cooldownCounter, 'meta.cooldownCounter');
    this.lastEpoch = expectNumber(sd.meta.lastEpoch, 'meta.lastEpoch');
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = lrs[i];
    });
  }

  private isBetter(a: number): boolean {
    const { mode, thresholdMode, threshold } = this.opts;
    const best = this.best;
    if (mode === 'min') return thresholdMode === 'rel' ? a < best * (1 - threshold) : a < best - threshold;
    return thresholdMode === 'rel' ? a > best * (threshold + 1) : a > best + threshold;
  }

  private reduce(): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      const next = Math.max(g.lr * this.opts.factor, this.minLrs[i]);
      if (g.lr - next > this.opts.eps) g.lr = next;
    });
  }
}
