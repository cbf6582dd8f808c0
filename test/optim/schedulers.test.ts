// Learning-rate schedules against their closed forms at chosen steps.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CosineAnnealingLR,
  ExponentialLR,
  LambdaLR,
  LinearLR,
  type LRScheduler,
  MultiStepLR,
  ReduceLROnPlateau,
  SequentialLR,
  SGD,
  StepLR,
  warmupCosine,
} from '../../src/optim/index.js';
import { assertClose, param, X0 } from './helpers.js';

function sgd(lr = 0.1, groupLr?: number): SGD {
  const groups =
    groupLr === undefined ? [{ params: [param(X0)] }] : [{ params: [param(X0)] }, { params: [param(X0)], lr: groupLr }];
  return new SGD(groups, { lr });
}

/** The first group's lr after each of steps 0..n (0 is right after construction). */
function trace(s: LRScheduler, n: number): number[] {
  const out = [s.optimizer.paramGroups[0].lr];
  for (let t = 1; t <= n; t++) {
    s.step();
    out.push(s.optimizer.paramGroups[0].lr);
  }
  return out;
}

describe('schedules', () => {
  test('StepLR halves every 3 steps', () => {
    const lrs = trace(new StepLR(sgd(), { stepSize: 3, gamma: 0.5 }), 7);
    assert.deepEqual(lrs, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025]);
  });

  test('MultiStepLR drops at each milestone', () => {
    const lrs = trace(new MultiStepLR(sgd(), { milestones: [5, 2], gamma: 0.1 }), 6);
    assertClose(lrs, [0.1, 0.1, 0.01, 0.01, 0.01, 0.001, 0.001], 1e-15);
  });

  test('ExponentialLR is lr·γ^t', () => {
    const lrs = trace(new ExponentialLR(sgd(), { gamma: 0.9 }), 5);
    assertClose(
      lrs,
      [0, 1, 2, 3, 4, 5].map((t) => 0.1 * 0.9 ** t),
      1e-15,
    );
  });

  test('LinearLR warms up linearly, then holds', () => {
    const lrs = trace(new LinearLR(sgd(), { startFactor: 0.25, totalIters: 4 }), 6);
    assertClose(lrs, [0.025, 0.04375, 0.0625, 0.08125, 0.1, 0.1, 0.1], 1e-15);
  });

  test('CosineAnnealingLR: ηmin + (η0 − ηmin)(1 + cos(πt/T))/2, rising again after T as in PyTorch', () => {
    const lrs = trace(new CosineAnnealingLR(sgd(), { tMax: 10, etaMin: 0.01 }), 20);
    assertClose([lrs[0], lrs[5], lrs[10], lrs[15], lrs[20]], [0.1, 0.055, 0.01, 0.055, 0.1], 1e-15);
    assertClose([lrs[2]], [0.01 + (0.09 * (1 + Math.cos(Math.PI / 5))) / 2], 1e-15);
    assertClose([lrs[12]], [0.01 + (0.09 * (1 + Math.cos((Math.PI * 12) / 10))) / 2], 1e-15);
  });

  test('warmupCosine: lr·t/W during warm-up, then cosine to the minimum', () => {
    const s = warmupCosine(sgd(), { warmupSteps: 4, totalSteps: 14, etaMin: 0.002 });
    const lrs = trace(s, 20);
    assertClose(
      [lrs[0], lrs[1], lrs[2], lrs[4], lrs[9], lrs[14], lrs[20]],
      [0, 0.025, 0.05, 0.1, 0.051, 0.002, 0.002],
      1e-14,
    );
    assertClose([lrs[6]], [0.002 + (0.098 * (1 + Math.cos((Math.PI * 2) / 10))) / 2], 1e-15);
  });

  test('warmupCosine keeps the rates of its earlier LinearLR + CosineAnnealingLR closed forms, bit for bit', () => {
    // The expressions genlab's closed-form LinearLR and CosineAnnealingLR evaluated, in the same order.
    const linear = (base: number, s: number, total: number, t: number) =>
      base * (s + ((1 - s) * Math.min(t, total)) / total);
    const cosine = (base: number, etaMin: number, tMax: number, t: number) =>
      etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * Math.min(t, tMax)) / tMax))) / 2;
    for (const [lr, warmupSteps, totalSteps, etaMin, s] of [
      [2e-4, 100, 2001, 0, 0],
      [1e-3, 0, 1000, 1e-5, 0],
      [3e-4, 7, 50, 1e-6, 0.1],
    ]) {
      const opt = sgd(lr);
      const sched = warmupCosine(opt, { warmupSteps, totalSteps, etaMin, warmupStartFactor: s });
      for (let t = 0; t <= totalSteps + 10; t++) {
        const want =
          t < warmupSteps
            ? linear(lr, s, warmupSteps, t)
            : cosine(lr, etaMin, totalSteps - warmupSteps, t - warmupSteps);
        assert.equal(opt.paramGroups[0].lr, want, `lr ${lr}, step ${t}`);
        sched.step();
      }
    }
  });

  test('SequentialLR hands over at the milestones, counting from each', () => {
    const opt = sgd();
    const first = new ExponentialLR(opt, { gamma: 0.5 });
    const second = new StepLR(opt, { stepSize: 2, gamma: 0.1 });
    const lrs = trace(new SequentialLR(opt, [first, second], [3]), 6);
    assertClose(lrs, [0.1, 0.05, 0.025, 0.1, 0.1, 0.01, 0.01], 1e-15);
  });

  test('every group follows the schedule from its own base rate', () => {
    const opt = sgd(0.1, 0.4);
    const s = new StepLR(opt, { stepSize: 1, gamma: 0.5 });
    s.step();
    assert.deepEqual(s.getLastLr(), [0.05, 0.2]);
    assert.deepEqual(
      opt.paramGroups.map((g) => g.lr),
      [0.05, 0.2],
    );
  });

  test('LambdaLR takes one function per group', () => {
    const opt = sgd(0.1, 1);
    const s = new LambdaLR(opt, [(t) => 1 / (t + 1), (t) => t]);
    s.step();
    s.step();
    assertClose(s.getLastLr(), [0.1 / 3, 2], 1e-15);
  });

  test('a later scheduler starts from initialLr, not from the rate an earlier one set', () => {
    const opt = sgd(0.1);
    new StepLR(opt, { stepSize: 1, gamma: 0.5 }).step();
    assert.equal(opt.paramGroups[0].lr, 0.05);
    assert.deepEqual(new ExponentialLR(opt, { gamma: 0.5 }).baseLrs, [0.1]);
  });

  test('resuming with lastEpoch needs initialLr and continues the closed form', () => {
    assert.throws(() => new StepLR(sgd(), { stepSize: 2, lastEpoch: 3 }), /initialLr/);
    const opt = sgd(0.3);
    opt.paramGroups[0].initialLr = 0.1;
    const s = new StepLR(opt, { stepSize: 2, gamma: 0.5, lastEpoch: 3 });
    assert.equal(s.lastEpoch, 4);
    assert.equal(opt.paramGroups[0].lr, 0.025);
  });

  test('stateDict round-trips through JSON', () => {
    const a = warmupCosine(sgd(), { warmupSteps: 2, totalSteps: 10 });
    for (let t = 0; t < 6; t++) a.step();
    const meta = JSON.parse(JSON.stringify(a.stateDict().meta));
    const b = warmupCosine(sgd(0.5), { warmupSteps: 2, totalSteps: 10 });
    b.loadStateDict({ tensors: {}, meta });
    assert.equal(b.lastEpoch, 6);
    assert.deepEqual(b.getLastLr(), a.getLastLr());
    a.step();
    b.step();
    assert.deepEqual(b.getLastLr(), a.getLastLr());
  });
});

