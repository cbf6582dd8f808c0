// Bits-back coding through the discrete-time chain, on a model with a known answer: the exact
// denoiser of a one-image data set. Then p(z_{i−1} | z_i) = q(z_{i−1} | z_i, x*), every diffusion KL
// is zero, and the coded rate of x* must be the prior KL plus the reconstruction term, both known
// in closed form (the second by quadrature).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHAIN_ORDERS, type ChainModel, decodeBitsBack, encodeBitsBack } from '../../src/diffusion/bits-back.js';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const K = 4;
const D = 16;
const centre = (k: number) => (2 * (k + 0.5)) / K - 1;

function exactModel(xStar: number[], gammas: number[]): ChainModel {
  return {
    levels: K,
    dims: D,
    gammas,
    eps: (z, m, i) => {
      const a = Math.sqrt(sigmoid(-gammas[i]));
      const s = Math.sqrt(sigmoid(gammas[i]));
      const out = new Float32Array(m * D);
      for (let j = 0; j < m * D; j++) out[j] = (z[j] - a * centre(xStar[j % D])) / s;
      return out;
    },
  };
}

/** E[−log₂ p(x | z_0)] for z_0/α_0 = c_x + e^{γ_0/2} ε, by the trapezoid rule over ε ∈ [−10, 10]. */
function expectedRecon(k: number, g0: number): number {
  const sd = Math.exp(g0 / 2);
  let sum = 0;
  const h = 1e-3;
  for (let e = -10; e <= 10; e += h) {
    const zr = centre(k) + sd * e;
    const logits = Array.from({ length: K }, (_, j) => -0.5 * ((zr - centre(j)) / sd) ** 2);
    const max = Math.max(...logits);
    const lse = max + Math.log(logits.reduce((a, l) => a + Math.exp(l - max), 0));
    sum += (Math.exp(-0.5 * e * e) / Math.sqrt(2 * Math.PI)) * ((lse - logits[k]) / Math.LN2) * h;
  }
  return sum;
}

const initial: Record<string, number> = {};
for (const order of CHAIN_ORDERS)
  test(`bits-back rate with the exact denoiser: prior KL + reconstruction, and an exact round trip (${order} order)`, (t) => {
    const xStar = Array.from({ length: D }, (_, j) => (j * 7) % K);
    const T = 3;
    const gammas = [-3, -2, -1.5, -1];
    const model = exactModel(xStar, gammas);
    const count = 240;
    const batch = 24;
    const x = new Uint8Array(count * D);
    for (let i = 0; i < count; i++) x.set(xStar, i * D);
    const settings = { grid: { bits: 10, range: 3 }, batch, order };
    const enc = encodeBitsBack(model, x, count, settings);

    const a1 = sigmoid(-gammas[T]);
    const s1 = sigmoid(gammas[T]);
    let expected = 0;
    for (const k of xStar) {
      expected += (0.5 * (a1 * centre(k) ** 2 + s1 - Math.log(s1) - 1)) / Math.LN2;
      expected += expectedRecon(k, gammas[0]);
    }
    // Net bits per batch of 24 images: their spread gives the standard error of the mean rate.
    const perBatch = enc.netAfterBatch.map((v, b) => v - (b > 0 ? enc.netAfterBatch[b - 1] : 0));
    const mean = perBatch.reduce((a, v) => a + v, 0) / perBatch.length / batch;
    const sd = Math.sqrt(perBatch.reduce((a, v) => a + (v / batch - mean) ** 2, 0) / (perBatch.length - 1));
    const se = sd / Math.sqrt(perBatch.length);
    assert.ok(Math.abs(mean - expected) < 4 * se + 0.05, `rate ${mean} bits/image vs ${expected} (se ${se})`);
    assert.ok(expected > 5, `the closed form is not trivial (${expected} bits)`);
    // What the coding adds to the chain sample's own −log₂ p(x, z) + log₂ q(z | x): the latent grid,
    // the integer frequencies and rANS, a small fraction of a bit per image.
    const sample = enc.sampleAfterBatch[enc.sampleAfterBatch.length - 1];
    t.diagnostic(
      `${order}: ${mean.toFixed(3)} bits/image (closed form ${expected.toFixed(3)}, se ${se.toFixed(3)}); coding adds ${((enc.netBits - sample) / count).toFixed(5)} bits/image`,
    );
    assert.ok(Math.abs(enc.netBits - sample) / count < 0.005, `net ${enc.netBits} vs sample ${sample}`);
    // The latents of a batch borrow many more bits than the images cost: the initial bits.
    assert.ok(enc.initialBits > 10 * expected, `${enc.initialBits}`);
    initial[order] = enc.initialBits;

    const back = decodeBitsBack(model, enc.payload, count, settings);
    assert.deepEqual(back, x);
  });

test('Bit-Swap borrows fewer initial bits than popping the whole chain first', () => {
  // bbans pops T + 1 = 4 layers of latents before its first push; Bit-Swap one layer plus the growth
  // of the latents' spread along the chain.
  assert.ok(initial.bitswap < 0.6 * initial.bbans, `${initial.bitswap} vs ${initial.bbans}`);
});

test('bits-back decoding with another model fails with a one-line error, never with wrong images', () => {
  const xStar = Array.from({ length: D }, (_, j) => (j * 3) % K);
  const gammas = [-5, -1, 2];
  const count = 8;
  const x = new Uint8Array(count * D);
  for (let i = 0; i < count; i++) x.set(xStar, i * D);
  const settings = { grid: { bits: 8, range: 3 }, batch: 4, order: 'bitswap' as const };
  const enc = encodeBitsBack(exactModel(xStar, gammas), x, count, settings);
  const other = exactModel(
    xStar.map((k) => (k + 1) % K),
    gammas,
  );
  assert.throws(
    () => decodeBitsBack(other, enc.payload, count, settings),
    (e: Error) => /initial bits|ended early/.test(e.message) && !e.message.includes('\n'),
  );
});
