// The estimators, all behind one interface: each takes the data and the options and returns the ATE or
// the ATT with a standard error where an analytic one exists (the bootstrap gives one for all).

import { Rng } from '../data/rng.js';
import { GenlabError } from '../torch/errors.js';
import { type CausalData, subset, treatedCount } from './data.js';
import { type Matrix, matrix, matVec, olsAliased, ridgeCoef, rows, sigmoid, withIntercept } from './linalg.js';
import { matchedDifference, nearestNeighbour } from './matching.js';
import {
  explodingWeights,
  fitPropensityModel,
  type PropensityKind,
  type PropensityModel,
  trimMask,
} from './propensity.js';
import { mEstimationCov } from './sandwich.js';

export type Estimand = 'ATE' | 'ATT';

export interface EstimatorOptions {
  estimand: Estimand;
  /** Drop units with e outside [trim, 1 − trim] (IPW, AIPW); 0 keeps all. */
  trim: number;
  /** Matching caliper in standard deviations of the propensity score; 0 for none. */
  caliper: number;
  /** Propensity strata (quantiles) for stratification. */
  strata: number;
  /** Cross-fitting folds of AIPW; 1 fits the nuisance models on all units. */
  folds: number;
  /** Nearest-neighbour rule: the nearest control, or MatchIt 4.5.1's choice (see matching.ts). */
  matchRule: 'nearest' | 'matchit';
  /** The propensity model of every propensity-based estimator: logistic regression or a small network. */
  propensity: PropensityKind;
  /** AIPW's per-arm outcome models: linear in x, or with the squares of the non-binary covariates. */
  outcomeModel: OutcomeModel;
  /** Seeds AIPW's folds and the network propensity model. */
  seed: number;
  /** False skips analytic SEs that cost extra work (the sandwich of IPW), e.g. inside the bootstrap. */
  analyticSe?: boolean;
}

export const OUTCOME_MODELS = ['linear', 'quadratic'] as const;
export type OutcomeModel = (typeof OUTCOME_MODELS)[number];

export const ESTIMATOR_DEFAULTS: EstimatorOptions = {
  estimand: 'ATE',
  trim: 0,
  caliper: 0,
  strata: 5,
  folds: 5,
  matchRule: 'nearest',
  propensity: 'logistic',
  outcomeModel: 'linear',
  seed: 0,
};

export interface Estimate {
  estimator: string;
  estimand: Estimand;
  estimate: number;
  /** Analytic standard error, where one exists. */
  se?: number;
  /** How `se` was computed. */
  seKind?: string;
  /** Individual effect estimates, for estimators that model them (PEHE). */
  ite?: Float64Array;
  /** The weights that balance the groups for this estimand (for the balance table), where defined. */
  weights?: Float64Array;
  /** Units the estimate uses (after trimming or matching). */
  used: number;
  warnings: string[];
}

/** Fitted once per data set and shared by the propensity-based estimators. */
export interface Shared {
  propensity?: PropensityModel;
}

export interface Estimator {
  name: string;
  description: string;
  estimands: readonly Estimand[];
  run(d: CausalData, o: EstimatorOptions, shared?: Shared): Estimate;
}

function propensityOf(d: CausalData, o: EstimatorOptions, shared?: Shared): PropensityModel {
  if (shared?.propensity) return shared.propensity;
  const fit = fitPropensityModel(d, o.propensity ?? 'logistic', { seed: o.seed });
  if (shared) shared.propensity = fit;
  return fit;
}

function meanOf(v: ArrayLike<number>, w?: ArrayLike<number>): number {
  let s = 0;
  let sw = 0;
  for (let i = 0; i < v.length; i++) {
    const wi = w ? w[i] : 1;
    s += wi * v[i];
    sw += wi;
  }
  return s / sw;
}

