// Small dense float64 linear algebra for the estimators: least squares by Householder QR (stable on
// badly scaled columns such as LaLonde's earnings beside its indicators), OLS with classical and
// sandwich (HC0/HC1) covariances, and logistic regression by iteratively reweighted least squares.
// Pure JS in float64 on purpose: the peers (statsmodels, R's glm) work in float64 and the tests hold
// coefficients to 1e-6; the matrices here are at most a few thousand rows by a few dozen columns.
import { GenlabError } from '../torch/errors.js';

/** A row-major n×p matrix. */
export interface Matrix {
  n: number;
  p: number;
  a: Float64Array;
}

export function matrix(n: number, p: number, a = new Float64Array(n * p)): Matrix {
  return { n, p, a };
}

/** [1, columns of x]: the design matrix with an intercept first. */
export function withIntercept(x: Matrix, extra: Float64Array[] = []): Matrix {
  const p = 1 + extra.length + x.p;
  const out = matrix(x.n, p);
  for (let i = 0; i < x.n; i++) {
    out.a[i * p] = 1;
    for (let e = 0; e < extra.length; e++) out.a[i * p + 1 + e] = extra[e][i];
    for (let j = 0; j < x.p; j++) out.a[i * p + 1 + extra.length + j] = x.a[i * x.p + j];
  }
  return out;
}

/** The rows `idx` of x. */
export function rows(x: Matrix, idx: ArrayLike<number>): Matrix {
  const out = matrix(idx.length, x.p);
  for (let k = 0; k < idx.length; k++) out.a.set(x.a.subarray(idx[k] * x.p, (idx[k] + 1) * x.p), k * x.p);
  return out;
}

export function matVec(x: Matrix, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(x.n);
  for (let i = 0; i < x.n; i++) {
    let s = 0;
    for (let j = 0; j < x.p; j++) s += x.a[i * x.p + j] * b[j];
    out[i] = s;
  }
  return out;
}

export interface LeastSquares {
  coef: Float64Array;
  /** (X'WX)^-1, from R^-1 R^-T. */
  xtxInv: Float64Array;
}

/** Thrown where columns are collinear: `column` is the first dependent one. */
export class AliasedColumn extends GenlabError {
  constructor(
    readonly column: number,
    names?: string[],
  ) {
    const what = names ? `column '${names[column]}'` : `column ${column}`;
    super(
      'data',
      `${what} is constant or a linear combination of the columns before it (the design matrix is singular)`,
      'drop it from {covariates}',
    );
  }
}

function rankError(col: number, names?: string[]): GenlabError {
  return new AliasedColumn(col, names);
}

/** x without column j. */
function dropColumn(x: Matrix, j: number): Matrix {
  const out = matrix(x.n, x.p - 1);
  for (let i = 0; i < x.n; i++)
    for (let k = 0, c = 0; k < x.p; k++) if (k !== j) out.a[i * out.p + c++] = x.a[i * x.p + k];
  return out;
}

/**
 * OLS that drops aliased columns, as R's lm does (their coefficients are NA there, 0 here): for
 * models built on a resample or a subgroup, where a rare indicator can be constant. `kept` lists
 * the columns used; the covariances cover those only (rows and columns of dropped ones are 0).
 */
export function olsAliased(x: Matrix, y: ArrayLike<number>): OlsFit & { kept: number[] } {
  let kept = Array.from({ length: x.p }, (_, j) => j);
  let xx = x;
  for (;;) {
    try {
      const fit = ols(xx, y);
      const p = x.p;
      const q = kept.length;
      const coef = new Float64Array(p);
      const cov = new Float64Array(p * p);
      const covHC1 = new Float64Array(p * p);
      kept.forEach((j, a) => {
        coef[j] = fit.coef[a];
        kept.forEach((k, b) => {
          cov[j * p + k] = fit.cov[a * q + b];
          covHC1[j * p + k] = fit.covHC1[a * q + b];
        });
      });
      return { ...fit, coef, cov, covHC1, kept };
    } catch (e) {
      if (!(e instanceof AliasedColumn)) throw e;
      xx = dropColumn(xx, e.column);
      kept = kept.filter((_, a) => a !== e.column);
    }
  }
}

/**
 * Weighted least squares min Σ w_i (y_i − x_i b)² by Householder QR of √w X. `names` (columns of x)
 * only name a dependent column in the error.
 */
