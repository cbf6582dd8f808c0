// File writing that never leaves a half-written file behind, and checks on folders before writing.
import { accessSync, constants, mkdirSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { fsyncDir, writeChunksAtomic } from '../torch/atomic.js';
import { GenlabError } from '../torch/errors.js';

/**
 * Writes to a temporary file in the same folder, flushes it to disk, renames it over `path` and
 * flushes the folder, so that after a crash `path` holds either the old bytes or the new ones.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  rmSync(`${path}.tmp-${process.pid}`, { force: true }); // left by an earlier failure of this process
  writeChunksAtomic(path, [data], `${path}.tmp-${process.pid}`);
}

export { fsyncDir };

/** The temporary files an interrupted atomic write leaves: `x.tmp-123` here, `x.123.abcd.tmp` from saveSafetensors. */
export function isTemporaryFile(name: string): boolean {
  return /\.tmp(?:$|[-.])/.test(name);
}

/** Removes the temporary files an interrupted write left in `dir` (not in sub-folders); returns their names. */
export function removeTemporaryFiles(dir: string): string[] {
  const removed: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isFile() || !isTemporaryFile(entry.name)) continue;
    rmSync(resolve(dir, entry.name), { force: true });
    removed.push(entry.name);
  }
  return removed;
}

const VIRTUAL = ['/proc', '/sys'];

function under(path: string, root: string): boolean {
  return path === root || path.startsWith(`${root}${sep}`);
}

/**
 * Checks that `dir` is, or can be created as, a writable folder, before anything is created:
 * walks up to the first existing ancestor and refuses one that is not a writable folder, or that is
 * inside /proc or /sys (where Node's recursive mkdir spins forever). `setting` names the option
 * that chose the folder, for the hint.
 */
export function checkWritableFolder(dir: string, setting = 'out'): void {
  const wanted = resolve(dir);
  const refuse = (why: string) =>
    new GenlabError('run', `cannot write a run into ${dir}: ${why}`, `choose another {${setting}}`);
  let existing = wanted;
  for (;;) {
    try {
      statSync(existing);
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // ENOTDIR: a file stands where a folder should; walking up finds it and names it below.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        throw refuse(`${existing} cannot be examined (${code ?? (e as Error).message})`);
      }
    }
    const parent = dirname(existing);
    if (parent === existing) throw refuse('no part of the path exists');
    existing = parent;
  }
  const real = realpathSync(existing);
  for (const root of VIRTUAL) {
    if (under(wanted, root) || under(real, root)) throw refuse(`${root} is a virtual file system of the kernel`);
  }
  if (!statSync(real).isDirectory()) {
    throw refuse(existing === wanted ? 'it is a file, not a folder' : `${existing} is a file, not a folder`);
  }
  try {
    accessSync(real, constants.W_OK | constants.X_OK);
  } catch {
    throw refuse(existing === wanted ? 'the folder is not writable' : `${existing} is not writable`);
  }
}
