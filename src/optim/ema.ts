// Exponential moving average of parameters, for evaluating or sampling with smoothed weights.
import { noGrad } from '../torch/autograd.js';
import { isFloating } from '../torch/dtype.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import { adopt, expectNumber, type Json, type StateDict, snapshot } from './state.js';

/**
 * How the decay ramps up early in training, so the average is not dominated by the random
 * initial weights. `true`: min(decay, (1 + k) / (10 + k)) after k updates (TensorFlow's rule).
 * An object: min(decay, 1 − (1 + k / invGamma)^−power) (the rule of Karras et al.'s EDM code and
 * diffusers; power 2/3 suits short runs, 3/4 long ones).
 */
export type EMAWarmup = boolean | { power?: number; invGamma?: number };

/** Options of {@link EMA}: the decay (default 0.999), its warm-up (none) and the lowest decay warm-up may use (0). */
export interface EMAOptions {
  /** Weight of the old average at each update, in [0, 1]; 0.999 by default. */
  decay?: number;
  /** How the decay ramps up over the first updates; none by default. */
  warmup?: EMAWarmup;
  /** Lower bound on the decay during warm-up. */
  minDecay?: number;
}

/**
 * An exponential moving average of a list of tensors (usually a model's parameters): call update()
 * after each optimizer step, and evaluate or sample with the averaged weights.
 */
export class EMA {
  /** The tensors being averaged. */
  readonly params: Tensor[];
  /** The averages, one per parameter. */
  readonly shadow: Tensor[];
  /** The decay once warm-up is over. */
  decay: number;
  /** The lowest decay warm-up may use. */
  minDecay: number;
  /** How the decay ramps up early; see {@link EMAWarmup}. */
  warmup: EMAWarmup;
  /** Number of update() calls so far. */
  numUpdates = 0;
  private backup: Tensor[] | null = null;

  constructor(params: Tensor[], opts: EMAOptions = {}) {
    this.params = [...params];
    this.decay = opts.decay ?? 0.999;
    this.minDecay = opts.minDecay ?? 0;
    this.warmup = opts.warmup ?? false;
    if (!(this.decay >= 0 && this.decay <= 1)) throw new Error(`EMA: decay ${this.decay} not in [0, 1]`);
    this.shadow = cloneKept(this.params);
  }

  /** The decay the next update() will use. */
  currentDecay(): number {
    const k = this.numUpdates;
    let d = this.decay;
    if (this.warmup === true) d = Math.min(d, (1 + k) / (10 + k));
    else if (typeof this.warmup === 'object') {
      const { power = 2 / 3, invGamma = 1 } = this.warmup;
      d = Math.min(d, 1 - (1 + k / invGamma) ** -power);
    }
    return Math.max(d, Math.min(this.minDecay, this.decay));
  }

  /** shadow ← decay · shadow + (1 − decay) · param; non-float tensors (counters, masks) are copied. */
  update(): void {
    const d = this.currentDecay();
    tidy(() =>
      noGrad(() => {
        this.params.forEach((p, i) => {
          const s = this.shadow[i];
          if (isFloating(s.dtype)) s.lerp_(p, 1 - d);
          else s.copy_(p);
        });
      }),
    );
    this.numUpdates += 1;
  }

  /** Writes the averages into the given tensors (the tracked parameters by default). */
  copyTo(params: Tensor[] = this.params): void {
    this.checkLength(params);
    noGrad(() => {
      for (const [i, p] of params.entries()) p.copy_(this.shadow[i]);
    });
  }

  /** Saves a copy of the current weights, to be put back by restore(). */
  store(params: Tensor[] = this.params): void {
    this.checkLength(params);
    this.dropBackup();
    this.backup = cloneKept(params);
  }

  /** Puts back the weights saved by store(). */
  restore(params: Tensor[] = this.params): void {
    if (this.backup === null) throw new Error('EMA.restore: nothing stored');
    this.checkLength(params);
    const backup = this.backup;
    noGrad(() => {
      for (const [i, p] of params.entries()) p.copy_(backup[i]);
    });
    this.dropBackup();
  }

  /** Exchanges the weights and the averages in place; calling it twice changes nothing. */
  swap(params: Tensor[] = this.params): void {
    this.checkLength(params);
    tidy(() =>
      noGrad(() => {
        params.forEach((p, i) => {
          const tmp = p.clone();
          p.copy_(this.shadow[i]);
          this.shadow[i].copy_(tmp);
        });
      }),
    );
  }

  /** Runs fn with the averaged weights in place, then puts the trained weights back. */
  withAverage<T>(fn: () => T, params: Tensor[] = this.params): T {
    this.store(params);
    this.copyTo(params);
    try {
      return fn();
    } finally {
      this.restore(params);
    }
  }

  /** Tensors `shadow.<i>`; meta holds the decay settings and update count. */
  stateDict(opts: { copy?: boolean } = {}): StateDict {
    const copy = opts.copy ?? true;
    const tensors: Record<string, Tensor> = {};
    this.shadow.forEach((s, i) => {
      tensors[`shadow.${i}`] = snapshot(s, copy);
    });
    const warmup: Json = typeof this.warmup === 'object' ? { ...this.warmup } : this.warmup;
    return { tensors, meta: { decay: this.decay, minDecay: this.minDecay, warmup, numUpdates: this.numUpdates } };
  }

  /**
   * Restores the averages, decay settings and update count saved by stateDict(); copies the
   * tensors, so the dict may be disposed afterwards.
   */
  loadStateDict(sd: StateDict): void {
    const fresh = this.shadow.map((s, i) => {
      const t = sd.tensors[`shadow.${i}`];
      if (t === undefined) throw new Error(`EMA.loadStateDict: missing shadow.${i}`);
      if (t.shape.join() !== s.shape.join())
        throw new Error(`EMA.loadStateDict: shadow.${i} has shape [${t.shape}], expected [${s.shape}]`);
      return t;
    });
    fresh.forEach((t, i) => {
      this.shadow[i].dispose();
      this.shadow[i] = adopt(t, this.params[i]);
    });
    this.numUpdates = expectNumber(sd.meta.numUpdates, 'meta.numUpdates');
    this.decay = expectNumber(sd.meta.decay, 'meta.decay');
    this.minDecay = expectNumber(sd.meta.minDecay ?? 0, 'meta.minDecay');
    const w = sd.meta.warmup;
    this.warmup =
      typeof w === 'boolean'
        ? w
        : typeof w === 'object' && w !== null
          ? (w as { power?: number; invGamma?: number })
          : false;
  }

  /** Frees the averages and any stored weights. */
  dispose(): void {
    for (const s of this.shadow) s.dispose();
    this.dropBackup();
  }

  /** Frees the averages at the end of a `using` block, as dispose() does. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  private dropBackup(): void {
    if (this.backup !== null) for (const t of this.backup) t.dispose();
    this.backup = null;
  }

  private checkLength(params: Tensor[]): void {
    if (params.length !== this.shadow.length) {
      throw new Error(`EMA: got ${params.length} tensors, tracking ${this.shadow.length}`);
    }
  }
}

/** Owned copies outside autograd, kept past the caller's tidy() scopes. */
function cloneKept(ts: Tensor[]): Tensor[] {
  return tidy(() => noGrad(() => ts.map((t) => t.clone().keep())));
}
