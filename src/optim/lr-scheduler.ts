// Learning-rate schedules, as torch.optim.lr_scheduler of PyTorch 1.13. Each step() computes
// the new rates as PyTorch's does: the chainable schedules (StepLR, ExponentialLR, LinearLR,
// CosineAnnealingLR, …) update the groups' current rates recursively, so several of them can act
// on one optimizer (ChainedScheduler) and the rates equal PyTorch's bit for bit; the others use a
// closed form. warmupCosine, genlab's helper, is a closed form of its own. Call step() after
// optimizer.step().
import { cCos, cPow } from './libm.js';
import { expectArray, expectNumber, expectObject, type Json, type StateDict } from './state.js';

/** What a scheduler needs of an optimizer: its groups' learning rates. */
export interface LrGroups {
  paramGroups: { lr: number; initialLr?: number }[];
}

/** The learning rate of group `group` (base rate `baseLr`) at `epoch` (0 on construction). */
export type LrFunction = (baseLr: number, epoch: number, group: number) => number;

/** A group's momentum-like hyperparameters, which CyclicLR and OneCycleLR also schedule. */
type MomentumGroup = { momentum?: number; betas?: [number, number] };

/** One value per group: a single value is repeated, a list must have one per group. */
function perGroup(optimizer: LrGroups, name: string, value: number | number[]): number[] {
  const n = optimizer.paramGroups.length;
  if (!Array.isArray(value)) return Array(n).fill(value);
  if (value.length !== n) throw new Error(`expected ${n} values for ${name}, got ${value.length}`);
  return [...value];
}

function numbers(value: Json | undefined, what: string): number[] {
  return expectArray(value, what).map((v, i) => expectNumber(v, `${what}[${i}]`));
}

/**
 * The base of the schedules. As in PyTorch, construction performs the first step (lastEpoch
 * becomes 0) and the base rate is the group's `initialLr`, recorded by the first scheduler built
 * on the optimizer. Given a function, `new LRScheduler(optimizer, fn)` is a schedule of its own:
 * each step sets lr = fn(baseLr, lastEpoch, group).
 *
 * A subclass either passes its closed form as `fn`, or passes null, sets its fields, overrides
 * getLr() (and closedForm() if it has one) and then calls initialStep() itself.
 */
export class LRScheduler {
  readonly optimizer: LrGroups;
  baseLrs: number[];
  /** Steps taken; 0 right after construction. PyTorch's name, though it counts whatever step() is called for. */
  lastEpoch: number;
  /** step() calls so far, including the one made on construction (PyTorch's `_step_count`). */
  stepCount = 0;
  protected fn: LrFunction | null;
  protected lastLr: number[] = [];

  /** lastEpoch ≥ 0 resumes a schedule: groups must then carry `initialLr`. */
  constructor(optimizer: LrGroups, fn: LrFunction | null, lastEpoch = -1) {
    this.optimizer = optimizer;
    this.fn = fn;
    for (const [i, g] of optimizer.paramGroups.entries()) {
      if (lastEpoch === -1) g.initialLr ??= g.lr;
      else if (g.initialLr === undefined) throw new Error(`LRScheduler: group ${i} has no initialLr to resume from`);
    }
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
    this.lastEpoch = lastEpoch;
    if (fn !== null) this.initialStep();
  }

  /** The first step, made on construction. */
  protected initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /** The rates at lastEpoch from the base rates alone, or null for a schedule with no closed form. */
  protected closedForm(): number[] | null {
    const fn = this.fn;
    return fn === null ? null : this.baseLrs.map((base, i) => fn(base, this.lastEpoch, i));
  }

  /**
   * The rates for the epoch step() has just moved to. Chainable schedules override this with
   * PyTorch's recursive update of the groups' current rates; by default it is the closed form.
   */
  protected getLr(): number[] {
    const lrs = this.closedForm();
    if (lrs === null) throw new Error(`${this.constructor.name}: no getLr() and no closed form`);
    return lrs;
  }

  /** This schedule's closed form at an epoch, for a given base rate (schedules that have one). */
  lrAt(baseLr: number, epoch: number, group = 0): number {
    if (this.fn === null) throw new Error(`${this.constructor.name} has no closed form`);
    return this.fn(baseLr, epoch, group);
  }

  /**
   * Advances one epoch (or iteration) and writes the new rates into the optimizer. The first step
   * of a schedule resumed through the constructor's lastEpoch uses the closed form (as PyTorch's
   * CosineAnnealingLR does), since the groups' current rates need not be this schedule's.
   */
  step(): void {
    this.stepCount += 1;
    this.lastEpoch += 1;
    const resumed = this.stepCount === 1 && this.lastEpoch > 0 ? this.closedForm() : null;
    this.setLrs(resumed ?? this.getLr());
  }

