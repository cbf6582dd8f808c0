// Sample moments used across the family.

export function mean(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m += v[i];
  return m / v.length;
}

/** The sample standard deviation (n − 1 in the denominator). */
export function sd(v: ArrayLike<number>): number {
  const m = mean(v);
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] - m) ** 2;
  return Math.sqrt(s / (v.length - 1));
}
