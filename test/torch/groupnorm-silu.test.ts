// genlab's fused GroupNorm + SiLU (native/src/norm_silu_kernels.cc), row-major and channels-last,
// against ATen's group_norm and silu in float64, by a central difference, through double backward,
// across thread counts, and as nn.Sequential uses it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nn, torch } from '../../src/index.js';
import { grad } from '../../src/torch/autograd.js';
import { N } from '../../src/torch/native.js';
import { handle, type Tensor } from '../../src/torch/tensor.js';
import { assertWeightGradientByCentralDifference } from './norm-helpers.js';

const maxAbs = (a: Tensor, b: Tensor) => a.to('float64').sub(b.to('float64')).abs().max().item();
const norm = (a: Tensor) => a.to('float64').abs().max().item();
const reference = (x: Tensor, groups: number, weight: Tensor | null, bias: Tensor | null) =>
  torch.ops.silu(torch.groupNorm(x, groups, { weight, bias }));

interface Case {
  shape: [number, number, number, number];
  groups: number;
  affine: boolean;
  /** Added to x: a large mean tests that the variance does not cancel away. */
  offset: number;
  /** Multiplies x: large values test the exponential's range. */
  scale: number;
}

const CASES: Case[] = [
  { shape: [4, 32, 28, 28], groups: 8, affine: true, offset: 0, scale: 1.5 }, // the conv net's blocks, at batch 4
  { shape: [3, 6, 5, 3], groups: 3, affine: true, offset: 0, scale: 1.5 }, // 15 pixels: every run ends in the scalar tail
  { shape: [2, 5, 4, 4], groups: 5, affine: false, offset: 0, scale: 1.5 }, // one channel a group, no weight or bias
  { shape: [2, 16, 7, 7], groups: 4, affine: true, offset: 100, scale: 1.5 },
  { shape: [2, 8, 6, 6], groups: 2, affine: true, offset: 0, scale: 40 }, // SiLU far into both tails
  { shape: [2, 24, 5, 5], groups: 6, affine: true, offset: 0, scale: 1.5 }, // channels-last: a 16- and an 8-channel block
];
const LAYOUTS = ['contiguous', 'channelsLast'] as const;
type Layout = (typeof LAYOUTS)[number];

/** Output and gradients of fn on the case's x, in `layout`, with every input a leaf. */
function run(c: Case, dtype: 'float32' | 'float64', seed: number, layout: Layout, fn = torch.groupNormSilu) {
  const g = new torch.Generator(seed);
  const [, ch] = c.shape;
  const x0 = torch.randn(c.shape, { generator: g }).mul(c.scale).add(c.offset);
  const w0 = torch.randn([ch], { generator: g }).mul(0.5).add(1);
  const b0 = torch.randn([ch], { generator: g });
  const up = torch.randn(c.shape, { generator: g });
  const x = x0.to(dtype).contiguous(layout).requiresGrad_(true);
  const weight = c.affine ? w0.to(dtype).requiresGrad_(true) : null;
  const bias = c.affine ? b0.to(dtype).requiresGrad_(true) : null;
  const y = fn(x, c.groups, { weight, bias, eps: 1e-5 });
  const leaves = [x, ...(weight && bias ? [weight, bias] : [])];
  const grads = grad(y, leaves, { gradOutputs: [up.to(dtype).contiguous(layout)] });
  return { y, grads: grads.map((t) => t!) };
}

test('groupNormSilu of float32, in both layouts: output and gradients match ATen’s group_norm and silu in float64 to float32 rounding', () => {
  for (const layout of LAYOUTS) {
    for (const [i, c] of CASES.entries()) {
      torch.tidy(() => {
        const ours = run(c, 'float32', i, layout);
        const exact = run(c, 'float64', i, 'contiguous', (x, groups, o) =>
          reference(x, groups, o?.weight ?? null, o?.bias ?? null),
        );
        assert.match(ours.y.gradFn ?? '', /GroupNormSilu/, 'the fused node ran');
        assert.ok(ours.y.isContiguous(layout), 'the output keeps the layout');
        assert.ok(ours.grads[0].isContiguous(layout), 'so does the input gradient');
        const yErr = maxAbs(ours.y, exact.y) / norm(exact.y);
        assert.ok(yErr < 2e-6, `${layout} case ${i}: output relative error ${yErr}`);
        ours.grads.forEach((t, k) => {
          const err = maxAbs(t, exact.grads[k]) / norm(exact.grads[k]);
          assert.ok(err < 1e-5, `${layout} case ${i}, gradient ${k}: relative error ${err}`);
        });
      });
    }
  }
});