  /** Jumps to an epoch, through the closed form where there is one: PyTorch's step(epoch), as SequentialLR uses it. */
  stepAt(epoch: number): void {
    this.stepCount += 1;
    this.lastEpoch = epoch;
    this.setLrs(this.closedForm() ?? this.getLr());
  }

  /** Sets each group's rate and records them as the last rates. */
  protected setLrs(lrs: number[]): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = lrs[i];
    });
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The rates set by the last step(). */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** State beyond the step counts and rates, for subclasses that keep some. */
  protected extraState(): { [key: string]: Json } {
    return {};
  }

  /** Restores what extraState() saved; nothing for schedules without extra state. */
  protected loadExtraState(_meta: { [key: string]: Json }): void {}

  /** The step counts, base and last rates, and any extra state, as meta for checkpoints. */
  stateDict(): StateDict {
    return {
      tensors: {},
      meta: {
        lastEpoch: this.lastEpoch,
        baseLrs: [...this.baseLrs],
        lastLr: [...this.lastLr],
        stepCount: this.stepCount,
        ...this.extraState(),
      },
    };
  }

  /**
   * Restores the step count, base and last rates, and sets the optimizer's rates to the last ones
   * (which an optimizer's own loadStateDict also restores). A dict without `lastLr` (saved before
   * genlab kept it) recomputes them from the closed form.
   */
  loadStateDict(sd: StateDict): void {
    const groups = this.optimizer.paramGroups.length;
    const baseLrs = numbers(sd.meta.baseLrs, 'meta.baseLrs');
    if (baseLrs.length !== groups) {
      throw new Error(`loadStateDict: ${baseLrs.length} base rates saved, optimizer has ${groups} groups`);
    }
    const lastLr = sd.meta.lastLr === undefined ? null : numbers(sd.meta.lastLr, 'meta.lastLr');
    if (lastLr !== null && lastLr.length !== groups) {
      throw new Error(`loadStateDict: ${lastLr.length} rates saved, optimizer has ${groups} groups`);
    }
    this.lastEpoch = expectNumber(sd.meta.lastEpoch, 'meta.lastEpoch');
    this.baseLrs = baseLrs;
    this.stepCount = sd.meta.stepCount === undefined ? 1 : expectNumber(sd.meta.stepCount, 'meta.stepCount');
    this.loadExtraState(sd.meta);
    const lrs = lastLr ?? this.closedForm();
    if (lrs === null) throw new Error('loadStateDict: meta.lastLr is missing');
    this.setLrs(lrs);
  }
}

/** lr = baseLr · lrLambda(epoch); one function, or one per group. */
export class LambdaLR extends LRScheduler {
  constructor(
    optimizer: LrGroups,
    lrLambda: ((epoch: number) => number) | ((epoch: number) => number)[],
    lastEpoch = -1,
  ) {
    const fns = Array.isArray(lrLambda) ? lrLambda : optimizer.paramGroups.map(() => lrLambda);
    if (fns.length !== optimizer.paramGroups.length) throw new Error('LambdaLR: need one function per group');
    super(optimizer, (base, t, g) => base * fns[g](t), lastEpoch);
  }
}

/** Multiplies each group's current rate by lrLambda(epoch) at every step after the first; one function, or one per group. */
export class MultiplicativeLR extends LRScheduler {
  private readonly lambdas: ((epoch: number) => number)[];

  constructor(
    optimizer: LrGroups,
    lrLambda: ((epoch: number) => number) | ((epoch: number) => number)[],
    lastEpoch = -1,
  ) {
    super(optimizer, null, lastEpoch);
    const n = optimizer.paramGroups.length;
    const fns = Array.isArray(lrLambda) ? [...lrLambda] : Array(n).fill(lrLambda);
    if (fns.length !== n) throw new Error(`MultiplicativeLR: expected ${n} functions, got ${fns.length}`);
    this.lambdas = fns;
    this.initialStep();
  }

  protected override getLr(): number[] {
    const t = this.lastEpoch;
    return this.optimizer.paramGroups.map((g, i) => (t > 0 ? g.lr * this.lambdas[i](t) : g.lr));
  }
}

/** Multiplies the rate by gamma every stepSize epochs. */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: LrGroups, opts: { stepSize: number; gamma?: number; lastEpoch?: number }) {
    const { stepSize, gamma = 0.1 } = opts;
    if (!(Number.isInteger(stepSize) && stepSize > 0)) throw new Error(`StepLR: invalid stepSize ${stepSize}`);
    super(optimizer, null, opts.lastEpoch);
    this.stepSize = stepSize;
    this.gamma = gamma;
    this.fn = (base, t) => base * cPow(gamma, Math.floor(t / stepSize));
    this.initialStep();
  }

  protected override getLr(): number[] {
    const t = this.lastEpoch;
    const cut = t !== 0 && t % this.stepSize === 0;
    return this.optimizer.paramGroups.map((g) => (cut ? g.lr * this.gamma : g.lr));
  }
}

