// Gradient checking: analytic gradients from autograd against central finite differences, as
// torch.autograd.gradcheck / gradgradcheck. Meant for float64 inputs and small shapes.
import { grad, noGrad } from './autograd.js';
import { randn, zeros, zerosLike } from './creation.js';
import { isFloating } from './dtype.js';
import { Generator } from './random.js';
import { tidy } from './scope.js';
import type { Tensor } from './tensor.js';

export type GradcheckFn = (...inputs: Tensor[]) => Tensor | Tensor[];

/**
 * Options of {@link gradcheck} and {@link gradgradcheck}: finite-difference step (default 1e-6),
 * tolerances (atol 1e-5, rtol 1e-3), fast mode, seed and whether to throw.
 */
export interface GradcheckOptions {
  /** Finite-difference step. */
  eps?: number;
  /** Absolute tolerance of the elementwise test |analytic − numeric| ≤ atol + rtol·|numeric|. */
  atol?: number;
  /** Relative tolerance of the elementwise test. */
  rtol?: number;
  /**
   * Compare one random vector-Jacobian product per output instead of the whole Jacobian: a single
   * backward pass, as PyTorch's fast mode. The numeric side still perturbs every input element.
   */
  fastMode?: boolean;
  /** Seed of the random projection in fast mode (and of gradgradcheck's output weights). */
  seed?: number;
  /** Throw an Error naming the first failing input and its errors, instead of returning ok: false. */
  raiseException?: boolean;
}

export interface GradcheckInputReport {
  /** Position in the `inputs` array. */
  index: number;
  maxAbsError: number;
  /** max|a − n| / max(max|a|, max|n|): the error relative to the gradient's scale. */
  maxRelError: number;
  /** Jacobian entries (or VJP entries in fast mode) failing the atol/rtol test. */
  failures: number;
}

/** What {@link gradcheck} found: whether every checked input passed, the largest errors, and a report per input. */
export interface GradcheckResult {
  /** Whether every checked gradient passed the atol/rtol test. */
  ok: boolean;
  /** Largest absolute difference over all checked inputs. */
  maxAbsError: number;
  /** Largest scale-relative difference over all checked inputs (see GradcheckInputReport). */
  maxRelError: number;
  /** One report per input that requires grad. */
  inputs: GradcheckInputReport[];
}

/**
 * Checks the gradients of `fn` with respect to those `inputs` that require grad. `fn` gets the inputs
 * in order and returns one tensor or several; every floating output element is a Jacobian row.
 * Inputs are not modified. Returns a report instead of a boolean, so tests can assert on the error.
 */
export function gradcheck(fn: GradcheckFn, inputs: Tensor[], opts: GradcheckOptions = {}): GradcheckResult {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-3;
  const checked = gradIndices(inputs);
  if (checked.length === 0) throw new Error('gradcheck: no input requires grad');
  for (const i of checked) {
    if (inputs[i].dtype !== 'float64') {
      throw new Error(`gradcheck: input ${i} is ${inputs[i].dtype}; finite differences need float64 (use .double())`);
    }
  }

  // Analytic Jacobian blocks, one per checked input: rows are output elements (or projections).
  const { analytic, weights } = analyticJacobian(fn, inputs, checked, opts.fastMode ?? false, opts.seed ?? 0);
  const numeric = numericJacobian(fn, inputs, checked, eps, weights);

  const reports = checked.map((index, k) => compare(index, analytic[k], numeric[k], atol, rtol));
  const result: GradcheckResult = {
    ok: reports.every((r) => r.failures === 0),
    maxAbsError: Math.max(...reports.map((r) => r.maxAbsError)),
    maxRelError: Math.max(...reports.map((r) => r.maxRelError)),
    inputs: reports,
  };
  if (!result.ok && opts.raiseException) {
    const bad = reports.find((r) => r.failures > 0)!;
    throw new Error(
      `gradcheck: Jacobian mismatch for input ${bad.index}: ${bad.failures} entries outside atol=${atol}, rtol=${rtol}; ` +
        `max abs error ${bad.maxAbsError.toExponential(3)}, max rel error ${bad.maxRelError.toExponential(3)}`,
    );
  }
  return result;
}

