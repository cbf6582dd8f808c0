import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseVdmConfig, vdmConfig } from '../../src/diffusion/experiment.js';
import { VDM } from '../../src/diffusion/model.js';
import { sampleLatent } from '../../src/diffusion/sampling.js';
import {
  alpha2,
  CosineSchedule,
  FixedLinearSchedule,
  LearnedScalarSchedule,
  MonotoneNetSchedule,
  makeSchedule,
  type NoiseSchedule,
  sigma2,
  snr,
} from '../../src/diffusion/schedules.js';
import { fourierFeatures, MLPDenoiser, type ResAttn, UNet } from '../../src/diffusion/unet.js';
import {
  decoderLogits,
  discreteReconstruction,
  levelsToCentres,
  sampleTimes,
  scheduleValues,
  vlbTerms,
} from '../../src/diffusion/vlb.js';
import { SelfAttention2d } from '../../src/nn/layers/attention.js';
import { Adam } from '../../src/optim/adam.js';
import * as torch from '../../src/torch/index.js';
import type { Tensor } from '../../src/torch/tensor.js';
import { expectedVlb, gaussianNll, optimalEps } from './gaussian.js';

const f64 = { dtype: 'float64' as const };
const nums = (t: Tensor) => Array.from(t.toTypedArray() as Float64Array, Number);
function close(a: number, b: number, tol: number, what = ''): void {
  assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b} (tol ${tol})`);
}

function meanAndStderr(xs: number[]): { mean: number; se: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, se: Math.sqrt(v / n) };
}

function assertMonotone(s: NoiseSchedule, what: string): void {
  torch.tidy(() => {
    const g = nums(s.gamma(torch.linspace(0, 1, 401, f64)));
    for (let i = 1; i < g.length; i++) assert.ok(g[i] > g[i - 1], `${what}: γ not increasing at ${i}`);
  });
}

test('α² + σ² = 1 and SNR = α²/σ² = exp(−γ)', () => {
  torch.tidy(() => {
    const g = torch.linspace(-13.3, 5, 7, f64);
    const a = nums(alpha2(g));
    const s = nums(sigma2(g));
    const r = nums(snr(g));
    nums(g).forEach((gv, i) => {
      close(a[i] + s[i], 1, 1e-12);
      close(Math.log(a[i] / s[i]), -gv, 1e-9);
      close(Math.log(r[i]), -gv, 1e-12);
    });
  });
});

test('every schedule hits its endpoints, is monotone, and its analytic slope matches autograd', () => {
  torch.manualSeed(3);
  const schedules: NoiseSchedule[] = [
    new FixedLinearSchedule(-13.3, 5),
    new CosineSchedule(-13.3, 5),
    new LearnedScalarSchedule(-13.3, 5),
    new MonotoneNetSchedule(-13.3, 5),
  ];
  // Make the network's shape clearly nonlinear so the check means something.
  const net = schedules[3] as MonotoneNetSchedule;
  torch.noGrad(() => {
    net.l2Weight.normal_(0, 3);
    net.l3.normal_(0, 300);
  });
  for (const s of schedules) {
    const [g0, g1] = s.endpoints();
    close(g0, -13.3, 1e-4, `${s.kind} γ(0)`);
    close(g1, 5, 1e-4, `${s.kind} γ(1)`);
    assertMonotone(s, s.kind);
    torch.tidy(() => {
      const t = torch.tensor([0.05, 0.3, 0.5, 0.77, 0.95], f64).requiresGrad_();
      const { gamma, slope } = s.gammaAndSlope(t);
      const [auto] = torch.grad(gamma.sum(), t);
      const want = nums(auto!);
      for (const [i, v] of nums(slope.detach()).entries()) close(v, want[i], 1e-4 * Math.max(1, Math.abs(v)), s.kind);
    });
  }
  for (const s of schedules) s.dispose();
});

test('learned schedules stay monotone; fixed endpoints stay put while the shape trains', () => {
  torch.manualSeed(4);
  const shapeOnly = new MonotoneNetSchedule(-13.3, 5, { learnEndpoints: false });
  const all = new MonotoneNetSchedule(-13.3, 5);
  const scalar = new LearnedScalarSchedule(-13.3, 5);
  const before = torch.tidy(() => nums(shapeOnly.gamma(torch.linspace(0, 1, 11, f64))));
  // Push every schedule towards an arbitrary target curve with a large learning rate.
  for (const s of [shapeOnly, all, scalar]) {
    const opt = new Adam(s.parameters(), { lr: 0.05 });
    for (let i = 0; i < 60; i++) {
      torch.tidy(() => {
        opt.zeroGrad();
        const t = torch.linspace(0, 1, 33);
        s.gamma(t).sub(t.mul(12).sin().mul(8)).square().mean().backward();
        opt.step();
      });
    }
    assertMonotone(s, s.kind);
  }
  const [a0, a1] = shapeOnly.endpoints();
  close(a0, -13.3, 1e-4, 'fixed γ(0)');
  close(a1, 5, 1e-4, 'fixed γ(1)');
  const after = torch.tidy(() => nums(shapeOnly.gamma(torch.linspace(0, 1, 11, f64))));
  assert.ok(
    after.some((v, i) => Math.abs(v - before[i]) > 0.1),
    'the shape of the network schedule should have trained',
  );
  const [b0, b1] = all.endpoints();
  assert.ok(Math.abs(b0 + 13.3) > 0.1 || Math.abs(b1 - 5) > 0.1, 'learned endpoints should move');
  for (const s of [shapeOnly, all, scalar]) s.dispose();
});

test('the discrete-time loss approaches the continuous-time loss as T grows', () => {
  torch.tidy(() => {
    const g = new torch.Generator(11);
    const schedule = new CosineSchedule(-10, 6);
    const [mu, s] = [0.3, 0.8];
    const x = torch
      .randn([512, 3], { ...f64, generator: g })
      .mul(s)
      .add(mu);
    // Common random numbers: one set of times and noise for every T.
    const t = sampleTimes(512, { generator: g }).double();
    const noise = { eps0: torch.randnLike(x, { generator: g }), eps: torch.randnLike(x, { generator: g }) };
    const diff = (T: number) =>
      vlbTerms({
        f: x,
        k: null,
        levels: null,
        values: scheduleValues(schedule, t, T),
        eps: optimalEps(mu, s),
        noise,
      }).diff;
    const cont = diff(0);
    const contMean = cont.mean().item();
    // The discretisation error is O(1/T): each tenfold T should cut it about tenfold.
    let lastGap = Infinity;
    for (const T of [10, 100, 1000, 10000]) {
      const gap = diff(T).sub(cont).abs().mean().item();
      assert.ok(gap < lastGap / 5, `T=${T}: mean |L_T − L_∞| ${gap} should fall ~10× (was ${lastGap})`);
      lastGap = gap;
    }
    assert.ok(lastGap / contMean < 1e-2, `T=10000 is within ${lastGap / contMean} of continuous time`);
  });
});

test('on Gaussian data the VLB with the optimal ε-predictor matches −log p(x) within Monte Carlo error', () => {
  torch.tidy(() => {
    const g = new torch.Generator(5);
    const [mu, s] = [0.5, 0.7];
    const dims = 4;
    const reps = 4000;
    const points = [-0.6, 0.2, 0.5, 1.9];
    // γ₁ = 12 makes q(z₁|x) ≈ N(0, 1) and γ₀ = −13.3 a sharp decoder, so the bound is tight.
    for (const [g0, g1, tightTo] of [
      [-13.3, 12, 1e-3],
      [-13.3, 5, Infinity],
    ]) {
      const schedule = new FixedLinearSchedule(g0, g1);
      for (const xv of points) {
        const x = torch.full([reps, dims], xv, f64);
        const t = sampleTimes(reps, { generator: g }).double();
        const terms = vlbTerms({
          f: x,
          k: null,
          levels: null,
          values: scheduleValues(schedule, t),
          eps: optimalEps(mu, s),
          generator: g,
        });
        const { mean, se } = meanAndStderr(nums(terms.total));
        const exact = dims * expectedVlb(xv, mu, s, g0, g1);
        close(mean, exact, 4 * se, `x=${xv}, γ₁=${g1}: MC VLB vs its closed form`);
        const nll = dims * gaussianNll(xv, mu, s);
        if (Number.isFinite(tightTo)) {
          close(exact, nll, tightTo * dims, `x=${xv}: closed-form VLB vs −log p(x)`);
          close(mean, nll, 4 * se + tightTo * dims, `x=${xv}: MC VLB vs −log p(x)`);
        }
      }
    }
  });
});

test('the ancestral sampler with the exact denoiser reproduces a 1-D Gaussian', () => {
  torch.tidy(() => {
    const [mu, s] = [0.7, 0.4];
    const n = 20000;
    const schedule = new FixedLinearSchedule(-13.3, 8);
    const alpha0 = Math.sqrt(1 / (1 + Math.exp(-13.3)));
    const z1 = torch.randn([n, 1], { ...f64, generator: new torch.Generator(9) });
    const moments = (sampler: 'ancestral' | 'ddim', steps: number) => {
      const z0 = sampleLatent(optimalEps(mu, s), schedule, [n, 1], {
        steps,
        sampler,
        generator: new torch.Generator(2),
        z1,
      });
      const x = z0.div(alpha0);
      return { mean: x.mean().item(), ratio: x.var().item() / (s * s) };
    };
    // Finite steps under-disperse (x̂ replaces the posterior over x); the error falls as O(1/steps).
    const coarse = moments('ancestral', 50);
    const fine = moments('ancestral', 1000);
    close(fine.mean, mu, (4 * s) / Math.sqrt(n), 'ancestral mean');
    close(fine.ratio, 1, 0.04, 'ancestral variance ratio');
    assert.ok(Math.abs(fine.ratio - 1) < Math.abs(coarse.ratio - 1) / 5, 'more steps, smaller error');
    const ddim = moments('ddim', 500);
    close(ddim.mean, mu, (4 * s) / Math.sqrt(n), 'DDIM mean');
    close(ddim.ratio, 1, 0.04, 'DDIM variance ratio');
  });
});

test('the variance objective gives the schedule ∇E[L²]/(2E[L]) and the network the VLB gradient', () => {
  torch.manualSeed(0);
  const net = new MLPDenoiser({ dims: 3, width: 16, depth: 1 });
  torch.noGrad(() => {
    for (const p of net.out.parameters()) p.normal_(0, 0.3); // a non-trivial predictor
  });
  // In float64, so the two routes agree to round-off even where the gradients are tiny.
  const model = new VDM(net, makeSchedule('net', { features: 16 }), { levels: null }).double();
  const x = torch.randn([64, 3], { ...f64, generator: new torch.Generator(1) }).keep();
  const grads = (run: () => void) => {
    model.zeroGrad();
    run();
    return model.parameters().map((p) => torch.tidy(() => nums(p.grad!.double())));
  };
  const variance = grads(() =>
    torch.tidy(() => model.lossAndBackward(x, { objective: 'variance', generator: new torch.Generator(8) })),
  );
  const vlb = grads(() =>
    torch.tidy(() => model.lossAndBackward(x, { objective: 'vlb', generator: new torch.Generator(8) })),
  );
  // Brute force: an explicit loss whose schedule gradient is ∇(mean L²)/(2 mean L).
  const brute = grads(() =>
    torch.tidy(() => {
      const L = model.forward(x, { generator: new torch.Generator(8) }).total;
      L.square().mean().div(L.mean().detach().mul(2)).backward();
    }),
  );
  const nNet = net.parameters().length;
  model.parameters().forEach((_, i) => {
    const want = i < nNet ? vlb[i] : brute[i];
    const got = variance[i];
    for (const [j, g] of got.entries()) close(g, want[j], 1e-9 + 1e-6 * Math.abs(want[j]), `parameter ${i}[${j}]`);
  });
  assert.ok(
    variance.slice(nNet).some((g, i) => g.some((v, j) => Math.abs(v - vlb[nNet + i][j]) > 1e-6)),
    'the schedule gradient must differ from the VLB one',
  );
  x.dispose();
  model.dispose();
});

test('discrete data: the decoder recovers the levels from a sharp z₀, and the U-Net has the right shapes', () => {
  torch.manualSeed(1);
  const net = new UNet({ channels: 1, width: 8, depth: 1, mults: [1, 2], attention: true, fourier: [2, 3] });
  const model = new VDM(net, makeSchedule('fixed'), { levels: 17 });
  torch.tidy(() => {
    const k = torch.randint(0, 17, [4, 1, 8, 8]).double();
    const x = k.div(16).float();
    const { f } = model.encode(x);
    assert.ok(f.allclose(levelsToCentres(k, 17).float(), { atol: 1e-6 }));
    const alpha0 = Math.sqrt(1 / (1 + Math.exp(-13.3)));
    assert.ok(model.decode(f.mul(alpha0)).equal(x), 'decode(α₀ f) should give back x');
    const eps = net.forward(f, torch.full([4], 0.5));
    assert.deepEqual(eps.shape, [4, 1, 8, 8]);
    assert.equal(eps.abs().max().item(), 0, 'the output convolution starts at zero');
    assert.deepEqual(fourierFeatures(f, [2, 3]).shape, [4, 5, 8, 8]);
    // ε̂ = 0 at initialisation: L_diff = ½ (γ_max − γ_min) ‖ε‖², about ½·18.3·64 nats. Over 64
    // images ‖ε‖² totals a χ² with 4096 degrees of freedom: relative standard deviation 0.022.
    const terms = model.forward(x.repeat([16, 1, 1, 1]));
    for (const v of Object.values(terms)) assert.deepEqual(v.shape, [64]);
    close(terms.diff.mean().item() / (0.5 * 18.3 * 64), 1, 0.1, 'initial diffusion loss');
    const attn = new SelfAttention2d(8, { heads: 2, groups: 4 });
    const h = torch.randn([2, 8, 4, 4]);
    assert.ok(attn.forward(h).equal(h), 'a new attention block is the identity');
    attn.dispose();
  });
  model.dispose();
});

for (const fourier of [[2, 3], []])
  test(`a channels-last U-Net gives the row-major one's ε̂ and gradients to float32 rounding (Fourier features [${fourier}])`, () => {
    // Without Fourier features the input has one channel, whose strides are the same in both layouts.
    const config = { channels: 1, width: 8, depth: 1, mults: [1, 2], attention: true, fourier };
    torch.manualSeed(2);
    const rowMajor = new UNet(config);
    // Move every weight off its initial zeros, so that each layer's output matters.
    torch.noGrad(() => {
      for (const p of rowMajor.parameters())
        p.add_(torch.randn(p.shape, { generator: new torch.Generator(p.numel()) }).mul(0.1));
    });
    const last = new UNet({ ...config, memoryFormat: 'channelsLast' });
    last.loadStateDict(rowMajor.stateDict());
    torch.tidy(() => {
      const z = torch.randn([4, 1, 8, 8], { generator: new torch.Generator(3) });
      const g = torch.full([4], 0.3);
      const run = (net: UNet) => {
        const eps = net.forward(z, g);
        eps.square().sum().backward();
        return { eps, grads: net.parameters().map((p) => p.grad!) };
      };
      // What reaches the first block's first convolution: GroupNorm + SiLU as one node channels-last only.
      const conv1Input = (net: UNet) => {
        const conv = (net.down.at(0) as ResAttn).res.conv1;
        const seen: string[] = [];
        const plain = conv.forward.bind(conv);
        conv.forward = (t: Tensor) => {
          seen.push(t.gradFn ?? '');
          return plain(t);
        };
        return seen;
      };
      const seenA = conv1Input(rowMajor);
      const seenB = conv1Input(last);
      const a = run(rowMajor);
      const b = run(last);
      assert.match(seenB[0], /GroupNormSilu/, 'channels-last: the fused node');
      assert.match(seenA[0], /Silu/);
      assert.doesNotMatch(seenA[0], /GroupNormSilu/, 'row-major: the two ops, as the committed results were trained');
      assert.ok(b.eps.isContiguous(), 'ε̂ leaves the network row-major');
      // The norms' sums run in another order channels-last: identical bits would mean that layout never ran.
      assert.ok(!b.eps.equal(a.eps), 'the channels-last path ran');
      const rel = (x: Tensor, y: Tensor) => x.sub(y).abs().max().item() / Math.max(1e-6, y.abs().max().item());
      assert.ok(rel(b.eps, a.eps) < 1e-5, `ε̂: ${rel(b.eps, a.eps)}`);
      for (const [i, ga] of a.grads.entries()) {
        assert.ok(rel(b.grads[i], ga) < 1e-4, `gradient ${i}: ${rel(b.grads[i], ga)}`);
      }
    });
    rowMajor.dispose();
    last.dispose();
  });