export function leastSquares(x: Matrix, y: ArrayLike<number>, w?: ArrayLike<number>, names?: string[]): LeastSquares {
  const { n, p } = x;
  if (n < p) throw new GenlabError('data', `${n} rows cannot fit ${p} coefficients`, 'use fewer {covariates}');
  // Column-major copy of √w X and √w y, reduced in place.
  const a = new Float64Array(n * p);
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = w ? Math.sqrt(w[i]) : 1;
    for (let j = 0; j < p; j++) a[j * n + i] = s * x.a[i * p + j];
    r[i] = s * y[i];
  }
  const colNorm0 = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += a[j * n + i] ** 2;
    colNorm0[j] = Math.sqrt(s);
  }
  const diag = new Float64Array(p);
  for (let k = 0; k < p; k++) {
    let norm = 0;
    for (let i = k; i < n; i++) norm += a[k * n + i] ** 2;
    norm = Math.sqrt(norm);
    // A column whose part orthogonal to the earlier ones is at rounding level is dependent on them.
    if (!(norm > 1e-10 * colNorm0[k]) || colNorm0[k] === 0) throw rankError(k, names);
    const alpha = a[k * n + k] > 0 ? -norm : norm;
    a[k * n + k] -= alpha;
    let vv = 0;
    for (let i = k; i < n; i++) vv += a[k * n + i] ** 2;
    for (let j = k + 1; j < p; j++) {
      let d = 0;
      for (let i = k; i < n; i++) d += a[k * n + i] * a[j * n + i];
      const f = (2 * d) / vv;
      for (let i = k; i < n; i++) a[j * n + i] -= f * a[k * n + i];
    }
    let d = 0;
    for (let i = k; i < n; i++) d += a[k * n + i] * r[i];
    const f = (2 * d) / vv;
    for (let i = k; i < n; i++) r[i] -= f * a[k * n + i];
    diag[k] = alpha;
  }
  // R is upper triangular: R_kk = diag[k], R_kj (j > k) = a[j*n + k].
  const R = (k: number, j: number) => (k === j ? diag[k] : a[j * n + k]);
  const coef = new Float64Array(p);
  for (let k = p - 1; k >= 0; k--) {
    let s = r[k];
    for (let j = k + 1; j < p; j++) s -= R(k, j) * coef[j];
    coef[k] = s / R(k, k);
  }
  // R^-1 by back substitution, then (X'X)^-1 = R^-1 R^-T.
  const ri = new Float64Array(p * p);
  for (let c = 0; c < p; c++) {
    for (let k = c; k >= 0; k--) {
      let s = k === c ? 1 : 0;
      for (let j = k + 1; j <= c; j++) s -= R(k, j) * ri[j * p + c];
      ri[k * p + c] = s / R(k, k);
    }
  }
  const xtxInv = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = i; j < p; j++) {
      let s = 0;
      for (let k = Math.max(i, j); k < p; k++) s += ri[i * p + k] * ri[j * p + k];
      xtxInv[i * p + j] = s;
      xtxInv[j * p + i] = s;
    }
  }
  return { coef, xtxInv };
}

export interface OlsFit {
  coef: Float64Array;
  fitted: Float64Array;
  residuals: Float64Array;
  /** Classical covariance σ̂²(X'X)^-1 with σ̂² = RSS/(n − p). */
  cov: Float64Array;
  /** White's sandwich (X'X)^-1 X' diag(e²) X (X'X)^-1, times n/(n − p) (HC1). */
  covHC1: Float64Array;
}

/** The sandwich A^-1 B A^-1 with B = Σ s_i² x_i x_i' (s_i a per-row score scale). */
export function sandwich(x: Matrix, aInv: Float64Array, s: ArrayLike<number>): Float64Array {
  const { n, p } = x;
  const b = new Float64Array(p * p);
  for (let i = 0; i < n; i++) {
    const e2 = s[i] * s[i];
    const o = i * p;
    for (let j = 0; j < p; j++) {
      const v = e2 * x.a[o + j];
      for (let k = j; k < p; k++) b[j * p + k] += v * x.a[o + k];
    }
  }
  for (let j = 0; j < p; j++) for (let k = 0; k < j; k++) b[j * p + k] = b[k * p + j];
  return mul(mul(aInv, b, p), aInv, p);
}

function mul(a: Float64Array, b: Float64Array, p: number): Float64Array {
  const out = new Float64Array(p * p);
  for (let i = 0; i < p; i++)
    for (let k = 0; k < p; k++) {
      const v = a[i * p + k];
      if (v !== 0) for (let j = 0; j < p; j++) out[i * p + j] += v * b[k * p + j];
    }
  return out;
}

/** Rows √λ·e_j (j ≥ 1, the intercept unpenalised) under x, with targets 0: a ridge penalty λ|β|². */
function ridgeRows(x: Matrix, y: ArrayLike<number>, ridge: number): { x: Matrix; y: Float64Array } {
  const out = matrix(x.n + x.p - 1, x.p);
  out.a.set(x.a);
  for (let j = 1; j < x.p; j++) out.a[(x.n + j - 1) * x.p + j] = Math.sqrt(ridge);
  const yy = new Float64Array(x.n + x.p - 1);
  yy.set(Array.from({ length: x.n }, (_, i) => y[i]));
  return { x: out, y: yy };
}

