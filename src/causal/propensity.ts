// Propensity scores e(x) = P(T = 1 | x) by logistic regression on [1, x], with the failure modes an
// analyst must hear about: a covariate that separates the groups perfectly, and weights that explode.
import { GenlabError } from '../torch/errors.js';
import type { CausalData } from './data.js';
import { type LogisticFit, logistic, type Matrix, matVec, sigmoid, withIntercept } from './linalg.js';

export const PROPENSITY_KINDS = ['logistic', 'mlp'] as const;
export type PropensityKind = (typeof PROPENSITY_KINDS)[number];

/** A fitted propensity model: the scores of the units it was fitted on, and a scorer for other rows. */
export interface PropensityModel {
  kind: PropensityKind;
  p: Float64Array;
  /** The logistic model's coefficients (for the IPW sandwich, which stacks the model's score). */
  logistic?: LogisticFit;
  /** Scores of other rows of covariates (same columns as the fitted data). */
  predict(x: Matrix): Float64Array;
}

export interface PropensityFitOptions {
  seed: number;
  /** A ridge penalty on the logistic model (cross-fitted nuisance models use 1, so that folds cannot separate). */
  ridge?: number;
}

export type PropensityLearner = (d: CausalData, o: PropensityFitOptions) => PropensityModel;

// The network learner trains with libtorch, so it registers itself from the module that defines it
// (src/causal/mlp-propensity.ts); the estimators stay pure JS and run in worker threads.
const learners = new Map<PropensityKind, PropensityLearner>();

export function registerPropensityLearner(kind: PropensityKind, learner: PropensityLearner): void {
  learners.set(kind, learner);
}

/** The logistic model as a PropensityModel. */
export function logisticPropensity(d: CausalData, o: PropensityFitOptions = { seed: 0 }): PropensityModel {
  const fit = o.ridge
    ? logistic(withIntercept(d.x), d.t, ['(intercept)', ...d.covariates], 'propensity model', { ridge: o.ridge })
    : fitPropensity(d);
  return {
    kind: 'logistic',
    p: fit.p,
    logistic: fit,
    predict: (x) => Float64Array.from(matVec(withIntercept(x), fit.coef), sigmoid),
  };
}

/** A propensity model of the kind asked for (logistic regression or a small network). */
export function fitPropensityModel(
  d: CausalData,
  kind: PropensityKind,
  o: PropensityFitOptions = { seed: 0 },
): PropensityModel {
  if (kind === 'logistic') return logisticPropensity(d, o);
  const learner = learners.get(kind);
  if (!learner)
    throw new GenlabError(
      'usage',
      `the ${kind} propensity model is not loaded in this process (it needs libtorch)`,
      'use {propensity} logistic',
    );
  if (!o.ridge) {
    const sep = separatingCovariate(d);
    if (sep)
      throw new GenlabError(
        'data',
        `perfect separation in the propensity model: covariate ${sep}, so treated and controls never overlap`,
        'drop it from {covariates} or restrict the rows to the overlap',
      );
  }
  return learner(d, o);
}

/** A single covariate whose treated and control ranges do not overlap: the clearest separation. */
export function separatingCovariate(d: CausalData): string | undefined {
  const { p } = d.x;
  for (let j = 0; j < p; j++) {
    let min1 = Infinity,
      max1 = -Infinity,
      min0 = Infinity,
      max0 = -Infinity;
    for (let i = 0; i < d.n; i++) {
      const v = d.x.a[i * p + j];
      if (d.t[i]) {
        min1 = Math.min(min1, v);
        max1 = Math.max(max1, v);
      } else {
        min0 = Math.min(min0, v);
        max0 = Math.max(max0, v);
      }
    }
    if (max1 < min0) return `${d.covariates[j]} (treated all ≤ ${max1}, controls all ≥ ${min0})`;
    if (max0 < min1) return `${d.covariates[j]} (controls all ≤ ${max0}, treated all ≥ ${min1})`;
  }
  return undefined;
}

/** The logistic propensity model of treatment on the covariates. */
export function fitPropensity(d: CausalData): LogisticFit {
  const sep = separatingCovariate(d);
  if (sep) {
    throw new GenlabError(
      'data',
      `perfect separation in the propensity model: covariate ${sep}, so treated and controls never overlap`,
      'drop it from {covariates} or restrict the rows to the overlap',
    );
  }
  return logistic(withIntercept(d.x), d.t, ['(intercept)', ...d.covariates], 'propensity model');
}

/**
 * Units kept by trimming at level a: those with a ≤ e ≤ 1 − a (Crump et al. 2009 use 0.1). A trim of
 * 0 keeps all.
 */
export function trimMask(e: Float64Array, a: number): Uint8Array {
  return Uint8Array.from(e, (v) => (v >= a && v <= 1 - a ? 1 : 0));
}

/** Kish's effective sample size (Σw)² / Σw² of a set of weights. */
export function effectiveSampleSize(w: ArrayLike<number>): number {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < w.length; i++) {
    s += w[i];
    s2 += w[i] * w[i];
  }
  return s2 > 0 ? (s * s) / s2 : 0;
}

/**
 * A warning when weights explode: one unit carrying more than `share` of its group's total weight.
 * Returns undefined when the weights are tame.
 */
export function explodingWeights(
  w: ArrayLike<number>,
  t: ArrayLike<number>,
  what: string,
  share = 0.1,
): string | undefined {
  for (const g of [1, 0]) {
    let total = 0;
    let max = 0;
    let at = -1;
    let count = 0;
    for (let i = 0; i < w.length; i++) {
      if (t[i] !== g) continue;
      total += w[i];
      count++;
      if (w[i] > max) {
        max = w[i];
        at = i;
      }
    }
    // With few units any one carries much; only flag a unit worth many times its fair share.
    if (count >= 20 && max > share * total) {
      const ess = effectiveSampleSize(Array.from({ length: w.length }, (_, i) => (t[i] === g ? w[i] : 0)));
      return `${what}: exploding weights, row ${at + 1} carries ${((100 * max) / total).toFixed(0)}% of the ${g ? 'treated' : 'control'} weight (effective sample size ${ess.toFixed(1)} of ${count}); consider {trim}`;
    }
  }
  return undefined;
}
