// Seeded inputs for the parity suite, in plain JavaScript (no addon): the same bytes go to genlab
// (runner.ts) and to PyTorch (parity.py), so both sides see identical tensors.

export type PDType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool';

/** How the elements are drawn. */
export type Fill =
  | 'normal' // about N(0, 1), no special values
  | 'edge' // a mix of 0, -0, ±inf, NaN, huge, tiny (subnormal) and ordinary values
  | 'pos' // in (0.1, 3)
  | 'unit' // in (0.02, 0.98), e.g. probabilities
  | 'small' // integers in [-4, 4] (as floats for float dtypes)
  | 'intedge' // integers with 0, ±1 and the dtype's extremes
  | 'bool'
  | { idx: number } // integers in [0, idx)
  | { values: number[] }; // exactly these, cycled

/** An input tensor: its dtype, final shape, element draw and how it is viewed. */
export interface InputSpec {
  dtype: PDType;
  shape: number[];
  fill: Fill;
  /**
   * 'T': the transpose of a contiguous tensor (last two dims swapped); 'step': every other element of
   * the last dim of a tensor twice as long; 'expand': a size-1 first dim expanded (stride 0).
   */
  view?: 'T' | 'step' | 'expand';
  /** A leaf that requires grad (the base, before the view); its gradient is compared. */
  grad?: boolean;
}

/** What crosses to both sides: the base tensor's bytes and shape, and the view to apply. */
export interface WireInput {
  d: PDType;
  base: number[];
  /** The shape after the view. */
  s: number[];
  v: 'T' | 'step' | 'expand' | null;
  g: boolean;
  b: string; // base64 of the base tensor's row-major bytes
}

/** mulberry32: small, seeded, identical everywhere. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit FNV-1a hash of a string: each case's seed comes from its id. */
export function hashSeed(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * The weights of the "random weighted sum" whose gradient is compared: multiples of 1/4 in
 * [-7/4, 7/4] from a 32-bit LCG, so exact in every float dtype. parity.py computes the same.
 */
export function gradWeights(seed: number, n: number): number[] {
  let s = seed >>> 0;
  const w: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    w.push((((s >>> 16) % 15) - 7) / 4);
  }
  return w;
}

function baseShape(spec: InputSpec): number[] {
  const s = [...spec.shape];
  if (spec.view === 'T') {
    if (s.length < 2) throw new Error('view T needs 2 dims');
    [s[s.length - 1], s[s.length - 2]] = [s[s.length - 2], s[s.length - 1]];
  } else if (spec.view === 'step') {
    s[s.length - 1] *= 2;
  } else if (spec.view === 'expand') {
    s[0] = 1;
  }
  return s;
}

const isFloat = (d: PDType) => d === 'float32' || d === 'float64';

function draw(fill: Fill, dtype: PDType, r: () => number, i: number): number | bigint {
  const normal = () => {
    const u = Math.max(r(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
  };
  if (dtype === 'bool') return r() < 0.5 ? 0 : 1;
  let v: number | bigint;
  if (typeof fill === 'object' && 'values' in fill) v = fill.values[i % fill.values.length];
  else if (typeof fill === 'object') v = Math.floor(r() * fill.idx);
  else if (fill === 'normal') v = normal();
  else if (fill === 'pos') v = 0.1 + 2.9 * r();
  else if (fill === 'unit') v = 0.02 + 0.96 * r();
  else if (fill === 'small' || fill === 'bool') v = Math.floor(r() * 9) - 4;
  else if (fill === 'intedge') {
    const k = Math.floor(r() * 8);
    const big = dtype === 'int64' ? [2n ** 63n - 1n, -(2n ** 63n)] : dtype === 'int32' ? [2 ** 31 - 1, -(2 ** 31)] : [];
    if (k === 0) v = 0;
    else if (k === 1) v = 1;
    else if (k === 2) v = -1;
    else if (k === 3 && big.length) v = big[0];
    else if (k === 4 && big.length) v = big[1];
    else v = Math.floor(r() * 200) - 100;
  } else {
    // edge
    const k = Math.floor(r() * 16);
    const huge = dtype === 'float64' ? 1e300 : 3e38;
    const tiny = dtype === 'float64' ? 5e-324 : 1.4e-45;
    const specials = [0, -0, Infinity, -Infinity, Number.NaN, huge, -huge, tiny, -tiny, 1, -1];
    v = k < specials.length ? specials[k] : normal() * 3;
  }
  if (dtype === 'float32') return Math.fround(Number(v));
  if (dtype === 'float64') return Number(v);
  if (dtype === 'int64') return typeof v === 'bigint' ? v : BigInt(Math.trunc(v));
  return Math.trunc(Number(v)) | 0;
}

/** The base tensor's bytes for a spec, drawn from `r`. */
export function makeInput(spec: InputSpec, r: () => number): WireInput {
  const base = baseShape(spec);
  const n = base.reduce((a, b) => a * b, 1);
  let arr: Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;
  switch (spec.dtype) {
    case 'float32':
      arr = new Float32Array(n);
      break;
    case 'float64':
      arr = new Float64Array(n);
      break;
    case 'int64':
      arr = new BigInt64Array(n);
      break;
    case 'int32':
      arr = new Int32Array(n);
      break;
    default:
      arr = new Uint8Array(n);
  }
  for (let i = 0; i < n; i++) (arr as any)[i] = draw(spec.fill, spec.dtype, r, i);
  const bytes = Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength);
  return {
    d: spec.dtype,
    base,
    s: spec.shape,
    v: spec.view ?? null,
    g: !!spec.grad && isFloat(spec.dtype),
    b: bytes.toString('base64'),
  };
}

/** The typed array of base64 bytes of a dtype (a wire input's base tensor, or a result). */
export function decodeBytes(w: {
  d: string;
  b: string;
}): Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Uint8Array {
  const buf = Buffer.from(w.b, 'base64');
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  switch (w.d) {
    case 'float32':
      return new Float32Array(ab);
    case 'float64':
      return new Float64Array(ab);
    case 'int64':
      return new BigInt64Array(ab);
    case 'int32':
      return new Int32Array(ab);
    case 'int16':
      return new Int16Array(ab);
    default:
      return new Uint8Array(ab);
  }
}
