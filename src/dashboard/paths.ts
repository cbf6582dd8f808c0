// Which files the dashboard may read: only regular files under one of its roots (the runs folder, or
// the results folder), named by a relative path. Traversal (`..`), absolute paths, NUL bytes and
// symlinks that lead out of the root are refused before anything is opened.
import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, sep } from 'node:path';

/** Why a path was refused; the server answers 403 for 'outside' and 404 for 'missing'. */
export type Refusal = 'outside' | 'missing';

export class SafeRoot {
  /** The root with its own symlinks resolved, so a root that is itself a link still works. */
  readonly real: string;

  constructor(readonly dir: string) {
    this.real = realpathSync(dir);
  }

  /**
   * The real path of `rel` (slash-separated, already URL-decoded) when it names something under the
   * root, or why not. `kind` asks for a regular file or a folder.
   */
  resolve(rel: string, kind: 'file' | 'dir' = 'file'): { path: string } | { refused: Refusal } {
    if (!isPlainRelative(rel)) return { refused: 'outside' };
    const joined = rel === '' || rel === '.' ? this.real : join(this.real, ...rel.split('/'));
    let real: string;
    try {
      real = realpathSync(joined);
    } catch {
      return { refused: 'missing' };
    }
    if (real !== this.real && !real.startsWith(this.real + sep)) return { refused: 'outside' };
    try {
      const st = statSync(real);
      if (kind === 'file' ? !st.isFile() : !st.isDirectory()) return { refused: 'missing' };
    } catch {
      return { refused: 'missing' };
    }
    return { path: real };
  }
}

/** A relative path with no `..`, no empty or absolute part, no backslash and no NUL: checked before any file is touched. */
export function isPlainRelative(rel: string): boolean {
  if (rel === '' || rel === '.') return true;
  if (rel.includes('\0') || rel.includes('\\') || isAbsolute(rel) || /^[A-Za-z]:/.test(rel)) return false;
  return rel.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}
