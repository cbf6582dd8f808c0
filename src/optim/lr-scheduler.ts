// Learning-rate schedules. Each is a closed form lr(baseLr, epoch), so a schedule resumes exactly
// from its step count and schedules compose without drift. Call step() after optimizer.step().
import { expectArray, expectNumber, type StateDict } from './state.js';

/** What a scheduler needs of an optimizer: its groups' learning rates. */
export interface LrGroups {
  paramGroups: { lr: number; initialLr?: number }[];
}

/** The learning rate of group `group` (base rate `baseLr`) at `epoch` (0 on construction). */
export type LrFunction = (baseLr: number, epoch: number, group: number) => number;

/**
 * Sets each group's lr to lrAt(baseLr, lastEpoch). As in PyTorch, construction performs the
 * first step (lastEpoch becomes 0) and the base rate is the group's `initialLr`, recorded by the
 * first scheduler built on the optimizer.
 */
export class LRScheduler {
  readonly optimizer: LrGroups;
  baseLrs: number[];
  /** Steps taken; 0 right after construction. PyTorch's name, though it counts whatever step() is called for. */
  lastEpoch: number;
  private readonly fn: LrFunction;
  private lastLr: number[] = [];

  /** lastEpoch ≥ 0 resumes a schedule: groups must then carry `initialLr`. */
  constructor(optimizer: LrGroups, fn: LrFunction, lastEpoch = -1) {
    this.optimizer = optimizer;
    this.fn = fn;
    for (const [i, g] of optimizer.paramGroups.entries()) {
      if (lastEpoch === -1) g.initialLr ??= g.lr;
      else if (g.initialLr === undefined) throw new Error(`LRScheduler: group ${i} has no initialLr to resume from`);
    }
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
    this.lastEpoch = lastEpoch;
    this.step();
  }

  /** This schedule's learning rate at an epoch, for a given base rate. */
  lrAt(baseLr: number, epoch: number, group = 0): number {
    return this.fn(baseLr, epoch, group);
  }

  /** Advances one epoch (or iteration) and writes the new rates into the optimizer. */
  step(): void {
    this.lastEpoch += 1;
    this.apply();
  }

  /** The rates set by the last step(). */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): StateDict {
    return { tensors: {}, meta: { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs] } };
  }

  /** Restores the step count and base rates, and sets the optimizer's rates to match. */
  loadStateDict(sd: StateDict): void {
    const baseLrs = expectArray(sd.meta.baseLrs, 'meta.baseLrs').map((v, i) => expectNumber(v, `baseLrs[${i}]`));
    if (baseLrs.length !== this.optimizer.paramGroups.length) {
      throw new Error(
        `loadStateDict: ${baseLrs.length} base rates saved, optimizer has ${this.optimizer.paramGroups.length} groups`,
      );
    }
    this.lastEpoch = expectNumber(sd.meta.lastEpoch, 'meta.lastEpoch');
    this.baseLrs = baseLrs;
    this.apply();
  }

  private apply(): void {
    this.lastLr = this.baseLrs.map((base, i) => this.fn(base, this.lastEpoch, i));
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = this.lastLr[i];
    });
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

/** Multiplies the rate by gamma every stepSize epochs. */
export class StepLR extends LRScheduler {
  constructor(optimizer: LrGroups, opts: { stepSize: number; gamma?: number; lastEpoch?: number }) {
    const { stepSize, gamma = 0.1 } = opts;
    if (!(Number.isInteger(stepSize) && stepSize > 0)) throw new Error(`StepLR: invalid stepSize ${stepSize}`);
    super(optimizer, (base, t) => base * gamma ** Math.floor(t / stepSize), opts.lastEpoch);
  }
}

/** Multiplies the rate by gamma at each milestone epoch. */
export class MultiStepLR extends LRScheduler {
  constructor(optimizer: LrGroups, opts: { milestones: number[]; gamma?: number; lastEpoch?: number }) {
    const milestones = [...opts.milestones].sort((a, b) => a - b);
    const gamma = opts.gamma ?? 0.1;
    super(optimizer, (base, t) => base * gamma ** milestones.filter((m) => m <= t).length, opts.lastEpoch);
  }
}