test('groupNormSilu: the weight gradient matches a central difference, in both layouts', () => {
  for (const layout of LAYOUTS) {
    assertWeightGradientByCentralDifference(
      (x, groups, weight, bias) => torch.groupNormSilu(x, groups, { weight, bias }),
      layout,
    );
  }
});

test('groupNormSilu: double backward matches ATen’s ops in float64, in both layouts', () => {
  for (const layout of LAYOUTS)
    torch.tidy(() => {
      const g = new torch.Generator(10);
      const x0 = torch.randn([2, 8, 3, 3], { generator: g });
      const w0 = torch.rand([8], { generator: g }).add(0.5);
      const b0 = torch.randn([8], { generator: g });
      // ATen's group_norm has no second derivative in libtorch 1.13, so the float64 side is elementary ops.
      const composite = (x: Tensor, weight: Tensor, bias: Tensor) => {
        const xg = x.reshape([2, 4, -1]);
        const m = xg.mean(-1, { keepdim: true });
        const xhat = xg
          .sub(m)
          .div(xg.sub(m).square().mean(-1, { keepdim: true }).add(1e-5).sqrt())
          .reshape([2, 8, 3, 3]);
        return torch.ops.silu(xhat.mul(weight.view(1, 8, 1, 1)).add(bias.view(1, 8, 1, 1)));
      };
      const second = (dtype: 'float32' | 'float64', f: (x: Tensor, w: Tensor, b: Tensor) => Tensor) => {
        const x = x0
          .to(dtype)
          .contiguous(dtype === 'float32' ? layout : 'contiguous')
          .requiresGrad_(true);
        const weight = w0.to(dtype).requiresGrad_(true);
        const bias = b0.to(dtype).requiresGrad_(true);
        const [gx] = grad(f(x, weight, bias).square().sum(), [x], { createGraph: true });
        return grad(gx!.square().sum(), [weight, x]);
      };
      const ours = second('float32', (x, weight, bias) => torch.groupNormSilu(x, 4, { weight, bias }));
      const exact = second('float64', composite);
      for (let k = 0; k < 2; k++) {
        const err = maxAbs(ours[k]!, exact[k]!) / norm(exact[k]!);
        assert.ok(err < 1e-4, `${layout}: second-order gradient ${k}: relative error ${err}`);
      }
    });
});

test('groupNormSilu gives the same bits on one thread and on two, in both layouts', () => {
  const before = torch.getNumThreads();
  const c = CASES[0];
  for (const layout of LAYOUTS) {
    const on = (threads: number) =>
      torch.tidy(() => {
        torch.setNumThreads(threads);
        const r = run(c, 'float32', 0, layout);
        return [r.y, ...r.grads].map((t) => t.keep());
      });
    const one = on(1);
    const two = on(2);
    torch.setNumThreads(before);
    for (const [k, t] of one.entries()) assert.ok(t.equal(two[k]), `${layout}: tensor ${k}`);
    torch.dispose([...one, ...two]);
  }
});

test('groupNormSilu: other layouts, dtypes and the switch take ATen; the kernel refuses what it cannot read', () => {
  torch.tidy(() => {
    const x = torch.randn([2, 4, 3, 3]).requiresGrad_(true);
    assert.doesNotMatch(torch.groupNormSilu(x.transpose(2, 3), 2).gradFn ?? '', /GroupNormSilu/);
    assert.doesNotMatch(torch.groupNormSilu(x.double(), 2).gradFn ?? '', /GroupNormSilu/);
    assert.doesNotMatch(
      torch.groupNormSilu(torch.randn([2, 4, 9]).requiresGrad_(true), 2).gradFn ?? '',
      /GroupNormSilu/,
    );
    const before = torch.useFusedKernels(false);
    try {
      assert.doesNotMatch(torch.groupNormSilu(x, 2).gradFn ?? '', /GroupNormSilu/, 'the switch turns it off');
    } finally {
      torch.useFusedKernels(before);
    }
    const plain = x.detach();
    assert.throws(
      () => N.groupNormSilu(handle(plain.transpose(2, 3)), null, null, 2, 1e-5),
      /row-major or channels-last/,
    );
    assert.throws(() => N.groupNormSilu(handle(plain), null, null, 3, 1e-5), /groups must divide the 4/);
    assert.throws(() => N.groupNormSilu(handle(plain), handle(torch.ones([3])), null, 2, 1e-5), /vectors of 4 values/);
    // Through torch.groupNormSilu a bad group count reaches ATen, and its message.
    assert.throws(() => torch.groupNormSilu(plain, 3), /divisible by num_groups/);
  });
});

