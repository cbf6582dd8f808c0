// TARNet and CFR (Shalit, Johansson & Sontag 2017, "Estimating individual treatment effect:
// generalization bounds and algorithms"), trained with genlab's nn. A shared representation Φ(x)
// feeds two outcome heads h0, h1; the factual loss is weighted by w_i = t_i/(2u) + (1 − t_i)/(2(1 − u)),
// u the treated share, as in the paper. CFR adds α·IPM(Φ of treated, Φ of controls): MMD² with a
// Gaussian kernel, or the Wasserstein-1 distance by Sinkhorn iterations (Cuturi 2013) with the
// transport plan held fixed in the backward pass. Individual effects are h1(Φ(x)) − h0(Φ(x)).
//
// A fit is small and in memory (seconds), part of one analysis; it is not a resumable run.
import { Rng } from '../data/rng.js';
import { ELU, Linear, Module, Sequential } from '../nn/index.js';
import { Adam } from '../optim/adam.js';
import { noGrad } from '../torch/autograd.js';
import { tensor } from '../torch/creation.js';
import { cdist } from '../torch/functions.js';
import { manualSeed } from '../torch/random.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import type { CausalData } from './data.js';
import type { Estimand, Estimate } from './estimators.js';

export type Ipm = 'none' | 'mmd' | 'wass';

export interface TarnetSettings {
  ipm: Ipm;
  /** Weight α of the IPM penalty (CFR). */
  alpha: number;
  hidden: number;
  steps: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  seed: number;
}

export const TARNET_DEFAULTS: TarnetSettings = {
  ipm: 'none',
  alpha: 1,
  hidden: 64,
  steps: 1500,
  batchSize: 128,
  lr: 1e-3,
  weightDecay: 1e-4,
  seed: 0,
};

class TarNet extends Module<[Tensor], [Tensor, Tensor, Tensor]> {
  phi: Sequential;
  h0: Sequential;
  h1: Sequential;

  constructor(p: number, h: number) {
    super();
    this.phi = new Sequential(new Linear(p, h), new ELU(), new Linear(h, h), new ELU());
    this.h0 = new Sequential(new Linear(h, h), new ELU(), new Linear(h, 1));
    this.h1 = new Sequential(new Linear(h, h), new ELU(), new Linear(h, 1));
  }

  forward(x: Tensor): [Tensor, Tensor, Tensor] {
    const r = this.phi.forward(x);
    return [r, this.h0.forward(r).squeeze(1), this.h1.forward(r).squeeze(1)];
  }
}

/** Squared MMD with a Gaussian kernel of bandwidth σ = 1 between two samples of representations. */
export function mmd2(a: Tensor, b: Tensor): Tensor {
  const k = (u: Tensor, v: Tensor) => cdist(u, v).square().mul(-0.5).exp().mean();
  return k(a, a).add(k(b, b)).sub(k(a, b).mul(2));
}

/** Entropic Wasserstein-1 between equal-weight samples: Sinkhorn's plan (no gradient) times the distances. */
export function wasserstein(a: Tensor, b: Tensor, lambda = 10, iterations = 10): Tensor {
  const m = cdist(a, b);
  const plan = noGrad(() => {
    const na = a.shape[0];
    const nb = b.shape[0];
    const mv = Float64Array.from(m.toTypedArray() as Float32Array);
    // Scale by the mean distance so that λ means the same at any scale (as the paper's code does).
    const mean = mv.reduce((s, v) => s + v, 0) / mv.length || 1;
    const kmat = mv.map((v) => Math.exp((-lambda * v) / mean));
    const u = new Float64Array(na).fill(1 / na);
    const v = new Float64Array(nb).fill(1 / nb);
    for (let it = 0; it < iterations; it++) {
      for (let i = 0; i < na; i++) {
        let s = 0;
        for (let j = 0; j < nb; j++) s += kmat[i * nb + j] * v[j];
        u[i] = 1 / na / Math.max(s, 1e-300);
      }
      for (let j = 0; j < nb; j++) {
        let s = 0;
        for (let i = 0; i < na; i++) s += kmat[i * nb + j] * u[i];
        v[j] = 1 / nb / Math.max(s, 1e-300);
      }
    }
    const t = new Float32Array(na * nb);
    for (let i = 0; i < na; i++) for (let j = 0; j < nb; j++) t[i * nb + j] = u[i] * kmat[i * nb + j] * v[j];
    return tensor(t, { shape: [na, nb] });
  });
  return plan.mul(m).sum();
}

function standardise(v: ArrayLike<number>, n: number, p: number): { z: Float32Array } {
  const z = new Float32Array(n * p);
  for (let j = 0; j < p; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += v[i * p + j];
    m /= n;
    let s = 0;
    for (let i = 0; i < n; i++) s += (v[i * p + j] - m) ** 2;
    s = Math.sqrt(s / n) || 1;
    for (let i = 0; i < n; i++) z[i * p + j] = (v[i * p + j] - m) / s;
  }
  return { z };
}

