// Evaluation paths run under inference mode: no autograd node is recorded anywhere inside them, even
// though the models' parameters require gradients (noGrad() would also give no grad_fn; inference
// mode additionally skips version counters and view tracking, and is what these checks pin down).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TensorDataset } from '../../src/data/dataset.js';
import { testBitsPerDim } from '../../src/diffusion/evaluate.js';
import { VDM } from '../../src/diffusion/model.js';
import { sampleLatent } from '../../src/diffusion/sampling.js';
import { makeSchedule } from '../../src/diffusion/schedules.js';
import { UNet } from '../../src/diffusion/unet.js';
import { quantization } from '../../src/flows/dequant.js';
import { evaluateBitsPerDim } from '../../src/flows/evaluate.js';
import { Glow } from '../../src/flows/glow.js';
import { temperatureGrid } from '../../src/flows/latents.js';
import { nn, torch } from '../../src/index.js';
import { extractBatched } from '../../src/metrics/extractor.js';
import type { Tensor } from '../../src/torch/tensor.js';

interface Seen {
  calls: number;
  outsideInference: number;
  /** Outputs carrying an autograd node (grad_fn), or requiring a gradient. */
  autogradNodes: number;
}

/** Wraps module.forward to count its calls, calls outside inference mode, and outputs with autograd history. */
function watch(module: nn.Module): Seen {
  const seen: Seen = { calls: 0, outsideInference: 0, autogradNodes: 0 };
  const forward = module.forward.bind(module) as (...args: unknown[]) => unknown;
  (module as unknown as { forward: (...args: unknown[]) => unknown }).forward = (...args: unknown[]) => {
    seen.calls++;
    if (!torch.isInferenceMode()) seen.outsideInference++;
    const out = forward(...args);
    for (const t of [out].flat(2) as Tensor[]) {
      if (t instanceof torch.Tensor && (t.gradFn !== null || t.requiresGrad)) seen.autogradNodes++;
    }
    return out;
  };
  return seen;
}

test('Glow: evaluation and sampling record no autograd node', () => {
  torch.manualSeed(0);
  const glow = new Glow({ shape: [1, 8, 8], levels: 2, depth: 2, hidden: 8 });
  assert.ok(glow.parameters().every((p) => p.requiresGrad));
  const q = quantization(17);
  const step = glow.levels.at(0).steps.at(0);
  const coupling = watch(step.coupling);
  const data = new TensorDataset(torch.randint(0, 17, [30, 1, 8, 8]).float().div(16), torch.zeros([30]));
  const r = evaluateBitsPerDim(glow, data, q, { batchSize: 10 });
  assert.ok(Number.isFinite(r.bitsPerDim));
  assert.equal(coupling.calls, 3);
  const grid = temperatureGrid(glow, [0, 1], 3, q);
  assert.deepEqual(grid.shape, [6, 1, 8, 8]);
  assert.deepEqual(coupling, { calls: 3, outsideInference: 0, autogradNodes: 0 });
  torch.dispose([grid, data.x, data.y]);
  glow.dispose();
});

test('VDM: the test VLB and the sampler record no autograd node', () => {
  torch.manualSeed(0);
  const net = new UNet({ channels: 1, width: 8, depth: 1 });
  const model = new VDM(net, makeSchedule('fixed'), { levels: 17 });
  const seen = watch(net);
  const data = new TensorDataset(torch.randint(0, 17, [6, 1, 8, 8]).float().div(16), torch.zeros([6]));
  const r = testBitsPerDim(model, data, { batchSize: 3 });
  assert.ok(Number.isFinite(r.bpd));
  const z = sampleLatent((zt, g) => net.forward(zt, g), model.schedule, [2, 1, 8, 8], { steps: 3 });
  assert.deepEqual(z.shape, [2, 1, 8, 8]);
  assert.deepEqual(seen, { calls: 5, outsideInference: 0, autogradNodes: 0 });
  torch.dispose([z, data.x, data.y]);
  model.dispose();
});

test('FID features are computed under inference mode and returned as an ordinary tensor', () => {
  torch.manualSeed(0);
  const net = new nn.Linear(4, 3);
  let outside = 0;
  const extractor = {
    features: (x: Tensor) => {
      if (!torch.isInferenceMode()) outside++;
      return net.forward(x);
    },
    probs: (x: Tensor) => net.forward(x).softmax(1),
  };
  torch.tidy(() => {
    const f = extractBatched(extractor, torch.randn([10, 4]), 'features', { batchSize: 4 });
    assert.equal(outside, 0);
    assert.equal(f.gradFn, null);
    assert.equal(f.requiresGrad, false);
    f.add_(1); // an inference tensor would refuse an in-place update out here
  });
  net.dispose();
});