test('nn.Sequential runs GroupNorm → SiLU as the fused node, unless either layer is watched or a subclass', () => {
  torch.tidy(() => {
    torch.manualSeed(4);
    const x = torch.randn([2, 8, 5, 5]).requiresGrad_(true);
    const pair = new nn.Sequential(new nn.GroupNorm(2, 8), new nn.SiLU());
    const y = pair.forward(x);
    assert.match(y.gradFn ?? '', /GroupNormSilu/);
    const apart = new nn.SiLU().forward(new nn.GroupNorm(2, 8).forward(x));
    assert.ok(maxAbs(y, apart) / norm(apart) < 2e-6);

    const silu = new nn.SiLU();
    const seen: Tensor[] = [];
    const plainForward = silu.forward.bind(silu);
    silu.forward = (t: Tensor) => {
      seen.push(t);
      return plainForward(t);
    };
    assert.doesNotMatch(new nn.Sequential(new nn.GroupNorm(2, 8), silu).forward(x).gradFn ?? '', /GroupNormSilu/);
    assert.equal(seen.length, 1, 'a watched SiLU sees its input');

    class ScaledNorm extends nn.GroupNorm {
      override forward(t: Tensor): Tensor {
        return super.forward(t).mul(2);
      }
    }
    const sub = new nn.Sequential(new ScaledNorm(2, 8), new nn.SiLU()).forward(x);
    assert.ok(
      maxAbs(sub, torch.ops.silu(new nn.GroupNorm(2, 8).forward(x).mul(2))) < 1e-6,
      'a subclass keeps its forward',
    );
  });
});

test('nn.Sequential with the fused pair between convolutions: output and parameter gradients match the layers one by one', () => {
  torch.tidy(() => {
    torch.manualSeed(5);
    const net = new nn.Sequential(
      new nn.Conv2d(3, 8, 3, { padding: 1 }),
      new nn.GroupNorm(4, 8),
      new nn.SiLU(),
      new nn.Conv2d(8, 4, 3, { padding: 1 }),
    );
    const x = torch.randn([2, 3, 6, 6]);
    const grads = (y: Tensor) => grad(y.square().sum(), net.parameters());
    const fused = net.forward(x);
    let h = x;
    for (const layer of net) h = layer.forward(h);
    assert.ok(maxAbs(fused, h) / norm(h) < 2e-6, 'output');
    const a = grads(fused);
    const b = grads(h);
    for (const [k, t] of a.entries()) assert.ok(maxAbs(t!, b[k]!) / norm(b[k]!) < 1e-5, `parameter ${k}`);
  });
});

test('GroupNorm.forwardSilu is the fused node, but a watched instance or a subclass runs its own forward, then SiLU', () => {
  torch.tidy(() => {
    torch.manualSeed(6);
    const x = torch.randn([2, 8, 5, 5]).contiguous('channelsLast').requiresGrad_(true);
    const layer = new nn.GroupNorm(2, 8);
    const fused = layer.forwardSilu(x);
    assert.match(fused.gradFn ?? '', /GroupNormSilu/);
    const apart = torch.ops.silu(layer.forward(x));
    assert.ok(maxAbs(fused, apart) / norm(apart) < 2e-6);

    const seen: Tensor[] = [];
    const plainForward = layer.forward.bind(layer);
    layer.forward = (t: Tensor) => {
      seen.push(t);
      return plainForward(t);
    };
    assert.doesNotMatch(layer.forwardSilu(x).gradFn ?? '', /GroupNormSilu/);
    assert.equal(seen.length, 1, 'the watcher sees the call');

    class ShiftedNorm extends nn.GroupNorm {
      override forward(t: Tensor): Tensor {
        return super.forward(t).add(1);
      }
    }
    const shifted = new ShiftedNorm(2, 8).forwardSilu(x);
    assert.ok(
      maxAbs(shifted, torch.ops.silu(new nn.GroupNorm(2, 8).forward(x).add(1))) < 1e-6,
      'the subclass forward ran',
    );
  });
});
