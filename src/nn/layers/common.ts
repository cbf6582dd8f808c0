// Options shared by layers that own parameters.
import { empty } from '../../torch/creation.js';
import type { Device, DType } from '../../torch/dtype.js';
import type { Generator } from '../../torch/random.js';
import { Parameter } from '../parameter.js';

/**
 * Where and how a layer makes its parameters: dtype (float32 by default), device ('cpu' by default)
 * and the generator of the initial values.
 */
export interface FactoryOptions {
  /** The parameters' element type; float32 by default. */
  dtype?: DType;
  /** Where the parameters live; 'cpu' by default. */
  device?: Device;
  /** Source of the initial values; the global generator (seeded by manualSeed) when omitted. */
  generator?: Generator;
}

/** An uninitialised parameter of the given shape, for resetParameters() to fill. */
export function newParameter(shape: number[], opts: FactoryOptions, requiresGrad = true): Parameter {
  return Parameter.adopt(empty(shape, { dtype: opts.dtype, device: opts.device }), requiresGrad);
}

/** A number or a pair, as a pair. */
export function pair(v: number | number[]): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (v.length !== 2) throw new Error(`expected one number or two, got [${v}]`);
  return [v[0], v[1]];
}
