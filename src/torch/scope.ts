// Deterministic memory scopes (tidy/keep/dispose) with a garbage-collector backstop.
//
// A tensor made inside tidy() is freed when the scope ends unless it is returned or kept, so the hot
// path pays only an array push. Only tensors that escape every scope are registered with the
// FinalizationRegistry, which frees their libtorch memory if the program forgets them.
//
// Reporting to V8. The addon reports a storage's bytes with napi_adjust_external_memory only while the
// garbage collector is responsible for a handle to it, i.e. exactly while the handle is registered
// with the backstop (state 1 or 2 below):
// - made outside every scope: reported from birth (the addon reads the scope depth from depthCell);
// - made inside a scope: not reported. Returned from a nested tidy() it moves to the enclosing scope
//   and stays unreported; it becomes reported when it leaves the outermost scope (returned from it)
//   or is kept with keep();
// - un-reported when freed (dispose, scope end, finalizer) or when an in-place operation replaces
//   or resizes its storage.
// Scope temporaries, freed deterministically, thus never make V8 run major collections that free nothing.
import { N } from './native.js';

/** What scopes need to know of a tensor. */
export interface Tracked {
  h: number;
  /** 0: in a scope; 1: registered with the backstop; 2: kept (backstop, ignored by scopes). */
  state: number;
}

const backstop = new FinalizationRegistry<number>((h) => N.free(h));

let scopes: Tracked[][] = [];
let current: Tracked[] | null = null;
/** Shared with the addon: always scopes.length. */
const depthCell = N.scopeDepthCell();

function setDepth(): void {
  depthCell[0] = scopes.length;
}

function register(t: Tracked): void {
  t.state = 1;
  backstop.register(t, t.h, t);
}

/** Hands a scope-owned tensor to the garbage collector: registered with the backstop, and reported. */
function handToGc(t: Tracked): void {
  register(t);
  N.escape(t.h);
}

/**
 * Called for every new tensor object, right after the addon made its handle (so in the same scope
 * state: outside every scope the addon has already reported it).
 */
export function track(t: Tracked): void {
  if (current !== null) current.push(t);
  else register(t);
}

export function disposeTracked(t: Tracked): void {
  if (t.h < 0) return;
  if (t.state !== 0) backstop.unregister(t);
  N.free(t.h);
  t.h = -1;
}

/** Keeps a tensor alive past every enclosing tidy(); it is then freed by dispose() or the backstop. */
export function keepTracked(t: Tracked): void {
  if (t.state === 0 && t.h >= 0) handToGc(t);
  t.state = 2;
}

let freeBuffer = new Int32Array(1024);

/** Frees a scope's tensors except those in `survivors`, which move to the enclosing scope. */
function closeScope(list: Tracked[], survivors: Set<Tracked>): void {
  if (freeBuffer.length < list.length) freeBuffer = new Int32Array(list.length * 2);
  let n = 0;
  for (const t of list) {
    if (t.h < 0 || t.state !== 0) continue;
    if (survivors.has(t)) {
      if (current !== null) current.push(t);
      else handToGc(t);
    } else {
      freeBuffer[n++] = t.h;
      t.h = -1;
    }
  }
  if (n > 0) N.freeMany(freeBuffer, n);
}

function collect(value: unknown, out: Set<Tracked>, isTracked: (v: unknown) => v is Tracked, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 4) return;
  if (isTracked(value)) {
    out.add(value);
  } else if (Array.isArray(value)) {
    for (const v of value) collect(v, out, isTracked, depth + 1);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, out, isTracked, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, out, isTracked, depth + 1);
  }
}

let isTensorLike: (v: unknown) => v is Tracked = (v): v is Tracked => false;
export function setTensorPredicate(p: (v: unknown) => v is Tracked): void {
  isTensorLike = p;
}

/**
 * Runs fn and frees every tensor it made, except those it returns (alone, or inside arrays,
 * plain objects and Maps) and those passed to keep(). fn must be synchronous.
 */
export function tidy<T>(fn: () => T): T {
  const list: Tracked[] = [];
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
    closeScope(list, new Set());
    throw e;
  }
  current = parent;
  scopes.pop();
  setDepth();
  if (result instanceof Promise) {
    closeScope(list, new Set());
    throw new Error('tidy() takes a synchronous function; await outside it and tidy each step');
  }
  const survivors = new Set<Tracked>();
  collect(result, survivors, isTensorLike);
  closeScope(list, survivors);
  return result;
}

/** Frees the tensors in a value (a tensor, or arrays / plain objects / Maps of tensors). */
export function dispose(value: unknown): void {
  const found = new Set<Tracked>();
  collect(value, found, isTensorLike);
  for (const t of found) disposeTracked(t);
}

export interface MemoryInfo {
  /** Live tensor handles held by JS. */
  tensors: number;
  /** Bytes of the distinct storages behind them. */
  bytes: number;
  /** Highest `bytes` seen since start or resetPeak(). */
  peakBytes: number;
  /** Distinct storages. */
  storages: number;
  /** Nesting depth of tidy() at the call. */
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
}

export function memory(): MemoryInfo {
  return { ...N.memory(), scopeDepth: scopes.length };
}

export function resetPeakMemory(): void {
  N.resetPeak();
}

/** For tests: replaces the scope stack when a test harness left one open. */
export function _resetScopes(): void {
  scopes = [];
  current = null;
  setDepth();
}
