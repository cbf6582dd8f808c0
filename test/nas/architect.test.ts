import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  exactUnrolledArchGrad,
  firstOrderArchGrad,
  secondOrderArchGrad,
  type WeightStep,
} from '../../src/nas/architect.js';
import { SearchNetwork } from '../../src/nas/search.js';
import { grad, noGrad } from '../../src/torch/autograd.js';
import { randint, randn } from '../../src/torch/creation.js';
import { manualSeed } from '../../src/torch/random.js';
import { tidy } from '../../src/torch/scope.js';
import type { Tensor } from '../../src/torch/tensor.js';

const dot = (a: Tensor[], b: Tensor[]) => a.reduce((s, t, i) => s + t.mul(b[i]).sum().item(), 0);

test('second-order α gradient matches finite differences of the unrolled objective (float64)', () => {
  manualSeed(3);
  // A tiny search network: 3 cells (normal, reduce, reduce) of 2 nodes, 2 channels, 6×6 inputs.
  const net = new SearchNetwork({
    c: 2,
    layers: 3,
    classes: 3,
    inChannels: 1,
    ops: 'darts',
    steps: 2,
    dtype: 'float64',
  });
  tidy(() => {
    const f = { dtype: 'float64' as const };
    const train = { x: randn([4, 1, 6, 6], f), y: randint(0, 3, [4]) };
    const val = { x: randn([4, 1, 6, 6], f), y: randint(0, 3, [4]) };
    const as = net.archParameters();
    // α away from uniform so the mixed ops differ; a large ξ so the second-order term matters.
    noGrad(() => {
      for (const a of as) a.copy_(randn(a.shape, f));
    });
    const step: WeightStep = { lr: 0.5, momentum: 0, weightDecay: 3e-4 };
    const ws = net.weightParameters();
    // The unrolled objective L_val(w − ξ(∇w L_train(w, α) + λw), α), leaving w as it was.
    const objective = (alpha: Tensor[]): number => {
      const keepA = noGrad(() => as.map((a) => a.clone()));
      const keepW = noGrad(() => ws.map((p) => p.clone()));
      noGrad(() =>
        as.forEach((a, i) => {
          a.copy_(alpha[i]);
        }),
      );
      const gs = grad(net.loss(train.x, train.y), ws) as Tensor[];
      noGrad(() =>
        ws.forEach((p, i) => {
          p.sub_(gs[i].add(p, { alpha: step.weightDecay }), { alpha: step.lr });
        }),
      );
      const value = noGrad(() => net.loss(val.x, val.y).item());
      noGrad(() => {
        ws.forEach((p, i) => {
          p.copy_(keepW[i]);
        });
        as.forEach((a, i) => {
          a.copy_(keepA[i]);
        });
      });
      return value;
    };
    const exact = exactUnrolledArchGrad(net, train, val, step);
    // Eq. 8's radius: DARTS's 0.01/‖v‖ is for float32; on this small net it crosses ReLU kinks, so the
    // check takes the float64 radius at which the central difference converges.
    const fdHvp = secondOrderArchGrad(net, train, val, step, 1e-5);
    const first = firstOrderArchGrad(net, val);
    const h = 1e-5;
    for (let trial = 0; trial < 3; trial++) {
      const d = as.map((a) => randn(a.shape, f));
      const plus = objective(as.map((a, i) => a.add(d[i], { alpha: h })));
      const minus = objective(as.map((a, i) => a.sub(d[i], { alpha: h })));
      const fd = (plus - minus) / (2 * h);
      const ex = dot(exact, d);
      const approx = dot(fdHvp, d);
      const fo = dot(first, d);
      assert.ok(Math.abs(ex - fd) <= 1e-6 * Math.max(1, Math.abs(fd)), `exact ${ex} vs finite difference ${fd}`);
      assert.ok(
        Math.abs(approx - fd) <= 1e-6 * Math.max(1, Math.abs(fd)),
        `eq. 8 ${approx} vs finite difference ${fd}`,
      );
      // The first-order gradient misses the implicit term: the check above is not vacuous.
      assert.ok(Math.abs(fo - fd) > 100 * Math.abs(approx - fd), `first order ${fo} is as close as eq. 8 ${approx}`);
    }
  });
  net.dispose();
});
