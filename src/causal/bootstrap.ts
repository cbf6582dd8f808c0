// Bootstrap intervals for any estimator: resample units with replacement within the treated and the
// control group (so every resample keeps both groups and their sizes), re-run the whole estimator,
// propensity model included, and read the percentile interval and the standard deviation. Replicates
// can run in worker threads (bootstrap-pool.ts); each is seeded by its index, so the numbers do not
// depend on how many.
import { deriveSeed, Rng } from '../data/rng.js';
import { bootstrapInWorkers, poolable } from './bootstrap-pool.js';
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

export interface BootstrapOptions {
  seed?: number;
  level?: number;
  /**
   * Worker threads (default 1: this thread). Replicate b is drawn from (seed, b) and its estimators
   * are seeded by (seed, b) too, so the result is the same for any number of workers.
   */
  workers?: number;
}

export function bootstrap(
  d: CausalData,
  est: Estimator,
  o: EstimatorOptions,
  replicates: number,
  opts: BootstrapOptions = {},
): BootstrapResult {
  return bootstrapMany(d, [est], o, replicates, opts).get(est.name)!;
}

/**
 * The estimates of resample b, one per estimator (NaN where it failed, e.g. a separated propensity
 * model). Every model is refitted on the resample, the propensity model once and shared among the
 * estimators; AIPW's cross-fitting folds are redrawn (seeded by (seed, b)) and keep every copy of a
 * unit in one fold.
 */
export function replicateEstimates(
  d: CausalData,
  ests: readonly Estimator[],
  o: EstimatorOptions,
  seed: number,
  b: number,
): Float64Array {
  const r = subset(d, resampleRows(d.t, seed, b));
  const quiet = { ...o, analyticSe: false, seed: deriveSeed(seed, b, 1) };
  const shared: Shared = {};
  return Float64Array.from(ests, (e) => {
    try {
      return e.run(r, quiet, shared).estimate;
    } catch {
      return Number.NaN;
    }
  });
}

/** Bootstraps several estimators on the same resamples. */
export function bootstrapMany(
  d: CausalData,
  ests: Estimator[],
  o: EstimatorOptions,
  replicates: number,
  opts: BootstrapOptions = {},
): Map<string, BootstrapResult> {
  const seed = opts.seed ?? o.seed;
  const level = opts.level ?? 0.95;
  const k = ests.length;
  const table = new Float64Array(replicates * k);
  for (let b = 0; b < replicates; b++) table.set(replicateEstimates(d, ests, o, seed, b), b * k);
  return summariseTable(table, ests, replicates, level);
}

/**
 * bootstrapMany with the replicates spread over `workers` threads where the estimators allow it
 * (the registry's estimators on the logistic propensity model); the same numbers as one thread.
 */
export async function bootstrapManyParallel(
  d: CausalData,
  ests: Estimator[],
  o: EstimatorOptions,
  replicates: number,
  opts: BootstrapOptions = {},
): Promise<Map<string, BootstrapResult>> {
  const workers = Math.min(opts.workers ?? 1, replicates);
  if (workers <= 1 || !poolable(ests, o)) return bootstrapMany(d, ests, o, replicates, opts);
  const seed = opts.seed ?? o.seed;
  const names = ests.map((e) => e.name);
  const table = await bootstrapInWorkers(d, names, o, replicates, seed, workers);
  return summariseTable(table, ests, replicates, opts.level ?? 0.95);
}

function summariseTable(
  table: Float64Array,
  ests: Estimator[],
  replicates: number,
  level: number,
): Map<string, BootstrapResult> {
  const k = ests.length;
  return new Map(
    ests.map((e, j) => {
      const all = Array.from({ length: replicates }, (_, b) => table[b * k + j]);
      const ok = all.filter((v) => !Number.isNaN(v));
      return [e.name, summarise(ok, replicates, replicates - ok.length, level)];
    }),
  );
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
