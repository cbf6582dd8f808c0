import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  byteSource,
  type IntegerCdf,
  M,
  OVERHEAD_BITS_PER_SYMBOL,
  popSymbol,
  pushSymbol,
  RansStack,
  randomState,
  STATE_BYTES,
} from '../../src/coding/rans.js';

/** A table CDF from integer frequencies summing to M. */
function tableCdf(freqs: number[]): IntegerCdf {
  const starts = [0];
  for (const f of freqs) starts.push(starts[starts.length - 1] + f);
  assert.equal(starts[freqs.length], M);
  return { lo: 0, hi: freqs.length - 1, start: (k) => starts[k] };
}

/** Draws symbols from the frequencies with a seeded generator (inverse CDF on 32 random bits). */
function draw(freqs: number[], n: number, seed: number): number[] {
  const src = byteSource(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let u = 0;
    for (let j = 0; j < 4; j++) u = u * 256 + src();
    let k = 0;
    let acc = freqs[0];
    while (u >= acc) acc += freqs[++k];
    out.push(k);
  }
  return out;
}

const DISTRIBUTIONS: Record<string, number[]> = {
  // One symbol holds all but 3 units of 2³²; three symbols of frequency 1.
  'almost all mass on one symbol': [M - 3, 1, 1, 1],
  // Geometric, steeply skewed, with a frequency-1 tail symbol.
  skewed: (() => {
    const f = [2 ** 31, 2 ** 30, 2 ** 29, 2 ** 28, 2 ** 20, 1];
    f.push(M - f.reduce((a, b) => a + b, 0));
    return f;
  })(),
  // 300 symbols of frequency 1 next to one big one.
  'many frequency-1 symbols': [...Array(300).fill(1), M - 300],
  uniform: Array(1024).fill(M / 1024),
};

for (const [name, freqs] of Object.entries(DISTRIBUTIONS)) {
  test(`rANS round trip and coded length: ${name}`, () => {
    const cdf = tableCdf(freqs);
    const n = 20000;
    // Force rare symbols in: every symbol of frequency 1 appears at least once.
    const symbols = draw(freqs, n, 7);
    freqs.forEach((f, k) => {
      if (f === 1) symbols[(k * 7919) % n] = k;
    });
    const stack = new RansStack();
    const before = stack.bits;
    let ideal = 0;
    for (const k of symbols) {
      pushSymbol(stack, cdf, k);
      ideal += -Math.log2(freqs[k] / M);
    }
    const coded = stack.bits - before;
    const bytes = stack.toBytes();
    // The file holds the stack and the 7-byte state.
    assert.equal(bytes.length, stack.byteLength + STATE_BYTES);
    assert.ok(
      Math.abs(coded - ideal) <= n * OVERHEAD_BITS_PER_SYMBOL,
      `coded ${coded} bits vs ideal ${ideal} (bound ${n * OVERHEAD_BITS_PER_SYMBOL})`,
    );
    assert.ok(8 * bytes.length <= ideal + n * OVERHEAD_BITS_PER_SYMBOL + 8 * STATE_BYTES);
    // In practice the per-symbol errors average out far below the worst-case bound.
    assert.ok(Math.abs(coded - ideal) / n < 1e-4, `mean excess ${(coded - ideal) / n}`);

    const back = RansStack.fromBytes(bytes);
    const decoded: number[] = [];
    for (let i = 0; i < n; i++) decoded.push(popSymbol(back, cdf));
    decoded.reverse();
    assert.deepEqual(decoded, symbols);
    assert.equal(back.byteLength, 0);
    assert.equal(back.state, 2 ** 44);
  });
}

test('rANS pops from random bits sample the distribution and cost −log₂ p; pushes give the bits back', () => {
  const freqs = DISTRIBUTIONS.skewed;
  const cdf = tableCdf(freqs);
  const src = byteSource(3);
  const stack = new RansStack({ state: randomState(src), source: src });
  const start = stack.state;
  const n = 50000;
  const counts = new Array(freqs.length).fill(0);
  const popped: number[] = [];
  let ideal = 0;
  for (let i = 0; i < n; i++) {
    const k = popSymbol(stack, cdf);
    popped.push(k);
    counts[k]++;
    ideal += -Math.log2(freqs[k] / M);
  }
  // Popped symbols follow the frequencies (chi-square-like check on the big ones).
  for (let k = 0; k < 4; k++) {
    const expected = (n * freqs[k]) / M;
    assert.ok(Math.abs(counts[k] - expected) < 5 * Math.sqrt(expected), `symbol ${k}: ${counts[k]} vs ${expected}`);
  }
  // The bits consumed match −log₂ p within the bound.
  const consumed = 8 * stack.borrowed + Math.log2(start) - stack.bits;
  assert.ok(Math.abs(consumed - ideal) <= n * OVERHEAD_BITS_PER_SYMBOL + 8, `${consumed} vs ${ideal}`);
  // Pushing them back in reverse restores the borrowed bytes and the starting state exactly.
  for (let i = n - 1; i >= 0; i--) pushSymbol(stack, cdf, popped[i]);
  assert.equal(stack.state, start);
  const again = byteSource(3);
  randomState(again);
  const expectedBytes = Array.from({ length: stack.borrowed }, () => again()).reverse();
  assert.deepEqual(Array.from(stack.remaining()), expectedBytes);
});

test('rANS: a pop past the end of a message without a byte source is a one-line error', () => {
  const stack = RansStack.fromBytes(new RansStack().toBytes());
  const cdf = tableCdf([M / 2, M / 2]);
  assert.throws(() => {
    for (let i = 0; i < 100; i++) popSymbol(stack, cdf);
  }, /rANS stream ended early/);
  assert.throws(() => RansStack.fromBytes(new Uint8Array(3)), /shorter than its state/);
  assert.throws(() => RansStack.fromBytes(new Uint8Array(7)), /outside \[2\^44, 2\^52\)/);
});
