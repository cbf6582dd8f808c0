// nn.functional against PyTorch 1.13 (Debian's python3-torch, same libtorch): losses whose operands
// are broadcast (values and the gradients of every operand), and the errors PyTorch raises.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { torch } from '../../src/index.js';
import { BatchNorm1d, BatchNorm2d, Embedding, F, GroupNorm } from '../../src/nn/index.js';
import type { Tensor } from '../../src/torch/tensor.js';
import { assertClose, values } from './helpers.js';

const PYTHON = process.env.GENLAB_PYTHON ?? '/usr/bin/python3';

function torchMissing(): string | false {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return `${PYTHON} cannot import torch (install python3-torch); comparison skipped`;
  return false;
}

// Named float64 leaves, the same on both sides. x is [3, 2]; v, w and t2 broadcast against it.
const LEAVES: Record<string, { data: number[]; shape: number[] }> = {
  x: { data: [1, 2, 3, 4, 5, 6], shape: [3, 2] },
  v: { data: [0.25, 3.5], shape: [2] },
  col: { data: [0.5, 1.5, 4], shape: [3, 1] },
  logp: { data: [-1, -2, -0.5, -3, -2, -1], shape: [3, 2] },
  probs: { data: [0.3, 0.7], shape: [2] },
  logprobs: { data: [Math.log(0.3), Math.log(0.7)], shape: [2] },
  p: { data: [0.2, 0.7, 0.4, 0.9, 0.6, 0.1], shape: [3, 2] },
  t: { data: [0, 1, 1, 1, 0, 0.5], shape: [3, 2] },
  var: { data: [0.5, 2, 1.5], shape: [3, 1] },
  var2: { data: [0.5, 2, 1.5], shape: [3] },
};
// Fixed, non-leaf constants.
const WEIGHT2 = [0.5, 2];
const POS2 = [3, 0.5];
// Output weights for reduction 'none', so that every element's gradient counts differently.
const OUT_W = [1, -2, 0.5, 3, -1, 0.25];

interface Case {
  name: string;
  /** Leaves that take part; all but the constants require grad. */
  leaves: string[];
  js: (l: Record<string, Tensor>) => Tensor;
  /** The same in PyTorch, over the leaves by name plus W2, P2 (constants) and F. */
  py: string;
  none?: boolean;
}

