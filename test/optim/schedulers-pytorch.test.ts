// Learning-rate schedules against PyTorch 1.13's torch.optim.lr_scheduler (Debian's python3-torch):
// the rates of two groups (and the momentum CyclicLR and OneCycleLR set) after construction and
// after every step, compared bit for bit; then a save/load in the middle of each schedule.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { torch } from '../../src/index.js';
import {
  Adam,
  ChainedScheduler,
  ConstantLR,
  CosineAnnealingLR,
  CosineAnnealingWarmRestarts,
  CyclicLR,
  ExponentialLR,
  LambdaLR,
  LinearLR,
  type LRScheduler,
  MultiplicativeLR,
  MultiStepLR,
  OneCycleLR,
  PolynomialLR,
  SequentialLR,
  SGD,
  type SGDOptions,
  StepLR,
} from '../../src/optim/index.js';

const PYTHON = process.env.GENLAB_PYTHON ?? '/usr/bin/python3';
const STEPS = 40;

function torchMissing(): string | false {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return `${PYTHON} cannot import torch (install python3-torch); comparison skipped`;
  return false;
}

type Opt = SGD | Adam;

interface Case {
  name: string;
  /** SGD with momentum 0.9 (default), or Adam. */
  adam?: boolean;
  make: (opt: Opt) => LRScheduler;
  /** Python statements that set `sched` from `opt` (lr_scheduler and math are imported). */
  py: string;
  /** Epochs to pass to step(epoch) instead of STEPS plain steps. */
  epochs?: number[];
  steps?: number;
}

