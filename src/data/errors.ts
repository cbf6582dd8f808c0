// One-line, file-naming errors for everything that reads data from disk.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** A data file or folder is missing, truncated or not what it claims to be. The message is one line. */
export class DataError extends Error {
  override name = 'DataError';
  constructor(message: string) {
    // Messages quote file names and parser errors; keep them to one line so logs stay greppable.
    super(message.replace(/\s*\n\s*/g, ' '));
  }
}

/** Throws unless `dir` is an existing folder; `what` names the data set in the message. */
export function requireFolder(what: string, dir: string, hint = ''): void {
  if (!existsSync(dir)) throw new DataError(`${what}: data folder ${dir} does not exist${hint}`);
  if (!statSync(dir).isDirectory()) throw new DataError(`${what}: ${dir} is not a folder`);
}

/** The bytes of a file, gunzipped when they start with the gzip magic (whatever the name says). */
export function readMaybeGzip(path: string): Buffer {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DataError(`${path}: file not found`);
    if (code === 'EISDIR') throw new DataError(`${path}: is a folder, expected a file`);
    throw new DataError(`${path}: cannot read (${(e as Error).message})`);
  }
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
