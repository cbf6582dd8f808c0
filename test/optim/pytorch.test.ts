// genlab's optimizers against PyTorch 1.13 (Debian's python3-torch, same libtorch): identical
// starting values and loss, N steps, parameters compared to 1e-6 relative.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { torch } from '../../src/index.js';
import {
  Adadelta,
  Adagrad,
  Adam,
  Adamax,
  AdamW,
  ASGD,
  CosineAnnealingLR,
  clipGradNorm,
  LBFGS,
  type LRScheduler,
  NAdam,
  type Optimizer,
  RAdam,
  ReduceLROnPlateau,
  RMSprop,
  Rprop,
  SGD,
  StepLR,
} from '../../src/optim/index.js';
import type { Tensor } from '../../src/torch/tensor.js';
import { values } from './helpers.js';

// Debian's interpreter, where python3-torch lives; GENLAB_PYTHON overrides it.
const PYTHON = process.env.GENLAB_PYTHON ?? '/usr/bin/python3';
const STEPS = 10;

function torchMissing(): string | false {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.error || r.status !== 0)
    return `${PYTHON} cannot import torch (install python3-torch); PyTorch comparison skipped`;
  return false;
}

interface Case {
  name: string;
  /** torch.optim class name. */
  opt: string;
  /** Options in genlab's camelCase; converted to PyTorch's keyword names for Python. */
  options: Record<string, number | boolean | number[]>;
  /** Compare bit for bit instead of to 1e-6 relative. */
  exact?: boolean;
  /** A state tensor of w to compare too: [genlab key, PyTorch key]. */
  stateKey?: [string, string];
  /** Learning rate of a second group holding b, if any. */
  groupLr?: number;
  clip?: number;
  schedule?:
    | { kind: 'StepLR'; stepSize: number; gamma: number }
    | { kind: 'CosineAnnealingLR'; tMax: number; etaMin: number };
}

const CASES: Case[] = [
  { name: 'SGD', opt: 'SGD', options: { lr: 0.05 } },
  {
    name: 'SGD momentum, dampening, decay',
    opt: 'SGD',
    options: { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 },
  },
  { name: 'SGD Nesterov, two groups', opt: 'SGD', options: { lr: 0.05, momentum: 0.9, nesterov: true }, groupLr: 0.01 },
  {
    name: 'SGD + StepLR',
    opt: 'SGD',
    options: { lr: 0.1, momentum: 0.5 },
    schedule: { kind: 'StepLR', stepSize: 3, gamma: 0.5 },
  },
  { name: 'Adam', opt: 'Adam', options: { lr: 0.01 } },
  {
    name: 'Adam AMSGrad, decay, maximize',
    opt: 'Adam',
    options: { lr: 0.01, betas: [0.8, 0.9], weightDecay: 0.1, amsgrad: true, maximize: true },
  },
  { name: 'Adam + clipGradNorm', opt: 'Adam', options: { lr: 0.02, eps: 1e-6 }, clip: 0.5 },
  { name: 'AdamW', opt: 'AdamW', options: { lr: 0.01, weightDecay: 0.1 } },
  {
    name: 'AdamW + cosine',
    opt: 'AdamW',
    options: { lr: 0.05 },
    schedule: { kind: 'CosineAnnealingLR', tMax: STEPS, etaMin: 0.001 },
  },
  { name: 'Adamax', opt: 'Adamax', options: { lr: 0.02, weightDecay: 0.01 } },
  { name: 'RMSprop', opt: 'RMSprop', options: { lr: 0.01 } },
  {
    name: 'RMSprop centered, momentum',
    opt: 'RMSprop',
    options: { lr: 0.01, alpha: 0.9, momentum: 0.5, centered: true, weightDecay: 0.01 },
  },
  { name: 'Adadelta', opt: 'Adadelta', options: {}, exact: true },
  {
    name: 'Adadelta lr, rho, decay, maximize',
    opt: 'Adadelta',
    options: { lr: 0.5, rho: 0.8, eps: 1e-4, weightDecay: 0.05, maximize: true },
    exact: true,
  },
  { name: 'Adagrad', opt: 'Adagrad', options: { lr: 0.1 }, exact: true },
  {
    name: 'Adagrad lrDecay, accumulator, decay, two groups',
    opt: 'Adagrad',
    options: { lr: 0.1, lrDecay: 0.05, initialAccumulatorValue: 0.2, weightDecay: 0.01, eps: 1e-6 },
    groupLr: 0.3,
    exact: true,
  },
  { name: 'ASGD', opt: 'ASGD', options: { lr: 0.05 }, exact: true },
  {
    name: 'ASGD averaging from step 3, decay, maximize',
    opt: 'ASGD',
    options: { lr: 0.05, lambd: 0.01, alpha: 0.6, t0: 3, weightDecay: 0.02, maximize: true },
    exact: true,
    stateKey: ['ax', 'ax'],
  },
  { name: 'NAdam', opt: 'NAdam', options: { lr: 0.02 }, exact: true },
  {
    name: 'NAdam betas, momentumDecay, decay',
    opt: 'NAdam',
    options: { lr: 0.02, betas: [0.8, 0.95], momentumDecay: 0.01, weightDecay: 0.05, eps: 1e-6 },
    exact: true,
  },
  // rho_t exceeds 5 from step 6 with β2 = 0.999, so both branches run.
  { name: 'RAdam', opt: 'RAdam', options: { lr: 0.02 }, exact: true },
  {
    name: 'RAdam betas, decay',
    opt: 'RAdam',
    options: { lr: 0.02, betas: [0.7, 0.9], weightDecay: 0.05, eps: 1e-6 },
    exact: true,
  },
  { name: 'Rprop', opt: 'Rprop', options: { lr: 0.05 }, exact: true },
  {
    name: 'Rprop etas, step sizes, maximize',
    opt: 'Rprop',
    options: { lr: 0.3, etas: [0.3, 1.5], stepSizes: [0.01, 0.4], maximize: true },
    exact: true,
  },
];

