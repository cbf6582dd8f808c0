// Deterministic memory scopes (tidy/keep/dispose) with a garbage-collector backstop.
//
// A tensor made inside tidy() is freed when the scope ends unless it is returned or kept, so the hot
// path pays only an array push. Only tensors that escape every scope are registered with the
// FinalizationRegistry, which frees their libtorch memory if the program forgets them.
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

function register(t: Tracked): void {
  t.state = 1;
  backstop.register(t, t.h, t);
}

/** Called for every new tensor object. */
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
  if (t.state === 0 && t.h >= 0) register(t);
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
      else register(t);
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
  const parent = current;
  current = list;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    current = parent;
    scopes.pop();
    closeScope(list, new Set());
    throw e;
  }
  if (result instanceof Promise) {
    current = parent;
    scopes.pop();
    closeScope(list, new Set());
    throw new Error('tidy() takes a synchronous function; await outside it and tidy each step');
  }
  current = parent;
  scopes.pop();
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
}
