// Deterministic memory scopes (tidy/tidyAsync/scope/keep/dispose) with a garbage-collector backstop.
//
// A tensor made inside a scope is freed when the scope ends unless it is returned or kept, so the hot
// path pays only an array push. Only tensors that escape every scope are registered with the
// FinalizationRegistry, which frees their libtorch memory if the program forgets them.
//
// Which scope owns a new tensor:
// - inside a synchronous tidy() (or a `using` scope()), the innermost one: `current` below, a plain
//   array, so the per-operator cost is one comparison and one push;
// - otherwise, when some tidyAsync() is open, the innermost open tidyAsync() of the *asynchronous
//   context* that made it (an AsyncLocalStorage store, which follows `await`s, callbacks and
//   promise chains), so code running concurrently while a scope awaits never lands in that scope;
// - otherwise nobody: the garbage collector owns it.
//
// Reporting to V8. The addon reports a storage's bytes with napi_adjust_external_memory only while the
// garbage collector is responsible for a handle to it, i.e. exactly while the handle is registered
// with the backstop (state 'gc' or 'kept'):
// - made outside every scope while no tidyAsync() is open: reported from birth (the addon reads the
//   scope depth from depthCell, which counts open tidy() and tidyAsync() scopes);
// - made inside a scope: not reported. Returned from a nested scope it moves to the enclosing scope
//   and stays unreported; it becomes reported (N.escape) when it leaves the outermost scope, is kept
//   with keep(), or, while a tidyAsync() is open, is made by code outside every scope;
// - un-reported when freed (dispose, scope end, finalizer) or when an in-place operation replaces
//   or resizes its storage.
// Scope temporaries, freed deterministically, thus never make V8 run major collections that free nothing.
import { AsyncLocalStorage } from 'node:async_hooks';
import { N } from './native.js';
import { handle, markFreed, setTensorState, Tensor, tensorState } from './tensor.js';

const backstop = new FinalizationRegistry<number>((h) => N.free(h));

/** The synchronous scopes, innermost last; `current` is the innermost one's list, or null. */
let scopes: Tensor[][] = [];
let current: Tensor[] | null = null;

/** An open or closed tidyAsync() scope: the store of its asynchronous context. */
interface AsyncScope {
  list: Tensor[];
  open: boolean;
  parent: AsyncScope | undefined;
}
/** Open tidyAsync() scopes, in every asynchronous context. */
let asyncOpen = 0;
/** Made on the first tidyAsync(): until then no program pays for asynchronous context tracking. */
let asyncContext: AsyncLocalStorage<AsyncScope> | null = null;

/** Shared with the addon: the number of open scopes of both kinds (0: new tensors belong to the GC). */
const depthCell = N.scopeDepthCell();

// See checkGcGrowth() below.
const CHECK_EVERY = 256;
const GC_GROWTH_LIMIT = Number(process.env.GENLAB_GC_WARN_BYTES) || 2 ** 30;
let gcSinceCheck = 0;
let gcBaseline = -1;
let warnedGcGrowth = false;

function setDepth(): void {
  depthCell[0] = scopes.length + asyncOpen;
}

function register(t: Tensor): void {
  setTensorState(t, 'gc');
  backstop.register(t, handle(t), t);
  if (++gcSinceCheck >= CHECK_EVERY) checkGcGrowth();
}

/** Hands a scope-owned tensor to the garbage collector: registered with the backstop, and reported. */
function handToGc(t: Tensor): void {
  register(t);
  N.escape(handle(t));
}

/** The innermost open tidyAsync() scope of the running asynchronous context. */
function openAsyncScope(): AsyncScope | undefined {
  let s = asyncContext?.getStore();
  while (s !== undefined && !s.open) s = s.parent;
  return s;
}

/** A tensor no synchronous scope takes: the running tidyAsync() scope's, else the garbage collector's. */
function adoptOutside(t: Tensor): void {
  const s = openAsyncScope();
  if (s !== undefined) s.list.push(t);
  else handToGc(t);
}

/**
 * Called for every new tensor object, right after the addon made its handle (so in the same scope
 * state: outside every scope with no tidyAsync() open, the addon has already reported it).
 */
export function track(t: Tensor): void {
  if (current !== null) current.push(t);
  else if (asyncOpen === 0) register(t);
  else adoptOutside(t);
}

export function disposeTracked(t: Tensor): void {
  const h = handle(t);
  if (h < 0) return;
  if (tensorState(t) !== 'scope') backstop.unregister(t);
  N.free(h);
  markFreed(t);
}