// Starting values and loss constants, shared with Python as float64 and rounded to float32 on both sides.
const W0 = Array.from({ length: 12 }, (_, i) => Math.sin(i + 1) * 0.8);
const B0 = [0.3, -0.2, 0.7, -1.1];
const A_ = Array.from({ length: 12 }, (_, i) => 0.5 + (i % 5) * 0.4);
const C_ = Array.from({ length: 12 }, (_, i) => Math.cos(i * 0.7));

const SCRIPT = `
import json, sys, torch
cfg = json.load(sys.stdin)
snake = {'weightDecay': 'weight_decay', 'lrDecay': 'lr_decay', 'initialAccumulatorValue': 'initial_accumulator_value',
         'momentumDecay': 'momentum_decay', 'stepSizes': 'step_sizes'}
def run(case):
    w = torch.tensor(cfg['w0'], dtype=torch.float32).reshape(3, 4).requires_grad_()
    b = torch.tensor(cfg['b0'], dtype=torch.float32).requires_grad_()
    a = torch.tensor(cfg['a'], dtype=torch.float32).reshape(3, 4)
    c = torch.tensor(cfg['c'], dtype=torch.float32).reshape(3, 4)
    kw = {snake.get(k, k): v for k, v in case['options'].items()}
    cls = getattr(torch.optim, case['opt'])
    if 'groupLr' in case:
        opt = cls([{'params': [w]}, {'params': [b], 'lr': case['groupLr']}], **kw)
    else:
        opt = cls([w, b], **kw)
    sched = None
    s = case.get('schedule')
    if s and s['kind'] == 'StepLR':
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=s['stepSize'], gamma=s['gamma'])
    elif s:
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=s['tMax'], eta_min=s['etaMin'])
    norms = []
    for _ in range(cfg['steps']):
        opt.zero_grad(set_to_none=True)
        loss = w.sub(c).square().mul(a).sum().mul(0.5).add(w.sin().mul(b).sum()).add(b.square().sum().mul(0.1))
        loss.backward()
        if 'clip' in case:
            norms.append(torch.nn.utils.clip_grad_norm_([w, b], case['clip']).item())
        opt.step()
        if sched:
            sched.step()
    st = opt.state[w][case['stateKey'][1]].reshape(-1).tolist() if 'stateKey' in case else []
    return {'w': w.detach().reshape(-1).tolist(), 'b': b.detach().tolist(), 'norms': norms, 'state': st}
print(json.dumps([run(c) for c in cfg['cases']]))
`;

