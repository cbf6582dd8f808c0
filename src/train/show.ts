// Pictures of what a run or a data set holds: curves from a run's log, and samples of a data set.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '../data/registry.js';
import { arange } from '../torch/creation.js';
import { GenlabError } from '../torch/errors.js';
import { tidy } from '../torch/scope.js';
import { saveImageGrid } from './images.js';
import { LOG_TIME_KEY } from './loop.js';
import { readLogSeries, savePlotSvg, saveScatterSvg } from './plot.js';

/** The numeric series of a run's log.jsonl, in the order they first appear (not step, nor the wall-clock time). */
export function numericKeys(logPath: string): string[] {
  let text: string;
  try {
    text = readFileSync(logPath, 'utf8');
  } catch {
    throw new GenlabError('run', `${logPath}: no log in this run folder`);
  }
  const keys = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      continue; // a partial last line of a killed run; readLogSeries judges the rest
    }
    for (const [k, v] of Object.entries(row as object)) {
      if (k !== 'step' && k !== LOG_TIME_KEY && typeof v === 'number') keys.add(k);
    }
  }
  return [...keys];
}

/** Plots series of a run's log as an SVG; every requested series must have points. */
export function plotRun(
  dir: string,
  opts: { keys?: string[]; file?: string; logY?: boolean } = {},
): { run: string; keys: string[]; file: string; points: Record<string, number> } {
  const log = join(dir, 'log.jsonl');
  const available = numericKeys(log);
  const keys = opts.keys ?? available;
  if (keys.length === 0) throw new GenlabError('run', `${log}: no numeric series to plot`);
  const series = readLogSeries(log, keys);
  const empty = series.filter((s) => s.x.length === 0).map((s) => s.name);
  if (empty.length > 0) {
    throw new GenlabError(
      'usage',
      `${log}: no values for ${empty.join(', ')}`,
      `{keys} takes some of: ${available.join(', ') || '(none)'}`,
    );
  }
  const file = opts.file ?? join(dir, 'curves.svg');
  savePlotSvg(file, series, { title: dir, xLabel: 'step', logY: opts.logY });
  return { run: dir, keys, file, points: Object.fromEntries(series.map((s) => [s.name, s.x.length])) };
}

/** A grid of a data set's first images, or a scatter plot of its first points (2-D toys). */
export function drawDataset(
  name: string,
  opts: { root?: string; split?: 'train' | 'test'; n?: number; file?: string } = {},
): { data: string; n: number; file: string } {
  const ds = loadDataset(name, { root: opts.root, split: opts.split ?? 'train' });
  try {
    const isImage = ds.x.ndim === 4;
    const n = Math.min(opts.n ?? (isImage ? 64 : 2000), ds.length);
    const file = opts.file ?? join('.', `${name}.${isImage ? 'png' : 'svg'}`);
    tidy(() => {
      const batch = ds.batch(arange(n, undefined, 1, { dtype: 'int64' }));
      if (isImage) {
        const scale = batch.x.size(-1) <= 8 ? 4 : batch.x.size(-1) <= 32 ? 2 : 1;
        saveImageGrid(file, batch.x, { nrow: Math.ceil(Math.sqrt(n)), scale });
      } else {
        saveScatterSvg(file, batch.x, { title: `${name} (${n} points)`, labels: batch.y });
      }
    });
    return { data: name, n, file };
  } finally {
    ds.dispose();
  }
}
