// Containers: Sequential chains modules; ModuleList only holds and registers them.
import { disposeTemporary } from '../../torch/scope.js';
import type { Tensor } from '../../torch/tensor.js';
import { Module } from '../module.js';
import { SiLU } from './activation.js';
import { GroupNorm } from './norm.js';

const EARLY_FREE = process.env.GENLAB_SEQ_EARLY_FREE !== '0';

/** A module whose forward is wrapped on the instance (by a watcher that may keep its input or output). */
const watched = (m: object) => Object.hasOwn(m, 'forward');

/** m is an unwatched instance of exactly this class (a subclass may change what forward does). */
function isExactly<T extends object>(m: object, cls: abstract new (...args: never[]) => T): m is T {
  return Object.getPrototypeOf(m) === cls.prototype && !watched(m);
}

function index(i: number, length: number, who: string): number {
  const k = i < 0 ? i + length : i;
  if (!Number.isInteger(k) || k < 0 || k >= length)
    throw new Error(`${who}: index ${i} out of range for length ${length}`);
  return k;
}

/** Applies its modules in order; they are registered as '0', '1', …, so names read 'net.0.weight'. */
export class Sequential extends Module<[Tensor], Tensor> {
  private readonly items: Module<[Tensor], Tensor>[] = [];

  constructor(...modules: Module<[Tensor], Tensor>[]) {
    super();
    for (const m of modules) this.append(m);
  }

  /** Adds a module at the end of the chain, registered under the next index. */
  append(module: Module<[Tensor], Tensor>): this {
    this.registerModule(String(this.items.length), module);
    this.items.push(module);
    return this;
  }

  /** The module at position i (negative counts from the end); throws when out of range. */
  at(i: number): Module<[Tensor], Tensor> {
    return this.items[index(i, this.items.length, 'Sequential')];
  }

  /** The number of modules. */
  get length(): number {
    return this.items.length;
  }

  /** The modules in order. */
  [Symbol.iterator](): Iterator<Module<[Tensor], Tensor>> {
    return this.items[Symbol.iterator]();
  }

  /**
   * Feeds x through every module in turn and returns the last output. Each intermediate output is
   * freed as soon as the next module has consumed it (autograd keeps its own references), so its
   * memory is reused within the same pass instead of at the end of the caller's scope. Outputs of a
   * module whose forward is wrapped on the instance (watched, e.g. by Grad-CAM), and inputs of one,
   * are left alone. GENLAB_SEQ_EARLY_FREE=0 turns this off. A GroupNorm directly followed by a SiLU,
   * neither watched, runs as one fused node (GroupNorm.forwardSilu), which agrees with the two layers to
   * float32 rounding; torch.useFusedKernels(false) keeps the two.
   */
  forward(x: Tensor): Tensor {
    let y = x;
    let prev: Module<[Tensor], Tensor> | null = null;
    for (let i = 0; i < this.items.length; i++) {
      const m = this.items[i];
      let next: Tensor;
      let last = m;
      if (isExactly(m, GroupNorm) && i + 1 < this.items.length && isExactly(this.items[i + 1], SiLU)) {
        next = m.forwardSilu(y);
        last = this.items[++i];
      } else {
        next = m.forward(y);
      }
      if (EARLY_FREE && prev !== null && next !== y && y !== x && !watched(prev) && !watched(m)) disposeTemporary(y);
      y = next;
      prev = last;
    }
    return y;
  }
}

/** A list of sub-modules registered as '0', '1', …; the owner decides how to call them. */
export class ModuleList<M extends Module = Module> extends Module<never[], never> {
  private readonly items: M[] = [];

  constructor(modules: Iterable<M> = []) {
    super();
    this.extend(modules);
  }

  /** Adds a module at the end, registered under the next index. */
  append(module: M): this {
    this.registerModule(String(this.items.length), module);
    this.items.push(module);
    return this;
  }

  /** Appends each of the modules in turn. */
  extend(modules: Iterable<M>): this {
    for (const m of modules) this.append(m);
    return this;
  }

  /** The module at position i (negative counts from the end); throws when out of range. */
  at(i: number): M {
    return this.items[index(i, this.items.length, 'ModuleList')];
  }

  /** The number of modules. */
  get length(): number {
    return this.items.length;
  }

  /** The modules in order. */
  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }

  /** Calls fn on each module with its index and collects the results. */
  map<T>(fn: (m: M, i: number) => T): T[] {
    return this.items.map(fn);
  }

  /** Throws: a ModuleList is only a holder; the owner module calls its items. */
  forward(): never {
    throw new Error('ModuleList has no forward(); iterate over it in the owner module');
  }
}
