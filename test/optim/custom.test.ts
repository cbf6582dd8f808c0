// Writing an optimizer through the public API only, as the Optimizer doc comment shows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { optim, torch } from '../../src/index.js';

interface SignMomentumOptions {
  lr: number;
  beta: number;
}

/** Steps by the sign of a momentum average of the gradients (signum). */
class SignMomentum extends optim.Optimizer<SignMomentumOptions, { step: number; buf: torch.Tensor }> {
  constructor(params: optim.Params<SignMomentumOptions>, opts: Partial<SignMomentumOptions> = {}) {
    super(params, optim.withDefaults({ lr: 1e-3, beta: 0.9 }, opts));
  }

  protected override validate(group: optim.ParamGroup<SignMomentumOptions>): void {
    super.validate(group);
    if (!(group.beta >= 0 && group.beta < 1)) throw new Error(`invalid beta: ${group.beta}`);
  }

  protected updateParam(p: torch.Tensor, grad: torch.Tensor, group: optim.ParamGroup<SignMomentumOptions>): void {
    const s = this.stateOf(p, () => ({ step: 0, buf: torch.zerosLike(p).keep() }));
    s.step += 1;
    s.buf.mul_(group.beta).add_(grad, { alpha: 1 - group.beta });
    p.add_(s.buf.sign(), { alpha: -group.lr });
  }
}

test('a custom optimizer written against the public API takes the hand-computed steps and saves its state', () => {
  const x = torch.tensor([1, -2, 0.5], { dtype: 'float64', requiresGrad: true });
  const y = torch.tensor([3], { dtype: 'float64', requiresGrad: true });
  const opt = new SignMomentum([{ params: [x] }, { params: [y], lr: 0.5 }], { lr: 0.1, beta: 0.5 });
  assert.deepEqual(opt.paramGroups[0].beta, 0.5);
  assert.throws(() => new SignMomentum([x], { beta: 1 }), /invalid beta/);
  assert.throws(() => new SignMomentum([x], { lr: -1 }), /invalid learning rate/);

  const lossStep = (gx: number[], gy: number) =>
    torch.tidy(() => {
      // d/dx Σ g·x = g: the gradients are exactly the given numbers.
      x.mul(torch.tensor(gx, { dtype: 'float64' }))
        .sum()
        .add(y.mul(gy).sum())
        .backward();
    });
  lossStep([2, -4, 0], 6);
  opt.step();
  opt.zeroGrad();
  // buf = 0.5·g = [1, −2, 0] and [3]; x −= 0.1·sign(buf), y −= 0.5·sign(buf).
  assert.deepEqual(Array.from(x.toTypedArray() as Float64Array), [0.9, -1.9, 0.5]);
  assert.deepEqual(Array.from(y.toTypedArray() as Float64Array), [2.5]);
  lossStep([-6, -4, 1], -8);
  opt.step();
  // buf = 0.5·[1, −2, 0] + 0.5·[−6, −4, 1] = [−2.5, −3, 0.5], and 0.5·3 + 0.5·(−8) = −2.5.
  assert.deepEqual(Array.from(x.toTypedArray() as Float64Array), [0.9 + 0.1, -1.9 + 0.1, 0.5 - 0.1]);
  assert.deepEqual(Array.from(y.toTypedArray() as Float64Array), [3]);

  const sd = opt.stateDict();
  assert.deepEqual(Object.keys(sd.tensors).sort(), ['state.0.buf', 'state.1.buf']);
  assert.deepEqual(sd.meta.state, { 0: { step: 2 }, 1: { step: 2 } });
  const fresh = new SignMomentum([{ params: [x] }, { params: [y] }]);
  fresh.loadStateDict(sd);
  assert.equal(fresh.paramGroups[1].lr, 0.5);
  assert.deepEqual(Array.from(fresh.state.get(x)!.buf.toTypedArray() as Float64Array), [-2.5, -3, 0.5]);
});