/** Column means of x over rows where `keep` holds. */
function columnMeans(x: Matrix, keep: (i: number) => boolean): Float64Array {
  const m = new Float64Array(x.p);
  let k = 0;
  for (let i = 0; i < x.n; i++) {
    if (!keep(i)) continue;
    k++;
    for (let j = 0; j < x.p; j++) m[j] += x.a[i * x.p + j];
  }
  return m.map((v) => v / k);
}

const naive: Estimator = {
  name: 'naive',
  description: 'difference in means, no adjustment',
  estimands: ['ATE', 'ATT'],
  run(d, o) {
    const g = [0, 1].map((arm) => {
      const ys = Array.from(d.y).filter((_, i) => d.t[i] === arm);
      const m = meanOf(ys);
      const v = ys.reduce((a, b) => a + (b - m) ** 2, 0) / (ys.length - 1);
      return { m, v, n: ys.length };
    });
    const se = Math.sqrt(g[1].v / g[1].n + g[0].v / g[0].n);
    return {
      estimator: 'naive',
      estimand: o.estimand,
      estimate: g[1].m - g[0].m,
      se,
      seKind: 'Welch',
      used: d.n,
      warnings: [],
    };
  },
};

const olsPlain: Estimator = {
  name: 'ols',
  description: 'outcome regression y ~ t + x (one constant effect)',
  estimands: ['ATE', 'ATT'],
  run(d, o) {
    const x = withIntercept(d.x, [Float64Array.from(d.t)]);
    const fit = olsAliased(x, d.y);
    const est = fit.coef[1];
    return {
      estimator: 'ols',
      estimand: o.estimand,
      estimate: est,
      se: Math.sqrt(fit.covHC1[1 * x.p + 1]),
      seKind: 'HC1 sandwich',
      ite: new Float64Array(d.n).fill(est),
      used: d.n,
      warnings: [],
    };
  },
};

/**
 * y ~ t + xc + t·xc with x centred at the target population's mean (all units for the ATE, the
 * treated for the ATT), so that t's coefficient is the average effect there (Imbens & Wooldridge 2009).
 */
const olsInteract: Estimator = {
  name: 'ols-interact',
  description: 'outcome regression with treatment × covariate interactions',
  estimands: ['ATE', 'ATT'],
  run(d, o) {
    const centre = columnMeans(d.x, (i) => o.estimand === 'ATE' || d.t[i] === 1);
    const p = d.x.p;
    const x = matrix(d.n, 2 + 2 * p);
    for (let i = 0; i < d.n; i++) {
      const r = i * x.p;
      x.a[r] = 1;
      x.a[r + 1] = d.t[i];
      for (let j = 0; j < p; j++) {
        const c = d.x.a[i * p + j] - centre[j];
        x.a[r + 2 + j] = c;
        x.a[r + 2 + p + j] = d.t[i] * c;
      }
    }
    // A covariate constant among the treated (or a resample's) makes its interaction aliased: dropped.
    const fit = olsAliased(x, d.y);
    const ite = new Float64Array(d.n);
    for (let i = 0; i < d.n; i++) {
      let s = fit.coef[1];
      for (let j = 0; j < p; j++) s += fit.coef[2 + p + j] * (d.x.a[i * p + j] - centre[j]);
      ite[i] = s;
    }
    return {
      estimator: 'ols-interact',
      estimand: o.estimand,
      estimate: fit.coef[1],
      se: Math.sqrt(fit.covHC1[1 * x.p + 1]),
      seKind: 'HC1 sandwich (centring means taken as fixed)',
      ite,
      used: d.n,
      warnings: [],
    };
  },
};

