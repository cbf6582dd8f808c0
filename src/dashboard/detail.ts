// What the page shows of one run beyond its table row: its pictures, grouped into step series, and
// the differences between several runs' configs.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

const IMAGE = /\.(png|svg|jpe?g|gif|webp)$/i;
/** Subfolders of a run searched for pictures (samples/, images/ …), one level deep. */
const IMAGE_DEPTH = 2;
const MAX_IMAGES = 2000;

export interface ImageGroup {
  /** The name with its step number replaced by '#', e.g. 'samples/step-#.png'; the file name for a single picture. */
  name: string;
  /** Files in step order, relative to the run folder, with the step parsed from the name (when there is one). */
  items: { file: string; step?: number }[];
}

/** The pictures in a run folder; names that differ only by a number form one group with a step slider. */
export async function runImages(dir: string): Promise<ImageGroup[]> {
  const files: string[] = [];
  const walk = async (sub: string, depth: number): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(join(dir, sub), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (files.length >= MAX_IMAGES || e.name.startsWith('.')) continue;
      const rel = sub ? `${sub}/${e.name}` : e.name;
      if (e.isFile() && IMAGE.test(e.name)) files.push(rel);
      else if (e.isDirectory() && depth + 1 < IMAGE_DEPTH) await walk(rel, depth + 1);
    }
  };
  await walk('', 0);
  const groups = new Map<string, ImageGroup>();
  for (const file of files.sort()) {
    // The last number in the name is its step: samples-000400.png, step_12/grid.png.
    const m = /^(.*?)(\d+)(\D*)$/.exec(file);
    const key = m ? `${m[1]}#${m[3]}` : file;
    const g = groups.get(key) ?? { name: key, items: [] };
    g.items.push(m ? { file, step: Number(m[2]) } : { file });
    groups.set(key, g);
  }
  return [...groups.values()].map((g) => {
    if (g.items.length === 1) return { name: g.items[0].file, items: [{ file: g.items[0].file }] };
    g.items.sort((a, b) => (a.step ?? 0) - (b.step ?? 0));
    return g;
  });
}

/** One config key across runs: its values (undefined where a run lacks it) and whether they differ. */
export interface DiffRow {
  key: string;
  values: (string | undefined)[];
  differs: boolean;
}

/** Nested objects become dotted keys; lists and other values are compared as their JSON. */
export function flatten(value: unknown, prefix = '', out: Map<string, string> = new Map()): Map<string, string> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, JSON.stringify(value));
  }
  return out;
}

/** The configs side by side, keys in the order they first appear. */
export function configDiff(configs: unknown[]): DiffRow[] {
  const flat = configs.map((c) => flatten(c ?? {}));
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const f of flat) {
    for (const k of f.keys()) {
      if (!seen.has(k)) {
        seen.add(k);
        keys.push(k);
      }
    }
  }
  return keys.map((key) => {
    const values = flat.map((f) => f.get(key));
    return { key, values, differs: values.some((v) => v !== values[0]) };
  });
}
