// pow and cos as Python computes them (C's libm, whose results are the correctly rounded ones but
// for rare hard cases), for learning-rate schedules equal to PyTorch's bit for bit. V8's Math.cos
// and Math.pow are fdlibm ports, about an ulp away from C's in a few percent of cases.
import { tensor } from '../torch/creation.js';

/**
 * a ** b with C's pow: libtorch's scalar pow of one float64 element calls it. libtorch computes
 * three exponents by multiplication instead (x·x·x, 1/(x·x), 1/√x); those use Math.pow.
 */
export function cPow(a: number, b: number): number {
  if (b === 0 || b === 1 || b === 3 || b === -2 || b === -0.5) return a ** b;
  const t = tensor([a], { dtype: 'float64' });
  const r = t.pow(b);
  const v = r.item();
  r.dispose();
  t.dispose();
  return v;
}

// ---- double-double arithmetic (values hi + lo with |lo| ≤ ulp(hi)/2) ----

type DD = [number, number];

function twoSum(a: number, b: number): DD {
  const s = a + b;
  const bb = s - a;
  return [s, a - (s - bb) + (b - bb)];
}

function quickTwoSum(a: number, b: number): DD {
  const s = a + b;
  return [s, b - (s - a)];
}

const SPLITTER = 134217729; // 2^27 + 1

function twoProd(a: number, b: number): DD {
  const p = a * b;
  let c = SPLITTER * a;
  const ah = c - (c - a);
  const al = a - ah;
  c = SPLITTER * b;
  const bh = c - (c - b);
  const bl = b - bh;
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}

function add(a: DD, b: DD): DD {
  const [s, e1] = twoSum(a[0], b[0]);
  const [t, f] = twoSum(a[1], b[1]);
  const [s2, e2] = quickTwoSum(s, e1 + t);
  return quickTwoSum(s2, e2 + f);
}

function mul(a: DD, b: DD): DD {
  const [p, e] = twoProd(a[0], b[0]);
  return quickTwoSum(p, e + (a[0] * b[1] + a[1] * b[0]));
}

function divInt(a: DD, n: number): DD {
  const q = a[0] / n;
  const [p, e] = twoProd(q, n);
  return quickTwoSum(q, (a[0] - p - e + a[1]) / n);
}

// (−1)^n / (2n)! and (−1)^n / (2n + 1)! for the Taylor series of cos and sin on [−π/4, π/4]:
// 16 terms leave an error below 2^−110.
const TERMS = 16;
const COS: DD[] = [];
const SIN: DD[] = [];
{
  let f: DD = [1, 0];
  for (let k = 0; k <= 2 * TERMS + 1; k++) {
    if (k > 0) f = divInt(f, k);
    const signed: DD = (k >> 1) % 2 === 0 ? f : [-f[0], -f[1]];
    if (k % 2 === 0) COS.push(signed);
    else SIN.push(signed);
  }
}

// π/2 as three doubles (about 160 bits).
const PIO2: [number, number, number] = [1.5707963267948966, 6.123233995736766e-17, -1.4973849048591698e-33];

function series(coefs: DD[], z: DD): DD {
  let acc = coefs[coefs.length - 1];
  for (let i = coefs.length - 2; i >= 0; i--) acc = add(mul(acc, z), coefs[i]);
  return acc;
}

/**
 * cos x rounded to the nearest double: the argument is reduced by a 160-bit π/2 and the series
 * summed in double-double (about 106 bits), so only values within 2^−100 of a rounding boundary
 * could round otherwise. Beyond |x| ≈ 10^6 this falls back to Math.cos.
 */
export function cCos(x: number): number {
  if (!Number.isFinite(x) || Math.abs(x) > 1e6) return Math.cos(x);
  const k = Math.round(x / PIO2[0]);
  // r = x − k·π/2, exactly enough: each product is exact in double-double.
  const p0 = twoProd(k, PIO2[0]);
  let r: DD = twoSum(x, -p0[0]);
  r = add(r, [-p0[1], 0]);
  const p1 = twoProd(k, PIO2[1]);
  r = add(r, [-p1[0], -p1[1]]);
  r = add(r, [-k * PIO2[2], 0]);
  const z = mul(r, r);
  const quadrant = ((k % 4) + 4) % 4;
  let v: DD;
  if (quadrant === 0 || quadrant === 2) v = series(COS, z);
  else v = mul(r, series(SIN, z));
  const out = v[0] + v[1];
  return quadrant === 1 || quadrant === 2 ? -out : out;
}
