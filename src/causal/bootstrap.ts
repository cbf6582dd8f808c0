// Bootstrap intervals for any estimator: resample units with replacement within the treated and the
// control group (so every resample keeps both groups and their sizes), re-run the whole estimator,
// propensity model included, and read the percentile interval and the standard deviation.
import { deriveSeed, Rng } from '../data/rng.js';
import { type CausalData, subset } from './data.js';
import type { Estimator, EstimatorOptions, Shared } from './estimators.js';

export interface BootstrapResult {
  /** Resamples asked for and those whose estimator failed (e.g. a separated propensity model). */
  replicates: number;
  failed: number;
  se: number;
  /** Percentile interval at `level`. */
  lo: number;
  hi: number;
  level: number;
  estimates: Float64Array;
}

/** Row indices of resample `b`: a stratified draw with replacement, seeded by (seed, b). */
export function resampleRows(t: Uint8Array, seed: number, b: number): Int32Array {
  const rng = new Rng(deriveSeed(seed, b));
  const groups: number[][] = [[], []];
  for (let i = 0; i < t.length; i++) groups[t[i]].push(i);
  const out = new Int32Array(t.length);
  let k = 0;
  for (const g of groups) for (let j = 0; j < g.length; j++) out[k++] = g[rng.int(g.length)];
  return out;
}

/** The q-quantile of sorted values, linearly interpolated (R's type 7, numpy's default). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export function bootstrap(
  d: CausalData,
  est: Estimator,
  o: EstimatorOptions,
  replicates: number,
  opts: { seed?: number; level?: number } = {},
): BootstrapResult {
  const seed = opts.seed ?? o.seed;
  const level = opts.level ?? 0.95;
  const values: number[] = [];
  let failed = 0;
  const quiet = { ...o, analyticSe: false };
  for (let b = 0; b < replicates; b++) {
    const rows = resampleRows(d.t, seed, b);
    try {
      values.push(est.run(subset(d, rows), quiet).estimate);
    } catch {
      failed++;
    }
  }
  return summarise(values, replicates, failed, level);
}

/**
 * Bootstraps several estimators on the same resamples, sharing each resample's propensity model
 * among them (one logistic fit per resample instead of one per estimator).
 */
export function bootstrapMany(
  d: CausalData,
  ests: Estimator[],
  o: EstimatorOptions,
  replicates: number,
  opts: { seed?: number; level?: number } = {},
): Map<string, BootstrapResult> {
  const seed = opts.seed ?? o.seed;
  const level = opts.level ?? 0.95;
  const values = new Map<string, number[]>(ests.map((e) => [e.name, []]));
  const failed = new Map<string, number>(ests.map((e) => [e.name, 0]));
  const quiet = { ...o, analyticSe: false };
  for (let b = 0; b < replicates; b++) {
    const r = subset(d, resampleRows(d.t, seed, b));
    const shared: Shared = {};
    for (const e of ests) {
      try {
        values.get(e.name)!.push(e.run(r, quiet, shared).estimate);
      } catch {
        failed.set(e.name, failed.get(e.name)! + 1);
      }
    }
  }
  return new Map(ests.map((e) => [e.name, summarise(values.get(e.name)!, replicates, failed.get(e.name)!, level)]));
}

function summarise(values: number[], replicates: number, failed: number, level: number): BootstrapResult {
  const sorted = Float64Array.from(values).sort();
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(values.length, 1);
  const se = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(values.length - 1, 1));
  const alpha = (1 - level) / 2;
  return {
    replicates,
    failed,
    se,
    lo: values.length ? quantile(sorted, alpha) : Number.NaN,
    hi: values.length ? quantile(sorted, 1 - alpha) : Number.NaN,
    level,
    estimates: Float64Array.from(values),
  };
}
