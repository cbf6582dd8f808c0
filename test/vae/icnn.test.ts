import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '../../src/torch/index.js';
import { BrenierDecoder } from '../../src/vae/brenier.js';
import { BrenierMap, ICNN } from '../../src/vae/icnn.js';

/** The Jacobian [B, out, in] of a map R^in → R^out, one autograd pass per output coordinate. */
function jacobian(f: (x: torch.Tensor) => torch.Tensor, x: torch.Tensor): torch.Tensor {
  return torch.tidy(() => {
    const input = x.detach().requiresGrad_(true);
    const y = f(input);
    const rows: torch.Tensor[] = [];
    for (let i = 0; i < y.size(1); i++) {
      const [g] = torch.grad(y.select(1, i).sum(), input, { retainGraph: true });
      rows.push(g!);
    }
    return torch.stack(rows, 1);
  });
}

for (const [activation, positivity] of [
  ['lrelu', 'softplus'],
  ['softplus', 'clamp'],
] as const) {
  test(`ICNN (${activation}, ${positivity}) is convex: the inequality on random pairs and a PSD Hessian`, () => {
    torch.manualSeed(1);
    // The clamp variant has no quadratic term: a bare ICNN must be convex on its own.
    const quadratic = positivity === 'clamp' ? 0 : 1;
    const g = new ICNN(4, { hidden: 16, depth: 3, activation, positivity, quadratic }).double();
    torch.tidy(() => {
      const gen = new torch.Generator(2);
      const x = torch.randn([500, 4], { dtype: 'float64', generator: gen }).mul(2);
      const y = torch.randn([500, 4], { dtype: 'float64', generator: gen }).mul(2);
      const t = torch.rand([500, 1], { dtype: 'float64', generator: gen });
      const lhs = torch.noGrad(() => g.forward(x.mul(t).add(y.mul(t.rsub(1)))));
      const rhs = torch.noGrad(() =>
        g
          .forward(x)
          .mul(t.squeeze(1))
          .add(g.forward(y).mul(t.squeeze(1).rsub(1))),
      );
      const slack = lhs.sub(rhs).max().item();
      assert.ok(slack <= 1e-10, `convexity violated by ${slack}`);
      // The Hessian from double autograd is symmetric positive semi-definite at random points.
      const points = torch.randn([20, 4], { dtype: 'float64', generator: gen });
      const map = new BrenierMap(g);
      const h = jacobian((p) => map.forward(p), points);
      assert.ok(h.sub(h.mT).abs().max().item() < 1e-10, 'Hessian not symmetric');
      const minEig = torch.linalg.eigvalsh(h).min().item();
      assert.ok(minEig >= -1e-10, `Hessian has eigenvalue ${minEig}`);
      if (positivity === 'softplus') assert.ok(minEig > 0, 'softplus weights make the Hessian positive definite');
    });
    g.dispose();
  });
}

test('the Brenier map is a gradient: matches finite differences of the potential, and is monotone', () => {
  torch.manualSeed(3);
  const g = new ICNN(3, { hidden: 8 }).double();
  const map = new BrenierMap(g);
  torch.tidy(() => {
    const x = torch.randn([5, 3], { dtype: 'float64' });
    const grad = torch.noGrad(() => map.forward(x));
    const eps = 1e-6;
    for (let i = 0; i < 3; i++) {
      const e = torch.zeros([1, 3], { dtype: 'float64' });
      e.select(1, i).fill_(eps);
      const fd = torch.noGrad(() =>
        g
          .forward(x.add(e))
          .sub(g.forward(x.sub(e)))
          .div(2 * eps),
      );
      assert.ok(fd.sub(grad.select(1, i)).abs().max().item() < 1e-6);
    }
    // Monotone: ⟨∇g(x) − ∇g(y), x − y⟩ ≥ 0.
    const y = torch.randn([5, 3], { dtype: 'float64' });
    const inner = torch.noGrad(() => map.forward(x).sub(map.forward(y)).mul(x.sub(y)).sum(1));
    assert.ok(inner.min().item() >= 0);
  });
  g.dispose();
});

test('the Brenier decoder: symmetric Jacobians of both maps, clipped singular values, training through ∇g', () => {
  torch.manualSeed(4);
  const dec = new BrenierDecoder(3, 10, { hidden1: 8, hidden2: 12 }).double();
  torch.tidy(() => {
    const z = torch.randn([6, 3], { dtype: 'float64' });
    const j1 = jacobian((p) => dec.g1.forward(p), z);
    assert.ok(j1.sub(j1.mT).abs().max().item() < 1e-10);
    const v = torch.randn([6, 10], { dtype: 'float64' });
    const j2 = jacobian((p) => dec.g2.forward(p), v);
    assert.ok(j2.sub(j2.mT).abs().max().item() < 1e-10);
    // The whole decoder's Jacobian H2·W·H1 [10 × 3] has full column rank (an injective map).
    const jd = jacobian((p) => dec.forward(p), z);
    assert.ok(torch.linalg.svdvals(jd).min().item() > 1e-8);
  });
  // Singular values are projected into [1e-5, 10].
  torch.noGrad(() => dec.linear.weight.mul_(100));
  dec.clipSingularValues_();
  for (const s of dec.singularValues()) assert.ok(s <= 10 + 1e-9 && s >= 1e-5, `${s}`);
  // A loss on the decoder's output reaches the potentials' parameters (double backward).
  torch.tidy(() => {
    const z = torch.randn([4, 3], { dtype: 'float64', requiresGrad: true });
    dec.forward(z).square().sum().backward();
    const g1Grad = dec.g1.potential.first.weight.grad;
    const g2Grad = dec.g2.potential.raw[0].grad;
    assert.ok(g1Grad && g1Grad.abs().sum().item() > 0);
    assert.ok(g2Grad && g2Grad.abs().sum().item() > 0);
  });
  dec.dispose();
});