const CASES: Case[] = [
  {
    name: 'StepLR',
    make: (o) => new StepLR(o, { stepSize: 3, gamma: 0.1 }),
    py: 'sched = lr_scheduler.StepLR(opt, step_size=3, gamma=0.1)',
  },
  {
    name: 'MultiStepLR, a repeated milestone',
    make: (o) => new MultiStepLR(o, { milestones: [9, 2, 5, 5], gamma: 0.3 }),
    py: 'sched = lr_scheduler.MultiStepLR(opt, milestones=[9, 2, 5, 5], gamma=0.3)',
  },
  {
    name: 'ConstantLR',
    make: (o) => new ConstantLR(o, { factor: 0.3, totalIters: 4 }),
    py: 'sched = lr_scheduler.ConstantLR(opt, factor=0.3, total_iters=4)',
  },
  {
    name: 'ExponentialLR',
    make: (o) => new ExponentialLR(o, { gamma: 0.93 }),
    py: 'sched = lr_scheduler.ExponentialLR(opt, gamma=0.93)',
  },
  {
    name: 'LinearLR',
    make: (o) => new LinearLR(o, { startFactor: 0.2, endFactor: 0.9, totalIters: 7 }),
    py: 'sched = lr_scheduler.LinearLR(opt, start_factor=0.2, end_factor=0.9, total_iters=7)',
  },
  {
    name: 'LinearLR defaults',
    make: (o) => new LinearLR(o),
    py: 'sched = lr_scheduler.LinearLR(opt)',
  },
  {
    name: 'PolynomialLR',
    make: (o) => new PolynomialLR(o, { totalIters: 8, power: 2.5 }),
    py: 'sched = lr_scheduler.PolynomialLR(opt, total_iters=8, power=2.5)',
  },
  {
    name: 'CosineAnnealingLR, two and a half periods',
    make: (o) => new CosineAnnealingLR(o, { tMax: 7, etaMin: 0.002 }),
    py: 'sched = lr_scheduler.CosineAnnealingLR(opt, T_max=7, eta_min=0.002)',
  },
  {
    name: 'MultiplicativeLR',
    make: (o) => new MultiplicativeLR(o, [(t) => (t % 2 ? 0.95 : 0.8), (t) => 1 - 1 / (t + 3)]),
    py: 'sched = lr_scheduler.MultiplicativeLR(opt, [lambda t: 0.95 if t % 2 else 0.8, lambda t: 1 - 1 / (t + 3)])',
  },
  {
    name: 'LambdaLR',
    make: (o) => new LambdaLR(o, (t) => 1 / (1 + 0.3 * t)),
    py: 'sched = lr_scheduler.LambdaLR(opt, lambda t: 1 / (1 + 0.3 * t))',
  },
  {
    name: 'CosineAnnealingWarmRestarts tMult 2',
    make: (o) => new CosineAnnealingWarmRestarts(o, { t0: 3, tMult: 2, etaMin: 0.001 }),
    py: 'sched = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2, eta_min=0.001)',
  },
  {
    name: 'CosineAnnealingWarmRestarts tMult 1',
    make: (o) => new CosineAnnealingWarmRestarts(o, { t0: 5 }),
    py: 'sched = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=5)',
  },
  {
    name: 'CosineAnnealingWarmRestarts, fractional epochs',
    make: (o) => new CosineAnnealingWarmRestarts(o, { t0: 2, tMult: 3 }),
    py: 'sched = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=3)',
    epochs: Array.from({ length: 30 }, (_, i) => i * 0.75 + (i % 4) * 0.1),
  },
  {
    name: 'CyclicLR triangular, momentum',
    make: (o) => new CyclicLR(o, { baseLr: [0.01, 0.002], maxLr: 0.1, stepSizeUp: 4, stepSizeDown: 6 }),
    py: 'sched = lr_scheduler.CyclicLR(opt, base_lr=[0.01, 0.002], max_lr=0.1, step_size_up=4, step_size_down=6)',
  },
  {
    name: 'CyclicLR triangular2',
    make: (o) => new CyclicLR(o, { baseLr: 0.01, maxLr: [0.1, 0.05], stepSizeUp: 5, mode: 'triangular2' }),
    py: "sched = lr_scheduler.CyclicLR(opt, base_lr=0.01, max_lr=[0.1, 0.05], step_size_up=5, mode='triangular2')",
  },
  {
    name: 'CyclicLR expRange, custom momentum range',
    make: (o) =>
      new CyclicLR(o, {
        baseLr: 0.01,
        maxLr: 0.1,
        stepSizeUp: 3,
        mode: 'expRange',
        gamma: 0.97,
        baseMomentum: 0.7,
        maxMomentum: [0.95, 0.9],
      }),
    py:
      "sched = lr_scheduler.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=3, mode='exp_range', gamma=0.97, " +
      'base_momentum=0.7, max_momentum=[0.95, 0.9])',
  },
  {
    name: 'CyclicLR custom scale function by iterations, no momentum',
    adam: true,
    make: (o) =>
      new CyclicLR(o, {
        baseLr: 0.001,
        maxLr: 0.01,
        stepSizeUp: 4,
        scaleFn: (x) => 1 / (1 + 0.1 * x),
        scaleMode: 'iterations',
        cycleMomentum: false,
      }),
    py:
      'sched = lr_scheduler.CyclicLR(opt, base_lr=0.001, max_lr=0.01, step_size_up=4, ' +
      "scale_fn=lambda x: 1 / (1 + 0.1 * x), scale_mode='iterations', cycle_momentum=False)",
  },
  {
    name: 'OneCycleLR cos, SGD momentum',
    make: (o) => new OneCycleLR(o, { maxLr: [0.2, 0.05], totalSteps: STEPS }),
    py: `sched = lr_scheduler.OneCycleLR(opt, max_lr=[0.2, 0.05], total_steps=${STEPS})`,
  },
  {
    name: 'OneCycleLR linear, three phases, Adam betas',
    adam: true,
    make: (o) =>
      new OneCycleLR(o, {
        maxLr: 0.01,
        epochs: 5,
        stepsPerEpoch: 8,
        pctStart: 0.25,
        annealStrategy: 'linear',
        threePhase: true,
        divFactor: 10,
        finalDivFactor: 100,
        baseMomentum: 0.8,
        maxMomentum: 0.9,
      }),
    py:
      'sched = lr_scheduler.OneCycleLR(opt, max_lr=0.01, epochs=5, steps_per_epoch=8, pct_start=0.25, ' +
      "anneal_strategy='linear', three_phase=True, div_factor=10, final_div_factor=100, base_momentum=0.8, max_momentum=0.9)",
  },
  {
    name: 'ChainedScheduler: ConstantLR then ExponentialLR',
    make: (o) =>
      new ChainedScheduler([new ConstantLR(o, { factor: 0.5, totalIters: 3 }), new ExponentialLR(o, { gamma: 0.9 })]),
    py:
      'sched = lr_scheduler.ChainedScheduler([lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=3), ' +
      'lr_scheduler.ExponentialLR(opt, gamma=0.9)])',
  },
  {
    name: 'ChainedScheduler: StepLR and CosineAnnealingLR',
    make: (o) =>
      new ChainedScheduler([new StepLR(o, { stepSize: 4, gamma: 0.5 }), new CosineAnnealingLR(o, { tMax: 9 })]),
    py:
      'sched = lr_scheduler.ChainedScheduler([lr_scheduler.StepLR(opt, step_size=4, gamma=0.5), ' +
      'lr_scheduler.CosineAnnealingLR(opt, T_max=9)])',
  },
  {
    name: 'SequentialLR: LinearLR warm-up, then ExponentialLR',
    make: (o) =>
      new SequentialLR(
        o,
        [new LinearLR(o, { startFactor: 0.1, totalIters: 4 }), new ExponentialLR(o, { gamma: 0.8 })],
        [4],
      ),
    py:
      'sched = lr_scheduler.SequentialLR(opt, [lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=4), ' +
      'lr_scheduler.ExponentialLR(opt, gamma=0.8)], milestones=[4])',
  },
  {
    name: 'SequentialLR: three schedules',
    make: (o) =>
      new SequentialLR(
        o,
        [
          new ConstantLR(o, { factor: 0.2, totalIters: 10 }),
          new CosineAnnealingLR(o, { tMax: 6, etaMin: 0.001 }),
          new StepLR(o, { stepSize: 2, gamma: 0.7 }),
        ],
        [3, 15],
      ),
    py:
      'sched = lr_scheduler.SequentialLR(opt, [lr_scheduler.ConstantLR(opt, factor=0.2, total_iters=10), ' +
      'lr_scheduler.CosineAnnealingLR(opt, T_max=6, eta_min=0.001), lr_scheduler.StepLR(opt, step_size=2, gamma=0.7)], ' +
      'milestones=[3, 15])',
  },
];

