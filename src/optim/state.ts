// The shape of saved optimizer, scheduler and EMA state: tensors by name, plus plain JSON for the rest.
import { noGrad } from '../torch/autograd.js';
import { isFloating } from '../torch/dtype.js';
import type { Tensor } from '../torch/tensor.js';

/** A JSON value: the one type for configs, states and metadata across genlab. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Saved state. `tensors` go to a safetensors file (names like `state.0.expAvg`); `meta` is
 * JSON-serialisable and goes next to it, so a checkpoint needs no pickling.
 */
export interface StateDict {
  tensors: Record<string, Tensor>;
  meta: { [key: string]: Json };
}

/** A copy of a state tensor that the caller owns, so later steps do not change a saved snapshot. */
export function snapshot(t: Tensor, copy: boolean): Tensor {
  return copy ? noGrad(() => t.clone()) : t;
}

/**
 * An owned copy of a loaded tensor, cast to the parameter's dtype and device when floating (as
 * PyTorch does), and kept so it outlives the caller's tidy() scopes.
 */
export function adopt(src: Tensor, like: Tensor): Tensor {
  const dtype = isFloating(src.dtype) ? like.dtype : src.dtype;
  return noGrad(() => src.to({ dtype, device: like.device, copy: true })).keep();
}

export function expectNumber(value: Json | undefined, what: string): number {
  if (typeof value !== 'number')
    throw new Error(`loadStateDict: ${what} should be a number, got ${JSON.stringify(value)}`);
  return value;
}

export function expectObject(value: Json | undefined, what: string): { [key: string]: Json } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`loadStateDict: ${what} should be an object`);
  }
  return value;
}

export function expectArray(value: Json | undefined, what: string): Json[] {
  if (!Array.isArray(value)) throw new Error(`loadStateDict: ${what} should be an array`);
  return value;
}

function shapeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/**
 * Throws unless a saved hyperparameter has the form of the optimizer's own: the same type, and for
 * a list (betas, etas…) the same length with numbers in it. A value of null (an unset option) may
 * come back as null or as a number.
 */
export function expectLike(value: Json | undefined, like: unknown, what: string): void {
  if (like === undefined) return;
  const ok =
    like === null
      ? value === null || typeof value === 'number'
      : Array.isArray(like)
        ? Array.isArray(value) && value.length === like.length && value.every((x, i) => typeof x === typeof like[i])
        : typeof value === typeof like && !Array.isArray(value) && value !== null;
  if (!ok) {
    const got = value === undefined ? 'missing' : `${shapeOf(value)} (${JSON.stringify(value).slice(0, 40)})`;
    throw new Error(`loadStateDict: ${what} should be ${shapeOf(like)}, got ${got}`);
  }
}
