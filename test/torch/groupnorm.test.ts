// genlab's GroupNorm kernel for channels-last tensors (native/src/norm_kernels.cc), against ATen's
// group_norm in float64 as the reference, by finite differences, and through double backward.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { torch } from '../../src/index.js';
import { grad } from '../../src/torch/autograd.js';
import { N } from '../../src/torch/native.js';
import { handle, type Tensor } from '../../src/torch/tensor.js';
import { assertWeightGradientByCentralDifference } from './norm-helpers.js';

const maxAbs = (a: Tensor, b: Tensor) => a.to('float64').sub(b.to('float64')).abs().max().item();
const norm = (a: Tensor) => a.to('float64').abs().max().item();

interface Case {
  shape: [number, number, number, number];
  groups: number;
  affine: boolean;
  /** Added to x: a large mean tests that the variance does not cancel away. */
  offset: number;
}

const CASES: Case[] = [
  { shape: [4, 32, 8, 8], groups: 8, affine: true, offset: 0 }, // the VDM U-Net's blocks
  { shape: [2, 6, 5, 3], groups: 3, affine: true, offset: 0 }, // odd pixel count, 2 channels a group
  { shape: [3, 5, 4, 4], groups: 5, affine: false, offset: 0 }, // one channel a group, no weight or bias
  { shape: [2, 16, 7, 7], groups: 4, affine: true, offset: 100 },
  { shape: [2, 44, 3, 5], groups: 11, affine: true, offset: 0 }, // 32 + 8 channels in vectors, 4 in the scalar tail
];

/** Output and gradients of groupNorm on x laid out channels-last, with every input a leaf. */
function run(c: Case, dtype: 'float32' | 'float64', seed: number) {
  const g = new torch.Generator(seed);
  const [, ch] = c.shape;
  const x0 = torch.randn(c.shape, { generator: g }).mul(1.5).add(c.offset);
  const w0 = torch.randn([ch], { generator: g }).mul(0.5).add(1);
  const b0 = torch.randn([ch], { generator: g });
  const up = torch.randn(c.shape, { generator: g });
  const x = x0.to(dtype).contiguous('channelsLast').requiresGrad_(true);
  const weight = c.affine ? w0.to(dtype).requiresGrad_(true) : null;
  const bias = c.affine ? b0.to(dtype).requiresGrad_(true) : null;
  const y = torch.groupNorm(x, c.groups, { weight, bias, eps: 1e-5 });
  const leaves = [x, ...(weight && bias ? [weight, bias] : [])];
  const grads = grad(y, leaves, { gradOutputs: [up.to(dtype).contiguous('channelsLast')] });
  return { y, grads: grads.map((t) => t!) };
}

test('groupNorm of channels-last float32: output and gradients match ATen in float64 to float32 rounding', () => {
  for (const [i, c] of CASES.entries()) {
    torch.tidy(() => {
      const ours = run(c, 'float32', i);
      const reference = run(c, 'float64', i); // float64 takes ATen's group_norm
      assert.match(ours.y.gradFn ?? '', /GroupNormChannelsLast/, 'the native node ran');
      assert.doesNotMatch(reference.y.gradFn ?? '', /GroupNormChannelsLast/);
      assert.ok(ours.y.isContiguous('channelsLast'), 'the output stays channels-last');
      const yErr = maxAbs(ours.y, reference.y) / norm(reference.y);
      assert.ok(yErr < 2e-6, `case ${i}: output relative error ${yErr}`);
      ours.grads.forEach((t, k) => {
        const err = maxAbs(t, reference.grads[k]) / norm(reference.grads[k]);
        assert.ok(err < 1e-5, `case ${i}, gradient ${k}: relative error ${err}`);
      });
    });
  }
});

test('groupNorm of channels-last float32: the weight gradient matches a central difference', () => {
  assertWeightGradientByCentralDifference(
    (x, groups, weight, bias) => torch.groupNorm(x, groups, { weight, bias }),
    'channelsLast',
  );
});

/** GroupNorm as elementary ops, which autograd differentiates twice (ATen's own group_norm has no second derivative in libtorch 1.13). */
function composite(x: Tensor, groups: number, weight: Tensor, bias: Tensor): Tensor {
  const [n, c, h, w] = x.shape;
  const xg = x.reshape([n, groups, -1]);
  const m = xg.mean(-1, { keepdim: true });
  const xhat = xg
    .sub(m)
    .div(xg.sub(m).square().mean(-1, { keepdim: true }).add(1e-5).sqrt())
    .reshape([n, c, h, w]);
  return xhat.mul(weight.view(1, c, 1, 1)).add(bias.view(1, c, 1, 1));
}

test('groupNorm of channels-last float32: double backward matches the composite ops in float64', () => {
  torch.tidy(() => {
    const g = new torch.Generator(10);
    const x0 = torch.randn([2, 8, 3, 3], { generator: g });
    const w0 = torch.rand([8], { generator: g }).add(0.5);
    const b0 = torch.randn([8], { generator: g });
    const second = (dtype: 'float32' | 'float64', f: typeof composite) => {
      const x = x0.to(dtype).contiguous('channelsLast').requiresGrad_(true);
      const weight = w0.to(dtype).requiresGrad_(true);
      const bias = b0.to(dtype).requiresGrad_(true);
      const [gx] = grad(f(x, 4, weight, bias).square().sum(), [x], { createGraph: true });
      return grad(gx!.square().sum(), [weight, x]);
    };
    const ours = second('float32', (x, groups, weight, bias) => torch.groupNorm(x, groups, { weight, bias }));
    const reference = second('float64', composite);
    for (let k = 0; k < 2; k++) {
      const err = maxAbs(ours[k]!, reference[k]!) / norm(reference[k]!);
      assert.ok(err < 1e-4, `second-order gradient ${k}: relative error ${err}`);
    }
  });
});

test('groupNorm: row-major and other inputs take ATen; the kernel refuses what it cannot read', () => {
  torch.tidy(() => {
    const x = torch.randn([2, 4, 3, 3]);
    assert.doesNotMatch(torch.groupNorm(x.requiresGrad_(true), 2).gradFn ?? '', /GroupNormChannelsLast/);
    const before = torch.useFusedKernels(false);
    try {
      const off = torch.groupNorm(x.contiguous('channelsLast').requiresGrad_(true), 2);
      assert.doesNotMatch(off.gradFn ?? '', /GroupNormChannelsLast/, 'the switch turns it off');
    } finally {
      torch.useFusedKernels(before);
    }
    const last = x.detach().contiguous('channelsLast');
    assert.throws(() => N.groupNormChannelsLast(handle(x.detach()), null, null, 2, 1e-5), /channels-last float32/);
    assert.throws(() => N.groupNormChannelsLast(handle(last), null, null, 3, 1e-5), /groups must divide the 4/);
    // Through torch.groupNorm a bad group count reaches ATen, and its message.
    assert.throws(() => torch.groupNorm(last, 3), /divisible by num_groups/);
    assert.throws(
      () => N.groupNormChannelsLast(handle(last), handle(torch.ones([3])), null, 2, 1e-5),
      /float32 CPU vectors of 4 values/,
    );
  });
});
