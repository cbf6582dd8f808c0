// torch.save and torch.load for state dicts, on safetensors files (not pickle), so that
// `torch.save(model.stateDict(), path)` and `model.loadStateDict(torch.load(path))` round-trip, and
// the file opens in Python (`safetensors.torch.load_file`, or the format read by hand).
import { loadSafetensors, type Metadata, saveSafetensors } from './safetensors.js';
import { Tensor } from './tensor.js';

/** Names to tensors: what Module.stateDict() returns and Module.loadStateDict() takes. */
export type TensorDict = Record<string, Tensor> | Map<string, Tensor>;

/**
 * Writes a state dict (name → tensor) to `path` as safetensors, atomically (a temporary file, then a
 * rename). `metadata` is an optional string → string map stored in the file's header (safetensors'
 * `__metadata__`); read it back with loadSafetensors(path).metadata.
 *
 * Unlike PyTorch's pickle-based torch.save, only tensors can be saved: a whole Module, or a dict
 * holding other values (an optimizer's stateDict() is {tensors, meta}), is refused with a message
 * saying what to pass instead. The tensors are copied out, not disposed.
 */
export function save(stateDict: TensorDict, path: string, metadata?: Metadata): void {
  if (typeof path !== 'string') throw new TypeError(`torch.save: path must be a string, got ${typeof path}`);
  checkDict(stateDict, path);
  if (metadata !== undefined) checkMetadata(metadata, path);
  saveSafetensors(path, stateDict, metadata);
}

/**
 * Reads a safetensors file into name → tensor: the record a Module's loadStateDict() takes. Tensors land on the CPU and belong to the current tidy() scope (or to the
 * garbage collector outside scopes); loadStateDict() copies them, so
 * `torch.tidy(() => model.loadStateDict(torch.load(path)))` frees them at once.
 */
export function load(path: string): Record<string, Tensor> {
  if (typeof path !== 'string') throw new TypeError(`torch.load: path must be a string, got ${typeof path}`);
  return loadSafetensors(path).tensors;
}

function checkDict(dict: unknown, path: string): void {
  if (dict instanceof Tensor) {
    throw new TypeError(`torch.save(${path}): got a single Tensor; save a dict of named tensors, e.g. {weight: t}`);
  }
  if (dict === null || typeof dict !== 'object') {
    throw new TypeError(
      `torch.save(${path}): expected a dict of named tensors, got ${dict === null ? 'null' : typeof dict}`,
    );
  }
  if (typeof (dict as { stateDict?: unknown }).stateDict === 'function') {
    throw new TypeError(
      `torch.save(${path}): got a ${dict.constructor.name}, not a state dict; genlab saves tensors only (safetensors, not pickle): pass model.stateDict()`,
    );
  }
  const entries = dict instanceof Map ? [...dict.entries()] : Object.entries(dict);
  for (const [key, value] of entries) {
    if (!(value instanceof Tensor)) {
      const what = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
      const hint =
        key === 'tensors' || key === 'meta'
          ? " (an optimizer's stateDict() is {tensors, meta}: save its .tensors here and its .meta as JSON)"
          : '';
      throw new TypeError(`torch.save(${path}): '${key}' is ${what}, not a Tensor; only tensors can be saved${hint}`);
    }
    if (value.isDisposed) throw new Error(`torch.save(${path}): tensor '${key}' is disposed`);
  }
}

function checkMetadata(metadata: unknown, path: string): void {
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new TypeError(`torch.save(${path}): metadata must be an object of strings`);
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') {
      throw new TypeError(
        `torch.save(${path}): metadata '${key}' is ${typeof value}; safetensors metadata holds strings only (use String() or JSON.stringify())`,
      );
    }
  }
}
