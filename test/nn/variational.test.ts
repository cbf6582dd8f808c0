// Variational layers: the local reparameterisation trick's moments against Monte Carlo over sampled
// weights, both KL fits against numerical integration, pruning against a masked dense layer, and
// the one-line errors.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { torch } from '../../src/index.js';
import {
  Conv2d,
  F,
  GaussianDropoutLinear,
  KINGMA2015_C,
  klKingma2015,
  klMolchanov2017,
  Linear,
  pruneVariational,
  ReLU,
  Sequential,
  sparsityReport,
  VariationalConv2d,
  VariationalLinear,
} from '../../src/nn/index.js';
import { GaussianDropoutConv2d } from '../../src/nn/layers/variational.js';
import type { Tensor } from '../../src/torch/tensor.js';
import { assertOneLineError } from '../bayes/helpers.js';
import { assertClose, values } from './helpers.js';

const f64 = { dtype: 'float64' as const };

/** Sets θ and log σ² of a layer from seeded draws, with log α spread over [−4, 2]. */
function spread(layer: VariationalLinear | VariationalConv2d, seed: number): void {
  torch.noGrad(() => {
    const g = new torch.Generator(seed);
    layer.weight.copy_(torch.randn(layer.weight.shape, { ...f64, generator: g }));
    const logAlpha = torch
      .rand(layer.weight.shape, { ...f64, generator: g })
      .mul(6)
      .sub(4);
    layer.logSigma2.copy_(logAlpha.add(layer.weight.square().log()));
    layer.bias?.copy_(torch.randn(layer.bias.shape, { ...f64, generator: g }));
  });
}

/** Mean and (unbiased) variance over dim 0 of K samples. */
function moments(samples: Tensor): { mean: number[]; variance: number[] } {
  return { mean: values(samples.mean(0)), variance: values(samples.var(0)) };
}

/**
 * Checks MC moments against the exact ones elementwise: the mean within 5 standard errors √(v/K),
 * the variance within 5 of its standard errors v·√(2/(K−1)) (Gaussian samples).
 */
function assertMoments(mc: { mean: number[]; variance: number[] }, mean: number[], variance: number[], k: number) {
  for (let i = 0; i < mean.length; i++) {
    const seMean = Math.sqrt(variance[i] / k);
    assert.ok(Math.abs(mc.mean[i] - mean[i]) <= 5 * seMean, `mean[${i}]: MC ${mc.mean[i]}, exact ${mean[i]}`);
    const seVar = variance[i] * Math.sqrt(2 / (k - 1));
    assert.ok(
      Math.abs(mc.variance[i] - variance[i]) <= 5 * seVar,
      `variance[${i}]: MC ${mc.variance[i]}, exact ${variance[i]}`,
    );
  }
}

describe('local reparameterisation trick', () => {
  const K = 20000;

  test('VariationalLinear: LRT moments = xθ + b and x²σ², and Monte Carlo over weights agrees', () => {
    torch.tidy(() => {
      const layer = new VariationalLinear(5, 3, { ...f64, generator: new torch.Generator(1) });
      spread(layer, 2);
      const x = torch.randn([1, 5], { ...f64, generator: new torch.Generator(3) });
      const mean = values(F.linear(x, layer.weight, { bias: layer.bias }));
      const variance = values(F.linear(x.square(), layer.variance()));
      const batch = x.expand([K, 5]);
      // Monte Carlo with a weight matrix drawn per example, and the LRT's own samples.
      layer.sampling = 'example';
      assertMoments(moments(torch.noGrad(() => layer.forward(batch))), mean, variance, K);
      layer.sampling = 'lrt';
      assertMoments(moments(torch.noGrad(() => layer.forward(batch))), mean, variance, K);
      // Per minibatch: K minibatches of one example.
      layer.sampling = 'batch';
      const draws = torch.noGrad(() => torch.cat(Array.from({ length: 4000 }, () => layer.forward(x))));
      assertMoments(moments(draws), mean, variance, 4000);
      layer.dispose();
    });
  });

  test('VariationalConv2d: LRT moments = conv(x, θ) + b and conv(x², σ²), Monte Carlo agrees', () => {
    torch.tidy(() => {
      const layer = new VariationalConv2d(2, 2, 3, { ...f64, padding: 1, generator: new torch.Generator(4) });
      spread(layer, 5);
      const x = torch.randn([1, 2, 4, 4], { ...f64, generator: new torch.Generator(6) });
      const mean = values(F.conv2d(x, layer.weight, { bias: layer.bias, padding: 1 }));
      const variance = values(F.conv2d(x.square(), layer.variance(), { padding: 1 }));
      const k = 8000;
      const batch = x.expand([k, 2, 4, 4]);
      layer.sampling = 'example';
      assertMoments(moments(torch.noGrad(() => layer.forward(batch))), mean, variance, k);
      layer.sampling = 'lrt';
      assertMoments(moments(torch.noGrad(() => layer.forward(batch))), mean, variance, k);
      layer.dispose();
    });
  });

  test('evaluation uses the posterior-mean weights', () => {
    torch.tidy(() => {
      const layer = new VariationalLinear(4, 3, f64);
      spread(layer, 7);
      layer.eval();
      const x = torch.randn([6, 4], f64);
      assertClose(layer.forward(x), values(F.linear(x, layer.weight, { bias: layer.bias })), 1e-12);
      layer.dispose();
    });
  });

  test('Gaussian dropout A and B: mean xθ + b, variance Σ x²αθ² per output', () => {
    torch.tidy(() => {
      const x = torch.randn([1, 4], { ...f64, generator: new torch.Generator(8) });
      for (const type of ['A', 'B'] as const) {
        const layer = new GaussianDropoutLinear(4, 3, { ...f64, type, alpha: 0.3, generator: new torch.Generator(9) });
        const mean = values(F.linear(x, layer.weight, { bias: layer.bias }));
        const variance = values(F.linear(x.square().mul(0.3), layer.weight.square()));
        assertMoments(moments(torch.noGrad(() => layer.forward(x.expand([K, 4])))), mean, variance, K);
        layer.dispose();
      }
    });
  });
});

