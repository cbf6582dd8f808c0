// A saved Glow reloads to the same log-likelihood, and loading never re-runs ActNorm's data-dependent init.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bitsPerDim, dequantize, quantization } from '../../src/flows/dequant.js';
import { type FlowsRunConfig, glowConfig, loadFlowsRun } from '../../src/flows/experiment.js';
import { Glow } from '../../src/flows/glow.js';
import { torch } from '../../src/index.js';
import { Adam } from '../../src/optim/adam.js';
import type { Tensor } from '../../src/torch/tensor.js';
import { captureCheckpoint } from '../../src/train/checkpoint.js';
import { Run } from '../../src/train/run.js';
import { maxAbs } from './helpers.js';

const config: FlowsRunConfig = {
  family: 'flows',
  data: 'digits',
  root: '',
  levels: 2,
  depth: 2,
  hidden: 8,
  coupling: 'affine',
  permutation: 'lu',
  nBits: 0,
  conditional: false,
  steps: 3,
  batchSize: 32,
  lr: 1e-3,
  warmup: 0,
  clip: 0,
  initBatch: 64,
  seed: 0,
  memoryFormat: 'channelsLast',
};

/** Digit-like inputs in [0, 1] on the 17-level grid, and their seeded dequantisation. */
function batch(seed: number, n = 32): Tensor {
  const q = quantization(17);
  const levels = torch
    .randint(0, 17, [n, 1, 8, 8], { generator: new torch.Generator(seed) })
    .float()
    .div(16);
  return dequantize(levels, q, { generator: new torch.Generator(seed + 1) });
}

test('a checkpoint reloads to the same log-likelihood, and ActNorm is not re-initialised on load', () => {
  torch.manualSeed(0);
  const dir = mkdtempSync(join(tmpdir(), 'genlab-glow-ckpt-'));
  const run = Run.open(dir, config);
  const glow = new Glow(glowConfig(config, [1, 8, 8], 10));
  glow.initialize(batch(1, 64));
  const opt = new Adam(glow.parameters(), { lr: 1e-3 });
  const q = quantization(17);
  for (let i = 0; i < 3; i++) {
    torch.tidy(() => {
      opt.zeroGrad();
      const loss = bitsPerDim(glow.forward(batch(10 + i)), glow.dims, q).mean();
      loss.backward();
      opt.step();
    });
  }
  const x = batch(2);
  const before = glow.forward(x);
  torch.tidy(() => run.saveCheckpoint(captureCheckpoint(3, { model: glow })));

  const loaded = loadFlowsRun(dir).glow;
  const actnorms = loaded.actnorms();
  assert.equal(actnorms.length, 2 * 2 * 3, 'one per step plus two in each coupling network');
  assert.ok(actnorms.every((a) => a.isInitialized));
  const params = actnorms.map((a) => [a.bias.clone().keep(), a.logs.clone().keep()]);
  // A batch of a very different scale: an ActNorm that re-initialised would move.
  loaded.forward(batch(3).mul(5).add(2));
  actnorms.forEach((a, i) => {
    assert.equal(maxAbs(a.bias, params[i][0]), 0, `actnorm ${i} bias moved`);
    assert.equal(maxAbs(a.logs, params[i][1]), 0, `actnorm ${i} logs moved`);
  });
  const after = loaded.forward(x);
  assert.ok(after.equal(before), `log-likelihood ${after.toArray()} vs ${before.toArray()}`);

  // The counter-check: a model that was never initialised does move on its first batch.
  const fresh = new Glow(glowConfig(config, [1, 8, 8], 10));
  fresh.forward(batch(3).mul(5).add(2));
  assert.ok(fresh.actnorms()[0].bias.abs().max().item() > 0.1);
});
