// Weight normalisation: the forward against w = g·v/‖v‖ written out, float64 gradients against
// finite differences, PyTorch's torch.nn.utils.weight_norm on the same weights (values, gradients,
// and checkpoints both ways), the data-dependent initialisation, mean-only batch norm, and errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { torch } from '../../src/index.js';
import {
  Conv2d,
  Flatten,
  Linear,
  MeanOnlyBatchNorm,
  type Module,
  ReLU,
  Sequential,
  Tanh,
  utils,
} from '../../src/nn/index.js';
import type { Tensor } from '../../src/torch/tensor.js';
import { assertOneLineError } from '../bayes/helpers.js';
import { assertClose, assertGradcheck, values } from './helpers.js';

const f64 = { dtype: 'float64' as const };
const PYTHON = process.env.GENLAB_PYTHON ?? '/usr/bin/python3';
const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

function torchMissing(): string | false {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return `${PYTHON} cannot import torch (install python3-torch); comparison skipped`;
  return false;
}

/** w = g·v/‖v‖ spelled out: the norm over every dim but `dim` (all of them for null). */
function explicitWeight(v: Tensor, g: Tensor, dim: number | null): Tensor {
  const dims = Array.from({ length: v.ndim }, (_, i) => i).filter((i) => i !== dim);
  const norm = v
    .square()
    .sum(dims, { keepdim: dim !== null })
    .sqrt();
  return v.mul(g.div(norm));
}

function seeded(shape: number[], seed: number): Tensor {
  return torch.randn(shape, { ...f64, generator: new torch.Generator(seed) });
}

/** Central differences of loss() by each element of p, perturbed in place. */
function numericGrad(p: Tensor, loss: () => number, eps = 1e-6): number[] {
  const flat = p.view([-1]);
  const out: number[] = [];
  for (let i = 0; i < p.numel(); i++) {
    const x0 = flat.select(0, i).item();
    torch.noGrad(() => flat.select(0, i).fill_(x0 + eps));
    const up = loss();
    torch.noGrad(() => flat.select(0, i).fill_(x0 - eps));
    const down = loss();
    torch.noGrad(() => flat.select(0, i).fill_(x0));
    out.push((up - down) / (2 * eps));
  }
  return out;
}

describe('weightNorm', () => {
  const cases: { name: string; make: () => Module; x: number[]; dim: number | null }[] = [
    { name: 'Linear, dim 0', make: () => new Linear(4, 3, f64), x: [5, 4], dim: 0 },
    { name: 'Linear, dim 1', make: () => new Linear(4, 3, f64), x: [5, 4], dim: 1 },
    { name: 'Linear, whole tensor', make: () => new Linear(4, 3, f64), x: [5, 4], dim: null },
    { name: 'Conv2d, dim 0', make: () => new Conv2d(2, 3, 3, { ...f64, padding: 1 }), x: [2, 2, 5, 5], dim: 0 },
  ];

  for (const c of cases) {
    test(`${c.name}: forward = layer with g·v/‖v‖, and float64 gradients pass finite differences`, () => {
      torch.tidy(() => {
        const layer = utils.weightNorm(c.make(), { dim: c.dim });
        const g = layer.getParameter('weight_g');
        const v = layer.getParameter('weight_v');
        // Move g away from ‖v‖, so the test sees g and v separately.
        torch.noGrad(() => g.copy_(seeded(g.shape, 1).abs().add(0.5)));
        const x = seeded(c.x, 2);
        const w = explicitWeight(v, g, c.dim);
        const bias = layer.getParameter('bias');
        const expected =
          layer instanceof Conv2d ? torch.ops.conv2d(x, w, { bias, padding: [1, 1] }) : x.matmul(w.t()).add(bias);
        assertClose(layer.forward(x), values(expected), 1e-12);

        const r = seeded(expected.shape, 3);
        const loss = () => torch.noGrad(() => layer.forward(x).mul(r).sum().item());
        layer.forward(x).mul(r).sum().backward();
        for (const name of ['weight_g', 'weight_v', 'bias']) {
          const p = layer.getParameter(name);
          assertClose(p.grad as Tensor, numericGrad(p, loss), 1e-6, `${name} gradient`);
        }
        // The function behind it, through gradcheck as well.
        assertGradcheck(
          (vv, gg) => utils.weightNormValue(vv, gg, c.dim),
          [v.detach().requiresGrad_(true), g.detach().requiresGrad_(true)],
        );
        layer.dispose();
      });
    });
  }

  test('the parameters are named as PyTorch names them; removeWeightNorm gives back the same function', () => {
    torch.tidy(() => {
      const layer = new Linear(4, 3, f64);
      const x = seeded([2, 4], 4);
      const before = values(layer.forward(x));
      utils.weightNorm(layer);
      assert.deepEqual(Object.keys(layer.stateDict()), ['bias', 'weight_g', 'weight_v']);
      assert.deepEqual(layer.getParameter('weight_g').shape, [3, 1]);
      assertClose(layer.forward(x), before, 1e-12);
      utils.removeWeightNorm(layer);
      assert.deepEqual(Object.keys(layer.stateDict()), ['weight', 'bias']);
      assert.equal(layer.weight, layer.getParameter('weight'));
      assertClose(layer.forward(x), before, 1e-12);
      assert.equal(utils.hasWeightNorm(layer), false);
      layer.dispose();
    });
  });
});