function runGenlab(c: Case): { w: number[]; b: number[]; norms: number[]; state: number[] } {
  const w = torch.tensor(W0, { dtype: 'float32' }).reshape(3, 4).requiresGrad_();
  const b = torch.tensor(B0, { requiresGrad: true });
  const a = torch.tensor(A_).reshape(3, 4);
  const cc = torch.tensor(C_).reshape(3, 4);
  const params = c.groupLr === undefined ? [w, b] : [{ params: [w] }, { params: [b], lr: c.groupLr }];
  const opts = c.options as any;
  const makers: Record<string, () => Optimizer<any, any>> = {
    SGD: () => new SGD(params, opts),
    Adam: () => new Adam(params, opts),
    AdamW: () => new AdamW(params, opts),
    Adamax: () => new Adamax(params, opts),
    RMSprop: () => new RMSprop(params, opts),
    Adadelta: () => new Adadelta(params, opts),
    Adagrad: () => new Adagrad(params, opts),
    ASGD: () => new ASGD(params, opts),
    NAdam: () => new NAdam(params, opts),
    RAdam: () => new RAdam(params, opts),
    Rprop: () => new Rprop(params, opts),
  };
  const opt = makers[c.opt]();
  let sched: LRScheduler | undefined;
  if (c.schedule?.kind === 'StepLR') sched = new StepLR(opt, c.schedule);
  else if (c.schedule) sched = new CosineAnnealingLR(opt, c.schedule);
  const norms: number[] = [];
  for (let t = 0; t < STEPS; t++) {
    opt.zeroGrad();
    torch.tidy(() => {
      const loss = w.sub(cc).square().mul(a).sum().mul(0.5).add(w.sin().mul(b).sum()).add(b.square().sum().mul(0.1));
      loss.backward();
    });
    if (c.clip !== undefined) norms.push(clipGradNorm([w, b], c.clip));
    opt.step();
    sched?.step();
  }
  const state = c.stateKey === undefined ? [] : values(opt.state.get(w)![c.stateKey[0]] as Tensor);
  return { w: values(w), b: values(b), norms, state };
}

function assertRel(actual: number[], expected: number[], what: string, bitIdentical = false): number {
  let exact = 0;
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < actual.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    if (diff === 0) exact++;
    assert.ok(
      bitIdentical ? Object.is(actual[i], expected[i]) : diff <= 1e-6 * Math.max(Math.abs(expected[i]), 1e-3),
      `${what}[${i}]: genlab ${actual[i]}, PyTorch ${expected[i]}`,
    );
  }
  return exact;
}

