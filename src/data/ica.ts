// The synthetic nonlinear-ICA benchmark of iVAE (Khemakhem et al., 2020; after ilkhem/iVAE):
// piecewise-stationary independent sources, one scale per segment and dimension, mixed by a random
// well-conditioned MLP. The segment label is the auxiliary variable u.
import { arange, rand, randn } from '../torch/creation.js';
import { linalg } from '../torch/functions.js';
import { quantile_scalar, repeatInterleave_self_int } from '../torch/generated/ops.js';
import { Generator } from '../torch/random.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import { TensorDataset } from './dataset.js';
import { DataError } from './errors.js';

export type IcaActivation = 'lrelu' | 'xtanh' | 'none';
export type IcaSource = 'gauss' | 'laplace';

export interface IcaOptions {
  /** Number of segments (default 40). */
  segments?: number;
  /** Points per segment (default 1000). */
  perSegment?: number;
  /** Source dimension d (default 5). */
  dim?: number;
  /** Observed dimension (default d). */
  dataDim?: number;
  /** Linear layers of the mixing MLP (default 3); the last one has no nonlinearity. */
  layers?: number;
  activation?: IcaActivation;
  /** Negative slope of the leaky ReLU, or the linear term of xtanh (default 0.1). */
  slope?: number;
  /** Source distribution before scaling, unit variance (default 'gauss'). */
  source?: IcaSource;
  /** Per-segment, per-dimension scales are U(lo, hi) (default [0.5, 3]). */
  scaleRange?: [number, number];
  /** Largest accepted condition number of a mixing matrix; by default the 25th percentile of `condSamples` draws. */
  condThreshold?: number;
  /** Random matrices drawn to set the default threshold (default 10,000). */
  condSamples?: number;
  /** Reuse one matrix across layers, as the reference code's SyntheticDataset does: the first for every layer when dataDim = dim, else a second square one after the first layer (default false). */
  repeatMatrix?: boolean;
  /** Segment means U(−5, 5) instead of 0 (default false). */
  uncentered?: boolean;
  /** Standard deviation of Gaussian noise added to the observations (default 0). */
  noise?: number;
  seed?: number;
}

/** A generated data set; all tensors are kept until dispose(). */
export interface IcaData {
  /** Observations [N, dataDim], float32. */
  x: Tensor;
  /** True sources [N, dim], float32. */
  s: Tensor;
  /** Segment label of each point, int64 [N] (segment-major order). */
  segment: Tensor;
  /** Source scale per segment and dimension [segments, dim], float64. */
  scales: Tensor;
  /** The mixing matrices, each [in, out] float64, applied as x ← act(x·A). */
  mixing: Tensor[];
  /** Condition numbers of the mixing matrices and the thresholds they passed. */
  conditions: number[];
  thresholds: number[];
  options: Required<Omit<IcaOptions, 'condThreshold'>> & { condThreshold?: number };
  /** The observations with their segment labels, as a dataset (it owns copies). */
  toDataset(): TensorDataset;
  dispose(): void;
}

const DEFAULTS = {
  segments: 40,
  perSegment: 1000,
  dim: 5,
  layers: 3,
  activation: 'lrelu' as IcaActivation,
  slope: 0.1,
  source: 'gauss' as IcaSource,
  scaleRange: [0.5, 3] as [number, number],
  condSamples: 10000,
  repeatMatrix: false,
  uncentered: false,
  noise: 0,
  seed: 0,
};

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new DataError(`ica: ${name} must be an integer ≥ ${min}, got ${v}`);
}

/** U(−1, 1) matrices [..., rows, cols] with unit-norm columns. */
function unitColumns(shape: number[], g: Generator): Tensor {
  return tidy(() => {
    const a = rand(shape, { dtype: 'float64', generator: g }).mul(2).sub(1);
    return a.div(a.norm(2, -2, { keepdim: true }));
  });
}

function conditionNumbers(a: Tensor): Tensor {
  return tidy(() => {
    const s = linalg.svdvals(a);
    return s.select(-1, 0).div(s.select(-1, -1));
  });
}

/** The reference's default threshold: the 25th percentile of the condition number of random draws. */
function defaultThreshold(rows: number, cols: number, samples: number, g: Generator): number {
  return tidy(() => quantile_scalar(conditionNumbers(unitColumns([samples, rows, cols], g)), 0.25).item());
}

/** A random mixing matrix whose condition number is at most `threshold` (rejection sampling). */
function mixingMatrix(rows: number, cols: number, threshold: number, g: Generator): { a: Tensor; cond: number } {
  for (let tries = 0; tries < 100000; tries++) {
    const a = unitColumns([rows, cols], g);
    const cond = tidy(() => conditionNumbers(a).item());
    if (cond <= threshold) return { a, cond };
    a.dispose();
  }
  throw new DataError(`ica: no ${rows}×${cols} matrix with condition number ≤ ${threshold} in 100,000 draws`);
}