const CASES: Case[] = [];
for (const reduction of ['mean', 'sum', 'none'] as const) {
  const r = `reduction='${reduction}'`;
  const none = reduction === 'none';
  CASES.push(
    {
      name: `mseLoss ${reduction}`,
      leaves: ['x', 'v'],
      js: (l) => F.mseLoss(l.x, l.v, { reduction }),
      py: `F.mse_loss(x, v, ${r})`,
      none,
    },
    {
      name: `mseLoss ${reduction}, input broadcast`,
      leaves: ['col', 'x'],
      js: (l) => F.mseLoss(l.col, l.x, { reduction }),
      py: `F.mse_loss(col, x, ${r})`,
      none,
    },
    {
      name: `l1Loss ${reduction}`,
      leaves: ['x', 'v'],
      js: (l) => F.l1Loss(l.x, l.v, { reduction }),
      py: `F.l1_loss(x, v, ${r})`,
      none,
    },
    {
      name: `huberLoss ${reduction}`,
      leaves: ['x', 'v'],
      js: (l) => F.huberLoss(l.x, l.v, { reduction, delta: 1.7 }),
      py: `F.huber_loss(x, v, ${r}, delta=1.7)`,
      none,
    },
    {
      name: `smoothL1Loss ${reduction}`,
      leaves: ['col', 'v'],
      js: (l) => F.smoothL1Loss(l.col, l.v, { reduction, beta: 2 }),
      py: `F.smooth_l1_loss(col, v, ${r}, beta=2.0)`,
      none,
    },
    {
      name: `smoothL1Loss beta 0 ${reduction}`,
      leaves: ['x', 'v'],
      js: (l) => F.smoothL1Loss(l.x, l.v, { reduction, beta: 0 }),
      py: `F.smooth_l1_loss(x, v, ${r}, beta=0.0)`,
      none,
    },
    {
      name: `klDiv ${reduction}`,
      leaves: ['logp', 'probs'],
      js: (l) => F.klDiv(l.logp, l.probs, { reduction }),
      py: `F.kl_div(logp, probs, ${r})`,
      none,
    },
    {
      name: `binaryCrossEntropy ${reduction}, broadcast weight`,
      leaves: ['p', 't'],
      js: (l) => F.binaryCrossEntropy(l.p, l.t, { reduction, weight: torch.tensor(WEIGHT2, { dtype: 'float64' }) }),
      py: `F.binary_cross_entropy(p, t, weight=W2, ${r})`,
      none,
    },
    {
      name: `binaryCrossEntropyWithLogits ${reduction}, broadcast weight and posWeight`,
      leaves: ['x', 't'],
      js: (l) =>
        F.binaryCrossEntropyWithLogits(l.x.sub(3), l.t, {
          reduction,
          weight: torch.tensor(WEIGHT2, { dtype: 'float64' }),
          posWeight: torch.tensor(POS2, { dtype: 'float64' }),
        }),
      py: `F.binary_cross_entropy_with_logits(x - 3, t, weight=W2, pos_weight=P2, ${r})`,
      none,
    },
    {
      name: `gaussianNllLoss ${reduction}, broadcast target and variance`,
      leaves: ['x', 'v', 'var'],
      js: (l) => F.gaussianNllLoss(l.x, l.v, l.var, { reduction, full: true }),
      py: `F.gaussian_nll_loss(x, v, var, full=True, ${r})`,
      none,
    },
    {
      name: `gaussianNllLoss ${reduction}, variance with one dim fewer`,
      leaves: ['x', 'v', 'var2'],
      js: (l) => F.gaussianNllLoss(l.x, l.v, l.var2, { reduction }),
      py: `F.gaussian_nll_loss(x, v, var2, ${r})`,
      none,
    },
  );
}
CASES.push(
  {
    name: 'klDiv batchmean',
    leaves: ['logp', 'probs'],
    js: (l) => F.klDiv(l.logp, l.probs, { reduction: 'batchmean' }),
    py: "F.kl_div(logp, probs, reduction='batchmean')",
  },
  {
    name: 'klDiv sum, logTarget',
    leaves: ['logp', 'logprobs'],
    js: (l) => F.klDiv(l.logp, l.logprobs, { reduction: 'sum', logTarget: true }),
    py: "F.kl_div(logp, logprobs, reduction='sum', log_target=True)",
  },
);

const SCRIPT = `
import json, sys, warnings, torch
import torch.nn.functional as F
warnings.simplefilter('ignore')
cfg = json.load(sys.stdin)
W2 = torch.tensor(cfg['w2'], dtype=torch.float64)
P2 = torch.tensor(cfg['p2'], dtype=torch.float64)
OUT_W = torch.tensor(cfg['outW'], dtype=torch.float64).reshape(3, 2)
out = []
for case in cfg['cases']:
    env = {'F': F, 'W2': W2, 'P2': P2}
    for name in case['leaves']:
        spec = cfg['leaves'][name]
        env[name] = torch.tensor(spec['data'], dtype=torch.float64).reshape(spec['shape']).requires_grad_()
    loss = eval(case['py'], env)
    (loss.mul(OUT_W).sum() if case.get('none') else loss).backward()
    out.append({'loss': loss.detach().reshape(-1).tolist(), 'grads': [env[n].grad.reshape(-1).tolist() for n in case['leaves']]})
print(json.dumps(out))
`;