/** Ridge least squares (intercept unpenalised), for nuisance models that must not fail on a fold. */
export function ridgeCoef(x: Matrix, y: ArrayLike<number>, ridge: number): Float64Array {
  const r = ridgeRows(x, y, ridge);
  return leastSquares(r.x, r.y).coef;
}

export function ols(x: Matrix, y: ArrayLike<number>, names?: string[]): OlsFit {
  const { coef, xtxInv } = leastSquares(x, y, undefined, names);
  const fitted = matVec(x, coef);
  const residuals = new Float64Array(x.n);
  let rss = 0;
  for (let i = 0; i < x.n; i++) {
    residuals[i] = y[i] - fitted[i];
    rss += residuals[i] ** 2;
  }
  const dof = x.n - x.p;
  const cov = xtxInv.map((v) => (v * rss) / Math.max(dof, 1));
  const covHC1 = sandwich(x, xtxInv, residuals).map((v) => (v * x.n) / Math.max(dof, 1));
  return { coef, fitted, residuals, cov, covHC1 };
}

export interface LogisticFit {
  coef: Float64Array;
  /** Fitted probabilities. */
  p: Float64Array;
  /** Inverse Fisher information (X' diag(p(1−p)) X)^-1: the model-based covariance. */
  cov(): Float64Array;
  iterations: number;
}

const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/**
 * Logistic regression of a 0/1 outcome on x (with its intercept column) by IRLS (Newton's method),
 * iterated as R's glm.fit does: it starts from μ = (y + ½)/2 and stops once the deviance changes by
 * less than `epsilon` relative (R's 1e-8). Matching R's iterates, not only its optimum, keeps the
 * fitted scores equal to MatchIt's to ~1e-15, so that near-ties between controls break the same
 * way. Perfect or quasi-perfect separation, where the maximum likelihood estimate does not exist, is
 * an error rather than a huge coefficient, unless a `ridge` penalty λ/2·|β|² (intercept excluded)
 * makes the optimum exist (used for nuisance models fitted on folds).
 */
export function logistic(
  x: Matrix,
  t: ArrayLike<number>,
  names?: string[],
  what = 'logistic model',
  opts: { epsilon?: number; ridge?: number; maxIter?: number } = {},
): LogisticFit {
  const { n, p } = x;
  const eps = opts.epsilon ?? 1e-8;
  const ridge = opts.ridge ?? 0;
  // The ridge penalty as p − 1 extra rows √λ·e_j with target 0 and weight 1.
  const m = ridge > 0 ? n + p - 1 : n;
  const xa = ridge > 0 ? ridgeRows(x, [], ridge).x : x;
  const w = new Float64Array(m).fill(1);
  const z = new Float64Array(m);
  const deviance = (mu: (i: number) => number) => {
    let d = 0;
    for (let i = 0; i < n; i++) {
      const pi = mu(i);
      d -= 2 * (t[i] ? Math.log(pi) : Math.log1p(-pi));
    }
    return d;
  };
  let eta: Float64Array = Float64Array.from({ length: n }, (_, i) => Math.log((t[i] + 0.5) / (1.5 - t[i])));
  let dev = deviance((i) => (t[i] + 0.5) / 2);
  let coef: Float64Array = new Float64Array(p);
  for (let it = 1; it <= (opts.maxIter ?? 100); it++) {
    for (let i = 0; i < n; i++) {
      const pi = sigmoid(eta[i]);
      w[i] = pi * (1 - pi);
      z[i] = eta[i] + (t[i] - pi) / w[i];
    }
    try {
      coef = leastSquares(xa, z, w, names).coef;
    } catch (e) {
      // Weights p(1 − p) that underflow to 0 once fitted probabilities reach 0 or 1: separation.
      if (e instanceof AliasedColumn && it > 1) throw separation(what);
      throw e;
    }
    eta = matVec(x, coef);
    const d = deviance((i) => sigmoid(eta[i]));
    let extreme = 0;
    for (let i = 0; i < n; i++) if (Math.abs(eta[i]) > 30) extreme++;
    if (ridge === 0 && extreme > 0 && d < 1e-6 * n) throw separation(what);
    const converged = Math.abs(d - dev) / (Math.abs(d) + 0.1) < eps;
    dev = d;
    if (converged) {
      if (ridge === 0 && extreme > 0) throw separation(what);
      const pr = Float64Array.from(eta, sigmoid);
      // The covariance costs one more factorisation; only callers that report SEs ask for it.
      const cov = () =>
        leastSquares(
          xa,
          new Float64Array(m),
          Float64Array.from({ length: m }, (_, i) => (i < n ? pr[i] * (1 - pr[i]) : 1)),
        ).xtxInv;
      return { coef, p: pr, cov, iterations: it };
    }
  }
  throw separation(what);
}

function separation(what: string): GenlabError {
  return new GenlabError(
    'data',
    `perfect separation in the ${what}: the covariates predict treatment exactly for some units, so its maximum likelihood estimate does not exist`,
    'drop or coarsen the separating {covariates}',
  );
}

export { sigmoid };
