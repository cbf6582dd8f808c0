// A range-variant asymmetric numeral system (rANS) coder used as a stack (LIFO), the form bits-back
// coding needs: `push` encodes a symbol, `pop` decodes the most recently pushed one, and a pop on a
// stack that holds other data "samples" a symbol while consuming about −log₂ p of its bits.
//
// The state x is an integer in [L, 256·L) with L = 2⁴⁴, held exactly in a double (< 2⁵³); it is
// renormalised a byte at a time. Symbols are given by integer frequencies out of M = 2³²: a symbol
// with cumulative start c and frequency f encodes as x ← ⌊x/f⌋·M + (x mod f) + c (Duda 2013;
// Giesen's rans64 layout, with bytes instead of 32-bit words so that every value stays below 2⁵³).
//
// Stated overhead: before a push, renormalisation leaves x ∈ [2¹²·f, 2²⁰·f), so the encoded state
// differs from x·M/f by less than M, a relative error below 2⁻¹²; each byte moved between state and
// stack happens at x ≥ 2²⁰ and loses less than 255/2²⁰ of x. A symbol moves at most 5 bytes, so
// one push or pop changes the message's information (8·bytes + log₂ x) by −log₂(f/M) to within
// 6·log₂(1 + 2⁻¹²) ≈ 2.1·10⁻³ bits (in practice the errors average out far below that), and the
// final state's flush adds at most 56 bits.
import { GenlabError } from '../torch/errors.js';

export const PRECISION_BITS = 32;
/** Total of every distribution's integer frequencies. */
export const M = 2 ** PRECISION_BITS;
const L = 2 ** 44;
const BYTE = 256;
/** A push first emits bytes while x ≥ XMAX_PER_FREQ·f, so the new state stays below 256·L. */
const XMAX_PER_FREQ = (L / M) * BYTE;
/** Bytes the final state is flushed into (x < 2⁵², written as 7 bytes). */
export const STATE_BYTES = 7;
/** Upper bound on the coder's excess per symbol, in bits (see the header comment). */
export const OVERHEAD_BITS_PER_SYMBOL = 6 * Math.log2(1 + 2 ** -12);

/** Where a pop on an empty stack gets its bytes: the initial bits of bits-back coding. */
export type ByteSource = () => number;

/** ⌊a/b⌋ and a mod b for integers a < 2⁵³, b ≥ 1, exact despite the rounded division. */
function divmod(a: number, b: number): [number, number] {
  let q = Math.floor(a / b);
  let r = a - q * b;
  if (r < 0) {
    q -= 1;
    r += b;
  } else if (r >= b) {
    q += 1;
    r -= b;
  }
  return [q, r];
}

/** A rANS message: the state and a stack of bytes under it. */
export class RansStack {
  private x: number;
  private buf: Uint8Array;
  private len: number;
  private readonly source: ByteSource | null;
  /** Bytes a pop took from `source` because the stack was empty. */
  borrowed = 0;

  /**
   * A new message with state `state` (default L), over `bytes` (oldest first), optionally with a
   * source of bytes for pops that run past the bottom (bits-back's initial bits; without one such a
   * pop is an error).
   */
  constructor(opts: { state?: number; bytes?: Uint8Array; source?: ByteSource } = {}) {
    const state = opts.state ?? L;
    if (!Number.isInteger(state) || state < L || state >= L * BYTE) {
      throw new GenlabError('data', `rANS state ${state} outside [2^44, 2^52)`);
    }
    this.x = state;
    const bytes = opts.bytes ?? new Uint8Array(0);
    this.buf = new Uint8Array(Math.max(1024, bytes.length * 2));
    this.buf.set(bytes);
    this.len = bytes.length;
    this.source = opts.source ?? null;
  }

  get state(): number {
    return this.x;
  }

  /** Bytes on the stack (without the state). */
  get byteLength(): number {
    return this.len;
  }

  /** Information held, in bits: the stack's bytes and log₂ of the state. */
  get bits(): number {
    return 8 * this.len + Math.log2(this.x);
  }

  private emit(b: number): void {
    if (this.len === this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.len++] = b;
  }

