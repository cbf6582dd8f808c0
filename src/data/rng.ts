// A small seeded PRNG in JS (sfc32, seeded through a splitmix-style hash) whose state is four numbers, so a
// data order can be saved in JSON and replayed exactly, independent of libtorch's generators.

/** Mixes a 32-bit value (splitmix32's finaliser); used to seed and to derive sub-seeds. */
function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A 32-bit seed from several non-negative integers (a seed plus an epoch, a batch number…). */
export function deriveSeed(...keys: number[]): number {
  let h = 0x243f6a88;
  for (const k of keys) {
    // Safe integers can exceed 32 bits; fold the high part in too.
    const hi = Math.floor(k / 0x100000000);
    h = mix32(h ^ (k >>> 0));
    h = mix32(h ^ (hi >>> 0));
  }
  return h;
}

export class Rng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;

  constructor(seed = 0) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got ${seed}`);
    const s = deriveSeed(seed);
    this.a = mix32(s);
    this.b = mix32(this.a);
    this.c = mix32(this.b);
    this.d = 1;
    // sfc32 needs a few rounds before its output is well mixed.
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  random(): number {
    return ((this.u32() >>> 5) * 67108864 + (this.u32() >>> 6)) / 9007199254740992;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  /** A random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    // The loop of `j = this.int(i + 1)`, with u32() and random() written out on local state: the
    // same draws in the same order, so the same permutation, but a loader shuffling 60,000 examples
    // per epoch no longer waits several milliseconds for it before V8 has optimised the method calls.
    let { a, b, c, d } = this;
    for (let i = n - 1; i > 0; i--) {
      let t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      const hi = t >>> 5;
      t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      const j = Math.floor(((hi * 67108864 + (t >>> 6)) / 9007199254740992) * (i + 1));
      const s = p[i];
      p[i] = p[j];
      p[j] = s;
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
    return p;
  }

  /** The state as four unsigned 32-bit numbers, JSON-able. */
  getState(): number[] {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0];
  }

  setState(s: number[]): this {
    if (!Array.isArray(s) || s.length !== 4 || !s.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32)) {
      throw new Error(`Rng state must be four unsigned 32-bit integers, got ${JSON.stringify(s)}`);
    }
    [this.a, this.b, this.c, this.d] = s.map((v) => v | 0);
    return this;
  }
}
