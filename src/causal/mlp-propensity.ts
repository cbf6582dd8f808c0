// A small genlab network as the propensity model: standardised covariates → two ELU layers → one
// logit, e(x) = σ(logit). Trained on the binary cross-entropy with Adam, full batch, seeded. Early
// stopping: a fifth of the units (drawn within each group) is held out, the loss there is checked every
// `every` steps, and the weights with the best held-out loss are kept (training stops after
// `patience` checks without improvement, or at `steps`). Logistic regression is the default; the
// network is for propensities that are not linear in the covariates on the logit scale.
import { Rng } from '../data/rng.js';
import { ELU, F, Linear, Sequential } from '../nn/index.js';
import { Adam } from '../optim/adam.js';
import { noGrad } from '../torch/autograd.js';
import { tensor } from '../torch/creation.js';
import { manualSeed } from '../torch/random.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import type { CausalData } from './data.js';
import { type Matrix, sigmoid } from './linalg.js';
import { type PropensityFitOptions, type PropensityModel, registerPropensityLearner } from './propensity.js';

export interface MlpPropensitySettings {
  hidden: number;
  /** Most full-batch Adam steps. */
  steps: number;
  lr: number;
  weightDecay: number;
  /** Held-out share of each group for early stopping (0: a fixed budget of `steps`). */
  validation: number;
  /** Steps between held-out checks, and checks without improvement before stopping. */
  every: number;
  patience: number;
}

export const MLP_PROPENSITY_DEFAULTS: MlpPropensitySettings = {
  hidden: 32,
  steps: 1000,
  lr: 3e-3,
  weightDecay: 1e-4,
  validation: 0.2,
  every: 10,
  patience: 20,
};

export interface MlpPropensityModel extends PropensityModel {
  /** Steps taken and the step whose weights were kept. */
  steps: number;
  bestStep: number;
}

/** Fits the network on d and returns its scores on d and a scorer for other rows. */
export function fitMlpPropensity(
  d: CausalData,
  o: PropensityFitOptions & Partial<MlpPropensitySettings> = { seed: 0 },
): MlpPropensityModel {
  const s = { ...MLP_PROPENSITY_DEFAULTS, ...o };
  manualSeed(s.seed);
  const { n } = d;
  const p = d.x.p;
  const mean = new Float64Array(p);
  const scale = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    for (let i = 0; i < n; i++) mean[j] += d.x.a[i * p + j];
    mean[j] /= n;
    for (let i = 0; i < n; i++) scale[j] += (d.x.a[i * p + j] - mean[j]) ** 2;
    scale[j] = Math.sqrt(scale[j] / n) || 1;
  }
  const z = (x: Matrix) => Float32Array.from(x.a, (v, k) => (v - mean[k % p]) / scale[k % p]);
  const xz = z(d.x);
  // The held-out units, drawn within each group so both groups are seen on each side.
  const rng = new Rng(s.seed);
  const held = new Uint8Array(n);
  if (s.validation > 0) {
    for (const g of [0, 1]) {
      const rows = [...d.t.keys()].filter((i) => d.t[i] === g);
      for (let i = rows.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [rows[i], rows[j]] = [rows[j], rows[i]];
      }
      for (const r of rows.slice(0, Math.floor(s.validation * rows.length))) held[r] = 1;
    }
  }
  const part = (h: number) => {
    const idx = [...held.keys()].filter((i) => held[i] === h);
    const xb = new Float32Array(idx.length * p);
    idx.forEach((i, k) => {
      xb.set(xz.subarray(i * p, (i + 1) * p), k * p);
    });
    return {
      x: tensor(xb, { shape: [idx.length, p] }),
      t: tensor(Float32Array.from(idx, (i) => d.t[i])),
      n: idx.length,
    };
  };
  const train = part(0);
  const val = s.validation > 0 ? part(1) : undefined;
  const net = new Sequential(
    new Linear(p, s.hidden),
    new ELU(),
    new Linear(s.hidden, s.hidden),
    new ELU(),
    new Linear(s.hidden, 1),
  );
  const opt = new Adam(net.parameters(), { lr: s.lr, weightDecay: s.weightDecay });
  const params = net.parameters();
  let best = Infinity;
  let bestStep = 0;
  let snapshot: Tensor[] | undefined;
  let since = 0;
  let step = 0;
  const logits = (x: Tensor) => net.forward(x).squeeze(1);
  while (step < s.steps) {
    tidy(() => {
      opt.zeroGrad();
      F.binaryCrossEntropyWithLogits(logits(train.x), train.t).backward();
      opt.step();
    });
    step++;
    if (!val || step % s.every !== 0) continue;
    const loss = noGrad(() => tidy(() => F.binaryCrossEntropyWithLogits(logits(val.x), val.t).item()));
    if (loss < best - 1e-6) {
      best = loss;
      bestStep = step;
      since = 0;
      for (const t of snapshot ?? []) t.dispose();
      snapshot = params.map((q) => noGrad(() => q.detach().clone()));
    } else if (++since >= s.patience) break;
  }
  // The kept weights are read out and the tensors freed: scoring other rows (a cross-fitting fold) runs in JS.
  const w = (snapshot ?? params).map((q) => Float64Array.from(q.toTypedArray() as Float32Array));
  for (const t of [...params, ...(snapshot ?? []), train.x, train.t, val?.x, val?.t]) t?.dispose();
  const predict = (x: Matrix) => {
    const xs = z(x);
    const out = new Float64Array(x.n);
    for (let i = 0; i < x.n; i++) {
      let h: ArrayLike<number> = xs.subarray(i * p, (i + 1) * p);
      for (let layer = 0; layer < 3; layer++) {
        const [wt, bias] = [w[2 * layer], w[2 * layer + 1]];
        const inDim = h.length;
        const next = new Float64Array(bias.length);
        for (let r = 0; r < bias.length; r++) {
          let v = bias[r];
          for (let c = 0; c < inDim; c++) v += wt[r * inDim + c] * h[c];
          next[r] = layer < 2 ? (v > 0 ? v : Math.expm1(v)) : v;
        }
        h = next;
      }
      out[i] = sigmoid(h[0]);
    }
    return out;
  };
  return { kind: 'mlp', p: predict(d.x), predict, steps: step, bestStep: val ? bestStep : step };
}

/** Makes `propensity: 'mlp'` available to the estimators in this process. */
export function registerMlpPropensity(): void {
  registerPropensityLearner('mlp', fitMlpPropensity);
}
