// Guided distillation's algebra: the progressive-distillation target against two teacher DDIM
// steps (a linear teacher in float64), the guidance combination, the parameterisations, and the
// paper's stochastic sampler on Gaussian data with the exact denoiser.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ddimStep,
  epsFromX,
  guidedCombination,
  noiseUp,
  twoStepTarget,
  xFromOutput,
} from '../../../src/diffusion/distill/guidance.js';
import { GuidedModel, GuidedNet } from '../../../src/diffusion/distill/net.js';
import { LogSnrCosine, sampleGrid } from '../../../src/diffusion/distill/samplers.js';
import { CosineSchedule } from '../../../src/diffusion/schedules.js';
import { full, randn, tensor } from '../../../src/torch/creation.js';
import { Generator, manualSeed } from '../../../src/torch/random.js';
import { tidy } from '../../../src/torch/scope.js';
import type { Tensor } from '../../../src/torch/tensor.js';

const f64 = { dtype: 'float64' as const };
const sched = new LogSnrCosine(-12, 12);
const maxAbs = (a: Tensor, b: Tensor) => a.sub(b).abs().max().item();

/** A linear teacher x̂(z, t) = a(t) z + b(t) with a and b that vary with t. */
function linearTeacher(bias: Tensor) {
  return (z: Tensor, at: { alpha: number; sigma: number }) => {
    // a and b as functions of t through α (monotone in t), so each time has its own map.
    const a = 0.2 + 0.6 * at.sigma;
    return z.mul(a).add(bias.mul(at.alpha));
  };
}

test('the distillation target is what two teacher DDIM steps give, for several (i, N) (linear teacher, float64)', () =>
  tidy(() => {
    const g = new Generator(3);
    const bias = randn([1, 1, 4, 4], { ...f64, generator: g });
    const teacher = linearTeacher(bias);
    for (const [i, n] of [
      [0, 1],
      [0, 2],
      [1, 2],
      [0, 4],
      [3, 4],
      [5, 8],
      [2, 16],
      [15, 16],
    ]) {
      const t = sched.at((i + 1) / n);
      const t1 = sched.at((i + 0.5) / n);
      const t2 = sched.at(i / n);
      const z = randn([6, 1, 4, 4], { ...f64, generator: g });
      const target = twoStepTarget(teacher, z, t, t1, t2);
      // Two DDIM steps of the teacher written out by hand: z_s = α_s x̂ + σ_s (z_t − α_t x̂)/σ_t.
      const x0 = teacher(z, t);
      const za = x0.mul(t1.alpha).add(z.sub(x0.mul(t.alpha)).mul(t1.sigma / t.sigma));
      const x1 = teacher(za, t1);
      const zb = x1.mul(t2.alpha).add(za.sub(x1.mul(t1.alpha)).mul(t2.sigma / t1.sigma));
      // One student DDIM step t → t″ with x̂ = the target lands there.
      const oneStep = target.mul(t2.alpha).add(z.sub(target.mul(t.alpha)).mul(t2.sigma / t.sigma));
      const err = maxAbs(oneStep, zb);
      assert.ok(err < 1e-12 * (1 + zb.abs().max().item()), `(i, N) = (${i}, ${n}): |one step − two steps| = ${err}`);
    }
  }));

test('an N-step sampler on the target reproduces the 2N-step teacher trajectory (linear teacher, float64)', () =>
  tidy(() => {
    const g = new Generator(4);
    const bias = randn([1, 1, 3, 3], { ...f64, generator: g });
    const teacher = linearTeacher(bias);
    const asTeacher = (z: Tensor, t: number) => teacher(z, sched.at(t));
    for (const n of [1, 2, 4, 8]) {
      // The distilled student, exactly: at t = (i + 1)/N it predicts the two-step target.
      const student = (z: Tensor, t: number) =>
        twoStepTarget(teacher, z, sched.at(t), sched.at(t - 0.5 / n), sched.at(t - 1 / n));
      const z1 = randn([5, 1, 3, 3], { ...f64, generator: g });
      const a = sampleGrid(student, sched, z1, { steps: n });
      const b = sampleGrid(asTeacher, sched, z1, { steps: 2 * n });
      assert.ok(maxAbs(a, b) < 1e-11, `N = ${n}: ${maxAbs(a, b)}`);
    }
  }));