/** Propensity-score strata at quantiles; strata lacking a group merge into their neighbour. */
export function strataOf(e: Float64Array, t: Uint8Array, k: number): Int32Array {
  const sorted = Float64Array.from(e).sort();
  const cuts = Array.from({ length: k - 1 }, (_, j) => sorted[Math.floor(((j + 1) * e.length) / k)]);
  let s = Int32Array.from(e, (v) => cuts.filter((c) => v >= c).length);
  for (;;) {
    const n1 = new Map<number, number>();
    const n0 = new Map<number, number>();
    for (let i = 0; i < e.length; i++) (t[i] ? n1 : n0).set(s[i], ((t[i] ? n1 : n0).get(s[i]) ?? 0) + 1);
    const ids = [...new Set(s)].sort((a, b) => a - b);
    const bad = ids.find((id) => !n1.get(id) || !n0.get(id));
    if (bad === undefined) return s;
    if (ids.length === 1)
      throw new GenlabError(
        'data',
        'no propensity stratum holds both treated and controls',
        'check the overlap of the groups',
      );
    const into = bad === ids[0] ? ids[1] : ids[ids.indexOf(bad) - 1];
    s = s.map((v) => (v === bad ? into : v));
  }
}

const stratify: Estimator = {
  name: 'stratify',
  description: 'propensity-score stratification (blocking) at quantiles',
  estimands: ['ATE', 'ATT'],
  run(d, o, shared) {
    const e = propensityOf(d, o, shared).p;
    const s = strataOf(e, d.t, o.strata);
    const ids = [...new Set(s)];
    const n1All = treatedCount(d);
    let est = 0;
    let v = 0;
    const weights = new Float64Array(d.n);
    for (const id of ids) {
      const y1: number[] = [];
      const y0: number[] = [];
      for (let i = 0; i < d.n; i++) if (s[i] === id) (d.t[i] ? y1 : y0).push(d.y[i]);
      const w = o.estimand === 'ATE' ? (y1.length + y0.length) / d.n : y1.length / n1All;
      const m1 = meanOf(y1);
      const m0 = meanOf(y0);
      const var1 = y1.length > 1 ? y1.reduce((a, b) => a + (b - m1) ** 2, 0) / (y1.length - 1) : 0;
      const var0 = y0.length > 1 ? y0.reduce((a, b) => a + (b - m0) ** 2, 0) / (y0.length - 1) : 0;
      est += w * (m1 - m0);
      v += w * w * (var1 / y1.length + var0 / y0.length);
      // Each group reweighted to the stratum's share of the target population.
      for (let i = 0; i < d.n; i++) if (s[i] === id) weights[i] = w / (d.t[i] ? y1.length : y0.length);
    }
    const warnings =
      ids.length < o.strata ? [`stratify: ${o.strata - ids.length} strata lacked a group and were merged`] : [];
    return {
      estimator: 'stratify',
      estimand: o.estimand,
      estimate: est,
      se: Math.sqrt(v),
      seKind: 'within-stratum',
      weights,
      used: d.n,
      warnings,
    };
  },
};

function matcher(replace: boolean): Estimator {
  const name = replace ? 'match-replace' : 'match';
  return {
    name,
    description: `1:1 nearest-neighbour propensity matching ${replace ? 'with' : 'without'} replacement (caliper optional)`,
    estimands: replace ? ['ATE', 'ATT'] : ['ATT'],
    run(d, o, shared) {
      if (!replace && o.estimand === 'ATE') {
        throw new GenlabError(
          'usage',
          'matching without replacement estimates the ATT only',
          'use {estimand} ATT or the match-replace estimator',
        );
      }
      const e = propensityOf(d, o, shared).p;
      const opts = { replace, caliper: o.caliper, rule: o.matchRule };
      const m1 = nearestNeighbour(e, d.t, opts, 1);
      const r1 = matchedDifference(m1, d.y);
      const warnings: string[] = [];
      const n1 = m1.treatedRows.length;
      if (r1.matched < n1)
        warnings.push(
          `${name}: ${n1 - r1.matched} of ${n1} treated units found no control within the caliper (the estimand is then the ATT of the matched)`,
        );
      let estimate = r1.estimate;
      let se: number | undefined = replace ? undefined : r1.se;
      let weights = m1.weight;
      if (o.estimand === 'ATE') {
        // Controls matched to treated as well, then the two effects weighted by group size.
        const m0 = nearestNeighbour(e, d.t, opts, 0);
        const r0 = matchedDifference(m0, d.y, -1);
        const k = r1.matched + r0.matched;
        estimate = (r1.matched * r1.estimate + r0.matched * r0.estimate) / k;
        se = undefined;
        weights = m1.weight.map((w, i) => w + m0.weight[i]);
      }
      return {
        estimator: name,
        estimand: o.estimand,
        estimate,
        se,
        seKind: se === undefined ? undefined : 'paired differences',
        weights,
        used: weights.filter((w) => w > 0).length,
        warnings,
      };
    },
  };
}