describe('weightNorm against PyTorch', { skip: torchMissing() }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'genlab-wn-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  // One Python run does all of it (importing torch is the slow part). Given v, g, bias and x (and
  // the upstream gradient r), PyTorch's weight_norm layer computes the output and the gradients of
  // weight_g, weight_v and x; then it loads genlab's checkpoint and writes one of its own, through
  // the hand-written safetensors reader/writer of the interop test.
  const PEER = `
import json, sys
sys.path.insert(0, ${JSON.stringify(FIXTURES)})
import torch
from torch import nn
from safetensors_interop import read, write
req = json.load(sys.stdin)
out = []
for c in req['cases']:
    t = lambda k: torch.tensor(c[k], dtype=torch.float64).reshape(c[k + '_shape'])
    layer = (nn.Conv2d(c['cin'], c['cout'], 3, padding=1) if c['conv'] else nn.Linear(c['cin'], c['cout'])).double()
    layer = nn.utils.weight_norm(layer, dim=c['dim'])
    with torch.no_grad():
        layer.weight_g.copy_(t('g')); layer.weight_v.copy_(t('v')); layer.bias.copy_(t('b'))
    x = t('x').requires_grad_(True)
    y = layer(x)
    (y * t('r')).sum().backward()
    f = lambda a: a.detach().reshape(-1).tolist()
    out.append({'y': f(y), 'g': f(layer.weight_g.grad), 'v': f(layer.weight_v.grad), 'x': f(x.grad)})
torch.manual_seed(0)
def model():
    return nn.Sequential(nn.utils.weight_norm(nn.Conv2d(1, 3, 3)), nn.ReLU(), nn.Flatten(),
                         nn.utils.weight_norm(nn.Linear(3 * 4 * 4, 2), dim=None)).double()
x = torch.linspace(-1, 1, 2 * 36, dtype=torch.float64).reshape(2, 1, 6, 6)
loaded = model()
tensors, _ = read(req['ours'])
loaded.load_state_dict(tensors, strict=True)
saved = model()
with torch.no_grad():
    for p in saved.parameters(): p.add_(0.1)
write(req['theirs'], {k: v.contiguous() for k, v in saved.state_dict().items()}, {})
y = lambda m: m(x).detach().reshape(-1).tolist()
print(json.dumps({'cases': out, 'keys': sorted(loaded.state_dict().keys()), 'loaded': y(loaded), 'saved': y(saved)}))
`;

  interface Grads {
    y: number[];
    g: number[];
    v: number[];
    x: number[];
  }
  const specs = [
    { conv: false, dim: 0 },
    { conv: false, dim: 1 },
    { conv: false, dim: null },
    { conv: true, dim: 0 },
    { conv: true, dim: null },
  ];
  const ours: Grads[] = [];
  let peer: { cases: Grads[]; keys: string[]; loaded: number[]; saved: number[] };
  const oursFile = join(dir, 'ours.safetensors');
  const theirsFile = join(dir, 'theirs.safetensors');

  function ourModel(): Sequential {
    return new Sequential(
      utils.weightNorm(new Conv2d(1, 3, 3, f64)),
      new ReLU(),
      new Flatten(),
      utils.weightNorm(new Linear(3 * 4 * 4, 2, f64), { dim: null }),
    );
  }
  const input = () => torch.linspace(-1, 1, 72, f64).reshape([2, 1, 6, 6]);
  let saved: Sequential;

  before(() => {
    const cases = torch.tidy(() =>
      specs.map((s, i) => {
        const layer = utils.weightNorm(s.conv ? new Conv2d(2, 3, 3, { ...f64, padding: 1 }) : new Linear(4, 3, f64), {
          dim: s.dim,
        });
        const g = layer.getParameter('weight_g');
        torch.noGrad(() =>
          g.copy_(
            seeded(g.shape, 10 + i)
              .abs()
              .add(0.5),
          ),
        );
        const x = seeded(s.conv ? [2, 2, 4, 4] : [5, 4], 20 + i).requiresGrad_(true);
        const y = layer.forward(x);
        const r = seeded(y.shape, 30 + i);
        y.mul(r).sum().backward();
        const v = layer.getParameter('weight_v');
        ours.push({
          y: values(y),
          g: values(g.grad as Tensor),
          v: values(v.grad as Tensor),
          x: values(x.grad as Tensor),
        });
        const entry = (k: string, t: Tensor) => ({ [k]: values(t), [`${k}_shape`]: t.shape });
        const c = { conv: s.conv, cin: s.conv ? 2 : 4, cout: 3, dim: s.dim };
        Object.assign(c, entry('g', g), entry('v', v), entry('b', layer.getParameter('bias')));
        Object.assign(c, entry('x', x), entry('r', r));
        layer.dispose();
        return c;
      }),
    );
    saved = ourModel();
    torch.tidy(() => torch.save(saved.stateDict(), oursFile));
    const req = { cases, ours: oursFile, theirs: theirsFile };
    const run = spawnSync(PYTHON, ['-c', PEER], { input: JSON.stringify(req), encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    peer = JSON.parse(run.stdout);
  });

  test('forward values and gradients of weight_g, weight_v and the input, Linear and Conv2d, dims 0, 1, None', () => {
    for (let i = 0; i < specs.length; i++) {
      for (const k of ['y', 'g', 'v', 'x'] as const) {
        assertClose(ours[i][k], peer.cases[i][k], 1e-10, `case ${i} ${k}`);
      }
    }
  });

  test('a genlab checkpoint loads into PyTorch weight_norm modules and computes the same', () => {
    torch.tidy(() => {
      assert.deepEqual(peer.keys, Object.keys(saved.stateDict()).sort());
      assertClose(saved.forward(input()), peer.loaded, 1e-12);
      saved.dispose();
    });
  });

  test('a PyTorch weight_norm checkpoint (weight_g, weight_v) loads into genlab and computes the same', () => {
    torch.tidy(() => {
      const m = ourModel();
      m.loadStateDict(torch.load(theirsFile));
      assertClose(m.forward(input()), peer.saved, 1e-12);
      m.dispose();
    });
  });
});

describe('data-dependent initialisation', () => {
  test('pre-activations on the init batch have mean 0 and sd 1 (±1e-3) in every layer', () => {
    torch.tidy(() => {
      torch.manualSeed(5);
      const model = new Sequential(
        utils.weightNorm(new Conv2d(1, 6, 3, { padding: 1 })),
        new ReLU(),
        utils.weightNorm(new Conv2d(6, 8, 3, { stride: 2 })),
        new Tanh(),
        new Flatten(),
        utils.weightNorm(new Linear(8 * 3 * 3, 16)),
        new ReLU(),
        utils.weightNorm(new Linear(16, 10)),
      );
      const batch = torch.rand([64, 1, 8, 8]).mul(3).add(1);
      const seen = utils.dataDependentInit(model, batch);
      assert.deepEqual(Object.keys(seen), ['0', '2', '5', '7']);
      // Before the init the statistics were far from (0, 1): the test is not vacuous.
      assert.ok(seen['0'].std.some((s) => Math.abs(s - 1) > 0.05));
      // Every layer's output on the same batch, afterwards.
      const outputs: Tensor[] = [];
      let h = batch;
      for (const [i, layer] of model.namedChildren()) {
        h = layer.forward(h);
        if (i in seen) outputs.push(h);
      }
      for (const [k, out] of outputs.entries()) {
        const axis = out.ndim === 4 ? 1 : 1;
        const units = out.transpose(0, axis).reshape([out.shape[axis], -1]);
        const mean = values(units.mean(1));
        const sd = values(units.var(1, { correction: 0 }).sqrt());
        for (const m of mean) assert.ok(Math.abs(m) < 1e-3, `layer ${k}: mean ${m}`);
        for (const s of sd) assert.ok(Math.abs(s - 1) < 1e-3, `layer ${k}: sd ${s}`);
      }
      model.dispose();
    });
  });
});

describe('MeanOnlyBatchNorm', () => {
  test('subtracts the batch mean per channel while training, the running mean at evaluation', () => {
    torch.tidy(() => {
      const bn = new MeanOnlyBatchNorm(3, { ...f64, momentum: 0.25 });
      torch.noGrad(() => bn.bias?.copy_(torch.tensor([1, -2, 0.5], f64)));
      const x = seeded([4, 3, 2, 2], 40).add(torch.tensor([3, -1, 7], f64).view([1, 3, 1, 1]));
      const mean = x.mean([0, 2, 3]);
      const y = bn.forward(x);
      // Per channel: mean = bias, and the spread is untouched.
      assertClose(y.mean([0, 2, 3]), [1, -2, 0.5], 1e-12);
      assertClose(
        y.sub(x),
        values(torch.tensor([1, -2, 0.5], f64).sub(mean).view([1, 3, 1, 1]).expand([4, 3, 2, 2])),
        1e-12,
      );
      assertClose(bn.runningMean, values(mean.mul(0.25)), 1e-12);
      bn.eval();
      const z = seeded([2, 3], 41);
      assertClose(bn.forward(z), values(z.sub(mean.mul(0.25)).add(torch.tensor([1, -2, 0.5], f64))), 1e-12);
      bn.dispose();
    });
  });
});

describe('weight-norm errors', () => {
  test('a module without that parameter, a dim out of range, twice on one weight', () => {
    assertOneLineError(
      () => utils.weightNorm(new ReLU()),
      /weightNorm: ReLU has no parameter 'weight'; it has no parameters/,
    );
    const layer = new Linear(3, 2);
    assertOneLineError(
      () => utils.weightNorm(layer, { name: 'kernel' }),
      /no parameter 'kernel'; its parameters are 'weight', 'bias'/,
    );
    assertOneLineError(() => utils.weightNorm(layer, { dim: 2 }), /dim 2 is out of range .* shape \[2,3\]/);
    utils.weightNorm(layer);
    assertOneLineError(() => utils.weightNorm(layer), /weight-normalised already/);
    assertOneLineError(() => utils.removeWeightNorm(new Linear(3, 2)), /is not weight-normalised/);
    assertOneLineError(
      () => utils.dataDependentInit(new Sequential(new Linear(3, 2)), torch.zeros([1, 3])),
      /no weight-normalised layer/,
    );
    layer.dispose();
  });
});