/** Multiplies the rate by gamma at each milestone epoch (twice at a milestone given twice). */
export class MultiStepLR extends LRScheduler {
  readonly milestones: number[];
  readonly gamma: number;
  private readonly counts = new Map<number, number>();

  constructor(optimizer: LrGroups, opts: { milestones: number[]; gamma?: number; lastEpoch?: number }) {
    super(optimizer, null, opts.lastEpoch);
    const milestones = [...opts.milestones].sort((a, b) => a - b);
    const gamma = opts.gamma ?? 0.1;
    this.milestones = milestones;
    this.gamma = gamma;
    for (const m of milestones) this.counts.set(m, (this.counts.get(m) ?? 0) + 1);
    this.fn = (base, t) => base * cPow(gamma, milestones.filter((m) => m <= t).length);
    this.initialStep();
  }

  protected override getLr(): number[] {
    const count = this.counts.get(this.lastEpoch);
    return this.optimizer.paramGroups.map((g) => (count === undefined ? g.lr : g.lr * cPow(this.gamma, count)));
  }
}

/** Scales the rate by factor until epoch totalIters, then restores it. */
export class ConstantLR extends LRScheduler {
  readonly factor: number;
  readonly totalIters: number;

  constructor(optimizer: LrGroups, opts: { factor?: number; totalIters?: number; lastEpoch?: number } = {}) {
    const { factor = 1 / 3, totalIters = 5 } = opts;
    if (!(factor >= 0 && factor <= 1)) throw new Error(`ConstantLR: factor ${factor} not in [0, 1]`);
    super(optimizer, null, opts.lastEpoch);
    this.factor = factor;
    this.totalIters = totalIters;
    this.fn = (base, t) => base * (factor + (t >= totalIters ? 1 : 0) * (1 - factor));
    this.initialStep();
  }

  protected override getLr(): number[] {
    const t = this.lastEpoch;
    // A factor of 0 cannot be undone by a multiplication (PyTorch divides by zero): closed form.
    if (this.factor === 0) return this.closedForm()!;
    return this.optimizer.paramGroups.map((g) => {
      if (t === 0) return g.lr * this.factor;
      if (t !== this.totalIters) return g.lr;
      return g.lr * (1 / this.factor);
    });
  }
}

/** lr = baseLr · gamma^epoch, as a multiplication by gamma per step. */
export class ExponentialLR extends LRScheduler {
  readonly gamma: number;

  constructor(optimizer: LrGroups, opts: { gamma: number; lastEpoch?: number }) {
    const { gamma } = opts;
    super(optimizer, null, opts.lastEpoch);
    this.gamma = gamma;
    this.fn = (base, t) => base * cPow(gamma, t);
    this.initialStep();
  }

  protected override getLr(): number[] {
    return this.optimizer.paramGroups.map((g) => (this.lastEpoch === 0 ? g.lr : g.lr * this.gamma));
  }
}

/**
 * Linear change of the factor from startFactor to endFactor over totalIters epochs, then constant:
 * the usual linear warm-up. A startFactor of 0 (where PyTorch divides by zero at the first step)
 * uses the closed form lr · (start + (end − start)·min(t, totalIters)/totalIters).
 */
export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;

  constructor(
    optimizer: LrGroups,
    opts: { startFactor?: number; endFactor?: number; totalIters?: number; lastEpoch?: number } = {},
  ) {
    const { startFactor = 1 / 3, endFactor = 1, totalIters = 5 } = opts;
    if (!(startFactor >= 0 && startFactor <= 1)) throw new Error(`LinearLR: startFactor ${startFactor} not in [0, 1]`);
    if (!(endFactor >= 0 && endFactor <= 1)) throw new Error(`LinearLR: endFactor ${endFactor} not in [0, 1]`);
    if (!(totalIters > 0)) throw new Error(`LinearLR: invalid totalIters ${totalIters}`);
    super(optimizer, null, opts.lastEpoch);
    this.startFactor = startFactor;
    this.endFactor = endFactor;
    this.totalIters = totalIters;
    this.fn = (base, t) => base * linearFactor(startFactor, endFactor, totalIters, t);
    this.initialStep();
  }

  protected override getLr(): number[] {
    const { startFactor: start, endFactor: end, totalIters: total } = this;
    const t = this.lastEpoch;
    if (start === 0) return this.closedForm()!;
    return this.optimizer.paramGroups.map((g) => {
      if (t === 0) return g.lr * start;
      if (t > total) return g.lr;
      return g.lr * (1 + (end - start) / (total * start + (t - 1) * (end - start)));
    });
  }
}

