// Sandwich (M-estimation) standard errors for estimators defined by stacked estimating equations
// Σ_i ψ_i(θ) = 0, e.g. the propensity model's score stacked with the weighted means of IPW, so the
// uncertainty of the estimated propensity scores enters the standard error (Lunceford & Davidian
// 2004). cov(θ̂) = A⁻¹ B A⁻ᵀ / n with A = mean ∂ψ/∂θ (by central differences) and B = mean ψψᵀ.

/** ψ for every unit at θ: an n × k row-major array. */
export type EstimatingEquations = (theta: Float64Array) => Float64Array;

function invert(a: Float64Array, k: number): Float64Array {
  // Gauss–Jordan with partial pivoting; k is small (the propensity model's size plus two).
  const m = Float64Array.from(a);
  const inv = new Float64Array(k * k);
  for (let i = 0; i < k; i++) inv[i * k + i] = 1;
  for (let c = 0; c < k; c++) {
    let piv = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(m[r * k + c]) > Math.abs(m[piv * k + c])) piv = r;
    if (m[piv * k + c] === 0) throw new Error('singular estimating-equation Jacobian');
    for (const mat of [m, inv]) {
      for (let j = 0; j < k; j++) {
        const tmp = mat[c * k + j];
        mat[c * k + j] = mat[piv * k + j];
        mat[piv * k + j] = tmp;
      }
    }
    const d = m[c * k + c];
    for (let j = 0; j < k; j++) {
      m[c * k + j] /= d;
      inv[c * k + j] /= d;
    }
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = m[r * k + c];
      if (f === 0) continue;
      for (let j = 0; j < k; j++) {
        m[r * k + j] -= f * m[c * k + j];
        inv[r * k + j] -= f * inv[c * k + j];
      }
    }
  }
  return inv;
}

/** The covariance of θ̂ by the sandwich formula; `n` units, `k` = θ's length. */
export function mEstimationCov(psi: EstimatingEquations, theta: Float64Array, n: number): Float64Array {
  const k = theta.length;
  const mean = (v: Float64Array) => {
    const out = new Float64Array(k);
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) out[j] += v[i * k + j] / n;
    return out;
  };
  const a = new Float64Array(k * k);
  for (let c = 0; c < k; c++) {
    const h = 1e-6 * Math.max(Math.abs(theta[c]), 1e-3);
    const up = Float64Array.from(theta);
    const down = Float64Array.from(theta);
    up[c] += h;
    down[c] -= h;
    const fu = mean(psi(up));
    const fd = mean(psi(down));
    for (let r = 0; r < k; r++) a[r * k + c] = (fu[r] - fd[r]) / (2 * h);
  }
  const at = psi(theta);
  const b = new Float64Array(k * k);
  for (let i = 0; i < n; i++)
    for (let r = 0; r < k; r++) for (let c = 0; c < k; c++) b[r * k + c] += (at[i * k + r] * at[i * k + c]) / n;
  const ai = invert(a, k);
  const out = new Float64Array(k * k);
  // A⁻¹ B A⁻ᵀ / n
  for (let r = 0; r < k; r++)
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let u = 0; u < k; u++) for (let v = 0; v < k; v++) s += ai[r * k + u] * b[u * k + v] * ai[c * k + v];
      out[r * k + c] = s / n;
    }
  return out;
}
