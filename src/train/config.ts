// Run configs and states are validated against a schema, so that a hand-edited or damaged file
// fails with a one-line message naming the field instead of a cast that fails later.
import { z } from 'zod';
import { GenlabError } from '../torch/errors.js';

/** The activation layouts a model can train in (torch MemoryFormat names). */
export const MEMORY_FORMATS = ['contiguous', 'channelsLast'] as const;
export type MemoryFormatName = (typeof MEMORY_FORMATS)[number];

/**
 * A run config's layout field. Configs written before the field existed lack it; those runs were
 * trained row-major, and load and resume that way.
 */
export const memoryFormatField = z.enum(MEMORY_FORMATS).default('contiguous');

function fieldPath(path: PropertyKey[]): string {
  return path.length ? path.map(String).join('.') : '(the whole file)';
}

/** Parses `raw` with `schema`, or throws a config error naming `file` and the first bad field. */
export function parseWith<T>(schema: z.ZodType<T>, raw: unknown, file: string): T {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const keys = issue.code === 'unrecognized_keys' ? ` ${issue.keys.map((k) => `'${k}'`).join(', ')}` : '';
  throw new GenlabError('config', `${file}: field ${fieldPath(issue.path)}: ${issue.message}${keys}`);
}

/**
 * A parser for one family's config.json: another family's run is named as such, before any field
 * is checked.
 */
export function familyConfig<T>(family: string, schema: z.ZodType<T>): (raw: unknown, file: string) => T {
  return (raw, file) => {
    const found = typeof raw === 'object' && raw !== null ? (raw as { family?: unknown }).family : undefined;
    if (found !== family) {
      const what = typeof found === 'string' ? `family '${found}'` : 'no family';
      throw new GenlabError('run', `${file}: not a ${family} run (${what})`);
    }
    return parseWith(schema, raw, file);
  };
}

/**
 * Checks a config built from a user's settings (not read from a file): a bad value is a usage
 * error naming the setting, e.g. `{lr}: Too small: expected number to be >0`.
 */
export function checkSettings<T>(schema: z.ZodType<T>, cfg: unknown): T {
  const r = schema.safeParse(cfg);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  // Messages may name settings themselves, as {gammaMax} must exceed {gammaMin}.
  const field = issue.path.length ? `{${issue.path.map(String).join('.')}}: ` : '';
  throw new GenlabError('usage', issue.message.includes('{') ? issue.message : `${field}${issue.message}`);
}