/** IPW in its Horvitz–Thompson or normalised (Hájek) form, with the propensity model stacked into a sandwich SE. */
function ipw(normalised: boolean): Estimator {
  const name = normalised ? 'ipw-norm' : 'ipw';
  return {
    name,
    description: `inverse probability weighting, ${normalised ? 'normalised (Hájek)' : 'Horvitz–Thompson'}, optional trimming`,
    estimands: ['ATE', 'ATT'],
    run(d0, o, shared) {
      let d = d0;
      let fit = propensityOf(d0, o, shared);
      const warnings: string[] = [];
      if (o.trim > 0) {
        const keep = trimMask(fit.p, o.trim);
        const idx = [...keep.keys()].filter((i) => keep[i]);
        if (idx.length < d0.n) {
          warnings.push(`${name}: trimming at ${o.trim} dropped ${d0.n - idx.length} of ${d0.n} units`);
          d = subset(d0, idx);
          fit = fitPropensityModel(d, o.propensity ?? 'logistic', { seed: o.seed });
        }
      }
      const x = withIntercept(d.x);
      // θ = (β, μ1, μ0[, π]): the logistic score, then the weighted means of each arm. A network's
      // scores are taken as known (no β block), which ignores their estimation.
      const stacked = fit.logistic !== undefined;
      const p = stacked ? x.p : 0;
      const att = o.estimand === 'ATT';
      const psi = (theta: Float64Array): Float64Array => {
        const k = theta.length;
        const out = new Float64Array(d.n * k);
        const eta = stacked ? matVec(x, theta.subarray(0, p)) : undefined;
        const [mu1, mu0, pi] = [theta[p], theta[p + 1], theta[p + 2]];
        for (let i = 0; i < d.n; i++) {
          const e = eta ? sigmoid(eta[i]) : fit.p[i];
          const t = d.t[i];
          const y = d.y[i];
          const r = i * k;
          for (let j = 0; j < p; j++) out[r + j] = (t - e) * x.a[i * p + j];
          if (!att) {
            out[r + p] = normalised ? (t * (y - mu1)) / e : (t * y) / e - mu1;
            out[r + p + 1] = normalised ? ((1 - t) * (y - mu0)) / (1 - e) : ((1 - t) * y) / (1 - e) - mu0;
          } else {
            const odds = e / (1 - e);
            out[r + p] = t * (y - mu1);
            out[r + p + 1] = normalised ? (1 - t) * odds * (y - mu0) : (1 - t) * odds * y - pi * mu0;
            out[r + p + 2] = t - pi;
          }
        }
        return out;
      };
      const e = fit.p;
      const w = Float64Array.from(e, (ei, i) => {
        if (att) return d.t[i] ? 1 : ei / (1 - ei);
        return d.t[i] ? 1 / ei : 1 / (1 - ei);
      });
      const n1 = treatedCount(d);
      let mu1: number;
      let mu0: number;
      if (att) {
        mu1 = meanOf(Array.from(d.y).filter((_, i) => d.t[i]));
        let s = 0;
        let sw = 0;
        for (let i = 0; i < d.n; i++)
          if (!d.t[i]) {
            s += w[i] * d.y[i];
            sw += w[i];
          }
        mu0 = normalised ? s / sw : s / n1;
      } else {
        let s1 = 0,
          s0 = 0,
          w1 = 0,
          w0 = 0;
        for (let i = 0; i < d.n; i++) {
          if (d.t[i]) {
            s1 += w[i] * d.y[i];
            w1 += w[i];
          } else {
            s0 += w[i] * d.y[i];
            w0 += w[i];
          }
        }
        mu1 = normalised ? s1 / w1 : s1 / d.n;
        mu0 = normalised ? s0 / w0 : s0 / d.n;
      }
      const theta = Float64Array.from([...(fit.logistic?.coef ?? []), mu1, mu0, ...(att ? [n1 / d.n] : [])]);
      let se: number | undefined;
      if (o.analyticSe !== false) {
        const cov = mEstimationCov(psi, theta, d.n);
        const k = theta.length;
        se = Math.sqrt(cov[p * k + p] + cov[(p + 1) * k + p + 1] - 2 * cov[p * k + p + 1]);
      }
      const boom = explodingWeights(w, d.t, name);
      if (boom) warnings.push(boom);
      // HT and Hájek IPW balance with the same weights; the balance table shows them once, under ipw-norm.
      const weights = normalised && d === d0 ? w : undefined;
      return {
        estimator: name,
        estimand: o.estimand,
        estimate: mu1 - mu0,
        se,
        seKind: stacked ? 'M-estimation sandwich' : 'M-estimation sandwich (network scores taken as known)',
        weights,
        used: d.n,
        warnings,
      };
    },
  };
}

