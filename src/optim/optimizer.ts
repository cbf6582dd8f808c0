// The optimizer base class: parameter groups, per-parameter state, zeroGrad and state dicts.
import { enableGrad, noGrad } from '../torch/autograd.js';
import { tidy } from '../torch/scope.js';
import { Tensor } from '../torch/tensor.js';
import {
  adopt,
  expectArray,
  expectLike,
  expectNumber,
  expectObject,
  type Json,
  type StateDict,
  snapshot,
} from './state.js';

/** Hyperparameters every optimizer has. */
export interface GroupOptions {
  lr: number;
}

/** A parameter group: its tensors and its own copy of the hyperparameters. */
export type ParamGroup<O> = O & {
  params: Tensor[];
  /** The lr before any scheduler touched it; set by the first LRScheduler, as PyTorch's `initial_lr`. */
  initialLr?: number;
};

/** Either a flat list of parameters or groups overriding some of the defaults. */
export type Params<O> = Tensor[] | (Partial<O> & { params: Tensor[] })[];

/** Per-parameter state: tensors (saved by name) and numbers such as the step count (saved as JSON). */
export type ParamState = Record<string, Tensor | number>;

/** defaults overridden by the given options, ignoring options set to undefined. */
export function withDefaults<O extends object>(defaults: O, given: Partial<O>): O {
  const out = { ...defaults };
  for (const [key, value] of Object.entries(given)) {
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

/**
 * The base of every optimizer. To write one, as with torch.optim.Optimizer:
 * - declare its hyperparameters (`lr` and the rest) and its per-parameter state (tensors, and
 *   numbers such as a step count; both are saved by stateDict());
 * - pass the defaults, merged with the user's options by `withDefaults`, to `super`;
 * - implement `updateParam(p, grad, group)`, which runs under noGrad inside a tidy() scope per
 *   parameter, so it updates `p` in place and may create temporaries freely; create state with
 *   `this.stateOf(p, init)` and `keep()` its tensors so they outlive the scope;
 * - optionally override `validate(group)` (call super) to refuse bad hyperparameters, and
 *   `updateGroup` to update a whole group with multi-tensor kernels.
 *
 * ```ts
 * import { torch, optim } from 'genlab';
 * interface SignMomentumOptions { lr: number; beta: number }
 * class SignMomentum extends optim.Optimizer<SignMomentumOptions, { buf: torch.Tensor }> {
 *   constructor(params: optim.Params<SignMomentumOptions>, opts: Partial<SignMomentumOptions> = {}) {
 *     super(params, optim.withDefaults({ lr: 1e-3, beta: 0.9 }, opts));
 *   }
 *   protected updateParam(p: torch.Tensor, grad: torch.Tensor, group: optim.ParamGroup<SignMomentumOptions>) {
 *     const s = this.stateOf(p, () => ({ buf: torch.zerosLike(p).keep() }));
 *     s.buf.mul_(group.beta).add_(grad, { alpha: 1 - group.beta });
 *     p.add_(s.buf.sign(), { alpha: -group.lr });
 *   }
 * }
 * ```
 */
export abstract class Optimizer<O extends GroupOptions = GroupOptions, S extends ParamState = ParamState> {
  readonly defaults: O;
  readonly paramGroups: ParamGroup<O>[] = [];
  /** State of each parameter that has taken a step, keyed by the parameter tensor itself. */
  readonly state = new Map<Tensor, S>();

  constructor(params: Params<O>, defaults: O) {
    this.defaults = defaults;
    if (params.length === 0) throw new Error('optimizer got an empty parameter list');
    const groups = params[0] instanceof Tensor ? [{ params: params as Tensor[] }] : (params as Partial<O>[]);
    for (const g of groups) this.addParamGroup(g as Partial<O> & { params: Tensor[] });
  }

  /** Adds a group; missing hyperparameters come from the defaults. */
  addParamGroup(group: Partial<O> & { params: Tensor[] }): void {
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    for (const p of group.params) {
      if (!(p instanceof Tensor)) throw new Error('optimizer params must be tensors');
      if (!p.isLeaf) throw new Error("can't optimize a non-leaf tensor");
      if (seen.has(p)) throw new Error('a parameter appears in more than one group');
      seen.add(p);
    }
    const full = { ...withDefaults(this.defaults, group), params: [...group.params] } as ParamGroup<O>;
    this.validate(full);
    this.paramGroups.push(full);
  }

  /** Throws on out-of-range hyperparameters. */
  protected validate(group: ParamGroup<O>): void {
    if (!(group.lr >= 0)) throw new Error(`invalid learning rate: ${group.lr}`);
  }

  /** Updates one parameter from its gradient; runs under noGrad inside a tidy() scope of its own. */
  protected abstract updateParam(p: Tensor, grad: Tensor, group: ParamGroup<O>): void;

  /**
   * Updates the parameters of a group that have gradients (`grads[i]` is the gradient of
   * `params[i]`). The default visits them one by one, each in a tidy() scope of its own so that its
   * temporaries are freed before the next, as Python's reference counting does: holding them all
   * to the end of the step raises peak memory, and fresh large allocations cost page faults.
   * Optimizers override this with multi-tensor (`_foreach_*`) kernels, one native call per group.
   */
  protected updateGroup(params: Tensor[], grads: Tensor[], group: ParamGroup<O>): void {
    for (let i = 0; i < params.length; i++) tidy(() => this.updateParam(params[i], grads[i], group));
  }

  /**
   * One optimization step over every parameter that has a gradient. The closure, if given,
   * re-evaluates the model with gradients enabled and its result is returned.
   */
  step<T>(closure?: () => T): T | undefined {
    const loss = closure ? enableGrad(closure) : undefined;
    // noGrad keeps the in-place updates out of autograd.
    noGrad(() => {
      for (const group of this.paramGroups) {
        tidy(() => {
          const params: Tensor[] = [];
          const grads: Tensor[] = [];
          for (const p of group.params) {
            const g = p.grad;
            if (g === null) continue;
            params.push(p);
            grads.push(g);
          }
          if (params.length > 0) this.updateGroup(params, grads, group);
        });
      }
    });
    return loss;
  }

  /**
   * Clears the gradients. By default they become null (PyTorch 2's default), which frees them
   * and lets the next step skip parameters that got no gradient; `setToNone: false` zeroes them,
   * which is PyTorch 1.13's default. The two differ only for a parameter that gets no gradient in a
   * step: zeroed, an optimizer with momentum or weight decay still moves it; null, it is left alone.
   * genlab keeps null as its default because its training runs and published results use it.
   */
  zeroGrad(opts: { setToNone?: boolean } = {}): void {
    const setToNone = opts.setToNone ?? true;
    tidy(() => {
      for (const group of this.paramGroups) {
        for (const p of group.params) {
          if (setToNone) {
            p.grad = null;
            continue;
          }
          const g = p.grad;
          if (g === null) continue;
          if (g.gradFn !== null) g.detach_();
          else g.requiresGrad_(false);
          g.zero_();
        }
      }
    });
  }

  /** The state of a parameter, created on its first step. */
  protected stateOf(p: Tensor, init: () => S): S {
    let s = this.state.get(p);
    if (s === undefined) {
      s = init();
      this.state.set(p, s);
    }
    return s;
  }

  /**
   * The state as tensors named `state.<i>.<key>` (i counts parameters across groups in order)
   * plus JSON meta holding step counts and each group's hyperparameters. The tensors are copies
   * the caller owns unless `copy: false`, which returns the live state tensors.
   */
  stateDict(opts: { copy?: boolean } = {}): StateDict {
    const copy = opts.copy ?? true;
    const tensors: Record<string, Tensor> = {};
    const state: { [key: string]: Json } = {};
    const paramGroups: Json[] = [];
    let index = 0;
    for (const group of this.paramGroups) {
      const ids: number[] = [];
      for (const p of group.params) {
        const s = this.state.get(p);
        if (s !== undefined) {
          const numbers: { [key: string]: Json } = {};
          for (const [key, value] of Object.entries(s)) {
            if (value instanceof Tensor) tensors[`state.${index}.${key}`] = snapshot(value, copy);
            else numbers[key] = value;
          }
          state[index] = numbers;
        }
        ids.push(index++);
      }
      const { params: _, ...hyper } = group;
      paramGroups.push({ ...(structuredClone(hyper) as { [key: string]: Json }), params: ids });
    }
    return { tensors, meta: { state, paramGroups } };
  }

  /**
   * Restores a stateDict() into this optimizer, whose groups must hold the same number of
   * parameters in the same order. Tensors are copied (cast to each parameter's dtype and device),
   * so the caller may dispose the dict afterwards.
   */
  loadStateDict(sd: StateDict): void {
    const groupsMeta = expectArray(sd.meta.paramGroups, 'meta.paramGroups');
    if (groupsMeta.length !== this.paramGroups.length) {
      throw new Error(
        `loadStateDict: ${groupsMeta.length} parameter groups saved, optimizer has ${this.paramGroups.length}`,
      );
    }
    groupsMeta.forEach((g, i) => {
      const group = expectObject(g, `paramGroups[${i}]`);
      const saved = expectArray(group.params, `paramGroups[${i}].params`);
      const have = this.paramGroups[i].params.length;
      if (saved.length !== have) {
        throw new Error(`loadStateDict: group ${i} saved ${saved.length} parameters, optimizer has ${have}`);
      }
      for (const [j, k] of saved.entries()) expectNumber(k, `paramGroups[${i}].params[${j}]`);
      // Every hyperparameter comes back in the form the optimizer uses, so a damaged dict cannot
      // turn into NaN steps later.
      for (const key of Object.keys(this.defaults)) {
        expectLike(
          group[key],
          (this.paramGroups[i] as unknown as Record<string, unknown>)[key],
          `paramGroups[${i}].${key}`,
        );
      }
      if (group.initialLr !== undefined) expectNumber(group.initialLr, `paramGroups[${i}].initialLr`);
    });
    const params = this.paramGroups.flatMap((g) => g.params);
    const paramAt = (key: string): Tensor => {
      const p = params[Number(key)];
      if (p === undefined) throw new Error(`loadStateDict: no parameter ${key}`);
      return p;
    };

    // Build the new state first so that a bad dict leaves the optimizer as it was.
    const fresh = new Map<Tensor, ParamState>();
    const made: Tensor[] = [];
    try {
      for (const [key, numbers] of Object.entries(expectObject(sd.meta.state, 'meta.state'))) {
        const saved = expectObject(numbers, `state.${key}`);
        for (const [name, v] of Object.entries(saved)) expectNumber(v, `state.${key}.${name}`);
        fresh.set(paramAt(key), { ...(saved as Record<string, number>) });
      }
      for (const [name, t] of Object.entries(sd.tensors)) {
        const m = /^state\.(\d+)\.(.+)$/.exec(name);
        if (m === null) throw new Error(`loadStateDict: unexpected tensor ${name}`);
        const p = paramAt(m[1]);
        let s = fresh.get(p);
        if (s === undefined) {
          s = {};
          fresh.set(p, s);
        }
        const copy = adopt(t, p);
        made.push(copy);
        s[m[2]] = copy;
      }
      // Every parameter that has state has the same fields (an optimizer initialises them together),
      // so a field lost from one parameter's state is caught here rather than as a NaN step later.
      const fields = [...fresh.values()].map((st) => Object.keys(st).sort().join(', '));
      const odd = fields.findIndex((f) => f !== fields[0]);
      if (odd > 0) {
        throw new Error(`loadStateDict: parameter states differ in their fields ({${fields[0]}} and {${fields[odd]}})`);
      }
    } catch (e) {
      for (const t of made) t.dispose();
      throw e;
    }

    this.disposeState();
    for (const [p, s] of fresh) this.state.set(p, s as S);
    groupsMeta.forEach((g, i) => {
      const { params: _, ...hyper } = structuredClone(g) as { [key: string]: Json };
      Object.assign(this.paramGroups[i], hyper);
    });
  }

  /** Frees the state tensors; the optimizer starts afresh on its next step. */
  disposeState(): void {
    for (const s of this.state.values()) {
      for (const v of Object.values(s)) if (v instanceof Tensor) v.dispose();
    }
    this.state.clear();
  }

  /** Frees the state tensors at the end of a `using` block, as disposeState() does. */
  [Symbol.dispose](): void {
    this.disposeState();
  }
}
