// Plumbing every command shares: engine settings, run folders, and printing results.

import { manualSeed } from '../torch/random.js';
import { getNumThreads, setNumThreads } from '../torch/runtime.js';
import { CliError, intOption, type Parsed } from './args.js';

export interface EngineSettings {
  seed: number;
  threads: number;
}

/** Applies --threads and --seed, and says so on stderr (runs print their config and seed). */
export function setupEngine(p: Parsed): EngineSettings {
  const threads = intOption(p, 'threads', getNumThreads(), 1);
  setNumThreads(threads);
  const seed = intOption(p, 'seed', 0, 0);
  manualSeed(seed);
  return { seed, threads };
}

export function requireOut(p: Parsed, fallback: string): string {
  const out = p.values.out;
  if (out === undefined) return fallback;
  if (typeof out !== 'string' || out === '') throw new CliError('--out needs a folder', 2);
  return out;
}

export function note(p: Parsed, message: string): void {
  if (!p.values.quiet) process.stderr.write(`${message}\n`);
}

/** `--json`: one JSON object on stdout and nothing else; otherwise readable lines. */
export function report(p: Parsed, result: Record<string, unknown>, lines: string[]): void {
  if (p.values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else process.stdout.write(`${lines.join('\n')}\n`);
}

export function firstPositional(p: Parsed, what: string): string {
  const v = p.positionals[0];
  if (!v) throw new CliError(`missing ${what}`, 2);
  return v;
}
