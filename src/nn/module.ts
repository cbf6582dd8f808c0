// Module: the base class of layers and models, with explicit registration of parameters,
// buffers and sub-modules under dotted names, as torch.nn.Module.
import { noGrad } from '../torch/autograd.js';
import { type Device, type DType, isFloating } from '../torch/dtype.js';
import { forwardScope } from '../torch/scope.js';
import { Tensor } from '../torch/tensor.js';
import { Parameter } from './parameter.js';

const FORWARD_SCOPE = process.env.GENLAB_FORWARD_SCOPE !== '0';
/** Marks a prototype whose own forward() already runs in a scope of its own. */
const SCOPED = Symbol('genlab.scopedForward');

/**
 * Gives every forward() defined along a module class's prototype chain a scope of its own, once per
 * class: the temporaries of each module call are freed when it returns, as Python's reference counting
 * frees them, instead of at the end of the caller's scope. What forward returns (at any depth), and
 * tensors it leaves in the module's own fields, move to the caller's scope; autograd keeps its own
 * references to what backward needs. A tensor captured any other way (a closure, another object) must
 * be keep()-ed to outlive the call.
 */
function scopeForwards(proto: object): void {
  for (let p = proto; p !== Module.prototype && p !== null; p = Object.getPrototypeOf(p)) {
    if (Object.hasOwn(p, SCOPED) || !Object.hasOwn(p, 'forward')) continue;
    const inner = (p as { forward: (...args: unknown[]) => unknown }).forward;
    if (typeof inner !== 'function') continue;
    Object.defineProperty(p, 'forward', {
      value: function scopedForward(this: unknown, ...args: unknown[]) {
        return forwardScope(this as object, () => inner.apply(this, args));
      },
      writable: true,
      configurable: true,
    });
    Object.defineProperty(p, SCOPED, { value: true });
  }
}

/** Names (dotted for nested modules) to tensors, in registration order. */
export type StateDict = Record<string, Tensor>;

/**
 * What {@link Module.loadStateDict} reports: the module's keys the dictionary lacked and the
 * dictionary's keys the module has no place for.
 */
export interface LoadResult {
  /** Keys of the module that the dictionary did not have. */
  missingKeys: string[];
  /** Keys of the dictionary that match nothing in the module. */
  unexpectedKeys: string[];
}

/** What {@link Module.to} takes: a dtype, a device, or both as {dtype, device}. */
export type ToTarget = DType | Device | { dtype?: DType; device?: Device };

/** Module's own bookkeeping fields, never sub-modules or parameters. */
const OWN_FIELDS = new Set(['training', '_parameters', '_buffers', '_nonPersistent', '_modules']);

const DTYPES = new Set([
  'float32',
  'float64',
  'float16',
  'bfloat16',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'bool',
]);

function joinName(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}

/**
 * Subclasses declare what they own and implement forward():
 *
 *     class Net extends Module<[Tensor], Tensor> {
 *       fc = new Linear(4, 2);
 *       forward(x: Tensor) { return this.fc.forward(x); }
 *     }
 *
 * Module and Parameter fields are registered under their field names when the module is first
 * traversed (parameters(), stateDict(), ...); registerModule()/registerParameter() name them
 * explicitly, and registerBuffer() is the only way to add a buffer. Modules in arrays need an
 * nn.ModuleList.
 *
 * Parameters and buffers live outside tidy() scopes; free them with dispose().
 */
export abstract class Module<In extends unknown[] = any[], Out = any> {
  /** Whether the module is in training mode (see train() and eval()). */
  training = true;
  private readonly _parameters = new Map<string, Parameter | null>();
  private readonly _buffers = new Map<string, Tensor | null>();
  private readonly _nonPersistent = new Set<string>();
  private readonly _modules = new Map<string, Module | null>();

  constructor() {
    if (FORWARD_SCOPE) scopeForwards(new.target.prototype);
  }

  /** The module's computation: what calling the layer or model means. */
  abstract forward(...args: In): Out;

  // ---- registration ----
  private checkName(name: string, kind: 'parameter' | 'buffer' | 'module'): void {
    if (typeof name !== 'string' || name === '') throw new Error(`${kind} name must be a non-empty string`);
    if (name.includes('.')) throw new Error(`${kind} name can't contain ".", got '${name}'`);
    const taken =
      (kind !== 'parameter' && this._parameters.has(name)) ||
      (kind !== 'buffer' && this._buffers.has(name)) ||
      (kind !== 'module' && this._modules.has(name));
    if (taken) throw new Error(`${this.constructor.name}: '${name}' is already registered as another kind of member`);
  }

