// The `torch` namespace: tensors, creation, autograd, random, memory, linear algebra and every ATen op.
export {
  enableGrad,
  type GradOptions,
  grad,
  inferenceMode,
  isGradEnabled,
  isInferenceMode,
  noGrad,
} from './autograd.js';
export * from './creation.js';
/** Process groups and collectives over libtorch's c10d (Gloo), as torch.distributed. */
export * as distributed from './distributed.js';
export { type Device, type DType, isFloating, type MemoryFormat, type TypedArray } from './dtype.js';
export { formatTensor, getPrintOptions, type PrintOptions, resetPrintOptions, setPrintOptions } from './format.js';
export * from './functions.js';
/**
 * Every ATen operator of libtorch, one generated function per overload: required arguments
 * positional, defaulted ones in an options object.
 */
export * as ops from './generated/ops.js';
export { type GradcheckOptions, type GradcheckResult, gradcheck, gradgradcheck } from './gradcheck.js';
export * from './maths.js';
export { loadNpy, loadNpz, type NpyHeader, parseNpy, parseNpyHeader, parseNpz } from './npy.js';
export { defaultGenerator, Generator, manualSeed } from './random.js';
export { cuda, getNumThreads, runtimeInfo, setNumThreads } from './runtime.js';
export {
  deserialize,
  loadSafetensors,
  type Metadata,
  type SafetensorsContents,
  saveSafetensors,
  serialize,
  type TensorMap,
} from './safetensors.js';
export {
  dispose,
  emptyCache,
  type MemoryInfo,
  memory,
  resetPeakMemory,
  Scope,
  scope,
  tidy,
  tidyAsync,
} from './scope.js';
export { load, save, type TensorDict } from './serialization.js';
export { type NestedArray, type Scalar, Tensor } from './tensor.js';

// Registers PyTorch-style printing of tensors.
import './format.js';
import type { Tensor } from './tensor.js';
/** Keeps a tensor alive past the enclosing tidy() scopes. */
export function keep<T extends Tensor>(t: T): T {
  return t.keep();
}