/** lr = baseLr · gamma^epoch. */
export class ExponentialLR extends LRScheduler {
  constructor(optimizer: LrGroups, opts: { gamma: number; lastEpoch?: number }) {
    const { gamma } = opts;
    super(optimizer, (base, t) => base * gamma ** t, opts.lastEpoch);
  }
}

/**
 * Linear change of the factor from startFactor to endFactor over totalIters epochs, then constant:
 * the usual linear warm-up. Unlike PyTorch, startFactor may be 0.
 */
export class LinearLR extends LRScheduler {
  constructor(
    optimizer: LrGroups,
    opts: { startFactor?: number; endFactor?: number; totalIters?: number; lastEpoch?: number } = {},
  ) {
    const { startFactor = 1 / 3, endFactor = 1, totalIters = 5 } = opts;
    if (!(startFactor >= 0 && startFactor <= 1)) throw new Error(`LinearLR: startFactor ${startFactor} not in [0, 1]`);
    if (!(endFactor >= 0 && endFactor <= 1)) throw new Error(`LinearLR: endFactor ${endFactor} not in [0, 1]`);
    if (!(totalIters > 0)) throw new Error(`LinearLR: invalid totalIters ${totalIters}`);
    super(
      optimizer,
      (base, t) => base * (startFactor + ((endFactor - startFactor) * Math.min(t, totalIters)) / totalIters),
      opts.lastEpoch,
    );
  }
}

/**
 * Cosine annealing from the base rate down to etaMin over tMax epochs (SGDR without restarts),
 * in closed form. It then stays at etaMin, where PyTorch's formula would climb back up.
 */
export class CosineAnnealingLR extends LRScheduler {
  constructor(optimizer: LrGroups, opts: { tMax: number; etaMin?: number; lastEpoch?: number }) {
    const { tMax, etaMin = 0 } = opts;
    if (!(tMax > 0)) throw new Error(`CosineAnnealingLR: invalid tMax ${tMax}`);
    super(
      optimizer,
      (base, t) => etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * Math.min(t, tMax)) / tMax))) / 2,
      opts.lastEpoch,
    );
  }
}

/**
 * Runs schedulers one after another: schedulers[i] takes over at milestones[i - 1] and sees
 * epochs counted from there. The schedulers must have been built on the same optimizer.
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
    const ms = [...milestones];
    super(
      optimizer,
      (base, t, g) => {
        let i = 0;
        while (i < ms.length && t >= ms[i]) i++;
        return schedulers[i].lrAt(base, t - (i === 0 ? 0 : ms[i - 1]), g);
      },
      lastEpoch,
    );
    this.schedulers = schedulers;
    this.milestones = ms;
  }
}

/**
 * Linear warm-up over warmupSteps (from warmupStartFactor · lr), then cosine annealing to etaMin
 * at totalSteps. With the default start factor 0, step t < warmupSteps uses lr · t / warmupSteps.
 */
export function warmupCosine(
  optimizer: LrGroups,
  opts: { warmupSteps: number; totalSteps: number; etaMin?: number; warmupStartFactor?: number },
): LRScheduler {
  const { warmupSteps, totalSteps, etaMin = 0, warmupStartFactor = 0 } = opts;
  if (!(totalSteps > warmupSteps)) throw new Error('warmupCosine: totalSteps must exceed warmupSteps');
  const cosine = new CosineAnnealingLR(optimizer, { tMax: totalSteps - warmupSteps, etaMin });
  if (warmupSteps <= 0) return cosine;
  const warmup = new LinearLR(optimizer, { startFactor: warmupStartFactor, endFactor: 1, totalIters: warmupSteps });
  return new SequentialLR(optimizer, [warmup, cosine], [warmupSteps]);
}
