// E-values (VanderWeele & Ding 2017): the minimum strength of association, on the risk-ratio scale,
// that an unmeasured confounder would need with both treatment and outcome to explain away an
// estimate. For a continuous outcome the effect is first standardised, d = τ/sd(y), and turned into an
// approximate risk ratio RR ≈ exp(0.91·d) (VanderWeele & Ding's conversion via Chinn 2000).

/** E-value of a risk ratio: RR + √(RR(RR − 1)), with RR < 1 inverted first. */
export function eValueRR(rr: number): number {
  const r = rr < 1 ? 1 / rr : rr;
  return r + Math.sqrt(r * (r - 1));
}

export interface EValue {
  /** For the point estimate. */
  point: number;
  /** For the interval limit closest to the null; 1 when the interval includes the null. */
  limit: number;
  /** The approximate risk ratio of the point estimate. */
  rr: number;
}

/** E-value of a mean difference `est` with interval [lo, hi], for an outcome with standard deviation `sd`. */
export function eValueDifference(est: number, lo: number, hi: number, sd: number): EValue {
  const rr = (v: number) => Math.exp((0.91 * v) / sd);
  const point = eValueRR(rr(est));
  const limit = lo <= 0 && hi >= 0 ? 1 : eValueRR(rr(est > 0 ? lo : hi));
  return { point, limit, rr: rr(est) };
}