describe('Gaussian dropout on a convolution', () => {
  /** Sample covariance over dim 0 of two [K, …] sample sets, elementwise. */
  function covariance(a: Tensor, b: Tensor): number[] {
    return values(
      a
        .sub(a.mean(0))
        .mul(b.sub(b.mean(0)))
        .sum(0)
        .div(a.shape[0] - 1),
    );
  }

  test('types A and B: mean conv(x, θ) + b, variance conv(α·x², θ²); A correlates output channels, B does not', () => {
    torch.tidy(() => {
      const k = 8000;
      const x = torch.randn([1, 2, 4, 4], { ...f64, generator: new torch.Generator(21) });
      // α per input channel: 0.2 and 0.7.
      const alpha = torch.tensor([0.2, 0.7], f64).view([1, 2, 1, 1]);
      for (const type of ['A', 'B'] as const) {
        const layer = new GaussianDropoutConv2d(2, 2, 3, {
          ...f64,
          type,
          padding: 1,
          generator: new torch.Generator(22),
        });
        torch.noGrad(() => {
          layer.logAlphaParam.copy_(torch.tensor([Math.log(0.2), Math.log(0.7)], f64));
          layer.weight.copy_(torch.randn(layer.weight.shape, { ...f64, generator: new torch.Generator(23) }));
        });
        const conv = (input: Tensor, w: Tensor, bias: Tensor | null = null) => F.conv2d(input, w, { bias, padding: 1 });
        const mean = values(conv(x, layer.weight, layer.bias));
        const ax2 = x.square().mul(alpha);
        const variance = values(conv(ax2, layer.weight.square()));
        const samples = torch.noGrad(() => layer.forward(x.expand([k, 2, 4, 4])));
        assertMoments(moments(samples), mean, variance, k);
        // Covariance of output channels 0 and 1 at each position: type A's shared input noise gives
        // conv(α·x², θ₀·θ₁); type B's independent weight noise gives 0. Standard error of a sample
        // covariance of Gaussians: √((v₀v₁ + c²)/K); 5 of them.
        const [w0, w1] = [layer.weight.narrow(0, 0, 1), layer.weight.narrow(0, 1, 1)];
        const exact = type === 'A' ? values(conv(ax2, w0.mul(w1))) : new Array(16).fill(0);
        const mc = covariance(samples.select(1, 0), samples.select(1, 1));
        const v = variance;
        let separation = 0;
        for (let i = 0; i < 16; i++) {
          const se = Math.sqrt((v[i] * v[16 + i] + exact[i] ** 2) / k);
          assert.ok(Math.abs(mc[i] - exact[i]) <= 5 * se, `type ${type}, cov[${i}]: MC ${mc[i]}, exact ${exact[i]}`);
          separation = Math.max(separation, Math.abs(exact[i]) / se);
        }
        // The check tells the types apart: somewhere A's covariance is far more than 5 errors from 0.
        if (type === 'A') assert.ok(separation > 20, `largest |covariance| / se ${separation}`);
        // Evaluation is the plain convolution with θ.
        layer.eval();
        assertClose(layer.forward(x), mean, 1e-12);
        // The KL counts every weight with its input channel's α (the 2015 fit).
        const perChannel = values(klKingma2015(layer.logAlpha()));
        assertClose(layer.klDivergence(), [(perChannel[0] + perChannel[1]) * 2 * 9], 1e-12);
        layer.dispose();
      }
    });
  });

  test('α out of range is a one-line error', () => {
    assertOneLineError(() => new GaussianDropoutConv2d(3, 2, 3, { alpha: 2 }), /alpha must be in \(0, 1\], got 2/);
    assertOneLineError(() => new GaussianDropoutConv2d(3, 2, 3, { alpha: -0.1 }), /alpha must be in \(0, 1\]/);
  });
});