test('new VDM runs are channels-last; a config from before memoryFormat loads row-major, as it was trained; a bad layout is refused', () => {
  assert.equal(vdmConfig('digits').memoryFormat, 'channelsLast');
  assert.equal(vdmConfig('fashion-mnist').memoryFormat, 'channelsLast');
  const { memoryFormat: _dropped, ...older } = vdmConfig('digits');
  assert.equal(parseVdmConfig(older, 'config.json').memoryFormat, 'contiguous');
  assert.equal(vdmConfig('digits', { memoryFormat: 'contiguous' }).memoryFormat, 'contiguous');
  assert.throws(() => parseVdmConfig({ ...older, memoryFormat: 'nhwc' }, 'config.json'), /memoryFormat/);
});

test('the reconstruction term over a window of levels equals the full softmax over all K', () => {
  torch.tidy(() => {
    const g = new torch.Generator(6);
    for (const [levels, g0] of [
      [256, -13.3],
      [256, -9],
      [17, -7.8],
    ]) {
      const k = torch.randint(0, levels, [32, 3, 4, 4], { generator: g }).double();
      const f = levelsToCentres(k, levels);
      const gamma0 = torch.full([32], g0, f64);
      // Some pixels pushed far off, past the ends of the range too.
      const z = f.add(torch.randnLike(f, { generator: g }).mul(Math.exp(g0 / 2) * 3));
      const full = decoderLogits(z, gamma0.reshape([32, 1, 1, 1, 1]), levels).logSoftmax(-1);
      const want = full.gather(-1, k.unsqueeze(-1).long()).flatten(1).sum(1).neg();
      const got = discreteReconstruction(k, z, gamma0, levels);
      assert.ok(got.allclose(want, { rtol: 1e-9, atol: 1e-9 }), `K=${levels}, γ₀=${g0}`);
    }
  });
});

test('a training step frees everything it makes', () => {
  torch.manualSeed(2);
  const model = new VDM(new UNet({ channels: 1, width: 8, depth: 1 }), makeSchedule('net', { features: 8 }), {
    levels: 17,
  });
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const x = torch.rand([8, 1, 8, 8]).keep();
  const step = (objective: 'vlb' | 'variance') =>
    torch.tidy(() => {
      opt.zeroGrad();
      model.lossAndBackward(x, { objective });
      opt.step();
    });
  step('vlb');
  step('variance');
  const live = torch.memory().tensors;
  for (let i = 0; i < 5; i++) {
    step('vlb');
    step('variance');
  }
  assert.equal(torch.memory().tensors, live);
  x.dispose();
  model.dispose();
});
