// Writing a file so that a crash leaves the old bytes or the new ones, never a mixture: a temporary
// file in the same folder, written at explicit offsets, flushed, renamed over the target, and the
// folder flushed. Run folders (train/) and safetensors files both write this way.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Large writes go in pieces of this size, so no single write call is asked for gigabytes. */
const IO_CHUNK = 1 << 26;

/** Flushes a folder's entries (a rename in it) to disk. Some file systems refuse; that is not an error. */
export function fsyncDir(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // e.g. EINVAL on file systems that cannot sync a directory: nothing more can be done there.
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/**
 * Writes `chunks`, in order, to `tmp` (a new file next to `path`) with positional writes (pwrite:
 * calls a kill-injection test can count apart from Node's own writes), flushes it, renames it over
 * `path` and flushes the folder. On failure the temporary file is removed and the error rethrown.
 */
export function writeChunksAtomic(path: string, chunks: Iterable<Uint8Array>, tmp: string): void {
  let fd = -1;
  try {
    fd = openSync(tmp, 'wx');
    let offset = 0;
    for (const bytes of chunks) {
      for (let at = 0; at < bytes.length; ) {
        const n = writeSync(fd, bytes, at, Math.min(IO_CHUNK, bytes.length - at), offset);
        at += n;
        offset += n;
      }
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(dirname(path));
}