// ---- KL(q‖p) for q = N(θ, αθ²), p(log|w|) uniform: −KL = ½ log α − E[log|ε|] + C, ε ~ N(1, α) ----

/** ∫_a^b f by tanh-sinh quadrature, which tolerates (integrable) singularities at the ends. */
function tanhSinh(f: (x: number) => number, a: number, b: number, h = 1 / 64, uMax = 4): number {
  const half = (b - a) / 2;
  let sum = 0;
  for (let k = -Math.round(uMax / h); k <= Math.round(uMax / h); k++) {
    const u = k * h;
    const s = (Math.PI / 2) * Math.sinh(u);
    const w = ((Math.PI / 2) * Math.cosh(u)) / Math.cosh(s) ** 2;
    // Distances from the nearer end, computed without cancellation.
    const x = u < 0 ? a + half * (2 / (1 + Math.exp(-2 * s))) : b - half * (2 / (1 + Math.exp(2 * s)));
    const y = f(x);
    if (Number.isFinite(y)) sum += w * y;
  }
  return half * h * sum;
}

/** E[log|1 + √α·z|], z ~ N(0, 1), split at the log singularity z = −1/√α. */
function expectedLogAbs(alpha: number): number {
  const sa = Math.sqrt(alpha);
  const f = (z: number) => (Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI)) * Math.log(Math.abs(1 + sa * z));
  const z0 = -1 / sa;
  const lo = -16;
  const hi = 16;
  if (z0 <= lo) return tanhSinh(f, lo, hi);
  return tanhSinh(f, lo, z0) + tanhSinh(f, z0, hi);
}

/** −KL with the constant that makes it vanish as α → ∞ (E log|z| = −(γ + log 2)/2). */
function negKlNumerical(logAlpha: number): number {
  const euler = 0.5772156649015329;
  return 0.5 * logAlpha - expectedLogAbs(Math.exp(logAlpha)) - (euler + Math.log(2)) / 2;
}

describe('KL approximations against numerical integration', () => {
  test('the quadrature itself: E log|ε| for α → 0 is −α/2 to first order, and the known large-α limit', () => {
    assertClose(expectedLogAbs(1e-4), -0.5e-4 - 0.75e-8, 1e-6);
    const euler = 0.5772156649015329;
    // For large α, E log|1 + √α z| → ½ log α − (γ + log 2)/2.
    assertClose(expectedLogAbs(1e8) - 4 * Math.log(10), -(euler + Math.log(2)) / 2, 1e-4);
  });

  test('Molchanov et al. 2017 (sigmoid fit, no free constant): within 0.01 over log α ∈ [−8, 8]', () => {
    const grid = Array.from({ length: 161 }, (_, i) => -8 + i * 0.1);
    const approx = values(klMolchanov2017(torch.tensor(grid, f64)).neg());
    let worst = 0;
    for (let i = 0; i < grid.length; i++) worst = Math.max(worst, Math.abs(approx[i] - negKlNumerical(grid[i])));
    assert.ok(worst < 0.01, `max |error| ${worst}`);
    // The fit is not exact either: the error is not vanishingly small.
    assert.ok(worst > 1e-4, `max |error| ${worst}`);
  });

  /** Largest |approx − numerical| over a log α grid, after the best constant (the KL's free one). */
  function kingmaError(from: number, to: number): number {
    const grid = Array.from({ length: Math.round((to - from) / 0.05) + 1 }, (_, i) => from + i * 0.05);
    const approx = values(klKingma2015(torch.tensor(grid, f64)).neg());
    const diff = grid.map((la, i) => approx[i] - negKlNumerical(la));
    const c = (Math.max(...diff) + Math.min(...diff)) / 2;
    return Math.max(...diff.map((d) => Math.abs(d - c)));
  }

  test('Kingma et al. 2015 (polynomial, up to its constant): within 0.01 over dropout rates α ∈ [0.05, 1]', () => {
    const worst = kingmaError(Math.log(0.05), 0);
    assert.ok(worst < 0.01 && worst > 1e-4, `max |error| ${worst}`);
    // Measured here: over α ∈ [e⁻⁸, 1] it drifts by ±0.02 (its α term is 1.16α where the exact one
    // starts as α/2), which is why the sparse-VD fit replaced it; pinned, so a change shows.
    const wide = kingmaError(-8, 0);
    assert.ok(wide > 0.015 && wide < 0.025, `max |error| over [e⁻⁸, 1]: ${wide}`);
    // It is the printed polynomial: −KL = ½ log α + c1α + c2α² + c3α³ at α = 0.5.
    const [c1, c2, c3] = KINGMA2015_C;
    const at = -values(klKingma2015(torch.tensor([Math.log(0.5)], f64)))[0];
    assertClose(at, 0.5 * Math.log(0.5) + c1 * 0.5 + c2 * 0.25 + c3 * 0.125, 1e-12);
  });
});

