// Parameter EMA: the update rule, decay warm-up, and evaluating with the averaged weights.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { torch } from '../../src/index.js';
import { EMA } from '../../src/optim/index.js';
import { assertClose, param, values } from './helpers.js';

function set(p: ReturnType<typeof param>, v: number[]): void {
  torch.noGrad(() => p.copy_(torch.tensor(v, { dtype: p.dtype })));
}

describe('EMA', () => {
  test('shadow ← d·shadow + (1 − d)·param', () => {
    const p = param([1, 2]);
    const ema = new EMA([p], { decay: 0.9 });
    set(p, [3, -2]);
    ema.update();
    assertClose(values(ema.shadow[0]), [0.9 * 1 + 0.1 * 3, 0.9 * 2 + 0.1 * -2], 1e-15);
    set(p, [0, 10]);
    ema.update();
    assertClose(values(ema.shadow[0]), [0.9 * 1.2 + 0, 0.9 * 1.6 + 0.1 * 10], 1e-15);
    assert.equal(ema.numUpdates, 2);
  });

  test('warm-up: (1 + k)/(10 + k), or 1 − (1 + k/γ)^−power, capped by decay', () => {
    const tf = new EMA([param([0])], { decay: 0.999, warmup: true });
    const power = new EMA([param([0])], { decay: 0.6, warmup: { power: 0.5, invGamma: 1 } });
    const seenTf: number[] = [];
    const seenPower: number[] = [];
    for (let k = 0; k < 4; k++) {
      seenTf.push(tf.currentDecay());
      seenPower.push(power.currentDecay());
      tf.update();
      power.update();
    }
    assertClose(seenTf, [0.1, 2 / 11, 3 / 12, 4 / 13], 1e-15);
    assertClose(seenPower, [0, 1 - 2 ** -0.5, 1 - 3 ** -0.5, 1 - 4 ** -0.5], 1e-15);
    // After k = 6 updates, 1 − 7^−½ ≈ 0.622 exceeds the cap 0.6.
    power.update();
    power.update();
    assert.equal(power.currentDecay(), 0.6);
  });

  test('the first warmed-up update copies the weights (decay 0)', () => {
    const p = param([1, 2]);
    const ema = new EMA([p], { warmup: { power: 2 / 3 } });
    set(p, [5, 6]);
    ema.update();
    assert.deepEqual(values(ema.shadow[0]), [5, 6]);
  });

  test('store / copyTo / restore, withAverage and swap', () => {
    const p = param([1, 1]);
    const ema = new EMA([p], { decay: 0.5 });
    set(p, [3, 5]);
    ema.update(); // shadow [2, 3]
    ema.store();
    ema.copyTo();
    assert.deepEqual(values(p), [2, 3]);
    ema.restore();
    assert.deepEqual(values(p), [3, 5]);
    assert.throws(() => ema.restore(), /nothing stored/);

    const inside = ema.withAverage(() => values(p));
    assert.deepEqual(inside, [2, 3]);
    assert.deepEqual(values(p), [3, 5]);

    ema.swap();
    assert.deepEqual(values(p), [2, 3]);
    assert.deepEqual(values(ema.shadow[0]), [3, 5]);
    ema.swap();
    assert.deepEqual(values(p), [3, 5]);
    assert.equal(p.requiresGrad, true);
  });

  test('copyTo writes into other tensors of the same shapes, e.g. an evaluation copy', () => {
    const p = param([1, 1]);
    const ema = new EMA([p], { decay: 0 });
    set(p, [4, 2]);
    ema.update();
    const copy = param([0, 0]);
    ema.copyTo([copy]);
    assert.deepEqual(values(copy), [4, 2]);
    assert.throws(() => ema.copyTo([copy, copy]), /tracking 1/);
  });

  test('integer tensors are copied, not averaged', () => {
    const count = torch.tensor([3], { dtype: 'int64' });
    const ema = new EMA([count], { decay: 0.9 });
    torch.noGrad(() => count.fill_(7));
    ema.update();
    assert.deepEqual(ema.shadow[0].toArray(), [7]);
  });

  test('stateDict names the averages shadow.<i> and round-trips', () => {
    const p = param([1, 2]);
    const ema = new EMA([p], { decay: 0.8, warmup: { power: 0.75 } });
    set(p, [2, 2]);
    ema.update();
    const sd = ema.stateDict();
    assert.deepEqual(Object.keys(sd.tensors), ['shadow.0']);
    assert.deepEqual(sd.meta, { decay: 0.8, minDecay: 0, warmup: { power: 0.75 }, numUpdates: 1 });
    const fresh = new EMA([param([0, 0])]);
    fresh.loadStateDict({ tensors: sd.tensors, meta: JSON.parse(JSON.stringify(sd.meta)) });
    assert.deepEqual(values(fresh.shadow[0]), values(ema.shadow[0]));
    assert.equal(fresh.currentDecay(), ema.currentDecay());
  });
});
