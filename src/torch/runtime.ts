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
export function getNumThreads(): number {
  return N.getNumThreads();
}

export const cuda = {
  isAvailable(): boolean {
    return N.cudaDeviceCount() > 0;
  },
  deviceCount(): number {
    return N.cudaDeviceCount();
  },
};

export function runtimeInfo(): { torchVersion: string; library?: string; threads: number; blasThreads: number } {
  const info = N.runtimeInfo();
  return {
    torchVersion: info.builtAgainst,
    library: info.library,
    threads: N.getNumThreads(),
    blasThreads: info.blasThreads,
  };
}