describe('losses with broadcast operands match PyTorch 1.13', () => {
  test(`${CASES.length} cases: values and the gradients of every operand`, { skip: torchMissing() }, (t) => {
    const r = spawnSync(PYTHON, ['-c', SCRIPT], {
      input: JSON.stringify({ cases: CASES, leaves: LEAVES, w2: WEIGHT2, p2: POS2, outW: OUT_W }),
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(r.status, 0, `python failed: ${r.stderr}`);
    const expected = JSON.parse(r.stdout) as { loss: number[]; grads: number[][] }[];
    let exact = 0;
    let total = 0;
    CASES.forEach((c, i) => {
      torch.tidy(() => {
        const leaves: Record<string, Tensor> = {};
        for (const name of c.leaves) {
          const spec = LEAVES[name];
          leaves[name] = torch.tensor(spec.data, { dtype: 'float64' }).reshape(spec.shape).requiresGrad_();
        }
        const loss = c.js(leaves);
        (c.none ? loss.mul(torch.tensor(OUT_W, { dtype: 'float64' }).reshape(3, 2)).sum() : loss).backward();
        const got = [values(loss), ...c.leaves.map((n) => values(leaves[n].grad!))];
        const want = [expected[i].loss, ...expected[i].grads];
        got.forEach((g, k) => {
          assertClose(g, want[k], 1e-12, `${c.name}: ${k === 0 ? 'loss' : `grad of ${c.leaves[k - 1]}`}`);
          exact += g.filter((x, j) => x === want[k][j]).length;
          total += g.length;
        });
      });
    });
    t.diagnostic(`${exact} of ${total} values and gradients are bit-identical to PyTorch`);
  });

  test('mseLoss with a broadcast target: the hand-computed gradient of issue 23', () => {
    // d/dv mean((a − v)²) = −2·Σ_rows(a − v)/6 at v = 0: [−2·9/6, −2·12/6].
    const a = torch.tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const v = torch.zeros([2]).requiresGrad_();
    torch.tidy(() => F.mseLoss(a, v).backward());
    assert.deepEqual(values(v.grad!), [-3, -4]);
    // Same-shape operands are not copied: the gradient of a is 2(a − v)/6.
    const b = a.clone().requiresGrad_();
    torch.tidy(() => F.mseLoss(b, torch.zeros([3, 2])).backward());
    assertClose(
      b.grad!,
      [1, 2, 3, 4, 5, 6].map((x) => x / 3),
      1e-7,
    );
  });

  test('smoothL1Loss is huberLoss / beta; both are ½d² inside and linear outside', () => {
    const x = torch.tensor([0.5, -3, 1], { dtype: 'float64' });
    const y = torch.zeros([3], { dtype: 'float64' });
    // d = 0.5 (quadratic), 3 and 1 (linear at beta = delta = 0.8).
    const huber = [0.5 * 0.25, 0.8 * (3 - 0.4), 0.8 * (1 - 0.4)];
    assertClose(F.huberLoss(x, y, { delta: 0.8, reduction: 'none' }), huber, 1e-15);
    assertClose(
      F.smoothL1Loss(x, y, { beta: 0.8, reduction: 'none' }),
      huber.map((h) => h / 0.8),
      1e-15,
    );
    // delta 1 by default: 0.125, 3 − 0.5 and 1 − 0.5 (continuous at the boundary), averaged.
    assertClose(F.huberLoss(x, y), (0.125 + 2.5 + 0.5) / 3, 1e-15);
    assert.throws(() => F.huberLoss(x, y, { delta: 0 }), /delta must be positive/);
    assert.throws(() => F.smoothL1Loss(x, y, { beta: -1 }), /beta must not be negative/);
  });

  test('a size mismatch warns once per pair of shapes, as PyTorch warns', async () => {
    const seen: string[] = [];
    const listener = (w: Error) => seen.push(w.message);
    process.on('warning', listener);
    const a = torch.ones([4, 3]);
    for (let i = 0; i < 3; i++) torch.tidy(() => F.l1Loss(a, torch.zeros([3])));
    torch.tidy(() => F.l1Loss(a, torch.zeros([4, 3])));
    // Warnings are emitted on a later tick.
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', listener);
    const mine = seen.filter((m) => m.startsWith('l1Loss: a target of size [3] differs from the input size [4,3]'));
    assert.equal(mine.length, 1, JSON.stringify(seen));
    assert.ok(!seen.some((m) => m.includes('[4,3] differs')), 'equal sizes do not warn');
  });
});

describe('errors PyTorch raises', () => {
  test('binary cross entropy refuses a target of another size', () => {
    const p = torch.full([3, 2], 0.5);
    assert.throws(
      () => F.binaryCrossEntropy(p, torch.ones([2])),
      /target size \[2\] differs from the input size \[3,2\]/,
    );
    assert.throws(() => F.binaryCrossEntropyWithLogits(p, torch.ones([3, 1])), /must be the same as the input size/);
    // Same sizes still work: −log 0.5 per element.
    assertClose(F.binaryCrossEntropy(p, torch.ones([3, 2])), Math.LN2, 1e-6);
  });

  test('batch norm in training with one value per channel throws, and leaves the running variance alone', () => {
    const bn = new BatchNorm1d(3);
    assert.throws(
      () => bn.forward(torch.ones([1, 3])),
      /expected more than 1 value per channel when training.*\[1,3\]/,
    );
    assert.deepEqual(values(bn.runningVar!), [1, 1, 1]);
    const bn2 = new BatchNorm2d(2);
    assert.throws(() => bn2.forward(torch.ones([1, 2, 1, 1])), /more than 1 value per channel/);
    // One sample with several positions is fine, and so is eval mode with one value.
    assert.deepEqual(bn2.forward(torch.ones([1, 2, 1, 2])).shape, [1, 2, 1, 2]);
    bn.eval();
    assertClose(
      bn.forward(torch.ones([1, 3])),
      [1, 1, 1].map((x) => x / Math.sqrt(1 + 1e-5)),
      1e-6,
    );
    assert.throws(
      () => F.batchNorm(torch.ones([1, 4]), null, null, { training: true }),
      /more than 1 value per channel/,
    );
  });

  test('group norm with one value per group throws, with PyTorch’s size rule', () => {
    const gn = new GroupNorm(2, 2);
    // PyTorch checks N·C/G · ∏spatial > 1.
    assert.throws(() => gn.forward(torch.ones([1, 2])), /expected more than 1 value per channel.*\[1,2\]/);
    assert.throws(() => F.groupNorm(torch.ones([1, 4, 1]), 4), /more than 1 value per channel/);
    assert.throws(() => F.groupNorm(torch.ones([4]), 2), /at least 2 dims/);
    assertClose(
      F.groupNorm(torch.tensor([[1, 3]]), 1),
      [-1, 1].map((x) => x / Math.sqrt(1 + 1e-5)),
      1e-6,
    );
  });

  test('embedding: paddingIdx must be within the number of embeddings, negative allowed', () => {
    const w = torch.arange(0, 12, 1, { dtype: 'float32' }).reshape(4, 3).requiresGrad_();
    const idx = torch.tensor([0, 3, 3], { dtype: 'int64' });
    assert.throws(() => F.embedding(idx, w, { paddingIdx: 4 }), /paddingIdx 4 is not within the 4 embeddings/);
    assert.throws(() => F.embedding(idx, w, { paddingIdx: -5 }), /paddingIdx -5/);
    // −1 means row 3: it gets no gradient.
    torch.tidy(() => F.embedding(idx, w, { paddingIdx: -1 }).sum().backward());
    assert.deepEqual(values(w.grad!), [1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.throws(() => new Embedding(4, 3, { paddingIdx: 4 }), /out of range/);
  });
});
