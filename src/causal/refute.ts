// Refuters in DoWhy's sense: checks an estimate should survive if the analysis is sound.
// - placebo: the treatment replaced by a random permutation of itself; the effect should vanish.
// - random-common-cause: an independent N(0, 1) covariate added; the estimate should not move.
// - subset: the estimate on random subsets (a fraction of each group); it should stay put.
import { deriveSeed, Rng } from '../data/rng.js';
import { type CausalData, subset } from './data.js';
import type { Estimator, EstimatorOptions } from './estimators.js';
import { matrix } from './linalg.js';

export const REFUTERS = ['placebo', 'random-common-cause', 'subset'] as const;
export type Refuter = (typeof REFUTERS)[number];

export interface Refutation {
  refuter: Refuter;
  estimator: string;
  original: number;
  /** Mean and sd of the refuted estimates over the runs that succeeded. */
  mean: number;
  sd: number;
  runs: number;
  failed: number;
  /** What a sound analysis expects: 0 for the placebo, the original estimate otherwise. */
  expected: number;
}

function gaussian(rng: Rng): number {
  // Box–Muller; 1 − u keeps the logarithm finite.
  const u = 1 - rng.random();
  const v = rng.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** The data changed as refuter `r` changes it, for run `k`. */
export function refutedData(d: CausalData, r: Refuter, rng: Rng, fraction: number): CausalData {
  if (r === 'placebo') {
    const t = Uint8Array.from(d.t);
    for (let i = t.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [t[i], t[j]] = [t[j], t[i]];
    }
    return { ...d, t, truth: undefined };
  }
  if (r === 'random-common-cause') {
    const p = d.x.p + 1;
    const x = matrix(d.n, p);
    for (let i = 0; i < d.n; i++) {
      x.a.set(d.x.a.subarray(i * d.x.p, (i + 1) * d.x.p), i * p);
      x.a[i * p + p - 1] = gaussian(rng);
    }
    return { ...d, x, covariates: [...d.covariates, 'random_common_cause'] };
  }
  const rows: number[] = [];
  for (const arm of [1, 0]) {
    const g = [...d.t.keys()].filter((i) => d.t[i] === arm);
    for (let i = g.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [g[i], g[j]] = [g[j], g[i]];
    }
    rows.push(...g.slice(0, Math.max(2, Math.round(fraction * g.length))));
  }
  return subset(
    d,
    rows.sort((a, b) => a - b),
  );
}

export function refute(
  d: CausalData,
  est: Estimator,
  o: EstimatorOptions,
  r: Refuter,
  opts: { runs?: number; fraction?: number; original?: number } = {},
): Refutation {
  const runs = opts.runs ?? 20;
  const original = opts.original ?? est.run(d, o).estimate;
  const values: number[] = [];
  let failed = 0;
  for (let k = 0; k < runs; k++) {
    const rng = new Rng(deriveSeed(o.seed, REFUTERS.indexOf(r), k));
    try {
      values.push(est.run(refutedData(d, r, rng, opts.fraction ?? 0.8), { ...o, analyticSe: false }).estimate);
    } catch {
      failed++;
    }
  }
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(values.length, 1);
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(values.length - 1, 1));
  return {
    refuter: r,
    estimator: est.name,
    original,
    mean,
    sd,
    runs,
    failed,
    expected: r === 'placebo' ? 0 : original,
  };
}

export { gaussian };