  /** Registers a parameter (or a null placeholder, e.g. for a disabled bias) and returns it. */
  registerParameter<P extends Parameter | null>(name: string, param: P): P {
    this.checkName(name, 'parameter');
    if (param !== null && !(param instanceof Parameter)) {
      throw new Error(`registerParameter('${name}'): expected a Parameter (wrap tensors with new Parameter(t))`);
    }
    this._parameters.set(name, param);
    return param;
  }

  /**
   * Registers state that is not trained (running statistics, fixed tables) and keeps it past tidy().
   * Non-persistent buffers are left out of stateDict().
   */
  registerBuffer<T extends Tensor | null>(name: string, tensor: T, opts: { persistent?: boolean } = {}): T {
    this.checkName(name, 'buffer');
    if (tensor !== null && !(tensor instanceof Tensor)) throw new Error(`registerBuffer('${name}'): expected a Tensor`);
    tensor?.keep();
    this._buffers.set(name, tensor);
    if (opts.persistent === false) this._nonPersistent.add(name);
    else this._nonPersistent.delete(name);
    return tensor;
  }

  /** Registers a sub-module (or a null placeholder) under name and returns it. */
  registerModule<M extends Module | null>(name: string, module: M): M {
    this.checkName(name, 'module');
    if (module !== null && !(module instanceof Module)) throw new Error(`registerModule('${name}'): expected a Module`);
    this._modules.set(name, module);
    return module;
  }

  // ---- fields ----
  /**
   * Registers the Module and Parameter fields nobody registered (`fc1 = new nn.Linear(4, 4)`), under
   * their field names, in declaration order, as PyTorch's attribute assignment does. Called by every
   * traversal, so fields assigned at any time count. A field holding a module or parameter already
   * registered here, in a sub-module, or met earlier in the traversal (`seen`: a shortcut to a
   * descendant, a tied weight, a back-reference to an ancestor) is left alone, so explicit
   * registrations keep their names. Modules or parameters inside an array, Map, Set or plain object
   * cannot be named, and are refused unless they are registered.
   */
  private adoptFields(seen?: ReadonlySet<Module>): void {
    let known: Set<unknown> | null = null;
    const isKnown = (v: Module | Parameter): boolean => {
      if (seen?.has(v as Module)) return true;
      if (known === null) {
        known = new Set<unknown>();
        const stack: Module[] = [this];
        while (stack.length > 0) {
          const m = stack.pop() as Module;
          if (known.has(m)) continue;
          known.add(m);
          for (const p of m._parameters.values()) if (p !== null) known.add(p);
          for (const c of m._modules.values()) if (c !== null) stack.push(c);
        }
      }
      return known.has(v);
    };
    for (const key of Object.keys(this)) {
      if (OWN_FIELDS.has(key)) continue;
      const v = (this as Record<string, unknown>)[key];
      if (v === null || typeof v !== 'object') continue;
      if (v instanceof Parameter) {
        if (!isKnown(v)) this.adoptField(key, v);
      } else if (v instanceof Module) {
        if (!isKnown(v)) this.adoptField(key, v);
      } else if (
        Array.isArray(v) ||
        v instanceof Map ||
        v instanceof Set ||
        Object.getPrototypeOf(v) === Object.prototype
      ) {
        const inside =
          v instanceof Map ? [...v.values()] : Array.isArray(v) || v instanceof Set ? [...v] : Object.values(v);
        const stray = inside.find((x) => (x instanceof Module || x instanceof Parameter) && !isKnown(x));
        if (stray !== undefined) {
          const what = stray instanceof Module ? 'a Module' : 'a Parameter';
          throw new Error(
            `${this.constructor.name}: field '${key}' holds ${what} inside ${Array.isArray(v) ? 'an array' : 'a collection'}, ` +
              'which cannot be named in parameters() or stateDict(): use an nn.ModuleList, or registerModule()/registerParameter() for each',
          );
        }
      }
    }
  }

  private adoptField(key: string, v: Module | Parameter): void {
    const taken = this._parameters.has(key) || this._buffers.has(key) || this._modules.has(key);
    if (taken) {
      throw new Error(
        `${this.constructor.name}: field '${key}' holds an unregistered ${v instanceof Module ? 'Module' : 'Parameter'}, ` +
          `but '${key}' is registered as another member; register it under its own name`,
      );
    }
    if (v instanceof Module) this._modules.set(key, v);
    else this._parameters.set(key, v);
  }

