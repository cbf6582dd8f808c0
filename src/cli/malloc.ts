// Which malloc this process runs on: bin/genlab preloads tcmalloc when the system has it.
import { readFileSync } from 'node:fs';

/** The preloaded malloc library mapped into this process (tcmalloc, jemalloc, mimalloc), or null for glibc's. */
export function mallocLibrary(): string | null {
  let maps = '';
  try {
    maps = readFileSync('/proc/self/maps', 'utf8');
  } catch {
    return null;
  }
  for (const line of maps.split('\n')) {
    const path = line.split(/\s+/)[5];
    if (path && /lib(tcmalloc|jemalloc|mimalloc)[^/]*\.so/.test(path)) return path;
  }
  return null;
}

/**
 * The environment that gives a child genlab process (a `genlab launch` rank) this process's malloc,
 * as bin/genlab would; empty when this process runs on glibc's.
 */
export function mallocPreloadEnv(): NodeJS.ProcessEnv {
  const lib = mallocLibrary();
  if (lib === null) return {};
  const before = process.env.LD_PRELOAD ?? '';
  return { LD_PRELOAD: before ? `${lib}:${before}` : lib, GENLAB_LD_PRELOAD_BEFORE: before };
}