/** Positions of the inputs that require grad. */
function gradIndices(inputs: Tensor[]): number[] {
  const out: number[] = [];
  inputs.forEach((x, i) => {
    if (x.requiresGrad) out.push(i);
  });
  return out;
}

/** Output weights for fast mode: one random vector per output; null means the full Jacobian. */
type Weights = Float64Array[] | null;

function outputsOf(value: Tensor | Tensor[]): Tensor[] {
  return (Array.isArray(value) ? value : [value]).filter((t) => isFloating(t.dtype));
}

function analyticJacobian(
  fn: GradcheckFn,
  inputs: Tensor[],
  checked: number[],
  fast: boolean,
  seed: number,
): { analytic: Float64Array[]; weights: Weights } {
  return tidy(() => {
    const outs = outputsOf(fn(...inputs));
    const wrt = checked.map((i) => inputs[i]);
    const sizes = wrt.map((x) => x.numel());
    const rows = fast ? outs.length : outs.reduce((n, o) => n + o.numel(), 0);
    const blocks = sizes.map((n) => new Float64Array(rows * n));
    // A row of d(outputs)/d(inputs), written into each block.
    // Outputs that do not depend on any input keep zero rows.
    const live = outs.map((o) => o.requiresGrad);
    const writeRow = (row: number, makeGradOutputs: () => Tensor[]) => {
      if (!live.some(Boolean)) return;
      tidy(() => {
        const gradOutputs = makeGradOutputs();
        const gs = grad(
          outs.filter((_, j) => live[j]),
          wrt,
          { gradOutputs: gradOutputs.filter((_, j) => live[j]), retainGraph: true, allowUnused: true },
        );
        gs.forEach((g, k) => {
          if (g !== null) blocks[k].set(g.contiguous().toTypedArray() as Float64Array, row * sizes[k]);
        });
      });
    };
    if (fast) {
      const gen = new Generator(seed);
      const weights = outs.map((o) => {
        const w = zerosLike(o).normal_(0, 1, { generator: gen });
        return { t: w, data: Float64Array.from(w.toTypedArray() as ArrayLike<number>) };
      });
      // Each output alone, so its projection is a separate row.
      outs.forEach((_, r) => {
        writeRow(r, () => outs.map((o, j) => (j === r ? weights[j].t : zerosLike(o))));
      });
      return { analytic: blocks, weights: weights.map((w) => w.data) };
    }
    let row = 0;
    for (let j = 0; j < outs.length; j++) {
      const n = outs[j].numel();
      for (let e = 0; e < n; e++, row++) {
        writeRow(row, () =>
          outs.map((o, jj) => {
            const z = zeros(o.shape, { dtype: o.dtype, device: o.device });
            if (jj === j) noGrad(() => z.view(-1).select(0, e).fill_(1));
            return z;
          }),
        );
      }
    }
    return { analytic: blocks, weights: null };
  });
}