/** Polynomial decay to 0 over totalIters epochs: lr · (1 − t/totalIters)^power, then 0. */
export class PolynomialLR extends LRScheduler {
  readonly totalIters: number;
  readonly power: number;

  constructor(optimizer: LrGroups, opts: { totalIters?: number; power?: number; lastEpoch?: number } = {}) {
    const { totalIters = 5, power = 1 } = opts;
    if (!(totalIters > 0)) throw new Error(`PolynomialLR: invalid totalIters ${totalIters}`);
    super(optimizer, null, opts.lastEpoch);
    this.totalIters = totalIters;
    this.power = power;
    this.fn = (base, t) => base * cPow(1 - Math.min(totalIters, t) / totalIters, power);
    this.initialStep();
  }

  protected override getLr(): number[] {
    const t = this.lastEpoch;
    const total = this.totalIters;
    if (t === 0 || t > total) return this.optimizer.paramGroups.map((g) => g.lr);
    const decay = cPow((1 - t / total) / (1 - (t - 1) / total), this.power);
    return this.optimizer.paramGroups.map((g) => g.lr * decay);
  }
}

/**
 * Cosine annealing from the base rate down to etaMin over tMax epochs (SGDR without restarts).
 * As in PyTorch, the rate then rises back to the base rate over the next tMax epochs, and so on
 * (period 2·tMax); warmupCosine instead holds at its minimum.
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: LrGroups, opts: { tMax: number; etaMin?: number; lastEpoch?: number }) {
    const { tMax, etaMin = 0 } = opts;
    if (!(tMax > 0)) throw new Error(`CosineAnnealingLR: invalid tMax ${tMax}`);
    super(optimizer, null, opts.lastEpoch);
    this.tMax = tMax;
    this.etaMin = etaMin;
    this.fn = (base, t) => etaMin + ((base - etaMin) * (1 + cCos((Math.PI * t) / tMax))) / 2;
    this.initialStep();
  }

  protected override getLr(): number[] {
    const { tMax, etaMin } = this;
    const t = this.lastEpoch;
    const groups = this.optimizer.paramGroups;
    if (t === 0) return groups.map((g) => g.lr);
    if ((t - 1 - tMax) % (2 * tMax) === 0) {
      // The bottom of a period, where the ratio below would divide by zero.
      return groups.map((g, i) => g.lr + ((this.baseLrs[i] - etaMin) * (1 - cCos(Math.PI / tMax))) / 2);
    }
    const ratio = (1 + cCos((Math.PI * t) / tMax)) / (1 + cCos((Math.PI * (t - 1)) / tMax));
    return groups.map((g) => ratio * (g.lr - etaMin) + etaMin);
  }
}

/**
 * SGDR (Loshchilov & Hutter, 2017): cosine annealing from the base rate to etaMin over t0 epochs,
 * then a restart; each period is tMult times longer than the one before. step(epoch) may be
 * given a fractional epoch, to anneal within an epoch (e.g. epoch + i / itersPerEpoch).
 */
export class CosineAnnealingWarmRestarts extends LRScheduler {
  readonly t0: number;
  readonly tMult: number;
  readonly etaMin: number;
  /** Length of the current period. */
  tI: number;
  /** Epochs since the last restart. */
  tCur: number;

  constructor(optimizer: LrGroups, opts: { t0: number; tMult?: number; etaMin?: number; lastEpoch?: number }) {
    const { t0, tMult = 1, etaMin = 0, lastEpoch = -1 } = opts;
    if (!(Number.isInteger(t0) && t0 > 0))
      throw new Error(`CosineAnnealingWarmRestarts: expected a whole t0 > 0, got ${t0}`);
    if (!(Number.isInteger(tMult) && tMult >= 1)) {
      throw new Error(`CosineAnnealingWarmRestarts: expected a whole tMult ≥ 1, got ${tMult}`);
    }
    super(optimizer, null, lastEpoch);
    this.t0 = t0;
    this.tI = t0;
    this.tMult = tMult;
    this.etaMin = etaMin;
    this.tCur = lastEpoch;
    this.initialStep();
  }

  protected override closedForm(): number[] {
    const { etaMin, tCur, tI } = this;
    return this.baseLrs.map((base) => etaMin + ((base - etaMin) * (1 + cCos((Math.PI * tCur) / tI))) / 2);
  }

