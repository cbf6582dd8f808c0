// Weight normalisation (Salimans & Kingma 2016): a weight w is reparameterised as w = g·v/‖v‖, with
// the norm taken over every dim but `dim`, as torch.nn.utils.weight_norm. The module keeps the
// parameters `<name>_g` and `<name>_v` (PyTorch's names, so checkpoints load on either side) and
// `<name>` becomes a value computed from them each time it is read.
import { noGrad } from '../../torch/autograd.js';
import { GenlabError } from '../../torch/errors.js';
import * as ops from '../../torch/generated/ops.js';
import { tidy } from '../../torch/scope.js';
import type { Tensor } from '../../torch/tensor.js';
import { Conv2d } from '../layers/conv.js';
import { Linear } from '../layers/linear.js';
import type { Module } from '../module.js';
import { Parameter } from '../parameter.js';

/** Options of {@link weightNorm}: which parameter to split into g and v, and along which dim. */
export interface WeightNormOptions {
  /** The parameter to reparameterise ('weight'). */
  name?: string;
  /** The dim that keeps its own norm (0: one g per output unit); null: one g for the whole tensor. */
  dim?: number | null;
}

interface Applied {
  dim: number | null;
}

const APPLIED = new WeakMap<Module, Map<string, Applied>>();

/**
 * w = g·v/‖v‖ through ATen's _weight_norm, the kernel (and backward) PyTorch's hook calls; PyTorch
 * spells "whole tensor" as dim −1 there.
 */
export function weightNormValue(v: Tensor, g: Tensor, dim: number | null): Tensor {
  return ops._weightNorm(v, g, { dim: dim ?? -1 });
}

/** ‖v‖ over every dim but `dim`, shaped to broadcast against v (a scalar for dim null). */
export function normExceptDim(v: Tensor, dim: number | null): Tensor {
  return ops.normExceptDim(v, { pow: 2, dim: dim ?? -1 });
}

function ownParameter(module: Module, name: string): Parameter | undefined {
  return module.namedParameters({ recurse: false }).find(([n]) => n === name)?.[1];
}

/**
 * Replaces `module[name]` by g·v/‖v‖ with new parameters `${name}_g` = ‖w‖ and `${name}_v` = w, so
 * the module computes the same function as before. Returns the module.
 */
export function weightNorm<M extends Module>(module: M, opts: WeightNormOptions = {}): M {
  const name = opts.name ?? 'weight';
  const dim = opts.dim === undefined ? 0 : opts.dim;
  const applied = APPLIED.get(module);
  if (applied?.has(name)) {
    throw new GenlabError('usage', `weightNorm: '${name}' of ${module.constructor.name} is weight-normalised already`);
  }
  const w = ownParameter(module, name);
  if (w === undefined) {
    const names = module.namedParameters({ recurse: false }).map(([n]) => `'${n}'`);
    throw new GenlabError(
      'usage',
      `weightNorm: ${module.constructor.name} has no parameter '${name}'`,
      names.length ? `its parameters are ${names.join(', ')}` : 'it has no parameters of its own',
    );
  }
  if (dim !== null && !(Number.isInteger(dim) && dim >= 0 && dim < w.ndim)) {
    throw new GenlabError(
      'usage',
      `weightNorm: dim ${dim} is out of range for '${name}' of shape [${w.shape}]`,
      `use 0…${w.ndim - 1}, or null for one norm over the whole tensor`,
    );
  }
  const g = noGrad(() => Parameter.adopt(normExceptDim(w, dim)));
  const v = noGrad(() => Parameter.adopt(w.detach().clone()));
  // A null placeholder takes the parameter out of parameters() and stateDict(), as PyTorch's del.
  module.registerParameter(name, null);
  module.registerParameter(`${name}_g`, g);
  module.registerParameter(`${name}_v`, v);
  // Non-enumerable, so that field adoption never reads (and computes) it.
  Object.defineProperty(module, name, {
    configurable: true,
    enumerable: false,
    get: () => weightNormValue(v, g, dim),
  });
  // Gone from the module, as PyTorch deletes it; an optimizer built before must be built again.
  w.dispose();
  const map = applied ?? new Map<string, Applied>();
  map.set(name, { dim });
  APPLIED.set(module, map);
  return module;
}

/** Whether `module[name]` is weight-normalised. */
export function hasWeightNorm(module: Module, name = 'weight'): boolean {
  return APPLIED.get(module)?.has(name) ?? false;
}

/** The dim a weight norm was applied with (null: whole tensor). */
export function weightNormDim(module: Module, name = 'weight'): number | null {
  const a = APPLIED.get(module)?.get(name);
  if (!a) throw new GenlabError('usage', `${module.constructor.name} has no weight norm on '${name}'`);
  return a.dim;
}