/** Central differences (f(x + eps) − f(x − eps)) / 2eps, one input element at a time. */
function numericJacobian(
  fn: GradcheckFn,
  inputs: Tensor[],
  checked: number[],
  eps: number,
  weights: Weights,
): Float64Array[] {
  return tidy(() => {
    // Private copies keep the caller's tensors untouched; they require grad like the originals
    // because fn may itself take gradients (gradgradcheck, gradient penalties).
    const copies = inputs.map((x) => {
      if (!isFloating(x.dtype)) return x;
      const c = noGrad(() => x.detach().clone().contiguous());
      if (x.requiresGrad) c.requiresGrad_(true);
      return c;
    });
    const evaluate = (): Float64Array[] =>
      tidy(() => outputsOf(fn(...copies)).map((o) => o.detach().contiguous().toTypedArray() as Float64Array));

    return checked.map((i) => {
      const flat = copies[i].detach().view(-1);
      const values = flat.toTypedArray() as Float64Array;
      const n = values.length;
      let out = new Float64Array(0);
      for (let e = 0; e < n; e++) {
        const cell = flat.select(0, e);
        noGrad(() => cell.fill_(values[e] + eps));
        const plus = evaluate();
        noGrad(() => cell.fill_(values[e] - eps));
        const minus = evaluate();
        noGrad(() => cell.fill_(values[e]));
        cell.dispose();
        if (e === 0) out = new Float64Array((weights ? plus.length : plus.reduce((s, o) => s + o.length, 0)) * n);
        let row = 0;
        plus.forEach((p, j) => {
          const m = minus[j];
          if (weights) {
            let s = 0;
            for (let r = 0; r < p.length; r++) s += weights[j][r] * (p[r] - m[r]);
            out[row++ * n + e] = s / (2 * eps);
          } else {
            for (let r = 0; r < p.length; r++) out[row++ * n + e] = (p[r] - m[r]) / (2 * eps);
          }
        });
      }
      return out;
    });
  });
}

function compare(index: number, a: Float64Array, n: Float64Array, atol: number, rtol: number): GradcheckInputReport {
  let maxAbsError = 0;
  let scale = 0;
  let failures = 0;
  for (let k = 0; k < a.length; k++) {
    const d = Math.abs(a[k] - n[k]);
    if (!(d <= atol + rtol * Math.abs(n[k]))) failures++;
    if (!(d <= maxAbsError)) maxAbsError = d; // NaN propagates
    scale = Math.max(scale, Math.abs(a[k]), Math.abs(n[k]));
  }
  const maxRelError = maxAbsError === 0 ? 0 : maxAbsError / scale;
  return { index, maxAbsError, maxRelError, failures };
}

export interface GradgradcheckOptions extends GradcheckOptions {
  /** Weights of the first backward pass (one per floating output); random float64 ones if omitted. */
  gradOutputs?: Tensor[];
}

/**
 * Second-order check: gradcheck of the vector-Jacobian product
 * (inputs, v) ↦ grad(fn(inputs), inputs, {gradOutputs: v, createGraph: true}),
 * i.e. the gradient of a gradient matches finite differences of the first gradient.
 * Random `v` require grad too, so the check also covers d(VJP)/dv, as PyTorch does.
 */
export function gradgradcheck(fn: GradcheckFn, inputs: Tensor[], opts: GradgradcheckOptions = {}): GradcheckResult {
  const checked = gradIndices(inputs);
  if (checked.length === 0) throw new Error('gradgradcheck: no input requires grad');
  const gen = new Generator(opts.seed ?? 0);
  const outShapes = tidy(() => outputsOf(fn(...inputs)).map((o) => o.shape));
  const given = opts.gradOutputs !== undefined;
  const vs =
    opts.gradOutputs ??
    outShapes.map((shape) =>
      randn(shape, { dtype: 'float64', device: inputs[checked[0]].device, generator: gen, requiresGrad: true }),
    );
  if (vs.length !== outShapes.length) {
    throw new Error(`gradgradcheck: ${vs.length} gradOutputs for ${outShapes.length} floating outputs`);
  }
  const m = inputs.length;
  const vjp = (...all: Tensor[]): Tensor[] => {
    const xs = all.slice(0, m);
    const gos = all.slice(m);
    const outs = outputsOf(fn(...xs));
    const wrt = checked.map((i) => xs[i]);
    const gs = grad(outs, wrt, { gradOutputs: gos, createGraph: true, allowUnused: true });
    return gs.map((g, k) => g ?? zerosLike(wrt[k]));
  };
  try {
    return gradcheck(vjp, [...inputs, ...vs], opts);
  } finally {
    if (!given) for (const v of vs) v.dispose();
  }
}
