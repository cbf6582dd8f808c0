// Threads, devices and facts about the running libtorch.
import { N } from './native.js';

/**
 * libtorch's intra-op threads; OpenBLAS, when libtorch uses it, gets the same count. n must be an
 * integer from 1 to 1024 (genlab's ceiling): larger counts made libgomp abort the process while
 * allocating the team, and counts beyond 2^32 used to wrap silently.
 */
export function setNumThreads(n: number): void {
  N.setNumThreads(n);
}
/** libtorch's intra-op thread count. */
export function getNumThreads(): number {
  return N.getNumThreads();
}

/** CUDA devices as libtorch sees them. */
export const cuda = {
  /** Whether at least one CUDA device can be used. */
  isAvailable(): boolean {
    return N.cudaDeviceCount() > 0;
  },
  /** The number of CUDA devices (0 without CUDA). */
  deviceCount(): number {
    return N.cudaDeviceCount();
  },
};

/** The libtorch version genlab was built against, the library loaded, and the intra-op and BLAS thread counts. */
export function runtimeInfo(): { torchVersion: string; library?: string; threads: number; blasThreads: number } {
  const info = N.runtimeInfo();
  return {
    torchVersion: info.builtAgainst,
    library: info.library,
    threads: N.getNumThreads(),
    blasThreads: info.blasThreads,
  };
}