  private take(): number {
    if (this.len > 0) return this.buf[--this.len];
    if (this.source === null) throw new GenlabError('data', 'rANS stream ended early (truncated or corrupt payload)');
    this.borrowed++;
    return this.source() & 0xff;
  }

  /** Encodes the symbol [start, start + freq) of M. */
  push(start: number, freq: number): void {
    if (!(freq >= 1 && start >= 0 && start + freq <= M)) {
      throw new Error(`rANS push: bad interval start ${start}, frequency ${freq}`);
    }
    let x = this.x;
    const xmax = XMAX_PER_FREQ * freq;
    while (x >= xmax) {
      const q = Math.floor(x / BYTE);
      this.emit(x - q * BYTE);
      x = q;
    }
    const [q, r] = divmod(x, freq);
    this.x = q * M + r + start;
  }

  /** The slot in [0, M) that identifies the next symbol to pop. */
  peek(): number {
    return this.x - Math.floor(this.x / M) * M;
  }

  /** Removes the symbol [start, start + freq) that contains `peek()`. */
  pop(start: number, freq: number): void {
    const slot = this.peek();
    if (!(freq >= 1 && slot >= start && slot < start + freq)) {
      throw new Error(`rANS pop: slot ${slot} not in [${start}, ${start + freq})`);
    }
    let x = freq * Math.floor(this.x / M) + slot - start;
    while (x < L) x = x * BYTE + this.take();
    this.x = x;
  }

  /** The message as bytes: the stack (oldest first), then the state in 7 bytes, little-endian. */
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.len + STATE_BYTES);
    out.set(this.buf.subarray(0, this.len));
    let x = this.x;
    for (let i = 0; i < STATE_BYTES; i++) {
      const q = Math.floor(x / BYTE);
      out[this.len + i] = x - q * BYTE;
      x = q;
    }
    return out;
  }

  /** Reads a message written by toBytes. */
  static fromBytes(bytes: Uint8Array, source?: ByteSource): RansStack {
    if (bytes.length < STATE_BYTES) throw new GenlabError('data', 'rANS message shorter than its state');
    let x = 0;
    for (let i = STATE_BYTES - 1; i >= 0; i--) x = x * BYTE + bytes[bytes.length - STATE_BYTES + i];
    return new RansStack({ state: x, bytes: bytes.subarray(0, bytes.length - STATE_BYTES), source });
  }

  /** The bytes still on the stack, oldest first (a copy). */
  remaining(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** A small deterministic byte generator (mulberry32) for initial bits and tests. */
export function byteSource(seed: number): ByteSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) & 0xff;
  };
}

/** A state drawn from `source`, in [2⁵¹, 2⁵²): the random start of a bits-back message. */
export function randomState(source: ByteSource): number {
  let r = 0;
  for (let i = 0; i < 7; i++) r = r * BYTE + source();
  return 2 ** 51 + (r % 2 ** 51);
}

/**
 * A discrete distribution as integer cumulative frequencies: `start(k)` is non-decreasing from
 * start(lo) = 0 to start(hi + 1) = M and strictly increasing, so every symbol in [lo, hi] can be coded.
 */
export interface IntegerCdf {
  lo: number;
  hi: number;
  start(k: number): number;
}

export function pushSymbol(stack: RansStack, cdf: IntegerCdf, k: number): void {
  if (!(k >= cdf.lo && k <= cdf.hi)) throw new Error(`rANS: symbol ${k} outside [${cdf.lo}, ${cdf.hi}]`);
  const s = cdf.start(k);
  stack.push(s, cdf.start(k + 1) - s);
}

/** Pops a symbol: a binary search of the slot among the cumulative frequencies. */
export function popSymbol(stack: RansStack, cdf: IntegerCdf): number {
  const slot = stack.peek();
  let lo = cdf.lo;
  let hi = cdf.hi + 1;
  let sLo = 0;
  let sHi = M;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    const s = cdf.start(mid);
    if (s <= slot) {
      lo = mid;
      sLo = s;
    } else {
      hi = mid;
      sHi = s;
    }
  }
  if (!(sHi > sLo)) throw new Error(`rANS: cumulative frequencies not increasing at ${lo}`);
  stack.pop(sLo, sHi - sLo);
  return lo;
}