/**
 * Fold ids 0..k−1 of n rows, balanced over units and shuffled by the seed. With `units` (a bootstrap
 * resample's original unit of each row) all copies of a unit share a fold: a copy in the training
 * folds would otherwise let the nuisance models see the unit they predict.
 */
export function foldsOf(n: number, k: number, seed: number, units?: Int32Array): Int32Array {
  const rng = new Rng(seed);
  const ids = units ? [...new Set(units)].sort((a, b) => a - b) : Array.from({ length: n }, (_, i) => i);
  const perm = ids.slice();
  for (let i = perm.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const foldOf = new Map<number, number>();
  perm.forEach((id, r) => {
    foldOf.set(id, r % k);
  });
  return Int32Array.from({ length: n }, (_, i) => foldOf.get(units ? units[i] : i)!);
}

/**
 * The design of AIPW's outcome models: [1, x] or [1, x, z²] with z the non-binary covariates
 * standardised over these rows (the squares let a model bend where one arm's covariates leave the
 * other's range, where the inverse weights amplify a linear model's misfit).
 */
export function outcomeDesign(x: Matrix, model: OutcomeModel): Matrix {
  if (model === 'linear') return withIntercept(x);
  const extra: Float64Array[] = [];
  for (let j = 0; j < x.p; j++) {
    const col = Float64Array.from({ length: x.n }, (_, i) => x.a[i * x.p + j]);
    if (new Set(col).size <= 2) continue;
    const m = col.reduce((a, b) => a + b, 0) / x.n;
    const s = Math.sqrt(col.reduce((a, b) => a + (b - m) ** 2, 0) / x.n);
    extra.push(col.map((v) => ((v - m) / s) ** 2));
  }
  return withIntercept(x, extra);
}

/**
 * AIPW (doubly robust): outcome regressions per arm plus the propensity model, fitted on the other
 * folds and predicted on each (cross-fitting, Chernozhukov et al. 2018); the SE is that of the
 * efficient influence function.
 */
const aipw: Estimator = {
  name: 'aipw',
  description: 'augmented IPW (doubly robust) with cross-fitting',
  estimands: ['ATE', 'ATT'],
  run(d0, o, shared) {
    let d = d0;
    const warnings: string[] = [];
    if (o.trim > 0) {
      const keep = trimMask(propensityOf(d0, o, shared).p, o.trim);
      const idx = [...keep.keys()].filter((i) => keep[i]);
      if (idx.length < d0.n) {
        warnings.push(`aipw: trimming at ${o.trim} dropped ${d0.n - idx.length} of ${d0.n} units`);
        d = subset(d0, idx);
      }
    }
    const n = d.n;
    const xo = outcomeDesign(d.x, o.outcomeModel ?? 'linear');
    const folds = o.folds > 1 ? foldsOf(n, o.folds, o.seed, d.units) : new Int32Array(n);
    const k = Math.max(o.folds, 1);
    const e = new Float64Array(n);
    const m1 = new Float64Array(n);
    const m0 = new Float64Array(n);
    for (let f = 0; f < k; f++) {
      const test = [...folds.keys()].filter((i) => folds[i] === f);
      const train = k === 1 ? test : [...folds.keys()].filter((i) => folds[i] !== f);
      // A ridge (λ = 1) keeps a fold's logistic fit finite where a rare binary covariate separates that fold.
      const ps = fitPropensityModel(subset(d, train), o.propensity ?? 'logistic', { seed: o.seed + f, ridge: 1 });
      const es = ps.predict(rows(d.x, test));
      const arm = (a: number) => {
        const r = train.filter((i) => d.t[i] === a);
        return ridgeCoef(
          rows(xo, r),
          Float64Array.from(r, (i) => d.y[i]),
          1e-6,
        );
      };
      const yhat = (b: Float64Array) => matVec(rows(xo, test), b);
      const y1 = yhat(arm(1));
      const y0 = yhat(arm(0));
      test.forEach((i, r) => {
        // Clipped to [0.01, 0.99] so that one unit cannot take the whole estimate (a warning still says so).
        e[i] = Math.min(Math.max(es[r], 0.01), 1 - 0.01);
        m1[i] = y1[r];
        m0[i] = y0[r];
      });
    }
    const psi = new Float64Array(n);
    let est: number;
    if (o.estimand === 'ATE') {
      for (let i = 0; i < n; i++) {
        const t = d.t[i];
        psi[i] = m1[i] - m0[i] + (t * (d.y[i] - m1[i])) / e[i] - ((1 - t) * (d.y[i] - m0[i])) / (1 - e[i]);
      }
      est = meanOf(psi);
      for (let i = 0; i < n; i++) psi[i] -= est;
    } else {
      const pi = treatedCount(d) / n;
      let s = 0;
      for (let i = 0; i < n; i++) {
        const t = d.t[i];
        psi[i] = t * (d.y[i] - m0[i]) - ((1 - t) * e[i] * (d.y[i] - m0[i])) / (1 - e[i]);
        s += psi[i];
      }
      est = s / n / pi;
      for (let i = 0; i < n; i++) psi[i] = (psi[i] - d.t[i] * est) / pi;
    }
    let v = 0;
    for (let i = 0; i < n; i++) v += psi[i] * psi[i];
    const se = Math.sqrt(v / n / n);
    const wts = Float64Array.from(e, (ei, i) => (d.t[i] ? 1 / ei : 1 / (1 - ei)));
    const boom = explodingWeights(wts, d.t, 'aipw');
    if (boom) warnings.push(boom);
    const ite = d === d0 ? Float64Array.from(m1, (v1, i) => v1 - m0[i]) : undefined;
    return {
      estimator: 'aipw',
      estimand: o.estimand,
      estimate: est,
      se,
      seKind: 'influence function',
      ite,
      used: n,
      warnings,
    };
  },
};

export const ESTIMATORS: readonly Estimator[] = [
  naive,
  olsPlain,
  olsInteract,
  stratify,
  matcher(false),
  matcher(true),
  ipw(false),
  ipw(true),
  aipw,
];

export const ESTIMATOR_NAMES = ESTIMATORS.map((e) => e.name);

export function estimatorByName(name: string): Estimator {
  const e = ESTIMATORS.find((x) => x.name === name);
  if (!e)
    throw new GenlabError(
      'usage',
      `unknown estimator '${name}'; one of: ${ESTIMATOR_NAMES.join(', ')}`,
      'check {estimators}',
    );
  return e;
}

/** The estimators that apply to an estimand ('all' expands to those). */
export function selectEstimators(names: string[], estimand: Estimand): Estimator[] {
  if (names.includes('all')) return ESTIMATORS.filter((e) => e.estimands.includes(estimand));
  return names.map(estimatorByName);
}