const SCRIPT = `
import json, math, sys, warnings, torch
from torch.optim import lr_scheduler
warnings.simplefilter('ignore')
cfg = json.load(sys.stdin)
def momenta(opt):
    return [g['betas'][0] if 'betas' in g else g.get('momentum', 0) for g in opt.param_groups]
out = []
for case in cfg['cases']:
    p1 = torch.nn.Parameter(torch.zeros(2))
    p2 = torch.nn.Parameter(torch.zeros(3))
    groups = [{'params': [p1]}, {'params': [p2], 'lr': 0.03}]
    opt = torch.optim.Adam(groups, lr=0.1) if case.get('adam') else torch.optim.SGD(groups, lr=0.1, momentum=0.9)
    env = {'opt': opt, 'lr_scheduler': lr_scheduler, 'math': math}
    exec(case['py'], env)
    sched = env['sched']
    lrs = [[g['lr'] for g in opt.param_groups]]
    ms = [momenta(opt)]
    epochs = case.get('epochs')
    for i in range(len(epochs) if epochs else case.get('steps', cfg['steps'])):
        opt.step()
        if epochs:
            sched.step(epochs[i])
        else:
            sched.step()
        lrs.append([g['lr'] for g in opt.param_groups])
        ms.append(momenta(opt))
    out.append({'lrs': lrs, 'momenta': ms})
print(json.dumps(out))
`;

function makeOpt(adam: boolean | undefined): Opt {
  const groups = [
    { params: [torch.zeros([2]).requiresGrad_()] },
    { params: [torch.zeros([3]).requiresGrad_()], lr: 0.03 },
  ];
  return adam ? new Adam(groups, { lr: 0.1 }) : new SGD(groups, { lr: 0.1, momentum: 0.9 });
}

function momenta(opt: Opt): number[] {
  return opt.paramGroups.map((g) =>
    'betas' in g ? (g as unknown as { betas: number[] }).betas[0] : (g as SGDOptions).momentum,
  );
}

