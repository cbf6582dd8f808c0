// Every Module.forward runs in a scope of its own: the call's temporaries are freed when it returns;
// what it returns, and tensors it leaves in the module's fields, move to the caller's scope. Values
// and derivatives, second order included, are unchanged.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nn, torch } from '../../src/index.js';
import type { Tensor } from '../../src/torch/tensor.js';

/** y = Σ x·sin(x) per row, through three temporaries, with the row sums also left in a field. */
class SinProduct extends nn.Module<[Tensor], Tensor> {
  lastSin: Tensor | null = null;
  forward(x: Tensor): Tensor {
    const s = x.sin();
    const p = x.mul(s);
    this.lastSin = s.sum(1);
    return p.sum(1);
  }
}

/** Calls its parent's forward and adds one: nested scopes. */
class SinProductPlusOne extends SinProduct {
  override forward(x: Tensor): Tensor {
    return super.forward(x).add(1);
  }
}

/** Returns its tensors inside an object. */
class Pair extends nn.Module<[Tensor], { a: Tensor; b: Tensor[] }> {
  forward(x: Tensor) {
    const t = x.exp();
    return { a: t.add(1), b: [t.mul(2)] };
  }
}

test('Module.forward: temporaries are freed on return; the result and fields the call set survive', () => {
  const m = new SinProduct();
  torch.tidy(() => {
    const x = torch.randn([4, 3], { dtype: 'float64' });
    const before = torch.memory().tensors;
    const y = m.forward(x);
    // sin, the product, the sum left in lastSin and the returned sum: two freed, two kept.
    assert.equal(torch.memory().tensors - before, 2);
    const expect = torch.tidy(() => x.mul(x.sin()).sum(1));
    assert.ok(torch.allclose(y, expect, { rtol: 0, atol: 0 }));
    assert.equal((m.lastSin as Tensor).isDisposed, false);
    assert.ok(torch.allclose(m.lastSin as Tensor, x.sin().sum(1)));
  });
  // The caller's scope still frees both.
  assert.equal((m.lastSin as unknown as Tensor).isDisposed, true);
});

test('Module.forward: nested calls (super.forward) and results inside objects', () => {
  const m = new SinProductPlusOne();
  const pair = new Pair();
  torch.tidy(() => {
    const x = torch.randn([2, 5], { dtype: 'float64' });
    const before = torch.memory().tensors;
    const y = m.forward(x);
    // The inner call's result is the outer's temporary: only y and lastSin remain.
    assert.equal(torch.memory().tensors - before, 2);
    assert.ok(torch.allclose(y, x.mul(x.sin()).sum(1).add(1), { rtol: 0, atol: 0 }));
    const mid = torch.memory().tensors;
    const { a, b } = pair.forward(x);
    assert.equal(torch.memory().tensors - mid, 2);
    assert.ok(torch.allclose(a, x.exp().add(1)));
    assert.ok(torch.allclose(b[0], x.exp().mul(2)));
  });
});

test('Module.forward scope: first and second derivatives match the closed forms', () => {
  const m = new SinProduct();
  torch.tidy(() => {
    const x = torch.randn([3, 4], { dtype: 'float64', generator: new torch.Generator(7) }).requiresGrad_();
    const y = m.forward(x).sum();
    const [g] = torch.grad(y, [x], { createGraph: true });
    // d/dx x sin x = sin x + x cos x;  d²/dx² = 2 cos x − x sin x.
    const xd = x.detach();
    assert.ok(torch.allclose(g as Tensor, xd.sin().add(xd.mul(xd.cos())), { rtol: 1e-12, atol: 1e-12 }));
    const [h] = torch.grad((g as Tensor).sum(), [x]);
    assert.ok(torch.allclose(h as Tensor, xd.cos().mul(2).sub(xd.mul(xd.sin())), { rtol: 1e-12, atol: 1e-12 }));
  });
});

test('Module.forward scope: a throwing forward frees what it made', () => {
  class Throws extends nn.Module<[Tensor], Tensor> {
    forward(x: Tensor): Tensor {
      x.mul(2);
      x.add(1);
      throw new Error('bad input');
    }
  }
  const m = new Throws();
  torch.tidy(() => {
    const x = torch.ones([3]);
    const before = torch.memory().tensors;
    assert.throws(() => m.forward(x), /bad input/);
    assert.equal(torch.memory().tensors, before);
  });
});