export interface TarnetFit {
  mu0: Float64Array;
  mu1: Float64Array;
  /** Final training loss (factual + penalty). */
  loss: number;
}

/** Trains a TARNet (ipm 'none') or CFR on all units and predicts both potential outcomes for each. */
export function fitTarnet(d: CausalData, settings: Partial<TarnetSettings> = {}): TarnetFit {
  const s = { ...TARNET_DEFAULTS, ...settings };
  manualSeed(s.seed);
  const { n } = d;
  const p = d.x.p;
  const xz = standardise(d.x.a, n, p).z;
  let ym = 0;
  for (let i = 0; i < n; i++) ym += d.y[i];
  ym /= n;
  let ys = 0;
  for (let i = 0; i < n; i++) ys += (d.y[i] - ym) ** 2;
  ys = Math.sqrt(ys / n) || 1;
  const yz = Float32Array.from(d.y, (v) => (v - ym) / ys);
  let n1 = 0;
  for (let i = 0; i < n; i++) n1 += d.t[i];
  const u = n1 / n;
  const model = new TarNet(p, s.hidden);
  const opt = new Adam(model.parameters(), { lr: s.lr, weightDecay: s.weightDecay });
  const rng = new Rng(s.seed);
  const treated = [...d.t.keys()].filter((i) => d.t[i]);
  const controls = [...d.t.keys()].filter((i) => !d.t[i]);
  // Each batch keeps the groups' shares, so the IPM always sees both.
  const b1 = Math.max(2, Math.round(s.batchSize * u));
  const b0 = Math.max(2, s.batchSize - b1);
  let last = Number.NaN;
  for (let step = 0; step < s.steps; step++) {
    last = tidy(() => {
      const idx1 = Array.from({ length: b1 }, () => treated[rng.int(treated.length)]);
      const idx0 = Array.from({ length: b0 }, () => controls[rng.int(controls.length)]);
      const batch = (idx: number[]) => {
        const xb = new Float32Array(idx.length * p);
        for (let k = 0; k < idx.length; k++) xb.set(xz.subarray(idx[k] * p, (idx[k] + 1) * p), k * p);
        return { x: tensor(xb, { shape: [idx.length, p] }), y: tensor(Float32Array.from(idx, (i) => yz[i])) };
      };
      const B1 = batch(idx1);
      const B0 = batch(idx0);
      opt.zeroGrad();
      const [r1, , y1hat] = model.forward(B1.x);
      const [r0, y0hat] = model.forward(B0.x);
      // Factual loss with the paper's group weights: each group counts half.
      const l1 = y1hat.sub(B1.y).square().mean().mul(0.5);
      const l0 = y0hat.sub(B0.y).square().mean().mul(0.5);
      let loss = l1.add(l0);
      if (s.ipm !== 'none') loss = loss.add((s.ipm === 'mmd' ? mmd2(r1, r0) : wasserstein(r1, r0)).mul(s.alpha));
      loss.backward();
      opt.step();
      return loss.item();
    });
  }
  const preds = noGrad(() =>
    tidy(() => {
      const [, h0, h1] = model.forward(tensor(xz, { shape: [n, p] }));
      return [
        Float64Array.from(h0.toTypedArray() as Float32Array),
        Float64Array.from(h1.toTypedArray() as Float32Array),
      ];
    }),
  );
  for (const prm of model.parameters()) prm.dispose();
  const mu0 = preds[0].map((v) => v * ys + ym);
  const mu1 = preds[1].map((v) => v * ys + ym);
  return { mu0, mu1, loss: last };
}

export const NN_ESTIMATORS = { tarnet: 'none', 'cfr-mmd': 'mmd', 'cfr-wass': 'wass' } as const satisfies Record<
  string,
  Ipm
>;
export type NnEstimatorName = keyof typeof NN_ESTIMATORS;

/** TARNet/CFR as an Estimate: the mean of h1 − h0 over the target population; SE only by the bootstrap. */
export function tarnetEstimate(
  d: CausalData,
  name: NnEstimatorName,
  estimand: Estimand,
  settings: Partial<TarnetSettings> = {},
): Estimate {
  const fit = fitTarnet(d, { ...settings, ipm: NN_ESTIMATORS[name] });
  const ite = fit.mu1.map((v, i) => v - fit.mu0[i]);
  let s = 0;
  let k = 0;
  for (let i = 0; i < d.n; i++) {
    if (estimand === 'ATT' && !d.t[i]) continue;
    s += ite[i];
    k++;
  }
  return { estimator: name, estimand, estimate: s / k, ite, used: d.n, warnings: [] };
}