/** Rates and momenta after construction and after each step; `cut` saves and reloads at that step. */
function run(c: Case, cut?: number): { lrs: number[][]; momenta: number[][] } {
  let opt = makeOpt(c.adam);
  let s = c.make(opt);
  const lrs = [opt.paramGroups.map((g) => g.lr)];
  const ms = [momenta(opt)];
  const n = c.epochs?.length ?? c.steps ?? STEPS;
  for (let i = 0; i < n; i++) {
    if (i === cut) {
      // As from disk: JSON meta, a fresh optimizer and schedule, the optimizer's groups restored first.
      const optState = JSON.parse(JSON.stringify(opt.stateDict().meta));
      const schedState = JSON.parse(JSON.stringify(s.stateDict().meta));
      opt = makeOpt(c.adam);
      s = c.make(opt);
      opt.loadStateDict({ tensors: {}, meta: optState });
      s.loadStateDict({ tensors: {}, meta: schedState });
    }
    if (c.epochs) (s as CosineAnnealingWarmRestarts).step(c.epochs[i]);
    else s.step();
    lrs.push(opt.paramGroups.map((g) => g.lr));
    ms.push(momenta(opt));
  }
  return { lrs, momenta: ms };
}

describe('learning-rate schedules match PyTorch 1.13', () => {
  let expected: { lrs: number[][]; momenta: number[][] }[] = [];
  const skip = torchMissing();

  test(`${CASES.length} schedules, ${STEPS} steps each: every rate and momentum bit for bit`, { skip }, (t) => {
    const r = spawnSync(PYTHON, ['-c', SCRIPT], {
      input: JSON.stringify({ cases: CASES, steps: STEPS }),
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(r.status, 0, `python failed: ${r.stderr}`);
    expected = JSON.parse(r.stdout);
    let total = 0;
    CASES.forEach((c, i) => {
      const got = run(c);
      assert.deepEqual(got.lrs, expected[i].lrs, `${c.name}: rates`);
      assert.deepEqual(got.momenta, expected[i].momenta, `${c.name}: momenta`);
      // Every schedule changes the rate.
      assert.ok(new Set(got.lrs.map((l) => l[0])).size >= 2, `${c.name}: the rate never moved`);
      total += got.lrs.length * 2;
    });
    t.diagnostic(`${total} rates bit-identical to PyTorch`);
  });

  test('a schedule saved and restored midway continues as if uninterrupted', { skip }, () => {
    assert.ok(expected.length === CASES.length, 'needs the PyTorch run above');
    CASES.forEach((c, i) => {
      for (const cut of [1, 7, 17]) {
        const got = run(c, cut);
        assert.deepEqual(got.lrs, expected[i].lrs, `${c.name}: rates, restored at step ${cut}`);
        assert.deepEqual(got.momenta, expected[i].momenta, `${c.name}: momenta, restored at step ${cut}`);
      }
    });
  });
});

describe('schedule errors', () => {
  test('OneCycleLR refuses to step past its cycle; CyclicLR needs momentum to cycle it', () => {
    const s = new OneCycleLR(makeOpt(false), { maxLr: 0.1, totalSteps: 3 });
    for (let i = 0; i < 3; i++) s.step();
    assert.throws(() => s.step(), /tried to step 5 times; the cycle has 3 steps/);
    const adam = makeOpt(true) as Adam;
    assert.throws(() => new CyclicLR(adam, { baseLr: 0.01, maxLr: 0.1 }), /no momentum; pass cycleMomentum: false/);
    assert.throws(
      () => new CyclicLR(makeOpt(false), { baseLr: [0.1], maxLr: 1 }),
      /expected 2 values for baseLr, got 1/,
    );
    assert.throws(() => new CosineAnnealingWarmRestarts(makeOpt(false), { t0: 0 }), /whole t0 > 0/);
    // OneCycleLR gives Adam a new betas pair and leaves Adam's defaults alone.
    new OneCycleLR(adam, { maxLr: 0.1, totalSteps: 10 });
    assert.deepEqual(adam.defaults.betas, [0.9, 0.999]);
    assert.deepEqual(new Adam([torch.zeros([1]).requiresGrad_()]).defaults.betas, [0.9, 0.999]);
  });
});