/** Folds g·v/‖v‖ back into one parameter `name` and drops `${name}_g` and `${name}_v`. */
export function removeWeightNorm<M extends Module>(module: M, opts: { name?: string } = {}): M {
  const name = opts.name ?? 'weight';
  const map = APPLIED.get(module);
  const a = map?.get(name);
  if (!map || !a) {
    throw new GenlabError(
      'usage',
      `removeWeightNorm: '${name}' of ${module.constructor.name} is not weight-normalised`,
    );
  }
  const g = module.getParameter(`${name}_g`);
  const v = module.getParameter(`${name}_v`);
  const w = noGrad(() => tidy(() => Parameter.adopt(weightNormValue(v, g, a.dim))));
  module.registerParameter(`${name}_g`, null);
  module.registerParameter(`${name}_v`, null);
  g.dispose();
  v.dispose();
  module.registerParameter(name, w);
  Object.defineProperty(module, name, { configurable: true, enumerable: true, writable: true, value: w });
  map.delete(name);
  return module;
}

/** The weight-normalised layers of a model, in the order of modules(), with their names. */
export function weightNormLayers(model: Module, name = 'weight'): [string, Module][] {
  return model.namedModules().filter(([, m]) => hasWeightNorm(m, name));
}

function numbers(t: Tensor): number[] {
  return Array.from(t.toTypedArray() as ArrayLike<number>, Number);
}

/** The axis of a layer's output that holds its output units: channels for Conv2d, the last for Linear. */
function unitAxis(layer: Module): number {
  if (layer instanceof Conv2d) return 1;
  if (layer instanceof Linear) return -1;
  throw new GenlabError(
    'usage',
    `data-dependent init: ${layer.constructor.name} is not supported`,
    'it initialises weight-normalised Linear and Conv2d layers',
  );
}

/** Options of {@link dataDependentInit}: how to run the model on the batch, and the variance floor. */
export interface DataDependentInitOptions {
  /** Runs the model on the batch (model.forward(batch) by default). */
  forward?: (batch: Tensor) => unknown;
  /** Added to the variance before its square root. */
  eps?: number;
}

/**
 * Salimans & Kingma's data-dependent initialisation over a whole model from one batch: each
 * weight-normalised Linear or Conv2d, in the order the forward pass meets it, measures its
 * pre-activations' mean m and standard deviation s per output unit (over the batch, and positions
 * for convolutions), sets g ← g/s and b ← (b − m)/s, and passes the normalised output on, so the
 * next layer is initialised on what it will see. Returns the (m, s) each layer saw, by name.
 */
export function dataDependentInit(
  model: Module,
  batch: Tensor,
  opts: DataDependentInitOptions = {},
): Record<string, { mean: number[]; std: number[] }> {
  const layers = weightNormLayers(model);
  if (layers.length === 0) {
    throw new GenlabError('usage', `data-dependent init: ${model.constructor.name} has no weight-normalised layer`);
  }
  const eps = opts.eps ?? 1e-8;
  const seen: Record<string, { mean: number[]; std: number[] }> = {};
  const restore: (() => void)[] = [];
  for (const [layerName, layer] of layers) {
    const axis = unitAxis(layer);
    if (weightNormDim(layer) !== 0) {
      throw new GenlabError('usage', `data-dependent init: '${layerName}' needs a weight norm over dim 0`);
    }
    const forward = layer.forward;
    const own = Object.getOwnPropertyDescriptor(layer, 'forward');
    restore.push(() => {
      if (own) Object.defineProperty(layer, 'forward', own);
      else delete (layer as { forward?: unknown }).forward;
    });
    (layer as { forward: (x: Tensor) => Tensor }).forward = (x: Tensor) => {
      const out = forward.call(layer, x) as Tensor;
      if (layerName in seen) return out; // a layer used twice is initialised on its first call
      const a = axis < 0 ? out.ndim + axis : axis;
      const moved = out.transpose(0, a).reshape([out.shape[a], -1]);
      const m = moved.mean(1);
      const s = moved.var(1, { correction: 0 }).add(eps).sqrt();
      const g = layer.getParameter('weight_g');
      g.mul_(s.reciprocal().view([-1, ...Array(g.ndim - 1).fill(1)]));
      const bias = ownParameter(layer, 'bias');
      if (bias) bias.copy_(bias.sub(m).div(s));
      seen[layerName] = { mean: numbers(m), std: numbers(s) };
      const shape = Array(out.ndim).fill(1);
      shape[a] = -1;
      return out.sub(m.view(shape)).div(s.view(shape));
    };
  }
  try {
    noGrad(() => tidy(() => (opts.forward ? opts.forward(batch) : model.forward(batch)) && undefined));
  } finally {
    for (const r of restore) r();
  }
  return seen;
}