/**
 * Frees a temporary now instead of at the end of its scope: only a tensor a scope owns (not returned
 * from an inner scope to the garbage collector, not kept), so memory the caller's scope would hold
 * to its end goes back to the allocator while it is still in cache, as Python's reference counting
 * does. Autograd is unaffected: the graph holds its own references to what backward needs. For
 * containers that know an intermediate is dead (nn.Sequential); anything else still holding the
 * tensor object sees it disposed.
 */
export function disposeTemporary(t: Tensor): void {
  if (tensorState(t) !== 'scope') return;
  const h = handle(t);
  if (h < 0) return;
  N.free(h);
  markFreed(t);
}

/** Keeps a tensor alive past every enclosing scope; it is then freed by dispose() or the backstop. */
export function keepTracked(t: Tensor): void {
  if (tensorState(t) === 'scope' && handle(t) >= 0) handToGc(t);
  setTensorState(t, 'kept');
}

let freeBuffer = new Int32Array(1024);
const NONE: ReadonlySet<Tensor> = new Set();

/** Frees a scope's tensors except those in `survivors`, which move to the enclosing scope. */
function closeScope(list: Tensor[], survivors: ReadonlySet<Tensor>): void {
  if (freeBuffer.length < list.length) freeBuffer = new Int32Array(list.length * 2);
  let n = 0;
  for (const t of list) {
    const h = handle(t);
    if (h < 0 || tensorState(t) !== 'scope') continue;
    if (survivors.has(t)) {
      if (current !== null) current.push(t);
      else if (asyncOpen === 0) handToGc(t);
      else adoptOutside(t);
    } else {
      freeBuffer[n++] = h;
      markFreed(t);
    }
  }
  if (n > 0) N.freeMany(freeBuffer, n);
}

/**
 * The tensors in a value, at any depth: inside arrays, Maps (keys and values), Sets and objects (own
 * enumerable properties; with `instances` false, plain objects only). Shared and cyclic references
 * are visited once.
 */
function collect(value: unknown, out: Set<Tensor>, instances: boolean): void {
  if (value === null || typeof value !== 'object') return;
  if (value instanceof Tensor) {
    out.add(value);
    return;
  }
  const seen = new Set<object>();
  const stack: object[] = [value];
  const push = (v: unknown) => {
    if (v === null || typeof v !== 'object') return;
    if (v instanceof Tensor) out.add(v);
    else stack.push(v);
  };
  while (stack.length > 0) {
    const v = stack.pop() as object;
    if (seen.has(v)) continue;
    seen.add(v);
    if (Array.isArray(v)) {
      for (const x of v) push(x);
    } else if (v instanceof Map) {
      for (const [k, x] of v) {
        push(k);
        push(x);
      }
    } else if (v instanceof Set) {
      for (const x of v) push(x);
    } else if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof Promise) {
      // no tensors inside
    } else {
      const proto = Object.getPrototypeOf(v);
      if (!instances && proto !== Object.prototype && proto !== null) continue;
      for (const k of Object.keys(v)) push((v as Record<string, unknown>)[k]);
    }
  }
}

/** The tensors a scope's result holds: class instances count too, so a returned object keeps what it holds. */
function survivorsOf(result: unknown): ReadonlySet<Tensor> {
  if (result === null || typeof result !== 'object') return NONE;
  const found = new Set<Tensor>();
  collect(result, found, true);
  return found;
}

/**
 * Runs fn and frees every tensor it made, except those it returns (at any depth inside arrays,
 * objects, Maps and Sets) and those passed to keep(). Returned tensors move to the enclosing scope.
 * fn must be synchronous: for async code use tidyAsync().
 */
export function tidy<T>(fn: () => T): T {
  return runScope(fn, null);
}

/**
 * The scope of one module call (nn.Module's forward): tidy(), except that the tensors the call left
 * in `owner`'s own fields (`this.lastAux = …`) survive as well as those it returns, since the caller
 * reads them after the call as it would in PyTorch. Parameters and buffers are kept anyway.
 */
export function forwardScope<T>(owner: object, fn: () => T): T {
  return runScope(fn, owner);
}

/** Tensors held directly in an object's own enumerable fields. */
function addFieldTensors(owner: object, out: Set<Tensor>): void {
  for (const k of Object.keys(owner)) {
    const v = (owner as Record<string, unknown>)[k];
    if (v instanceof Tensor) out.add(v);
  }
}

