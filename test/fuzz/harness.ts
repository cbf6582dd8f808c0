// Shared pieces of the parser fuzz tests: a seeded generator, byte mutations, and an outcome tally.
//
// Each case runs one parser on one mutated file and is classified:
// - accepted: the parser returned; the test then checks the result against what the mutation allows;
// - refused: the parser threw its own one-line error (DataError, or a 'safetensors:' Error);
// - crash: anything else thrown (TypeError, RangeError, a multi-line message, …).
// The pass condition is no crash, no case slower than MAX_CASE_MS (a hang), and no malformed file
// accepted, where each test defines "malformed" for its mutations in a way it can check.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';

/** A case slower than this counts as a hang: the slowest real case here takes milliseconds. */
export const MAX_CASE_MS = 2000;

/** xorshift32: small, seeded, and the same on every machine. */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  u32(): number {
    let x = this.s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return this.u32() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

/** The first `at` bytes (0 ≤ at < length). */
export function truncate(b: Uint8Array, at: number): Uint8Array {
  return b.slice(0, at);
}

/** `b` with the byte at `at` XORed with a non-zero mask. */
export function flip(b: Uint8Array, at: number, mask: number): Uint8Array {
  const out = b.slice();
  out[at] ^= mask & 0xff || 1;
  return out;
}

/** `b` with bytes [from, to) replaced by `insert`. */
export function splice(b: Uint8Array, from: number, to: number, insert: Uint8Array = new Uint8Array()): Uint8Array {
  const out = new Uint8Array(b.length - (to - from) + insert.length);
  out.set(b.subarray(0, from), 0);
  out.set(insert, from);
  out.set(b.subarray(to), from + insert.length);
  return out;
}

export type Outcome = 'accepted' | 'refused' | 'crash';

/** Counts outcomes per mutation kind and collects failures, reported at the end. */
export class Tally {
  readonly counts = new Map<string, Record<Outcome, number>>();
  readonly failures: string[] = [];
  slowest = 0;

  constructor(readonly parser: string) {}

  /**
   * Runs one case. `isOwnError` tells the parser's refusals from crashes; `check` sees an accepted
   * result and returns a failure description or null.
   */
  run<T>(
    kind: string,
    label: string,
    parse: () => T,
    isOwnError: (e: unknown) => boolean,
    check: (result: T) => string | null,
    cleanup?: (result: T) => void,
  ): Outcome {
    const t0 = performance.now();
    let outcome: Outcome;
    let result: T | undefined;
    try {
      result = parse();
      outcome = 'accepted';
    } catch (e) {
      const oneLine = e instanceof Error && !e.message.includes('\n');
      outcome = isOwnError(e) && oneLine ? 'refused' : 'crash';
      if (outcome === 'crash') this.failures.push(`${kind} ${label}: crash: ${String(e).slice(0, 300)}`);
    }
    const ms = performance.now() - t0;
    this.slowest = Math.max(this.slowest, ms);
    if (ms > MAX_CASE_MS) this.failures.push(`${kind} ${label}: took ${ms.toFixed(0)} ms (hang)`);
    if (outcome === 'accepted') {
      const problem = check(result as T);
      if (problem !== null) this.failures.push(`${kind} ${label}: accepted but ${problem}`);
      cleanup?.(result as T);
    }
    const c = this.counts.get(kind) ?? { accepted: 0, refused: 0, crash: 0 };
    c[outcome]++;
    this.counts.set(kind, c);
    return outcome;
  }

  /**
   * Prints the counts, one `fuzz {...}` JSON line per mutation kind and one for all (the last also as
   * the test's diagnostic), for a results table; then asserts no failure.
   */
  finish(t: TestContext): void {
    const total = { accepted: 0, refused: 0, crash: 0 };
    for (const [kind, c] of this.counts) {
      for (const k of ['accepted', 'refused', 'crash'] as const) total[k] += c[k];
      console.log(`fuzz ${JSON.stringify({ parser: this.parser, mutation: kind, ...c })}`);
    }
    const line = JSON.stringify({
      parser: this.parser,
      mutation: 'all',
      ...total,
      failures: this.failures.length,
      slowestMs: Math.round(this.slowest),
    });
    console.log(`fuzz ${line}`);
    t.diagnostic(line);
    if (process.env.FUZZ_ALL) for (const f of this.failures) console.log(`FAIL ${f}`);
    assert.deepEqual(this.failures.slice(0, 10), [], `${this.failures.length} failures`);
  }
}