describe('pruning', () => {
  test('a pruned VariationalLinear at evaluation equals a Linear with masked weights', () => {
    torch.tidy(() => {
      const layer = new VariationalLinear(6, 4, f64);
      spread(layer, 11);
      const rows = pruneVariational(layer, { threshold: 0 });
      const mask = torch.noGrad(() => layer.logAlpha().lt(0));
      const kept = values(mask.sum())[0];
      assert.ok(kept > 0 && kept < 24, `kept ${kept}`);
      assert.equal(rows[0].kept, kept);
      assertClose(rows[0].compression, 24 / kept, 1e-12);
      const dense = new Linear(6, 4, f64);
      torch.noGrad(() => {
        dense.weight.copy_(layer.weight.mul(mask.double()));
        dense.bias?.copy_(layer.bias as Tensor);
      });
      layer.eval();
      const x = torch.randn([5, 6], f64);
      assertClose(layer.forward(x), values(dense.forward(x)), 1e-12);
      // Pruned weights stay pruned, whatever log α does next; the KL skips them.
      torch.noGrad(() => layer.logSigma2.fill_(-30));
      assertClose(layer.forward(x), values(dense.forward(x)), 1e-12);
      layer.dispose();
      dense.dispose();
    });
  });

  test('a pruned VariationalConv2d equals a Conv2d with masked weights; the report covers every layer', () => {
    torch.tidy(() => {
      const conv = new VariationalConv2d(2, 3, 3, { ...f64, stride: 2 });
      const fc = new VariationalLinear(3, 2, f64);
      spread(conv, 12);
      spread(fc, 13);
      const model = new Sequential(conv, new ReLU());
      const report = sparsityReport(new Sequential(conv, fc), { threshold: 0.5 });
      assert.deepEqual(
        report.map((r) => r.layer),
        ['0', '1', 'total'],
      );
      assert.equal(report[2].weights, 54 + 6);
      assert.equal(report[2].kept, report[0].kept + report[1].kept);
      pruneVariational(model, { threshold: 0.5 });
      const mask = torch.noGrad(() => conv.logAlpha().lt(0.5).double());
      const dense = new Conv2d(2, 3, 3, { ...f64, stride: 2 });
      torch.noGrad(() => {
        dense.weight.copy_(conv.weight.mul(mask));
        dense.bias?.copy_(conv.bias as Tensor);
      });
      model.eval();
      const x = torch.randn([2, 2, 7, 7], f64);
      assertClose(conv.forward(x), values(dense.forward(x)), 1e-12);
      model.dispose();
      fc.dispose();
      dense.dispose();
    });
  });
});

describe('one-line errors', () => {
  test('α out of range', () => {
    assertOneLineError(() => new GaussianDropoutLinear(3, 2, { alpha: 1.5 }), /alpha must be in \(0, 1\], got 1\.5/);
    assertOneLineError(() => new GaussianDropoutLinear(3, 2, { alpha: 0 }), /alpha must be in \(0, 1\]/);
  });

  test('pruning a layer that is not variational', () => {
    const plain = new Sequential(new Linear(3, 2), new ReLU());
    assertOneLineError(() => pruneVariational(plain), /prune: Sequential is not a variational layer/);
    assertOneLineError(() => sparsityReport(new Linear(3, 2)), /Linear is not a variational layer/);
    plain.dispose();
  });

  test('bad settings of the variational layers', () => {
    assertOneLineError(() => new VariationalLinear(3, 2, { kl: 'kingma' as never }), /kl must be one of/);
    assertOneLineError(() => new VariationalLinear(3, 2, { sampling: 'x' as never }), /sampling must be one of/);
    const layer = new VariationalLinear(3, 2);
    assertOneLineError(() => layer.prune(Number.NaN), /threshold must be finite/);
    layer.dispose();
  });
});
