// genlab runs plot: curves of any series in a run's log.jsonl.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { plotRunLog } from '../train/plot.js';
import { CliError, parseOrHelp, stringOption } from './args.js';
import { firstPositional, report } from './common.js';
import type { Family } from './main.js';

const options = {
  keys: { type: 'string' as const, description: 'comma-separated series (default: every numeric key)' },
  out: { type: 'string' as const, description: 'SVG file to write (default <run>/curves.svg)' },
  'log-y': { type: 'boolean' as const, description: 'logarithmic y axis' },
};

function numericKeys(logPath: string): string[] {
  let text: string;
  try {
    text = readFileSync(logPath, 'utf8');
  } catch {
    throw new CliError(`${logPath}: no log in this run folder`);
  }
  const keys = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    for (const [k, v] of Object.entries(JSON.parse(line))) if (k !== 'step' && typeof v === 'number') keys.add(k);
  }
  return [...keys];
}

async function plot(argv: string[]): Promise<void> {
  const p = parseOrHelp(argv, options, 'genlab runs plot <run> [options]', 'Plots log.jsonl series of a run.');
  if (!p) return;
  const dir = firstPositional(p, 'run folder');
  const log = join(dir, 'log.jsonl');
  const keys = stringOption(p, 'keys', '') ? stringOption(p, 'keys', '').split(',') : numericKeys(log);
  if (keys.length === 0) throw new CliError(`${log}: no numeric series to plot`);
  const out = stringOption(p, 'out', join(dir, 'curves.svg'));
  plotRunLog(log, keys, out, { title: dir, logY: Boolean(p.values['log-y']) });
  report(p, { run: dir, keys, file: out }, [`wrote ${out} (${keys.join(', ')})`]);
}

export const runs: Family = {
  summary: 'inspect run folders',
  verbs: { plot: { summary: 'plot series from log.jsonl', run: plot } },
};
