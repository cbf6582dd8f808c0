// numpy arrays in the data layer: .npy and .npz files as tensors, with the data layer's DataError.
// The parser lives in torch/npy.ts (torch.loadNpy / torch.loadNpz), below this layer.
import { GenlabError } from '../torch/errors.js';
import * as npy from '../torch/npy.js';
import type { Tensor } from '../torch/tensor.js';
import { DataError } from './errors.js';

function asDataError<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof GenlabError && !(e instanceof DataError)) throw new DataError(e.detail, e.hint);
    throw e;
  }
}

/** The array of .npy bytes as a CPU tensor; `name` labels messages. */
export function parseNpy(bytes: Uint8Array, name?: string): Tensor {
  return asDataError(() => npy.parseNpy(bytes, name));
}

/** The arrays of .npz bytes by name ('x.npy' → 'x'); the caller owns them. */
export function parseNpz(bytes: Uint8Array, name?: string): Record<string, Tensor> {
  return asDataError(() => npy.parseNpz(bytes, name));
}

/** Reads a .npy file (float16/32/64, int8–64, uint8, bool; C or Fortran order). */
export function readNpy(path: string): Tensor {
  return asDataError(() => npy.loadNpy(path));
}

/** Reads every array of a .npz file (np.savez or np.savez_compressed). */
export function readNpz(path: string): Record<string, Tensor> {
  return asDataError(() => npy.loadNpz(path));
}
