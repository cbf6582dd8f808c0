// Global average pooling's own autograd node (native/src/pool_kernels.cc) against ATen's
// adaptive_avg_pool2d: the same bits forward, backward and in double backward, and a central difference.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nn, torch } from '../../src/index.js';
import { grad } from '../../src/torch/autograd.js';
import { N } from '../../src/torch/native.js';
import { handle, type Tensor } from '../../src/torch/tensor.js';

const aten = (x: Tensor) => torch.ops.adaptiveAvgPool2d(x, [1, 1]);
const ours = (x: Tensor) => torch.adaptiveAvgPool2d(x, 1);

interface Case {
  shape: number[];
  dtype: 'float32' | 'float64';
  layout: 'contiguous' | 'channelsLast';
}

const CASES: Case[] = [
  { shape: [8, 32, 28, 28], dtype: 'float32', layout: 'contiguous' }, // bench:engine's conv net, at batch 8
  { shape: [3, 5, 7, 9], dtype: 'float32', layout: 'contiguous' }, // 63 pixels: rows that end mid-vector
  { shape: [2, 12, 5, 6], dtype: 'float32', layout: 'channelsLast' },
  { shape: [6, 4, 11], dtype: 'float32', layout: 'contiguous' }, // [C, H, W]
  { shape: [2, 3, 4, 5], dtype: 'float64', layout: 'contiguous' },
];

/**
 * The pool of x, and the gradient of (pool(x)² · w).sum() with respect to x: as a plain backward
 * computes it, and again with its graph (create_graph), which takes another path.
 */
function firstOrder(pool: (x: Tensor) => Tensor, c: Case, seed: number) {
  const g = new torch.Generator(seed);
  const x0 = torch.randn(c.shape, { generator: g, dtype: c.dtype }).mul(3);
  const x = (c.layout === 'channelsLast' ? x0.contiguous('channelsLast') : x0).requiresGrad_(true);
  const y = pool(x);
  const w = torch.randn(y.shape, { generator: g, dtype: c.dtype }).requiresGrad_(true);
  const loss = y.square().mul(w).sum();
  const [gx] = grad(loss, [x], { retainGraph: true });
  const [gxGraph] = grad(loss, [x], { createGraph: true });
  return { x, y, w, gx: gx!, gxGraph: gxGraph! };
}

test('global average pooling: output, gradient and double backward are bit for bit ATen’s', () => {
  for (const [i, c] of CASES.entries()) {
    torch.tidy(() => {
      const a = firstOrder(ours, c, i);
      const b = firstOrder(aten, c, i);
      assert.match(a.y.gradFn ?? '', /GlobalAvgPool/, `case ${i}: the native node ran`);
      assert.doesNotMatch(b.y.gradFn ?? '', /GlobalAvgPool/);
      assert.deepEqual(a.y.shape, b.y.shape);
      assert.ok(a.y.equal(b.y), `case ${i}: forward`);
      assert.ok(a.gx.equal(b.gx), `case ${i}: gradient`);
      assert.ok(a.gxGraph.equal(b.gx), `case ${i}: gradient under create_graph`);
      if (c.layout === 'channelsLast') assert.ok(a.gx.isContiguous('channelsLast'), 'the gradient keeps the layout');
      // Second order: through the pooled value squared, and through the weight.
      const v = torch.randn(c.shape, { generator: new torch.Generator(100 + i), dtype: c.dtype });
      const [axx, axw] = grad(a.gxGraph.mul(v).sum(), [a.x, a.w]);
      const [bxx, bxw] = grad(b.gxGraph.mul(v).sum(), [b.x, b.w]);
      assert.ok(axx!.equal(bxx!), `case ${i}: second derivative in x`);
      assert.ok(axw!.equal(bxw!), `case ${i}: mixed second derivative`);
    });
  }
});

test('global average pooling: the gradient matches a central difference', () => {
  torch.tidy(() => {
    const x = torch.randn([2, 3, 4, 5], { generator: new torch.Generator(7), dtype: 'float64' });
    const result = torch.gradcheck((t) => ours(t).square(), [x.requiresGrad_(true)]);
    assert.ok(result.ok, JSON.stringify(result));
  });
});

test('global average pooling: other sizes, no gradient and the switch take ATen; bad ranks are refused', () => {
  torch.tidy(() => {
    const x = torch.randn([2, 3, 4, 4]).requiresGrad_(true);
    assert.match(new nn.AdaptiveAvgPool2d(1).forward(x).gradFn ?? '', /GlobalAvgPool/, 'the layer uses it');
    assert.match(ours(x.detach().requiresGrad_(true)).gradFn ?? '', /GlobalAvgPool/);
    assert.match(torch.adaptiveAvgPool2d(x, [1, 1]).gradFn ?? '', /GlobalAvgPool/);
    assert.doesNotMatch(torch.adaptiveAvgPool2d(x, [2, 1]).gradFn ?? '', /GlobalAvgPool/);
    assert.equal(torch.noGrad(() => ours(x)).gradFn, null);
    const before = torch.useFusedKernels(false);
    try {
      assert.doesNotMatch(ours(x).gradFn ?? '', /GlobalAvgPool/, 'the switch turns it off');
    } finally {
      torch.useFusedKernels(before);
    }
    assert.throws(() => N.globalAvgPool(handle(torch.randn([4, 4]))), /3 or 4 dimensions/);
  });
});
