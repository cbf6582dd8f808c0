// One-line, file-naming errors for everything that reads data from disk.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GenlabError } from '../torch/errors.js';

/**
 * A data file or folder is missing, truncated or not what it claims to be: a GenlabError of kind
 * 'data'. The message is one line (GenlabError joins the lines of quoted file names and parser
 * messages, so logs stay greppable); a hint names settings in braces, e.g. `give it with {root}`.
 */
export class DataError extends GenlabError {
  override name = 'DataError';
  constructor(message: string, hint?: string) {
    super('data', message, hint);
  }
}

/** Throws unless `dir` is an existing folder; `what` names the data set in the message. */
export function requireFolder(what: string, dir: string, hint?: string): void {
  if (!existsSync(dir)) throw new DataError(`${what}: data folder ${dir} does not exist`, hint);
  if (!statSync(dir).isDirectory()) throw new DataError(`${what}: ${dir} is not a folder`);
}

/** The bytes of a file as they are on disk, with one-line errors. */
export function readRaw(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DataError(`${path}: file not found`);
    if (code === 'EISDIR') throw new DataError(`${path}: is a folder, expected a file`);
    throw new DataError(`${path}: cannot read (${(e as Error).message})`);
  }
}

/** The bytes of a file, gunzipped when they start with the gzip magic (whatever the name says). */
export function readMaybeGzip(path: string): Buffer {
  const raw = readRaw(path);
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return gunzipSync(raw);
    } catch (e) {
      throw new DataError(`${path}: corrupt gzip data (${(e as Error).message})`);
    }
  }
  return raw;
}

/** The first of `candidates` that exists, or a not-found error listing what was tried. */
export function findFile(candidates: string[]): string {
  for (const c of candidates) if (existsSync(c)) return c;
  // Name the others relative to the first one's folder to keep the line short.
  const others = candidates.slice(1).map((c) => relative(dirname(candidates[0]), c));
  const tried = others.length > 0 ? ` (also tried ${others.join(', ')})` : '';
  throw new DataError(`${candidates[0]}: file not found${tried}`);
}