  /** The next epoch, or the given (possibly fractional) one. */
  override step(epoch?: number): void {
    let e = epoch;
    if (e === undefined && this.lastEpoch < 0) e = 0;
    if (e === undefined) {
      e = this.lastEpoch + 1;
      this.tCur += 1;
      if (this.tCur >= this.tI) {
        this.tCur -= this.tI;
        this.tI *= this.tMult;
      }
    } else {
      if (e < 0) throw new Error(`CosineAnnealingWarmRestarts: expected a non-negative epoch, got ${e}`);
      const { t0, tMult } = this;
      if (e >= t0) {
        if (tMult === 1) {
          this.tCur = e % t0;
        } else {
          const n = Math.trunc(Math.log((e / t0) * (tMult - 1) + 1) / Math.log(tMult));
          this.tCur = e - (t0 * (cPow(tMult, n) - 1)) / (tMult - 1);
          this.tI = t0 * cPow(tMult, n);
        }
      } else {
        this.tI = t0;
        this.tCur = e;
      }
    }
    this.stepCount += 1;
    this.lastEpoch = Math.floor(e);
    this.setLrs(this.closedForm());
  }

  override stepAt(epoch: number): void {
    this.step(epoch);
  }

  protected override extraState(): { [key: string]: Json } {
    return { tI: this.tI, tCur: this.tCur };
  }

  /** Restores the current period length and the epochs since the last restart. */
  protected override loadExtraState(meta: { [key: string]: Json }): void {
    this.tI = expectNumber(meta.tI, 'meta.tI');
    this.tCur = expectNumber(meta.tCur, 'meta.tCur');
  }
}

/**
 * Options of {@link CyclicLR}: the base and maximum rates (required), step sizes (2000 up, as many
 * down), mode ('triangular'), gamma (1), a custom scale and momentum cycling (0.8 to 0.9).
 */
export interface CyclicLROptions {
  /** Lower rate of the cycle, per group or for all; set as the groups' rate on construction. */
  baseLr: number | number[];
  /** Upper rate of the cycle. */
  maxLr: number | number[];
  /** Steps from the lower to the upper rate. */
  stepSizeUp?: number;
  /** Steps back down; stepSizeUp by default. */
  stepSizeDown?: number;
  /** triangular: constant amplitude; triangular2: halved each cycle; expRange: gamma^step. */
  mode?: 'triangular' | 'triangular2' | 'expRange';
  gamma?: number;
  /** A custom amplitude scale in (0, 1], in place of the mode's. */
  scaleFn?: (x: number) => number;
  /** Whether scaleFn takes the cycle number or the step count. */
  scaleMode?: 'cycle' | 'iterations';
  /** Cycle the optimizer's momentum inversely to the rate, between baseMomentum and maxMomentum. */
  cycleMomentum?: boolean;
  baseMomentum?: number | number[];
  maxMomentum?: number | number[];
  lastEpoch?: number;
}

/** Cyclical learning rates (Smith, 2017): the rate goes back and forth between baseLr and maxLr. */
export class CyclicLR extends LRScheduler {
  readonly maxLrs: number[];
  readonly totalSize: number;
  readonly stepRatio: number;
  readonly mode: 'triangular' | 'triangular2' | 'expRange';
  readonly gamma: number;
  readonly scaleMode: 'cycle' | 'iterations';
  readonly cycleMomentum: boolean;
  readonly baseMomentums: number[] = [];
  readonly maxMomentums: number[] = [];
  private readonly scaleFn: (x: number) => number;

  constructor(optimizer: LrGroups, opts: CyclicLROptions) {
    const lastEpoch = opts.lastEpoch ?? -1;
    const baseLrs = perGroup(optimizer, 'baseLr', opts.baseLr);
    if (lastEpoch === -1) {
      optimizer.paramGroups.forEach((g, i) => {
        g.lr = baseLrs[i];
      });
    }
    super(optimizer, null, lastEpoch);
    this.maxLrs = perGroup(optimizer, 'maxLr', opts.maxLr);
    const up = opts.stepSizeUp ?? 2000;
    const down = opts.stepSizeDown ?? up;
    this.totalSize = up + down;
    this.stepRatio = up / this.totalSize;
    this.mode = opts.mode ?? 'triangular';
    this.gamma = opts.gamma ?? 1;
    if (opts.scaleFn !== undefined) {
      this.scaleFn = opts.scaleFn;
      this.scaleMode = opts.scaleMode ?? 'cycle';
    } else if (this.mode === 'triangular') {
      this.scaleFn = () => 1;
      this.scaleMode = 'cycle';
    } else if (this.mode === 'triangular2') {
      this.scaleFn = (x) => 1 / cPow(2, x - 1);
      this.scaleMode = 'cycle';
    } else if (this.mode === 'expRange') {
      this.scaleFn = (x) => cPow(this.gamma, x);
      this.scaleMode = 'iterations';
    } else {
      throw new Error(`CyclicLR: unknown mode '${this.mode}' and no scaleFn`);
    }
    this.cycleMomentum = opts.cycleMomentum ?? true;
    if (this.cycleMomentum) {
      const groups = optimizer.paramGroups as unknown as MomentumGroup[];
      if (groups.some((g) => !('momentum' in g))) {
        throw new Error('CyclicLR: the optimizer has no momentum; pass cycleMomentum: false');
      }
      const base = perGroup(optimizer, 'baseMomentum', opts.baseMomentum ?? 0.8);
      if (lastEpoch === -1) {
        groups.forEach((g, i) => {
          g.momentum = base[i];
        });
      }
      this.baseMomentums = groups.map((g) => g.momentum!);
      this.maxMomentums = perGroup(optimizer, 'maxMomentum', opts.maxMomentum ?? 0.9);
    }
    this.initialStep();
    this.baseLrs = baseLrs;
  }