function runScope<T>(fn: () => T, owner: object | null): T {
  const list: Tensor[] = [];
  scopes.push(list);
  setDepth();
  const parent = current;
  current = list;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    current = parent;
    scopes.pop();
    setDepth();
    closeScope(list, NONE);
    throw e;
  }
  current = parent;
  scopes.pop();
  setDepth();
  if (result instanceof Promise) {
    closeScope(list, NONE);
    throw new Error('tidy() takes a synchronous function; use torch.tidyAsync() for async functions');
  }
  let survivors = survivorsOf(result);
  if (owner !== null && list.length > 0) {
    const all = new Set(survivors);
    addFieldTensors(owner, all);
    survivors = all;
  }
  closeScope(list, survivors);
  return result;
}

/**
 * The async form of tidy(): awaits fn and frees every tensor fn made, except those its promise
 * resolves to (found as tidy() finds them) and those passed to keep(). If fn throws or rejects,
 * everything it made is freed.
 *
 * The rule: a tensor belongs to the innermost open scope *of the asynchronous context that made it*.
 * fn's context follows its `await`s, and the callbacks and promises it starts; so while fn awaits,
 * code running concurrently (other requests, timers, another tidyAsync) makes tensors that are not
 * this scope's and are never freed by it. Concurrent tidyAsync() calls are therefore safe. Await all
 * the work fn starts: a tensor made by a still-running task of fn is freed when fn's scope ends, and
 * one made after it ends goes to the enclosing scope (or the garbage collector).
 *
 * Cost: synchronous code inside a tidy() pays nothing more per operator; an operator whose result
 * lands in an async scope pays one AsyncLocalStorage lookup (wrap tight loops in tidy()). The first
 * call turns on Node's asynchronous context tracking for the rest of the process.
 */
export async function tidyAsync<T>(fn: () => Promise<T> | T): Promise<T> {
  if (asyncContext === null) asyncContext = new AsyncLocalStorage<AsyncScope>();
  const scope: AsyncScope = { list: [], open: true, parent: openAsyncScope() };
  asyncOpen++;
  setDepth();
  // fn's first synchronous stretch runs now, possibly inside a synchronous tidy() that will have
  // closed long before fn ends: its tensors are this scope's, not that tidy()'s.
  const saved = current;
  current = null;
  let result: T;
  try {
    let pending: Promise<T> | T;
    try {
      pending = asyncContext.run(scope, fn);
    } finally {
      current = saved;
    }
    result = await pending;
  } catch (e) {
    scope.open = false;
    asyncOpen--;
    setDepth();
    closeScope(scope.list, NONE);
    throw e;
  }
  scope.open = false;
  asyncOpen--;
  setDepth();
  closeScope(scope.list, survivorsOf(result));
  return result;
}

/**
 * A synchronous scope for `using`: every tensor made until the end of the block is freed then, except
 * those kept and those passed to escape(), which move to the enclosing scope.
 *
 *     {
 *       using s = torch.scope();
 *       const h = x.matmul(w).tanh();
 *       y = s.escape(h.sum());
 *     }
 *
 * Like tidy(), it must not stay open across an `await` (use tidyAsync()): if it does, it stops
 * collecting at the first await, hands what it holds to the garbage collector, and its disposal throws.
 */
export class Scope implements Disposable {
  #list: Tensor[] = [];
  #survivors = new Set<Tensor>();
  #state: 'open' | 'closed' | 'spanned an await' = 'open';

