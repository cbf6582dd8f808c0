// Saving and restoring optimizer, scheduler and EMA state: a resumed run continues bit-for-bit.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { torch } from '../../src/index.js';
import {
  Adadelta,
  Adagrad,
  Adam,
  Adamax,
  AdamW,
  ASGD,
  EMA,
  type LRScheduler,
  NAdam,
  type Optimizer,
  RAdam,
  RMSprop,
  Rprop,
  SGD,
  type StateDict,
  warmupCosine,
} from '../../src/optim/index.js';
import type { Tensor } from '../../src/torch/tensor.js';
import { param, quadraticBackward, values, X0 } from './helpers.js';

type Maker = (params: Tensor[]) => Optimizer<any, any>;

const MAKERS: Record<string, Maker> = {
  'SGD momentum': (p) => new SGD([{ params: [p[0]] }, { params: [p[1]], lr: 0.05 }], { lr: 0.1, momentum: 0.9 }),
  'Adam AMSGrad': (p) => new Adam(p, { lr: 0.05, amsgrad: true, weightDecay: 0.01 }),
  AdamW: (p) => new AdamW(p, { lr: 0.05 }),
  Adamax: (p) => new Adamax(p, { lr: 0.05 }),
  'RMSprop centered': (p) => new RMSprop(p, { lr: 0.01, momentum: 0.5, centered: true }),
  Adadelta: (p) => new Adadelta(p, { lr: 0.5, weightDecay: 0.01 }),
  Adagrad: (p) => new Adagrad(p, { lr: 0.1, lrDecay: 0.01, initialAccumulatorValue: 0.1 }),
  'ASGD averaging': (p) => new ASGD(p, { lr: 0.05, lambd: 0.01, t0: 2 }),
  NAdam: (p) => new NAdam(p, { lr: 0.05 }),
  // β2 = 0.9 turns the rectified step on from step 3, on both sides of the save.
  RAdam: (p) => new RAdam(p, { lr: 0.05, betas: [0.9, 0.9] }),
  Rprop: (p) => new Rprop(p, { lr: 0.05 }),
};

interface Run {
  params: Tensor[];
  opt: Optimizer<any, any>;
  sched: LRScheduler;
  ema: EMA;
}

function makeRun(make: Maker, start: number[][]): Run {
  const params = start.map((v) => param(v, 'float32'));
  const opt = make(params);
  const sched = warmupCosine(opt, { warmupSteps: 3, totalSteps: 12, etaMin: 1e-3 });
  const ema = new EMA(params, { decay: 0.9, warmup: true });
  return { params, opt, sched, ema };
}

function train(r: Run, steps: number): void {
  for (let t = 0; t < steps; t++) {
    for (const p of r.params) quadraticBackward(p);
    r.opt.step();
    r.opt.zeroGrad();
    r.sched.step();
    r.ema.update();
  }
}

/** A dict as it would come back from disk: meta through JSON, tensors untouched. */
function throughJson(sd: StateDict): StateDict {
  return { tensors: sd.tensors, meta: JSON.parse(JSON.stringify(sd.meta)) };
}

describe('stateDict / loadStateDict', () => {
  for (const [name, make] of Object.entries(MAKERS)) {
    test(`${name}: 5 steps, save, 5 more equals restore into a fresh optimizer and 5 more`, () => {
      const a = makeRun(make, [X0, X0.map((v) => -v)]);
      train(a, 5);
      const saved = {
        params: a.params.map(values),
        opt: throughJson(a.opt.stateDict()),
        sched: throughJson(a.sched.stateDict()),
        ema: throughJson(a.ema.stateDict()),
      };
      train(a, 5);

      const b = makeRun(make, saved.params);
      b.opt.loadStateDict(saved.opt);
      b.sched.loadStateDict(saved.sched);
      b.ema.loadStateDict(saved.ema);
      assert.deepEqual(b.sched.getLastLr(), makeLrAfter(make, 5), 'restored learning rate');
      train(b, 5);

      for (let i = 0; i < a.params.length; i++) {
        assert.deepEqual(values(b.params[i]), values(a.params[i]), `param ${i}`);
        assert.deepEqual(values(b.ema.shadow[i]), values(a.ema.shadow[i]), `ema ${i}`);
      }
      assert.deepEqual(
        b.opt.paramGroups.map((g) => g.lr),
        a.opt.paramGroups.map((g) => g.lr),
      );
      assert.equal(b.ema.numUpdates, 10);
      // The saved copies did not follow the live state through the last 5 steps.
      for (const [key, t] of Object.entries(saved.opt.tensors)) {
        const live = a.opt.stateDict({ copy: false }).tensors[key];
        assert.notDeepEqual(values(t), values(live), `${key} should be a snapshot`);
      }
    });
  }

  test('tensor names and meta follow the documented layout', () => {
    const x = param(X0);
    const y = param(X0);
    const opt = new Adam([{ params: [x] }, { params: [y], lr: 0.5 }], { lr: 0.1 });
    quadraticBackward(y);
    opt.step();
    const sd = opt.stateDict();
    assert.deepEqual(Object.keys(sd.tensors).sort(), ['state.1.expAvg', 'state.1.expAvgSq']);
    assert.deepEqual(sd.meta.state, { 1: { step: 1 } });
    assert.deepEqual(sd.meta.paramGroups, [
      { lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, params: [0] },
      { lr: 0.5, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, params: [1] },
    ]);
  });

  test('loading restores group hyperparameters and casts state to the parameter dtype', () => {
    const x = param(X0);
    const opt = new Adam([x], { lr: 0.1 });
    quadraticBackward(x);
    opt.step();
    const sd = opt.stateDict();
    const x32 = param(X0, 'float32');
    const fresh = new Adam([x32], { lr: 0.7 });
    fresh.loadStateDict(sd);
    assert.equal(fresh.paramGroups[0].lr, 0.1);
    assert.equal(fresh.state.get(x32)?.expAvg.dtype, 'float32');
    assert.equal(fresh.state.get(x32)?.step, 1);
  });

  test('a mismatched dict is refused and leaves the optimizer untouched', () => {
    const x = param(X0);
    const opt = new SGD([x], { lr: 0.1, momentum: 0.9 });
    quadraticBackward(x);
    opt.step();
    const sd = opt.stateDict();
    const other = new SGD([param(X0), param(X0)], { lr: 0.1, momentum: 0.9 });
    assert.throws(() => other.loadStateDict(sd), /saved 1 parameters/);
    const two = new SGD([{ params: [x] }, { params: [param(X0)] }], { lr: 0.1 });
    assert.throws(() => two.loadStateDict(sd), /1 parameter groups saved/);
    const bad = {
      tensors: { ...sd.tensors, 'state.7.momentumBuffer': sd.tensors['state.0.momentumBuffer'] },
      meta: sd.meta,
    };
    const fresh = new SGD([param(X0)], { lr: 0.2 });
    assert.throws(() => fresh.loadStateDict(bad), /no parameter 7/);
    assert.equal(fresh.state.size, 0);
    assert.equal(fresh.paramGroups[0].lr, 0.2);
  });
});

/** The learning rates the warmup-cosine schedule gives after `steps` steps, from a fresh run. */
function makeLrAfter(make: Maker, steps: number): number[] {
  const r = makeRun(make, [X0, X0]);
  for (let t = 0; t < steps; t++) r.sched.step();
  const lrs = r.sched.getLastLr();
  torch.dispose([r.params, r.ema.shadow]);
  r.opt.disposeState();
  return lrs;
}