test('guidance: x̂ʷ = (1 + w) x̂_c − w x̂_u by hand; w = 0 is the conditional model; the w branch starts at zero', () =>
  tidy(() => {
    const xc = tensor([1, 2, -0.5], f64);
    const xu = tensor([3, -1, 0.25], f64);
    assert.deepEqual(Array.from(guidedCombination(xc, xu, 2).toTypedArray() as Float64Array), [-3, 8, -2]);
    assert.deepEqual(Array.from(guidedCombination(xc, xu, 0).toTypedArray() as Float64Array), [1, 2, -0.5]);
    const perExample = guidedCombination(
      xc.reshape([3, 1]),
      xu.reshape([3, 1]),
      tensor([0, 1, 4], f64).reshape([3, 1]),
    );
    assert.deepEqual(Array.from(perExample.toTypedArray() as Float64Array), [1, 5, -3.5]);

    manualSeed(0);
    const cfg = { channels: 1, width: 8, depth: 1, mults: [1], dropout: 0, classes: 10 };
    const net = new GuidedNet({ ...cfg, wConditioned: false });
    // Give every layer weight so the test is not about zero-initialised outputs.
    for (const p of net.parameters()) p.data.copy_(randn(p.shape).mul(0.2));
    const model = new GuidedModel(net, sched, 'v');
    const z = randn([4, 1, 8, 8]);
    const labels = tensor([0, 3, 7, 9], { dtype: 'int64' });
    const bt = model.timesAt(0.6, 4, 4);
    const cond = model.xHat(z, bt, labels);
    const uncond = model.xHat(z, bt, full([4], 10, { dtype: 'int64' }));
    for (const w of [0, 0.3, 1, 4]) {
      const guided = model.guidedXHat(z, bt, labels, w);
      const byHand = cond.mul(1 + w).sub(uncond.mul(w));
      assert.ok(maxAbs(guided, byHand) < 1e-5, `w = ${w}: ${maxAbs(guided, byHand)}`);
    }
    assert.ok(maxAbs(model.guidedXHat(z, bt, labels, 0), cond) < 1e-6, 'w = 0 is the conditional model');
    assert.ok(maxAbs(cond, uncond) > 1e-2, 'the label matters');

    // A student built from the teacher's weights: before training, every w gives the teacher's x̂_c.
    const student = new GuidedNet({ ...cfg, wConditioned: true });
    student.loadStateDict(net.stateDict(), { strict: false });
    const sm = new GuidedModel(student, sched, 'v');
    for (const w of [0, 2]) {
      const out = sm.xHat(z, bt, labels, full([4], w));
      assert.equal(maxAbs(out, cond), 0, `student at w = ${w}`);
    }
  }));

test('v- and x-parameterisations: x̂ from the exact v is x, and ε̂ from x̂ is ε (float64)', () =>
  tidy(() => {
    const x = randn([3, 5], f64);
    const eps = randn([3, 5], f64);
    for (const t of [0.05, 0.5, 0.97]) {
      const { alpha, sigma } = sched.at(t);
      const z = x.mul(alpha).add(eps.mul(sigma));
      const v = eps.mul(alpha).sub(x.mul(sigma));
      assert.ok(maxAbs(xFromOutput(v, z, alpha, sigma, 'v'), x) < 1e-9);
      assert.equal(maxAbs(xFromOutput(x, z, alpha, sigma, 'x'), x), 0);
      assert.ok(maxAbs(epsFromX(z, x, alpha, sigma), eps) < 1e-9 / Math.min(1, sigma));
      // A DDIM step with the true x̂ and ε keeps z on the line α x + σ ε.
      const s = sched.at(t / 2);
      assert.ok(maxAbs(ddimStep(z, x, { alpha, sigma }, s), x.mul(s.alpha).add(eps.mul(s.sigma))) < 1e-9);
    }
  }));

/** Gaussian data x ~ N(μ, s²): E[x | z_t] = μ + α s² (z − α μ) / (α² s² + σ²). */
function exactDenoiser(mu: number, s: number) {
  return (z: Tensor, t: number) => {
    const { alpha, sigma } = sched.at(t);
    const k = (alpha * s * s) / (alpha * alpha * s * s + sigma * sigma);
    return z
      .sub(alpha * mu)
      .mul(k)
      .add(mu);
  };
}

/**
 * The stochastic sampler's variance in closed form (everything is linear and Gaussian): a DDIM jump
 * t → s scales the deviation from α μ by c = (α_s α_t s² + σ_s σ_t)/v_t, and the forward step
 * s → u adds (σ_u² − a² σ_s²) noise after scaling by a = α_u/α_s.
 */
