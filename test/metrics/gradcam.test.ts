import assert from 'node:assert/strict';
import { test } from 'node:test';
import { camOverlay, gradCam } from '../../src/metrics/gradcam.js';
import * as F from '../../src/nn/functional.js';
import { ReLU } from '../../src/nn/layers/activation.js';
import { Sequential } from '../../src/nn/layers/container.js';
import { Conv2d } from '../../src/nn/layers/conv.js';
import { Flatten, Linear } from '../../src/nn/layers/linear.js';
import { AdaptiveAvgPool2d } from '../../src/nn/layers/pooling.js';
import { noGrad } from '../../src/torch/autograd.js';
import { eye, tensor, zeros } from '../../src/torch/creation.js';

// Channel 0 detects vertical strokes (responses 2 to 6), channel 1 horizontal ones; class k's score is the mean of channel k.
function detectorNet() {
  const conv = new Conv2d(1, 2, 3, { padding: 1 });
  const relu = new ReLU();
  const head = new Linear(2, 2, { bias: false });
  const v = [
    [-1, 2, -1],
    [-1, 2, -1],
    [-1, 2, -1],
  ];
  const h = [
    [-1, -1, -1],
    [2, 2, 2],
    [-1, -1, -1],
  ];
  noGrad(() => {
    conv.weight.copy_(tensor([[v], [h]]));
    // A threshold, so that a detector ignores the other stroke's ends (a response of 1).
    conv.bias?.fill_(-2);
    head.weight.copy_(eye(2));
  });
  return { net: new Sequential(conv, relu, new AdaptiveAvgPool2d(1), new Flatten(), head), conv, relu };
}

// A vertical bar in the top-left quadrant and a horizontal one in the bottom-right, on 12×12.
function image() {
  const x = zeros([1, 1, 12, 12]);
  noGrad(() => {
    x.narrow(2, 1, 4).narrow(3, 2, 1).fill_(1);
    x.narrow(2, 9, 1).narrow(3, 7, 4).fill_(1);
  });
  return x;
}

function quadrantShare(cam: number[][], rows: [number, number], cols: [number, number]): number {
  let inside = 0;
  let all = 0;
  cam.forEach((row, r) => {
    row.forEach((v, c) => {
      all += v;
      if (r >= rows[0] && r < rows[1] && c >= cols[0] && c < cols[1]) inside += v;
    });
  });
  return inside / all;
}

test('Grad-CAM highlights the one region a class score depends on', () => {
  const { net, relu, conv } = detectorNet();
  const x = image();
  for (const [cls, rows, cols] of [
    [0, [0, 6], [0, 6]],
    [1, [6, 12], [6, 12]],
  ] as const) {
    const r = gradCam(net, x, { layer: relu, target: cls });
    const cam = (r.cam.toArray() as number[][][])[0];
    const share = quadrantShare(cam, rows as [number, number], cols as [number, number]);
    assert.ok(share > 0.9, `class ${cls}: ${share} of the map in its region`);
    // The peak (1 after scaling) lies in the region.
    const flat = cam.flat();
    const at = flat.indexOf(Math.max(...flat));
    const [pr, pc] = [Math.floor(at / 12), at % 12];
    assert.ok(pr >= rows[0] && pr < rows[1] && pc >= cols[0] && pc < cols[1], `class ${cls} peak at ${pr},${pc}`);
    // Closed form: score_k = mean(A_k), so α = (1/144 for channel k, 0 else) and raw = A_k / 144.
    const expected = noGrad(() => F.relu(conv.forward(x)).select(1, cls).div(144));
    assert.ok(r.raw.sub(expected).abs().max().item() < 1e-7);
  }
  const over = camOverlay(x, gradCam(net, x, { layer: relu, target: 0 }).cam);
  assert.deepEqual(over.shape, [1, 3, 12, 12]);
  net.dispose();
});