  // ---- traversal ----
  /** This module and every descendant, each once, in pre-order, with dotted names ('' for this one). */
  namedModules(opts: { prefix?: string } = {}): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const visit = (m: Module, prefix: string) => {
      if (seen.has(m)) return;
      seen.add(m);
      m.adoptFields(seen);
      out.push([prefix, m]);
      for (const [name, child] of m._modules) if (child !== null) visit(child, joinName(prefix, name));
    };
    visit(this, opts.prefix ?? '');
    return out;
  }

  /** This module and every descendant, each once, in pre-order. */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** The direct sub-modules with their names, each once. */
  namedChildren(): [string, Module][] {
    this.adoptFields();
    const seen = new Set<Module>();
    const out: [string, Module][] = [];
    for (const [name, m] of this._modules) {
      if (m === null || seen.has(m)) continue;
      seen.add(m);
      out.push([name, m]);
    }
    return out;
  }

  /** The direct sub-modules, each once. */
  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** Parameters with dotted names; a parameter shared by several modules appears once. */
  namedParameters(opts: { prefix?: string; recurse?: boolean } = {}): [string, Parameter][] {
    return this.namedMembers((m) => m._parameters, opts);
  }

  /** Every parameter of this module and (unless recurse is false) its descendants, each once. */
  parameters(opts: { recurse?: boolean } = {}): Parameter[] {
    return this.namedParameters(opts).map(([, p]) => p);
  }

  /** Buffers with dotted names, each once; with recurse false, this module's own only. */
  namedBuffers(opts: { prefix?: string; recurse?: boolean } = {}): [string, Tensor][] {
    return this.namedMembers((m) => m._buffers, opts);
  }

  /** Every buffer of this module and (unless recurse is false) its descendants, each once. */
  buffers(opts: { recurse?: boolean } = {}): Tensor[] {
    return this.namedBuffers(opts).map(([, b]) => b);
  }

  private namedMembers<T extends Tensor>(
    pick: (m: Module) => Map<string, T | null>,
    opts: { prefix?: string; recurse?: boolean },
  ): [string, T][] {
    const prefix = opts.prefix ?? '';
    const mods: [string, Module][] = opts.recurse === false ? [[prefix, this]] : this.namedModules({ prefix });
    const seen = new Set<T>();
    const out: [string, T][] = [];
    for (const [modName, m] of mods) {
      for (const [name, t] of pick(m)) {
        if (t === null || seen.has(t)) continue;
        seen.add(t);
        out.push([joinName(modName, name), t]);
      }
    }
    return out;
  }

  /** The sub-module at a dotted path, e.g. 'down.0.conv'. */
  getSubmodule(target: string): Module {
    if (target === '') return this;
    let m: Module = this;
    for (const part of target.split('.')) {
      m.adoptFields();
      const next = m._modules.get(part);
      if (!next) throw new Error(`${m.constructor.name} has no sub-module '${part}' (looking up '${target}')`);
      m = next;
    }
    return m;
  }

  /** The parameter at a dotted path, e.g. 'fc.weight'; throws if there is none. */
  getParameter(target: string): Parameter {
    const dot = target.lastIndexOf('.');
    const owner = this.getSubmodule(dot < 0 ? '' : target.slice(0, dot));
    owner.adoptFields();
    const p = owner._parameters.get(target.slice(dot + 1));
    if (!p) throw new Error(`no parameter '${target}'`);
    return p;
  }

  /** The buffer at a dotted path, e.g. 'bn.running_mean'; throws if there is none. */
  getBuffer(target: string): Tensor {
    const dot = target.lastIndexOf('.');
    const owner = this.getSubmodule(dot < 0 ? '' : target.slice(0, dot));
    const b = owner._buffers.get(target.slice(dot + 1));
    if (!b) throw new Error(`no buffer '${target}'`);
    return b;
  }

  /** Total number of parameter elements. */
  numParameters(opts: { trainableOnly?: boolean } = {}): number {
    let n = 0;
    for (const p of this.parameters()) if (!opts.trainableOnly || p.requiresGrad) n += p.numel();
    return n;
  }

  // ---- modes ----
  /** Sets training mode here and in every sub-module (Dropout, BatchNorm behave differently). */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Sets evaluation mode here and in every sub-module, as train(false). */
  eval(): this {
    return this.train(false);
  }

  /** Calls fn on every sub-module, children before parents, then on this one, as Module.apply. */
  apply(fn: (m: Module) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  /** Turns gradient recording of every parameter on (or off, with false); returns the module. */
  requiresGrad_(requiresGrad = true): this {
    for (const p of this.parameters()) p.requiresGrad = requiresGrad;
    return this;
  }

  /** Clears gradients; with setToNone false they are zeroed in place instead. */
  zeroGrad(opts: { setToNone?: boolean } = {}): void {
    for (const p of this.parameters()) {
      const g = p.grad;
      if (g === null) continue;
      if (opts.setToNone === false) noGrad(() => g.zero_());
      else p.grad = null;
      g.dispose();
    }
  }

  // ---- dtype and device ----
  /**
   * Converts parameters and buffers in place: the Parameter objects stay the same (an optimizer's
   * references stay valid) and only their data is swapped. A dtype applies to floating tensors only.
   */
  to(target: ToTarget): this {
    const spec =
      typeof target === 'string' ? (DTYPES.has(target) ? { dtype: target as DType } : { device: target }) : target;
    const convert = (t: Tensor) => {
      const dtype = spec.dtype !== undefined && isFloating(t.dtype) ? spec.dtype : t.dtype;
      const device = spec.device ?? t.device;
      if (dtype === t.dtype && device === t.device) return;
      noGrad(() => {
        const moved = t.to({ dtype, device });
        t.data = moved;
        moved.dispose();
        const g = t.grad;
        if (g !== null) {
          const movedGrad = g.to({ dtype, device });
          t.grad = movedGrad;
          movedGrad.dispose();
          g.dispose();
        }
      });
    };
    for (const p of this.parameters()) convert(p);
    for (const b of this.buffers()) convert(b);
    return this;
  }

  /** Converts the floating parameters and buffers to float64 in place, as to('float64'). */
  double(): this {
    return this.to('float64');
  }

  /** Converts the floating parameters and buffers to float32 in place, as to('float32'). */
  float(): this {
    return this.to('float32');
  }

  // ---- state ----
  /**
   * Parameters and persistent buffers by dotted name. The values are new handles sharing storage with
   * the module's tensors, detached from autograd; dispose them (or call inside tidy()) when done.
   * With keepVars the module's own tensors are returned: don't dispose those.
   */
  stateDict(opts: { prefix?: string; keepVars?: boolean } = {}): StateDict {
    const out: StateDict = {};
    this.namedModules(); // registers unregistered Module and Parameter fields, everywhere
    const visit = (m: Module, prefix: string) => {
      for (const [name, p] of m._parameters) {
        if (p !== null) out[joinName(prefix, name)] = opts.keepVars ? p : p.detach();
      }
      for (const [name, b] of m._buffers) {
        if (b !== null && !m._nonPersistent.has(name)) out[joinName(prefix, name)] = opts.keepVars ? b : b.detach();
      }
      for (const [name, child] of m._modules) if (child !== null) visit(child, joinName(prefix, name));
    };
    visit(this, opts.prefix ?? '');
    return out;
  }

  /**
   * Copies values into the module's tensors in place (moving them to its device). Shape and dtype
   * mismatches always fail; missing and unexpected keys fail when strict (the default). Every problem
   * is listed, on one line. Nothing is copied unless every check passes.
   */
  loadStateDict(dict: StateDict | Map<string, Tensor>, opts: { strict?: boolean } = {}): LoadResult {
    const strict = opts.strict ?? true;
    const source = dict instanceof Map ? dict : new Map(Object.entries(dict));
    const own = this.stateDict({ keepVars: true });
    const missingKeys = Object.keys(own).filter((k) => !source.has(k));
    const unexpectedKeys = [...source.keys()].filter((k) => !(k in own));
    const problems: string[] = [];
    for (const [key, value] of source) {
      if (!(key in own)) continue;
      if (!(value instanceof Tensor)) {
        problems.push(`value for '${key}' is not a Tensor`);
        continue;
      }
      const want = own[key].shape;
      const got = value.shape;
      if (want.length !== got.length || want.some((d, i) => d !== got[i])) {
        problems.push(
          `size mismatch for '${key}': the checkpoint has shape [${got.join(', ')}], the module has [${want.join(', ')}]`,
        );
      }
      if (value.dtype !== own[key].dtype) {
        problems.push(
          `dtype mismatch for '${key}': the checkpoint has ${value.dtype}, the module has ${own[key].dtype} ` +
            '(convert one of them with .to(dtype) first)',
        );
      }
    }
    if (strict && missingKeys.length > 0) problems.unshift(`missing key(s): ${missingKeys.join(', ')}`);
    if (strict && unexpectedKeys.length > 0) problems.unshift(`unexpected key(s): ${unexpectedKeys.join(', ')}`);
    if (problems.length > 0) {
      // One line: command-line tools show the first line of a message.
      throw new Error(`loadStateDict into ${this.constructor.name} failed: ${problems.join('; ')}`);
    }
    noGrad(() => {
      for (const [key, value] of source) if (key in own) own[key].copy_(value);
    });
    return { missingKeys, unexpectedKeys };
  }

  // ---- memory ----
  /** Frees every parameter and buffer of this module and its sub-modules. */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
    for (const b of this.buffers()) b.dispose();
  }

  /** Frees the parameters and buffers at the end of a `using` block, as dispose() does. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---- printing ----
  /** One line of settings shown after the class name, as extra_repr. */
  extraRepr(): string {
    return '';
  }

  /** The module tree as text: class names, extraRepr() settings and named children, indented. */
  toString(): string {
    const children = this.namedChildren();
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (children.length === 0) return `${head})`;
    const lines = children.map(([name, m]) => `  (${name}): ${m.toString().replaceAll('\n', '\n  ')}`);
    return `${head}\n${lines.join('\n')}\n)`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