function stochasticVariance(s: number, n: number): number {
  const at = (k: number) => sched.at(k / n);
  const v = (k: number) => at(k).alpha ** 2 * s * s + at(k).sigma ** 2;
  const jump = (from: number, to: number) =>
    (at(to).alpha * at(from).alpha * s * s + at(to).sigma * at(from).sigma) / v(from);
  let varDev = 1; // z₁ ~ N(0, 1), and α₁ μ is ~0
  for (let k = n; k >= 2; k--) {
    const afterJump = jump(k, k - 2) ** 2 * varDev;
    const a = at(k - 1).alpha / at(k - 2).alpha;
    varDev = a * a * afterJump + at(k - 1).sigma ** 2 - a * a * at(k - 2).sigma ** 2;
  }
  return jump(1, 0) ** 2 * varDev;
}

test('the stochastic sampler keeps the data marginals on Gaussian data with the exact denoiser', () =>
  tidy(() => {
    const mu = 0.3;
    const s = 0.5;
    const m = 100_000;
    // The step back up is the forward process: from z_s ~ q(z_s) it gives exactly q(z_u).
    const g0 = new Generator(1);
    const [lo, hi] = [sched.at(0.25), sched.at(0.375)];
    const data = randn([m, 1], { ...f64, generator: g0 })
      .mul(s)
      .add(mu);
    const zs = data.mul(lo.alpha).add(randn([m, 1], { ...f64, generator: g0 }).mul(lo.sigma));
    const zu = noiseUp(zs, lo, hi, randn([m, 1], { ...f64, generator: g0 }));
    const vu = hi.alpha ** 2 * s * s + hi.sigma ** 2;
    assert.ok(Math.abs(zu.mean().item() - hi.alpha * mu) < 5 * Math.sqrt(vu / m));
    assert.ok(
      Math.abs(zu.var().item() - vu) < 5 * Math.sqrt((2 * vu * vu) / m),
      `noise up: ${zu.var().item()} vs ${vu}`,
    );

    let previous = 0;
    for (const n of [16, 64, 256]) {
      const g = new Generator(n);
      const z1 = randn([m, 1], { ...f64, generator: g });
      const x = sampleGrid(exactDenoiser(mu, s), sched, z1, { steps: n, sampler: 'stochastic', generator: g });
      const mean = x.mean().item();
      const variance = x.var().item();
      const exact = stochasticVariance(s, n);
      // Monte Carlo against the closed form of this sampler: 5 standard errors (var of a sample variance ≈ 2σ⁴/m).
      assert.ok(Math.abs(mean - mu) < 5 * Math.sqrt((s * s) / m), `N = ${n}: mean ${mean}`);
      assert.ok(
        Math.abs(variance - exact) < 5 * Math.sqrt((2 * exact * exact) / m),
        `N = ${n}: var ${variance} vs ${exact}`,
      );
      // The stated tolerance. The mean is exact at every N; the variance is that of a first-order
      // discretisation (each DDIM jump with the posterior mean shrinks it), 36%, 11.4% and 3.0% low
      // at N = 16, 64, 256 for this schedule, and it converges to s² as N grows.
      const tol = { 16: 0.4, 64: 0.12, 256: 0.035 }[n] ?? 0;
      assert.ok(Math.abs(exact / (s * s) - 1) < tol, `N = ${n}: closed-form variance ${exact} vs ${s * s}`);
      assert.ok(Math.abs(variance / (s * s) - 1) < tol, `N = ${n}: sample variance ${variance}`);
      assert.ok(exact > previous, 'the variance converges from below');
      previous = exact;
    }
  }));

test("the cosine log-SNR schedule: numbers and tensors agree with schedules.ts's CosineSchedule and its ends", () =>
  tidy(() => {
    const ts = [0, 0.1, 0.5, 0.9, 1];
    const cosine = new CosineSchedule(-12, 12);
    const t = tensor(ts, f64);
    const gamma = cosine.gamma(t).toTypedArray() as Float64Array;
    const { alpha, sigma } = sched.atTensor(t, 1);
    ts.forEach((u, i) => {
      assert.ok(Math.abs(sched.gamma(u) - gamma[i]) < 1e-9, `γ(${u})`);
      const at = sched.at(u);
      assert.ok(Math.abs(at.alpha - (alpha.toTypedArray() as Float64Array)[i]) < 1e-12);
      assert.ok(Math.abs(at.sigma - (sigma.toTypedArray() as Float64Array)[i]) < 1e-12);
      assert.ok(Math.abs(at.alpha ** 2 + at.sigma ** 2 - 1) < 1e-12, 'α² + σ² = 1');
    });
    assert.ok(Math.abs(sched.gamma(0) + 12) < 1e-9 && Math.abs(sched.gamma(1) - 12) < 1e-9);
  }));
