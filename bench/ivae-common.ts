// Shared pieces of the iVAE benches (bench/ivae-reference.ts, bench/ivae-study.ts): one genlab run in
// a cached run folder, and writing a bench's section of results/ivae.md between its markers.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isInterrupted } from '../src/train/session.js';
import { trainVaeRun, type VaeRunConfig, type VaeTrainResult } from '../src/vae/experiment.js';

export interface GenlabRun {
  result: VaeTrainResult;
  /** Wall-clock seconds of training and evaluation (0 when the run folder was already finished). */
  seconds: number;
}

/** Trains `cfg` in `dir`, or reads its results.json when the run finished before (re-runs are free). */
export async function genlabRun(cfg: VaeRunConfig, dir: string): Promise<GenlabRun> {
  const saved = `${dir}/results.json`;
  if (existsSync(saved)) {
    const result = JSON.parse(readFileSync(saved, 'utf8')) as VaeTrainResult & { seconds?: number };
    return { result, seconds: result.seconds ?? 0 };
  }
  // A folder left without a checkpoint (stopped before the first one) is started again.
  const resume = existsSync(`${dir}/checkpoint.safetensors`);
  if (!resume) rmSync(dir, { recursive: true, force: true });
  const t0 = performance.now();
  const r = await trainVaeRun(cfg, dir, { quiet: true, resume });
  if (isInterrupted(r)) throw new Error(`interrupted in ${dir}`);
  const seconds = (performance.now() - t0) / 1000;
  writeFileSync(saved, `${JSON.stringify({ ...r, seconds }, null, 2)}\n`);
  return { result: r, seconds };
}

/** Replaces the text between `<!-- name:begin -->` and `<!-- name:end -->` in `path` (appends it if absent). */
export function writeSection(path: string, name: string, md: string): void {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const old = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const block = `${begin}\n${md.trim()}\n${end}`;
  const i = old.indexOf(begin);
  const j = old.indexOf(end);
  const next = i >= 0 && j > i ? old.slice(0, i) + block + old.slice(j + end.length) : `${old.trimEnd()}\n\n${block}\n`;
  writeFileSync(path, next);
}

export function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

export function sd(xs: number[]): number {
  const m = mean(xs);
  return xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

export const f3 = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? 'NaN' : x.toFixed(3));
