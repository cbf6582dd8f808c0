import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countMacs } from '../../src/metrics/macs.js';
import { PseudoInvBottleneck } from '../../src/nas/ops.js';
import { GELU, ReLU } from '../../src/nn/layers/activation.js';
import { Sequential } from '../../src/nn/layers/container.js';
import { Conv2d } from '../../src/nn/layers/conv.js';
import { Flatten, Linear } from '../../src/nn/layers/linear.js';
import { BatchNorm2d } from '../../src/nn/layers/norm.js';
import { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d } from '../../src/nn/layers/pooling.js';
import { Module } from '../../src/nn/module.js';
import { randn } from '../../src/torch/creation.js';
import type { Tensor } from '../../src/torch/tensor.js';

test('MACs of conv, depthwise, grouped, pooling and linear layers agree with hand counts', () => {
  const net = new Sequential(
    new Conv2d(3, 8, 3, { padding: 1 }), // out 8×10×10 = 800: 800·3·9 + 800 (bias) = 22,400
    new Conv2d(8, 8, 3, { stride: 2, padding: 1, groups: 8, bias: false }), // out 8×5×5 = 200: 200·1·9 = 1,800
    new Conv2d(8, 4, 1, { groups: 2, bias: false }), // out 4×5×5 = 100: 100·4·1 = 400
    new MaxPool2d(3, { stride: 1, padding: 1 }), // one per input element: 100
    new AvgPool2d(3, { stride: 1, padding: 1, countIncludePad: false }), // 100
    new AdaptiveAvgPool2d(1), // 100
    new Flatten(),
    new Linear(4, 3), // 3·4 + 3 (bias) = 15
  );
  // A batch of 2: the count is per example.
  const r = countMacs(net, randn([2, 3, 10, 10]));
  const by = Object.fromEntries(r.layers.map((l) => [l.name, l.macs]));
  assert.deepEqual(by, { '0': 22400, '1': 1800, '2': 400, '3': 100, '4': 100, '5': 100, '7': 15 });
  assert.equal(r.total, 22400 + 1800 + 400 + 300 + 15);
  assert.equal(r.byType.Conv2d, 24600);
  net.dispose();
});

test('MACs count the calls a forward actually makes: a layer used twice counts twice, an unused one not at all', () => {
  class Twice extends Module<[Tensor], Tensor> {
    conv = new Conv2d(2, 2, 1, { bias: false }); // 2·2 per pixel
    unused = new Linear(100, 100);
    forward(x: Tensor) {
      return this.conv.forward(this.conv.forward(x));
    }
  }
  const net = new Twice();
  const r = countMacs(net, randn([1, 2, 4, 4]));
  assert.equal(r.total, 2 * 16 * 4);
  assert.equal(r.layers.length, 1);
  assert.equal(r.layers[0].calls, 2);
  // The watch is removed afterwards.
  assert.equal(Object.hasOwn(net.conv, 'forward'), false);
  net.dispose();
});

test('MACs and parameters of the pseudo-inverted bottleneck, by hand', () => {
  // C = 4, K = 3, 6×6: dw 36·4·9 + BN 2·144 + 1×1 C→2C 36·8·4 + grouped 2C→C 36·4·2·9 + GELU 144 + 1×1 36·4·4.
  const op = new PseudoInvBottleneck(4, 3, 1, true);
  const r = countMacs(op, randn([3, 4, 6, 6]));
  assert.equal(r.total, 1296 + 288 + 1152 + 2592 + 144 + 576);
  // 4·9 + 2·4 (BN) + 8·4 + 4·2·9 + 4·4.
  assert.equal(op.numParameters(), 36 + 8 + 32 + 72 + 16);
  // Stride 2 applies to the depthwise conv only: 3×3 output everywhere after it.
  const r2 = countMacs(new PseudoInvBottleneck(4, 3, 2, true), randn([1, 4, 6, 6]));
  assert.equal(r2.total, (1296 + 288 + 1152 + 2592 + 144 + 576) / 4);
  const bn = countMacs(
    new Sequential(new BatchNorm2d(2, { affine: false }), new ReLU(), new GELU()),
    randn([2, 2, 3, 3]),
  );
  assert.equal(bn.total, 18 + 18 + 18);
  op.dispose();
});