test(`optimizers match PyTorch 1.13 after ${STEPS} steps`, { skip: torchMissing() }, (t) => {
  const cfg = { w0: W0, b0: B0, a: A_, c: C_, steps: STEPS, cases: CASES };
  const r = spawnSync(PYTHON, ['-c', SCRIPT], { input: JSON.stringify(cfg), encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `python failed: ${r.stderr}`);
  const expected = JSON.parse(r.stdout) as { w: number[]; b: number[]; norms: number[]; state: number[] }[];
  let exact = 0;
  let total = 0;
  CASES.forEach((c, i) => {
    const got = runGenlab(c);
    exact +=
      assertRel(got.w, expected[i].w, `${c.name}: w`, c.exact) +
      assertRel(got.b, expected[i].b, `${c.name}: b`, c.exact);
    total += got.w.length + got.b.length;
    if (c.stateKey !== undefined) {
      exact += assertRel(got.state, expected[i].state, `${c.name}: state ${c.stateKey[0]}`, c.exact);
      total += got.state.length;
      // The average differs from the last iterate once averaging has started.
      assert.notDeepEqual(got.state, got.w, `${c.name}: the average is the last iterate`);
    }
    if (c.clip !== undefined) {
      assertRel(got.norms, expected[i].norms, `${c.name}: norms`);
      assert.ok(got.norms[0] > c.clip, `${c.name}: the clip never acted`);
    }
    // Every case must actually have moved the parameters.
    assert.notDeepEqual(got.w, Array.from(Float32Array.from(W0)), `${c.name}: w did not move`);
  });
  t.diagnostic(`${exact} of ${total} parameter values are bit-identical to PyTorch`);
});

test('ReduceLROnPlateau matches PyTorch 1.13 on a noisy metric, in every mode', { skip: torchMissing() }, () => {
  // A metric that improves, stalls and wobbles, so every rule (threshold, patience, cooldown, floor) acts.
  const metrics = Array.from({ length: 60 }, (_, i) => 1 / (1 + i) + 0.02 * Math.sin(1.7 * i) + (i > 30 ? 0.05 : 0));
  const settings = [
    { mode: 'min', factor: 0.5, patience: 2, threshold: 1e-2, thresholdMode: 'rel', cooldown: 1, minLr: 0.01 },
    { mode: 'max', factor: 0.3, patience: 1, threshold: 5e-3, thresholdMode: 'abs', cooldown: 0, minLr: 0.002 },
  ] as const;
  const script = `
import json, sys, torch
cfg = json.load(sys.stdin)
out = []
for s in cfg["settings"]:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sch = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode=s["mode"], factor=s["factor"], patience=s["patience"],
        threshold=s["threshold"], threshold_mode=s["thresholdMode"], cooldown=s["cooldown"], min_lr=s["minLr"])
    lrs = []
    for m in cfg["metrics"]:
        sch.step(m)
        lrs.append(opt.param_groups[0]["lr"])
    out.append(lrs)
print(json.dumps(out))
`;
  const r = spawnSync(PYTHON, ['-c', script], {
    input: JSON.stringify({ metrics, settings }),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, `python failed: ${r.stderr}`);
  const expected = JSON.parse(r.stdout) as number[][];
  settings.forEach((setting, i) => {
    const opt = new SGD([torch.zeros([1]).requiresGrad_()], { lr: 0.1 });
    const s = new ReduceLROnPlateau(opt, { ...setting });
    const lrs = metrics.map((m) => {
      s.step(m);
      return opt.paramGroups[0].lr;
    });
    assert.deepEqual(lrs, expected[i], `setting ${i}`);
    assert.ok(new Set(lrs).size >= 3, `setting ${i}: at least two cuts happen`);
  });
});

test("zeroGrad: PyTorch 1.13's default zero_grad() is zeroGrad({ setToNone: false }); genlab's default is set_to_none=True", {
  skip: torchMissing(),
}, () => {
  // SGD with momentum; b gets a gradient in the first 3 of 6 steps only. Zeroed gradients keep
  // b moving on its momentum; null gradients make the optimizer skip b.
  const script = `
import json, torch
out = []
for set_to_none in [False, True]:
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    b = torch.tensor([0.5], requires_grad=True)
    opt = torch.optim.SGD([w, b], lr=0.1, momentum=0.9)
    for t in range(6):
        opt.zero_grad() if not set_to_none else opt.zero_grad(set_to_none=True)
        loss = w.square().sum() + (b.square().sum() if t < 3 else 0)
        loss.backward()
        opt.step()
    out.append(w.tolist() + b.tolist())
print(json.dumps(out))
`;
  const r = spawnSync(PYTHON, ['-c', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `python failed: ${r.stderr}`);
  const [zeroed, nulled] = JSON.parse(r.stdout) as number[][];
  const run = (setToNone?: boolean) => {
    const w = torch.tensor([1, -2], { requiresGrad: true });
    const b = torch.tensor([0.5], { requiresGrad: true });
    const opt = new SGD([w, b], { lr: 0.1, momentum: 0.9 });
    for (let t = 0; t < 6; t++) {
      opt.zeroGrad(setToNone === undefined ? {} : { setToNone });
      torch.tidy(() => {
        const loss = w.square().sum();
        (t < 3 ? loss.add(b.square().sum()) : loss).backward();
      });
      opt.step();
    }
    return [...values(w), ...values(b)];
  };
  assert.deepEqual(run(false), zeroed);
  assert.deepEqual(run(), nulled);
  assert.notEqual(zeroed[2], nulled[2], 'the two settings must differ on b');
});

test('LBFGS (fixed step) matches PyTorch 1.13 bit for bit over several step(closure) calls', {
  skip: torchMissing(),
}, (t) => {
  const settings = [
    { lr: 1, maxIter: 5, historySize: 3, calls: 4 },
    { lr: 0.5, maxIter: 20, historySize: 100, calls: 2 },
    { lr: 0.8, maxIter: 4, historySize: 2, toleranceChange: 1e-3, calls: 5 },
  ];
  const script = `
import json, sys, torch
cfg = json.load(sys.stdin)
out = []
for s in cfg['settings']:
    w = torch.tensor(cfg['w0'], dtype=torch.float32).reshape(3, 4).requires_grad_()
    b = torch.tensor(cfg['b0'], dtype=torch.float32).requires_grad_()
    a = torch.tensor(cfg['a'], dtype=torch.float32).reshape(3, 4)
    c = torch.tensor(cfg['c'], dtype=torch.float32).reshape(3, 4)
    opt = torch.optim.LBFGS([w, b], lr=s['lr'], max_iter=s['maxIter'], history_size=s['historySize'],
                            tolerance_change=s.get('toleranceChange', 1e-9))
    def closure():
        opt.zero_grad()
        loss = w.sub(c).square().mul(a).sum().mul(0.5).add(w.sin().mul(b).sum()).add(b.square().sum().mul(0.1))
        loss.backward()
        return loss
    losses = [opt.step(closure).item() for _ in range(s['calls'])]
    st = opt.state[w]
    out.append({'w': w.detach().reshape(-1).tolist(), 'b': b.detach().tolist(), 'losses': losses,
                'funcEvals': st['func_evals'], 'nIter': st['n_iter']})
print(json.dumps(out))
`;
  const r = spawnSync(PYTHON, ['-c', script], {
    input: JSON.stringify({ settings, w0: W0, b0: B0, a: A_, c: C_ }),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, `python failed: ${r.stderr}`);
  const expected = JSON.parse(r.stdout) as {
    w: number[];
    b: number[];
    losses: number[];
    funcEvals: number;
    nIter: number;
  }[];
  settings.forEach((s, i) => {
    torch.tidy(() => {
      const w = torch.tensor(W0, { dtype: 'float32' }).reshape(3, 4).requiresGrad_();
      const b = torch.tensor(B0, { requiresGrad: true });
      const a = torch.tensor(A_).reshape(3, 4);
      const cc = torch.tensor(C_).reshape(3, 4);
      const opt = new LBFGS([w, b], {
        lr: s.lr,
        maxIter: s.maxIter,
        historySize: s.historySize,
        toleranceChange: s.toleranceChange,
      });
      const closure = () =>
        torch.tidy(() => {
          opt.zeroGrad();
          const loss = w
            .sub(cc)
            .square()
            .mul(a)
            .sum()
            .mul(0.5)
            .add(w.sin().mul(b).sum())
            .add(b.square().sum().mul(0.1));
          loss.backward();
          return loss;
        });
      const losses = Array.from({ length: s.calls }, () => opt.step(closure)!.item());
      assert.deepEqual(losses, expected[i].losses, `setting ${i}: losses`);
      assert.deepEqual(values(w), expected[i].w, `setting ${i}: w`);
      assert.deepEqual(values(b), expected[i].b, `setting ${i}: b`);
      const st = opt.state.get(w)!;
      assert.deepEqual([st.funcEvals, st.nIter], [expected[i].funcEvals, expected[i].nIter], `setting ${i}: counters`);
      assert.notDeepEqual(values(w), Array.from(Float32Array.from(W0)), `setting ${i}: w did not move`);
      assert.ok(new Set(losses).size > 1, `setting ${i}: the loss never changed`);
    });
  });
  t.diagnostic(`LBFGS iterates equal to PyTorch's in ${settings.length} settings`);
});
