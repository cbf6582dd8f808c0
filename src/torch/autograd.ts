// Gradients of any order, and grad-mode / inference-mode scopes.
import { inGenlabTerms } from './errors.js';
import { N } from './native.js';
import { handle, type Tensor, wrap } from './tensor.js';

/**
 * Options of {@link grad}: output weights, whether to build a graph of the gradient, keep the
 * graph, allow unused inputs.
 */
export interface GradOptions {
  /** Weights for non-scalar outputs (vector-Jacobian product). */
  gradOutputs?: (Tensor | null)[];
  /** Build a graph of the gradient itself, for higher-order derivatives. */
  createGraph?: boolean;
  /** Keep the graph for another backward; defaults to createGraph. */
  retainGraph?: boolean;
  /** Return null for inputs the outputs do not depend on, instead of failing. */
  allowUnused?: boolean;
}

/** d(outputs)/d(inputs), as torch.autograd.grad. */
export function grad(outputs: Tensor | Tensor[], inputs: Tensor | Tensor[], opts: GradOptions = {}): (Tensor | null)[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const ins = Array.isArray(inputs) ? inputs : [inputs];
  const gradOutputs = opts.gradOutputs ? opts.gradOutputs.map((g) => (g === null ? null : handle(g))) : null;
  let hs: (number | null)[];
  try {
    hs = N.grad(
      outs.map(handle),
      ins.map(handle),
      gradOutputs,
      opts.retainGraph,
      opts.createGraph ?? false,
      opts.allowUnused ?? false,
    );
  } catch (e) {
    inGenlabTerms(e);
  }
  return hs.map((h) => (h === null ? null : wrap(h)));
}

function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const previous = N.setGradEnabled(enabled);
  try {
    return fn();
  } finally {
    N.setGradEnabled(previous);
  }
}

/** Runs fn without recording operations for autograd. */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs fn with autograd recording on, even inside noGrad(). */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

/** Whether autograd is recording operations now. */
export function isGradEnabled(): boolean {
  return N.isGradEnabled();
}

/** Like noGrad, but faster: tensors made inside can never enter autograd later. */
export function inferenceMode<T>(fn: () => T): T {
  N.enterInferenceMode(true);
  try {
    return fn();
  } finally {
    N.exitInferenceMode();
  }
}

/** Whether code runs inside inferenceMode() now. */
export function isInferenceMode(): boolean {
  return N.isInferenceMode();
}
