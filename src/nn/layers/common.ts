// Options shared by layers that own parameters.
import { empty } from '../../torch/creation.js';
import type { Device, DType } from '../../torch/dtype.js';
import type { Generator } from '../../torch/random.js';
import { Parameter } from '../parameter.js';

export interface FactoryOptions {
  dtype?: DType;
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