describe('ReduceLROnPlateau', () => {
  test('cuts after `patience` steps without a relative improvement, as PyTorch does', () => {
    const opt = sgd(1);
    const s = new ReduceLROnPlateau(opt, { factor: 0.5, patience: 2 });
    // 10 best; 9.9995 is within the 1e-4 relative threshold (not better); 3 bad steps → cut at step 4.
    const metrics = [10, 9.9995, 10, 11, 9, 9, 9, 9, 8.5, 8.5];
    const lrs = metrics.map((m) => {
      s.step(m);
      return opt.paramGroups[0].lr;
    });
    assert.deepEqual(lrs, [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]);
    assert.equal(s.best, 8.5);
    assert.equal(s.numBadSteps, 1);
  });

  test('max mode with an absolute threshold, cooldown and a floor per group', () => {
    const opt = sgd(0.1, 0.01);
    const s = new ReduceLROnPlateau(opt, {
      mode: 'max',
      thresholdMode: 'abs',
      threshold: 0.1,
      factor: 0.1,
      patience: 0,
      cooldown: 1,
      minLr: [0.0001, 0.005],
    });
    const trace: number[][] = [];
    for (const m of [0.5, 0.55, 0.7, 0.75, 0.7, 0.65]) {
      s.step(m);
      trace.push(opt.paramGroups.map((g) => g.lr));
    }
    // 0.5 best. 0.55 is not above 0.6: cut (group 1 stops at its floor 0.005), cooldown 1.
    // 0.7 is better. 0.75 is not above 0.8: cut; group 1 is at its floor and stays. The cooldown
    // swallows the bad 0.7; 0.65 cuts again, group 0 down to its own floor 1e-4.
    assertClose(trace.flat(), [0.1, 0.01, 0.01, 0.005, 0.01, 0.005, 0.001, 0.005, 0.001, 0.005, 0.0001, 0.005], 1e-12);
  });

  test('state round-trips, including an infinite best before any step', () => {
    const a = new ReduceLROnPlateau(sgd(1), { factor: 0.5, patience: 1 });
    const fresh = new ReduceLROnPlateau(sgd(1), { factor: 0.5, patience: 1 });
    fresh.loadStateDict(JSON.parse(JSON.stringify(a.stateDict())));
    assert.equal(fresh.best, Infinity);
    for (const m of [3, 4, 4]) a.step(m);
    const b = new ReduceLROnPlateau(sgd(1), { factor: 0.5, patience: 1 });
    b.loadStateDict(JSON.parse(JSON.stringify(a.stateDict())));
    assert.deepEqual([b.best, b.numBadSteps, b.lastEpoch, b.getLastLr()[0]], [3, 0, 3, 0.5]);
    for (const s of [a, b]) s.step(5);
    assert.deepEqual(b.stateDict(), a.stateDict());
    assert.throws(() => new ReduceLROnPlateau(sgd(1), { factor: 1 }), /factor/);
    assert.throws(() => new ReduceLROnPlateau(sgd(1, 0.5), { minLr: [0] }), /1 minLr values for 2/);
  });
});