  /** Use torch.scope(). */
  constructor() {
    scopes.push(this.#list);
    setDepth();
    current = this.#list;
    queueMicrotask(() => this.#checkStillOpen());
  }

  /** Moves the tensors in value to the enclosing scope when this one ends, and returns value. */
  escape<T>(value: T): T {
    collect(value, this.#survivors, true);
    return value;
  }

  /** Ends the scope: frees its tensors except the kept and escaped ones; throws if it stayed open across an await. */
  [Symbol.dispose](): void {
    if (this.#state === 'closed') return;
    if (this.#state === 'spanned an await') {
      this.#state = 'closed';
      throw new Error(
        'torch.scope(): the scope stayed open across an await, so it could not tell its tensors from concurrent ' +
          "code's; they went to the garbage collector. Use torch.tidyAsync() around async code",
      );
    }
    if (scopes[scopes.length - 1] !== this.#list) {
      throw new Error('torch.scope(): scopes must end in the reverse order they began');
    }
    this.#state = 'closed';
    scopes.pop();
    setDepth();
    current = scopes.length > 0 ? scopes[scopes.length - 1] : null;
    closeScope(this.#list, this.#survivors);
  }

  /** Runs as a microtask: if the scope is still open, the code that opened it has awaited. */
  #checkStillOpen(): void {
    if (this.#state !== 'open') return;
    this.#state = 'spanned an await';
    const i = scopes.indexOf(this.#list);
    if (i >= 0) scopes.splice(i, 1);
    setDepth();
    current = scopes.length > 0 ? scopes[scopes.length - 1] : null;
    for (const t of this.#list) if (handle(t) >= 0 && tensorState(t) === 'scope') handToGc(t);
  }
}

/** Opens a synchronous scope that ends with the enclosing block: `using s = torch.scope()`. */
export function scope(): Scope {
  return new Scope();
}

/** Frees the tensors in a value: a tensor, or arrays / plain objects / Maps / Sets of them, at any depth. */
export function dispose(value: unknown): void {
  const found = new Set<Tensor>();
  collect(value, found, false);
  for (const t of found) disposeTracked(t);
}

// ---- a warning for synchronous loops that leave everything to the garbage collector ----
// The backstop frees forgotten tensors only between event-loop turns (finalizers never run inside a
// synchronous loop). Every CHECK_EVERY registrations we read the GC-owned bytes; the first check after
// a turn sets the baseline and schedules a marker for the next turn. Growth past the limit before
// that marker runs means a synchronous loop is piling tensors up: warn once, on stderr, right away.

function checkGcGrowth(): void {
  gcSinceCheck = 0;
  if (warnedGcGrowth) return;
  const bytes = N.memory().gcBytes;
  if (gcBaseline < 0) {
    gcBaseline = bytes;
    setImmediate(() => {
      gcBaseline = -1;
    }).unref();
  } else if (bytes - gcBaseline > GC_GROWTH_LIMIT) {
    warnedGcGrowth = true;
    const grown = ((bytes - gcBaseline) / 2 ** 30).toFixed(1);
    process.stderr.write(
      `genlab warning: tensors left to the garbage collector grew by ${grown} GiB without an event-loop turn, ` +
        'and it frees them only between turns. Wrap each step of the loop in torch.tidy(() => ...), ' +
        'or await between steps (e.g. await new Promise(setImmediate)).\n',
    );
  }
}

/** A snapshot of the tensors JS holds and the memory behind them, from {@link memory}. */
export interface MemoryInfo {
  /** Live tensor handles held by JS. */
  tensors: number;
  /** Bytes of the distinct storages behind them. */
  bytes: number;
  /** Highest `bytes` seen since start or {@link resetPeakMemory}. */
  peakBytes: number;
  /** Distinct storages. */
  storages: number;
  /** Nesting depth of synchronous tidy() and scope() scopes at the call. */
  scopeDepth: number;
  /** Handles the garbage collector owns: made outside every scope, returned from the outermost one, or kept. */
  gcTensors: number;
  /** Bytes of the distinct CPU storages behind those handles: what genlab means V8 to count as external memory. */
  gcBytes: number;
  /**
   * Net bytes actually passed to napi_adjust_external_memory. Reports are batched, so this trails
   * gcBytes by under 1 MiB, and equals it (returns exactly to its start) when gcBytes is 0.
   */
  v8ExternalBytes: number;
  /**
   * Bytes of freed blocks the caching CPU allocator keeps for reuse (0 when it is turned off with
   * GENLAB_CACHING_ALLOCATOR=0). They are not counted in `bytes`; {@link emptyCache} releases them.
   */
  cachedBytes: number;
  /** Number of those cached blocks. */
  cachedBlocks: number;
}

/** Counts the live tensors, their storages and bytes, the peak and the scope depth now. */
export function memory(): MemoryInfo {
  const a = N.allocatorStats();
  return {
    ...N.memory(),
    scopeDepth: scopes.length,
    cachedBytes: a === null ? 0 : a.cachedBytes,
    cachedBlocks: a === null ? 0 : a.cachedBlocks,
  };
}

/**
 * Returns every block the caching CPU allocator keeps for reuse to the system, and the bytes that
 * were. The cache also shrinks by itself: a block unused for a few seconds is released (after a large
 * evaluation, say), and it never holds more than a fixed limit (GENLAB_ALLOC_CACHE_MB, 2048 by default).
 */
export function emptyCache(): number {
  return N.allocatorTrim(true);
}

// The allocator releases blocks unused for a few seconds whenever it is called; this timer does it
// also while the program idles after a peak. Unref'd, so it never keeps the process alive.
if (N.allocatorStats() !== null) setInterval(() => N.allocatorTrim(false), 1000).unref();

/** Restarts the peak byte count of {@link memory} from the current value. */
export function resetPeakMemory(): void {
  N.resetPeak();
}

/** For tests: replaces the scope stack when a test harness left one open. */
export function _resetScopes(): void {
  scopes = [];
  current = null;
  setDepth();
}