  protected override closedForm(): number[] {
    const t = this.lastEpoch;
    const cycle = Math.floor(1 + t / this.totalSize);
    const x = 1 + t / this.totalSize - cycle;
    const scale = x <= this.stepRatio ? x / this.stepRatio : (x - 1) / (this.stepRatio - 1);
    const s = this.scaleFn(this.scaleMode === 'cycle' ? cycle : t);
    const lrs = this.baseLrs.map((base, i) => base + (this.maxLrs[i] - base) * scale * s);
    if (this.cycleMomentum) {
      const groups = this.optimizer.paramGroups as unknown as MomentumGroup[];
      this.maxMomentums.forEach((max, i) => {
        groups[i].momentum = max - (max - this.baseMomentums[i]) * scale * s;
      });
    }
    return lrs;
  }

  protected override extraState(): { [key: string]: Json } {
    return { baseMomentums: [...this.baseMomentums] };
  }
}

/**
 * Options of {@link OneCycleLR}: the peak rate, the cycle length (totalSteps, or epochs and
 * stepsPerEpoch), pctStart (0.3), annealing ('cos'), momentum cycling (0.85 to 0.95), divFactor
 * (25), finalDivFactor (1e4) and threePhase.
 */
export interface OneCycleLROptions {
  /** Peak rate, per group or for all. */
  maxLr: number | number[];
  /** Length of the cycle; or give epochs and stepsPerEpoch. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent rising to maxLr. */
  pctStart?: number;
  annealStrategy?: 'cos' | 'linear';
  /** Cycle the momentum (SGD's momentum, or Adam's first beta) inversely to the rate. */
  cycleMomentum?: boolean;
  baseMomentum?: number | number[];
  maxMomentum?: number | number[];
  /** The starting rate is maxLr / divFactor … */
  divFactor?: number;
  /** … and the final one that divided by finalDivFactor. */
  finalDivFactor?: number;
  /** Rise, fall back to the starting rate, then anneal to the final one (fast.ai's schedule) instead of rise then anneal. */
  threePhase?: boolean;
  lastEpoch?: number;
}

interface Phase {
  endStep: number;
  startLr: 'initial' | 'max' | 'min';
  endLr: 'initial' | 'max' | 'min';
  startMomentum: 'max' | 'base';
  endMomentum: 'max' | 'base';
}

/** The 1cycle policy (Smith & Topin, 2017): warm up to maxLr, then anneal far below the start. Step once per batch. */
export class OneCycleLR extends LRScheduler {
  readonly totalSteps: number;
  readonly maxLrs: number[];
  readonly minLrs: number[];
  readonly cycleMomentum: boolean;
  readonly maxMomentums: number[] = [];
  readonly baseMomentums: number[] = [];
  private readonly useBeta1: boolean = false;
  private readonly phases: Phase[];
  private readonly anneal: (start: number, end: number, pct: number) => number;

