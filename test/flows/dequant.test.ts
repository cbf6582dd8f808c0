// n-bit data, dequantisation and the bits/dim correction, on hand-computed cases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { binCentres, bitsPerDim, dequantize, quantization, toBins, toImage } from '../../src/flows/dequant.js';
import { torch } from '../../src/index.js';
import { assertNear } from './helpers.js';

test('a uniform density on [−½, ½)^D scores log2(bins) bits/dim: the dequantisation correction', () => {
  // log p(y) = 0 for the uniform density of the rescaled data, so every bit comes from the bins.
  assertNear(bitsPerDim(0, 64, quantization(17)), Math.log2(17), 1e-12, 'digits');
  assertNear(bitsPerDim(0, 784, quantization(256)), 8, 1e-12, '8-bit');
  assertNear(bitsPerDim(0, 784, quantization(256, 5)), 5, 1e-12, '5-bit');
  // Nats to bits: −log p(y) = D ln 2 adds exactly one bit per dimension.
  assertNear(bitsPerDim(-784 * Math.LN2, 784, quantization(256)), 9, 1e-12, 'one more bit');
  const t = bitsPerDim(torch.tensor([0, -64 * Math.LN2]), 64, quantization(256, 3));
  assert.deepEqual(
    Array.from(t.toTypedArray() as Float32Array, (v) => Math.round(v * 1e5) / 1e5),
    [3, 4],
  );
});

test('n-bit reduction keeps the top bits; dequantised values stay inside their bin', () => {
  const q = quantization(256, 5);
  assert.deepEqual(q, { levels: 256, bins: 32 });
  const x = torch.tensor([0, 7, 8, 255]).div(255);
  assert.deepEqual(Array.from(toBins(x, q).toTypedArray() as Float32Array), [0, 0, 1, 31]);
  assert.throws(() => quantization(17, 3), /power-of-two/);
  assert.throws(() => quantization(256, 9), /only 256 levels/);

  const digits = quantization(17);
  const levels = torch.arange(0, 17).float().div(16);
  const y = dequantize(levels.expand(100, 17), digits, { generator: new torch.Generator(0) });
  const lo = torch.arange(0, 17).float().div(17).sub(0.5);
  assert.ok(y.sub(lo).min().item() >= 0 && y.sub(lo).max().item() < 1 / 17, 'y ∈ [b/17 − ½, (b+1)/17 − ½)');
  assert.ok(toImage(y, digits).equal(levels.expand(100, 17)), 'toImage inverts dequantize');
  assert.ok(toImage(binCentres(levels, digits), digits).equal(levels));
});