function activate(x: Tensor, activation: IcaActivation, slope: number): Tensor {
  switch (activation) {
    case 'lrelu':
      return x.maximum(x.mul(slope));
    case 'xtanh':
      return x.tanh().add(x.mul(slope));
    case 'none':
      return x;
  }
}

/** Generates the benchmark; the same options and seed give the same data. */
export function makeNonlinearIca(opts: IcaOptions = {}): IcaData {
  const o = { ...DEFAULTS, ...opts, dataDim: opts.dataDim ?? opts.dim ?? DEFAULTS.dim };
  checkInt('segments', o.segments, 1);
  checkInt('perSegment', o.perSegment, 1);
  checkInt('dim', o.dim, 1);
  checkInt('dataDim', o.dataDim, o.dim);
  checkInt('layers', o.layers, 1);
  checkInt('condSamples', o.condSamples, 1);
  const [lo, hi] = o.scaleRange;
  if (!(lo > 0 && hi >= lo)) throw new DataError(`ica: scaleRange must satisfy 0 < lo ≤ hi, got [${lo}, ${hi}]`);
  if (!['lrelu', 'xtanh', 'none'].includes(o.activation))
    throw new DataError(`ica: unknown activation '${o.activation}' (lrelu, xtanh or none)`);
  if (!['gauss', 'laplace'].includes(o.source))
    throw new DataError(`ica: unknown source '${o.source}' (gauss or laplace)`);

  const g = new Generator(o.seed);
  const n = o.segments * o.perSegment;
  return tidy(() => {
    const segment = repeatInterleave_self_int(
      arange(o.segments, undefined, 1, { dtype: 'int64' }),
      o.perSegment,
    ).keep();
    const scales = rand([o.segments, o.dim], { dtype: 'float64', generator: g })
      .mul(hi - lo)
      .add(lo);
    let s: Tensor;
    if (o.source === 'gauss') s = randn([n, o.dim], { dtype: 'float64', generator: g });
    else {
      // Laplace with scale 1/√2 (unit variance) by inverting the CDF of u ~ U(−½, ½).
      const u = rand([n, o.dim], { dtype: 'float64', generator: g }).sub(0.5);
      s = u.sign().neg().mul(u.abs().mul(2).rsub(1).log()).mul(Math.SQRT1_2);
    }
    s = s.mul(scales.indexSelect(0, segment));
    if (o.uncentered) {
      const centres = rand([o.segments, o.dim], { dtype: 'float64', generator: g }).mul(10).sub(5);
      s = s.add(centres.indexSelect(0, segment));
    }

    const mixing: Tensor[] = [];
    const conditions: number[] = [];
    const thresholds: number[] = [];
    const thresholdCache = new Map<string, number>();
    let x = s;
    for (let layer = 0; layer < o.layers; layer++) {
      const rows = layer === 0 ? o.dim : o.dataDim;
      let a: Tensor;
      // The reference reuses its first matrix for every layer when the dimensions agree, else a second
      // square one for every layer after the first.
      const reuse = o.dataDim === o.dim ? 0 : 1;
      if (o.repeatMatrix && layer > reuse) a = mixing[reuse];
      else {
        const key = `${rows}x${o.dataDim}`;
        let threshold = o.condThreshold ?? thresholdCache.get(key);
        if (threshold === undefined) {
          threshold = defaultThreshold(rows, o.dataDim, o.condSamples, g);
          thresholdCache.set(key, threshold);
        }
        const m = mixingMatrix(rows, o.dataDim, threshold, g);
        a = m.a;
        conditions.push(m.cond);
        thresholds.push(threshold);
      }
      mixing.push(a);
      x = x.matmul(a);
      if (layer < o.layers - 1) x = activate(x, o.activation, o.slope);
    }
    if (o.noise > 0) x = x.add(randn(x.shape, { dtype: 'float64', generator: g }).mul(o.noise));

    const xs = x.to('float32').keep();
    const ss = s.to('float32').keep();
    scales.keep();
    for (const m of new Set(mixing)) m.keep();
    const data: IcaData = {
      x: xs,
      s: ss,
      segment,
      scales,
      mixing,
      conditions,
      thresholds,
      options: o,
      toDataset: () => tidy(() => new TensorDataset(xs.clone(), segment.clone(), { name: 'ica', own: true })),
      dispose: () => {
        for (const t of [xs, ss, segment, scales, ...new Set(mixing)]) t.dispose();
      },
    };
    return data;
  });
}