  constructor(optimizer: LrGroups, opts: OneCycleLROptions) {
    const lastEpoch = opts.lastEpoch ?? -1;
    super(optimizer, null, lastEpoch);
    const { totalSteps, epochs, stepsPerEpoch } = opts;
    const whole = (v: number) => Number.isInteger(v) && v > 0;
    if (totalSteps !== undefined) {
      if (!whole(totalSteps)) throw new Error(`OneCycleLR: expected a whole totalSteps > 0, got ${totalSteps}`);
      this.totalSteps = totalSteps;
    } else if (epochs !== undefined && stepsPerEpoch !== undefined) {
      if (!whole(epochs)) throw new Error(`OneCycleLR: expected a whole epochs > 0, got ${epochs}`);
      if (!whole(stepsPerEpoch))
        throw new Error(`OneCycleLR: expected a whole stepsPerEpoch > 0, got ${stepsPerEpoch}`);
      this.totalSteps = epochs * stepsPerEpoch;
    } else {
      throw new Error('OneCycleLR: give totalSteps, or epochs and stepsPerEpoch');
    }
    const pct = opts.pctStart ?? 0.3;
    if (!(pct >= 0 && pct <= 1)) throw new Error(`OneCycleLR: pctStart ${pct} not in [0, 1]`);
    const total = this.totalSteps;
    this.phases = opts.threePhase
      ? [
          { endStep: pct * total - 1, startLr: 'initial', endLr: 'max', startMomentum: 'max', endMomentum: 'base' },
          { endStep: 2 * pct * total - 2, startLr: 'max', endLr: 'initial', startMomentum: 'base', endMomentum: 'max' },
          { endStep: total - 1, startLr: 'initial', endLr: 'min', startMomentum: 'max', endMomentum: 'max' },
        ]
      : [
          { endStep: pct * total - 1, startLr: 'initial', endLr: 'max', startMomentum: 'max', endMomentum: 'base' },
          { endStep: total - 1, startLr: 'max', endLr: 'min', startMomentum: 'base', endMomentum: 'max' },
        ];
    const strategy = opts.annealStrategy ?? 'cos';
    if (strategy === 'cos') this.anneal = (start, end, p) => end + ((start - end) / 2) * (cCos(Math.PI * p) + 1);
    else if (strategy === 'linear') this.anneal = (start, end, p) => (end - start) * p + start;
    else throw new Error(`OneCycleLR: annealStrategy must be 'cos' or 'linear', got '${strategy}'`);

    const divFactor = opts.divFactor ?? 25;
    const finalDivFactor = opts.finalDivFactor ?? 1e4;
    this.maxLrs = perGroup(optimizer, 'maxLr', opts.maxLr);
    const groups = optimizer.paramGroups;
    if (lastEpoch === -1) {
      groups.forEach((g, i) => {
        g.initialLr = this.maxLrs[i] / divFactor;
      });
      this.baseLrs = groups.map((g) => g.initialLr!);
    }
    this.minLrs = groups.map((g) => g.initialLr! / finalDivFactor);

    this.cycleMomentum = opts.cycleMomentum ?? true;
    if (this.cycleMomentum) {
      const mg = groups as unknown as MomentumGroup[];
      if (mg.some((g) => !('momentum' in g) && !('betas' in g))) {
        throw new Error('OneCycleLR: the optimizer has neither momentum nor betas; pass cycleMomentum: false');
      }
      this.useBeta1 = 'betas' in mg[0];
      this.maxMomentums = perGroup(optimizer, 'maxMomentum', opts.maxMomentum ?? 0.95);
      this.baseMomentums = perGroup(optimizer, 'baseMomentum', opts.baseMomentum ?? 0.85);
      if (lastEpoch === -1) {
        mg.forEach((g, i) => {
          this.setMomentum(g, this.maxMomentums[i]);
        });
      }
    }
    this.initialStep();
  }

  private setMomentum(g: MomentumGroup, m: number): void {
    // A new pair: the group's betas may be shared with the optimizer's defaults.
    if (this.useBeta1) g.betas = [m, g.betas![1]];
    else g.momentum = m;
  }

  protected override closedForm(): number[] {
    const step = this.lastEpoch;
    if (step > this.totalSteps) {
      throw new Error(`OneCycleLR: tried to step ${step + 1} times; the cycle has ${this.totalSteps} steps`);
    }
    const groups = this.optimizer.paramGroups;
    return groups.map((g, i) => {
      const lrOf = { initial: g.initialLr!, max: this.maxLrs[i], min: this.minLrs[i] };
      const momentumOf = { max: this.maxMomentums[i], base: this.baseMomentums[i] };
      let start = 0;
      for (const [k, phase] of this.phases.entries()) {
        if (step <= phase.endStep || k === this.phases.length - 1) {
          const pct = (step - start) / (phase.endStep - start);
          if (this.cycleMomentum) {
            const m = this.anneal(momentumOf[phase.startMomentum], momentumOf[phase.endMomentum], pct);
            this.setMomentum(g as unknown as MomentumGroup, m);
          }
          return this.anneal(lrOf[phase.startLr], lrOf[phase.endLr], pct);
        }
        start = phase.endStep;
      }
      throw new Error('unreachable');
    });
  }
}

/**
 * Runs schedulers one after another: schedulers[i] takes over at milestones[i - 1], restarting
 * from its epoch 0 (its closed form there), then steps on from the rates as they are. The
 * schedulers must have been built on the same optimizer; this undoes their construction steps.
 */
export class SequentialLR extends LRScheduler {
  readonly schedulers: LRScheduler[];
  readonly milestones: number[];

