// Training steps inside tidy() leave the live tensor count and bytes flat.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { torch } from '../../src/index.js';
import {
  Adadelta,
  Adagrad,
  Adam,
  Adamax,
  AdamW,
  ASGD,
  clipGradNorm,
  EMA,
  NAdam,
  type Optimizer,
  RAdam,
  RMSprop,
  Rprop,
  SGD,
  warmupCosine,
} from '../../src/optim/index.js';
import type { Tensor } from '../../src/torch/tensor.js';

const MAKERS: Record<string, (p: Tensor[]) => Optimizer<any, any>> = {
  SGD: (p) => new SGD(p, { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 1e-4 }),
  Adam: (p) => new Adam(p, { amsgrad: true, weightDecay: 1e-4 }),
  AdamW: (p) => new AdamW(p),
  Adamax: (p) => new Adamax(p, { weightDecay: 1e-4 }),
  RMSprop: (p) => new RMSprop(p, { momentum: 0.9, centered: true, weightDecay: 1e-4 }),
  Adadelta: (p) => new Adadelta(p, { weightDecay: 1e-4 }),
  Adagrad: (p) => new Adagrad(p, { weightDecay: 1e-4, lrDecay: 1e-3 }),
  ASGD: (p) => new ASGD(p, { t0: 5, weightDecay: 1e-4 }),
  NAdam: (p) => new NAdam(p, { weightDecay: 1e-4 }),
  RAdam: (p) => new RAdam(p, { weightDecay: 1e-4 }),
  Rprop: (p) => new Rprop(p),
};

test('200 steps of each optimizer, with a schedule, clipping and EMA, do not grow memory', () => {
  for (const [name, make] of Object.entries(MAKERS)) {
    const w = torch.randn([16, 8]).requiresGrad_();
    const b = torch.zeros([8], { requiresGrad: true });
    const x = torch.randn([32, 16]);
    const opt = make([w, b]);
    const sched = warmupCosine(opt, { warmupSteps: 10, totalSteps: 200 });
    const ema = new EMA([w, b], { warmup: true });
    const step = (t: number) =>
      torch.tidy(() => {
        x.matmul(w).add(b).tanh().square().mean().backward();
        clipGradNorm([w, b], 1);
        opt.step();
        // Alternate so that both ways of clearing gradients are exercised.
        opt.zeroGrad({ setToNone: t % 2 === 0 });
        sched.step();
        ema.update();
      });
    step(0);
    step(1);
    const before = torch.memory();
    for (let t = 2; t < 202; t++) step(t);
    const after = torch.memory();
    assert.equal(after.tensors, before.tensors, `${name}: live tensors`);
    assert.equal(after.bytes, before.bytes, `${name}: bytes`);
    opt.disposeState();
    ema.dispose();
    torch.dispose([w, b, x]);
  }
});
