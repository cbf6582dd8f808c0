// LBFGS: a resumed run continues bit for bit, memory stays flat, and its options are checked.
// (Its iterates against PyTorch's are in pytorch.test.ts.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { torch } from '../../src/index.js';
import { LBFGS, type StateDict } from '../../src/optim/index.js';
import type { Tensor } from '../../src/torch/tensor.js';
import { values } from './helpers.js';

function problem(start: number[], yStart = [0.5, -0.25]) {
  const x = torch.tensor(start, { dtype: 'float64', requiresGrad: true });
  const y = torch.tensor(yStart, { dtype: 'float64', requiresGrad: true });
  // A Rosenbrock valley in x plus a coupling to y: curved enough to fill the history.
  const loss = () => {
    const x0 = x.narrow(0, 0, 1);
    const x1 = x.narrow(0, 1, 1);
    const rosen = x1.sub(x0.square()).square().mul(10).add(x0.sub(1).square()).sum();
    return rosen.add(y.sub(x).square().sum()).add(y.pow(4).sum().mul(0.1));
  };
  return { x, y, loss };
}

function closureFor(opt: LBFGS, loss: () => Tensor) {
  return () =>
    torch.tidy(() => {
      opt.zeroGrad();
      const l = loss();
      l.backward();
      return l;
    });
}

test('LBFGS state round-trips: 3 calls, save, 3 more equals restore and 3 more', () => {
  const opts = { lr: 0.7, maxIter: 4, historySize: 3 };
  const a = problem([-1.2, 1]);
  const optA = new LBFGS([a.x, a.y], opts);
  const closureA = closureFor(optA, a.loss);
  for (let i = 0; i < 3; i++)
    torch.tidy(() => {
      optA.step(closureA);
    });
  const sd = optA.stateDict();
  const saved: StateDict = { tensors: sd.tensors, meta: JSON.parse(JSON.stringify(sd.meta)) };
  const at = [values(a.x), values(a.y)];
  assert.ok(Object.keys(saved.tensors).includes('state.0.oldDirs.2'), 'the history is full and saved');
  for (let i = 0; i < 3; i++)
    torch.tidy(() => {
      optA.step(closureA);
    });

  const b = problem(at[0], at[1]);
  const optB = new LBFGS([b.x, b.y], opts);
  optB.loadStateDict(saved);
  torch.dispose(saved.tensors);
  const closureB = closureFor(optB, b.loss);
  for (let i = 0; i < 3; i++)
    torch.tidy(() => {
      optB.step(closureB);
    });
  assert.deepEqual(values(b.x), values(a.x));
  assert.deepEqual(values(b.y), values(a.y));
  assert.deepEqual(optB.state.get(b.x)!.funcEvals, optA.state.get(a.x)!.funcEvals);
  assert.notDeepEqual(values(a.x), at[0], 'the last calls moved x');
});

test('LBFGS keeps memory flat once its history is full', () => {
  const p = problem([-1.2, 1]);
  const opt = new LBFGS([p.x, p.y], { lr: 0.5, maxIter: 3, historySize: 2 });
  const closure = closureFor(opt, p.loss);
  for (let i = 0; i < 4; i++)
    torch.tidy(() => {
      opt.step(closure);
    });
  const before = torch.memory();
  for (let i = 0; i < 30; i++)
    torch.tidy(() => {
      opt.step(closure);
    });
  const after = torch.memory();
  assert.equal(after.tensors, before.tensors, 'live tensors');
  assert.equal(after.bytes, before.bytes, 'bytes');
  assert.equal(opt.state.get(p.x)!.numOld, 2);
});

test('LBFGS refuses groups, a line search it lacks, and a step without a closure', () => {
  const p = problem([0, 0]);
  assert.throws(() => new LBFGS([{ params: [p.x] }, { params: [p.y] }]), /doesn't support parameter groups/);
  assert.throws(() => new LBFGS([p.x], { lineSearchFn: 'strongWolfe' as unknown as null }), /not supported/);
  assert.throws(() => new LBFGS([p.x]).step(), /needs a closure/);
});