  constructor(optimizer: LrGroups, schedulers: LRScheduler[], milestones: number[], lastEpoch = -1) {
    if (schedulers.length !== milestones.length + 1) {
      throw new Error(`SequentialLR: ${schedulers.length} schedulers need ${schedulers.length - 1} milestones`);
    }
    if (schedulers.some((s) => s.optimizer !== optimizer))
      throw new Error('SequentialLR: schedulers of another optimizer');
    if (milestones.some((m, i) => i > 0 && m <= milestones[i - 1]))
      throw new Error('SequentialLR: milestones must increase');
    super(optimizer, null, lastEpoch);
    this.schedulers = schedulers;
    this.milestones = [...milestones];
    this.lastEpoch = lastEpoch + 1;
    for (const g of optimizer.paramGroups) g.lr = g.initialLr!;
    for (const s of schedulers) s.lastEpoch -= 1;
    schedulers[0].stepCount = 0;
    schedulers[0].step();
    this.lastLr = schedulers[0].getLastLr();
  }

  override step(): void {
    this.lastEpoch += 1;
    let i = 0;
    while (i < this.milestones.length && this.lastEpoch >= this.milestones[i]) i++;
    const s = this.schedulers[i];
    if (i > 0 && this.milestones[i - 1] === this.lastEpoch) s.stepAt(0);
    else s.step();
    this.lastLr = s.getLastLr();
  }

  override lrAt(): number {
    throw new Error('SequentialLR has no closed form');
  }

  protected override extraState(): { [key: string]: Json } {
    return { schedulers: this.schedulers.map((s) => s.stateDict().meta) };
  }

  override loadStateDict(sd: StateDict): void {
    loadChildren(this.schedulers, sd.meta.schedulers);
    this.lastEpoch = expectNumber(sd.meta.lastEpoch, 'meta.lastEpoch');
    this.lastLr = numbers(sd.meta.lastLr, 'meta.lastLr');
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = this.lastLr[i];
    });
  }
}

/** Steps every scheduler at each step: the chainable schedules' factors multiply. */
export class ChainedScheduler extends LRScheduler {
  readonly schedulers: LRScheduler[];

  constructor(schedulers: LRScheduler[]) {
    if (schedulers.length === 0) throw new Error('ChainedScheduler: no schedulers');
    const optimizer = schedulers[0].optimizer;
    if (schedulers.some((s) => s.optimizer !== optimizer))
      throw new Error('ChainedScheduler: schedulers of another optimizer');
    super(optimizer, null);
    this.schedulers = [...schedulers];
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  override step(): void {
    for (const s of this.schedulers) s.step();
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  override lrAt(): number {
    throw new Error('ChainedScheduler has no closed form');
  }

  protected override extraState(): { [key: string]: Json } {
    return { schedulers: this.schedulers.map((s) => s.stateDict().meta) };
  }

  override loadStateDict(sd: StateDict): void {
    loadChildren(this.schedulers, sd.meta.schedulers);
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }
}

function loadChildren(schedulers: LRScheduler[], saved: Json | undefined): void {
  const metas = expectArray(saved, 'meta.schedulers');
  if (metas.length !== schedulers.length) {
    throw new Error(`loadStateDict: ${metas.length} schedulers saved, ${schedulers.length} here`);
  }
  schedulers.forEach((s, i) => {
    s.loadStateDict({ tensors: {}, meta: expectObject(metas[i], `meta.schedulers[${i}]`) });
  });
}

/** The linear warm-up factor: start + (end − start)·min(t, total)/total. */
function linearFactor(start: number, end: number, total: number, t: number): number {
  return start + ((end - start) * Math.min(t, total)) / total;
}

/**
 * Linear warm-up over warmupSteps (from warmupStartFactor · lr), then cosine annealing to etaMin
 * at totalSteps, where it stays. With the default start factor 0, step t < warmupSteps uses
 * lr · t / warmupSteps. A closed form of the step count (genlab's own, not a PyTorch class): it
 * resumes exactly from its step count, and its rates are those of genlab's earlier
 * SequentialLR(LinearLR, CosineAnnealingLR) composition, bit for bit.
 */
export function warmupCosine(
  optimizer: LrGroups,
  opts: { warmupSteps: number; totalSteps: number; etaMin?: number; warmupStartFactor?: number },
): LRScheduler {
  const { warmupSteps, totalSteps, etaMin = 0, warmupStartFactor = 0 } = opts;
  if (!(totalSteps > warmupSteps)) throw new Error('warmupCosine: totalSteps must exceed warmupSteps');
  if (!(warmupStartFactor >= 0 && warmupStartFactor <= 1)) {
    throw new Error(`warmupCosine: warmupStartFactor ${warmupStartFactor} not in [0, 1]`);
  }
  const tMax = totalSteps - warmupSteps;
  const cosine = (base: number, t: number) =>
    etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * Math.min(t, tMax)) / tMax))) / 2;
  if (warmupSteps <= 0) return new LRScheduler(optimizer, cosine);
  return new LRScheduler(optimizer, (base, t) =>
    t < warmupSteps ? base * linearFactor(warmupStartFactor, 1, warmupSteps, t) : cosine(base, t - warmupSteps),
  );
}
