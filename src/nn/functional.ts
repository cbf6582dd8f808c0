// Stateless layers and losses, as torch.nn.functional. Each is a thin call into the ATen operator
// PyTorch itself uses, so values, gradients and speed match.
import { noGrad } from '../torch/autograd.js';
import type { DType } from '../torch/dtype.js';
import {
  adaptiveAvgPool2d as torchAdaptiveAvgPool2d,
  groupNorm as torchGroupNorm,
  groupNormSilu as torchGroupNormSilu,
} from '../torch/functions.js';
import * as ops from '../torch/generated/ops.js';
import type { Generator } from '../torch/random.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';

/** How a loss combines its per-element values: not at all ('none'), by their mean (the default) or by their sum. */
export type Reduction = 'none' | 'mean' | 'sum';
type IntOrPair = number | number[];

/** ATen's reduction enum. */
function reductionCode(r: Reduction | undefined): number {
  switch (r ?? 'mean') {
    case 'none':
      return 0;
    case 'mean':
      return 1;
    case 'sum':
      return 2;
    default:
      throw new Error(`unknown reduction '${r}'; expected 'none', 'mean' or 'sum'`);
  }
}

// ---- linear and convolution ----

/** x·Wᵀ + b. */
export function linear(x: Tensor, weight: Tensor, opts: { bias?: Tensor | null } = {}): Tensor {
  return ops.linear(x, weight, { bias: opts.bias ?? null });
}

/**
 * Options of {@link conv2d}: bias (none), stride (1), padding (0, or 'same' / 'valid'), dilation
 * (1) and groups (1).
 */
export interface Conv2dOptions {
  /** A bias per output channel, [Cout]; none by default. */
  bias?: Tensor | null;
  stride?: IntOrPair;
  /** Zero padding on each side, or 'same' / 'valid'. */
  padding?: IntOrPair | 'same' | 'valid';
  dilation?: IntOrPair;
  groups?: number;
}

// Destructured into plain literals, not spread: this runs for every convolution, and object
// spreads cost microseconds a call (about a tenth of a small Glow step's JavaScript time).
/** Cross-correlation of x [N, Cin, H, W] with weight [Cout, Cin/groups, kh, kw], giving [N, Cout, H', W']. */
export function conv2d(x: Tensor, weight: Tensor, opts: Conv2dOptions = {}): Tensor {
  const { bias = null, stride, padding, dilation, groups } = opts;
  if (typeof padding === 'string') return ops.conv2d_padding(x, weight, { bias, stride, padding, dilation, groups });
  return ops.conv2d(x, weight, { bias, stride, padding, dilation, groups });
}

/**
 * Options of {@link convTranspose2d}: bias (none), stride (1), padding (0), output padding (0),
 * groups (1) and dilation (1).
 */
export interface ConvTranspose2dOptions {
  /** A bias per output channel, [Cout]; none by default. */
  bias?: Tensor | null;
  stride?: IntOrPair;
  padding?: IntOrPair;
  /** Extra rows/columns on one side of the output, to pick among the sizes a stride allows. */
  outputPadding?: IntOrPair;
  groups?: number;
  dilation?: IntOrPair;
}

/** The adjoint of conv2d; weight is [in, out/groups, kh, kw]. */
export function convTranspose2d(x: Tensor, weight: Tensor, opts: ConvTranspose2dOptions = {}): Tensor {
  const { bias = null, stride, padding, outputPadding, groups, dilation } = opts;
  return ops.convTranspose2d_input(x, weight, { bias, stride, padding, outputPadding, groups, dilation });
}

// ---- resampling and pooling ----

/**
 * Options of {@link interpolate}: the output size or the scale factor (exactly one), the mode
 * ('nearest' by default) and alignCorners.
 */
export interface InterpolateOptions {
  /** The output [H, W], or one number for both. */
  size?: IntOrPair;
  /** Multipliers of H and W, or one number for both. */
  scaleFactor?: number | number[];
  /** How new pixels are computed; 'nearest' by default. */
  mode?: 'nearest' | 'bilinear' | 'bicubic';
  /** Bilinear/bicubic only: map corner pixel centres onto each other. Defaults to false. */
  alignCorners?: boolean;
}

/** Resizes a [N, C, H, W] batch by output size or scale factor, as F.interpolate. */
export function interpolate(x: Tensor, opts: InterpolateOptions): Tensor {
  if (x.ndim !== 4) throw new Error(`interpolate: expected a 4-d [N, C, H, W] input, got [${x.shape}]`);
  const mode = opts.mode ?? 'nearest';
  if ((opts.size === undefined) === (opts.scaleFactor === undefined)) {
    throw new Error('interpolate: give exactly one of size and scaleFactor');
  }
  if (mode === 'nearest' && opts.alignCorners !== undefined) {
    throw new Error("interpolate: alignCorners only applies to 'bilinear' and 'bicubic'");
  }
  const pair = (v: number | number[]) => (typeof v === 'number' ? [v, v] : v);
  const size = opts.size === undefined ? null : pair(opts.size);
  // Scale factors go to the kernel as given (no recomputation), as PyTorch does by default.
  const scales = opts.scaleFactor === undefined ? null : pair(opts.scaleFactor);
  const align = opts.alignCorners ?? false;
  switch (mode) {
    case 'nearest':
      return ops.upsampleNearest2d_vec(x, size, scales);
    case 'bilinear':
      return ops.upsampleBilinear2d_vec(x, size, align, scales);
    case 'bicubic':
      return ops.upsampleBicubic2d_vec(x, size, align, scales);
    default:
      throw new Error(`interpolate: unsupported mode '${mode}'`);
  }
}

/** Options of the 2-d pooling functions: stride (the kernel size by default), padding (0) and ceilMode (false). */
export interface Pool2dOptions {
  /** Defaults to the kernel size. */
  stride?: IntOrPair;
  /** Implicit padding on each side; 0 by default. */
  padding?: IntOrPair;
  /** Round the output size up rather than down, so a partial window at the end counts; false by default. */
  ceilMode?: boolean;
}

/** The mean of each kernelSize window of [N, C, H, W]; padding counts in the mean unless countIncludePad is false. */
export function avgPool2d(
  x: Tensor,
  kernelSize: IntOrPair,
  opts: Pool2dOptions & { countIncludePad?: boolean; divisorOverride?: number | null } = {},
): Tensor {
  return ops.avgPool2d(x, kernelSize, opts);
}

/** The maximum of each kernelSize window of [N, C, H, W]. */
export function maxPool2d(
  x: Tensor,
  kernelSize: IntOrPair,
  opts: Pool2dOptions & { dilation?: IntOrPair } = {},
): Tensor {
  return ops.maxPool2d(x, kernelSize, opts);
}

/** [values, flat indices into each H×W plane]. */
export function maxPool2dWithIndices(
  x: Tensor,
  kernelSize: IntOrPair,
  opts: Pool2dOptions & { dilation?: IntOrPair } = {},
): [Tensor, Tensor] {
  return ops.maxPool2dWithIndices(x, kernelSize, opts);
}

/** Average pooling of [N, C, H, W] with windows chosen to give [N, C, outputSize]. */
export function adaptiveAvgPool2d(x: Tensor, outputSize: IntOrPair): Tensor {
  return torchAdaptiveAvgPool2d(x, outputSize);
}

/** Pads the last dims: [left, right, top, bottom, …], as F.pad. */
export function pad(
  x: Tensor,
  padding: number[],
  opts: { mode?: 'constant' | 'reflect' | 'replicate' | 'circular'; value?: number } = {},
): Tensor {
  const mode = opts.mode ?? 'constant';
  if (mode !== 'constant' && opts.value !== undefined) throw new Error(`pad: value only applies to 'constant' mode`);
  return ops.pad(x, padding, { mode, value: mode === 'constant' ? (opts.value ?? 0) : null });
}

// ---- activations ----

/** max(x, 0) elementwise. */
export function relu(x: Tensor): Tensor {
  return ops.relu(x);
}

/** x where positive, negativeSlope·x elsewhere (negativeSlope 0.01 by default). */
export function leakyRelu(x: Tensor, opts: { negativeSlope?: number } = {}): Tensor {
  return ops.leakyRelu(x, { negativeSlope: opts.negativeSlope ?? 0.01 });
}

/** x where positive, alpha·(e^x − 1) elsewhere (alpha 1 by default). */
export function elu(x: Tensor, opts: { alpha?: number } = {}): Tensor {
  return ops.elu(x, { alpha: opts.alpha ?? 1 });
}

/** log(1 + exp(βx)) / β, linear above `threshold` for stability. */
export function softplus(x: Tensor, opts: { beta?: number; threshold?: number } = {}): Tensor {
  return ops.softplus(x, { beta: opts.beta ?? 1, threshold: opts.threshold ?? 20 });
}

/** Exact (erf) GELU, or the tanh approximation with approximate: 'tanh'. */
export function gelu(x: Tensor, opts: { approximate?: 'none' | 'tanh' } = {}): Tensor {
  return ops.gelu(x, { approximate: opts.approximate ?? 'none' });
}

/** x·σ(x), a.k.a. swish. */
export function silu(x: Tensor): Tensor {
  return ops.silu(x);
}

/** The logistic sigmoid 1 / (1 + e^−x), elementwise. */
export function sigmoid(x: Tensor): Tensor {
  return ops.sigmoid(x);
}

/** The hyperbolic tangent, elementwise. */
export function tanh(x: Tensor): Tensor {
  return ops.tanh(x);
}

/** log σ(x), computed without overflow. */
export function logsigmoid(x: Tensor): Tensor {
  return ops.logSigmoid(x);
}

/** Softmax along dim, optionally computed in dtype. */
export function softmax(x: Tensor, dim: number, opts: { dtype?: DType } = {}): Tensor {
  return ops.softmax_int(x, dim, { dtype: opts.dtype ?? null });
}

/** Log-softmax along dim, computed stably, optionally in dtype. */
export function logSoftmax(x: Tensor, dim: number, opts: { dtype?: DType } = {}): Tensor {
  return ops.logSoftmax_int(x, dim, { dtype: opts.dtype ?? null });
}

/**
 * Zeroes elements with probability p and scales the rest by 1/(1−p) while training; a new handle to
 * the same values otherwise. With a generator the mask is drawn from it instead of the global one.
 */
export function dropout(x: Tensor, opts: { p?: number; training?: boolean; generator?: Generator } = {}): Tensor {
  const p = opts.p ?? 0.5;
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout probability must be in [0, 1], got ${p}`);
  const training = opts.training ?? true;
  if (!training || p === 0) return ops.alias(x);
  if (p === 1) return x.mul(0);
  if (opts.generator === undefined) return ops.dropout(x, p, true);
  const generator = opts.generator;
  return tidy(() => x.mul(noGrad(() => ops.bernoulli_p(x, 1 - p, { generator }).div_(1 - p))));
}

// ---- normalisation ----

/** Options of the normalisation functions: elementwise weight and bias (none by default) and eps (1e-5 by default). */
export interface NormOptions {
  /** Multiplies the normalised values; none by default. */
  weight?: Tensor | null;
  /** Added after the weight; none by default. */
  bias?: Tensor | null;
  eps?: number;
}

/** Normalises over the trailing `normalizedShape` dims. */
export function layerNorm(x: Tensor, normalizedShape: number[], opts: NormOptions = {}): Tensor {
  return ops.layerNorm(x, normalizedShape, {
    weight: opts.weight ?? null,
    bias: opts.bias ?? null,
    eps: opts.eps ?? 1e-5,
  });
}

/** Normalises each group of channels of [N, C, …] over the group's channels and positions. */
export function groupNorm(x: Tensor, numGroups: number, opts: NormOptions = {}): Tensor {
  const shape = x.shape;
  if (shape.length < 2) throw new Error(`groupNorm: expected an input of at least 2 dims, got [${shape}]`);
  // PyTorch's check, on the sizes [N·C / numGroups, numGroups, …].
  verifyBatchSize('groupNorm', Math.floor((shape[0] * shape[1]) / numGroups), shape);
  return torchGroupNorm(x, numGroups, { weight: opts.weight, bias: opts.bias, eps: opts.eps });
}

/** silu(groupNorm(x)), with groupNorm's checks; one fused node where torch.groupNormSilu has one. */
export function groupNormSilu(x: Tensor, numGroups: number, opts: NormOptions = {}): Tensor {
  const shape = x.shape;
  if (shape.length < 2) throw new Error(`groupNorm: expected an input of at least 2 dims, got [${shape}]`);
  verifyBatchSize('groupNorm', Math.floor((shape[0] * shape[1]) / numGroups), shape);
  return torchGroupNormSilu(x, numGroups, { weight: opts.weight, bias: opts.bias, eps: opts.eps });
}

/**
 * Batch statistics while training (updating the running ones in place with
 * r ← (1 − momentum)·r + momentum·batch, unbiased variance), running statistics otherwise.
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  opts: NormOptions & { training?: boolean; momentum?: number } = {},
): Tensor {
  const training = opts.training ?? false;
  if (!training && (runningMean === null || runningVar === null)) {
    throw new Error('batchNorm: running statistics are needed outside training');
  }
  if (training) verifyBatchSize('batchNorm', x.shape[0], x.shape);
  return ops.batchNorm(
    x,
    opts.weight ?? null,
    opts.bias ?? null,
    runningMean,
    runningVar,
    training,
    opts.momentum ?? 0.1,
    opts.eps ?? 1e-5,
    true,
  );
}

/**
 * PyTorch's _verify_batch_size: batch statistics of a single value per channel are meaningless
 * (the variance is 0, the output all zeros, BatchNorm's unbiased running variance NaN), so refuse.
 */
function verifyBatchSize(name: string, first: number, shape: number[]): void {
  let n = first;
  for (let i = 2; i < shape.length; i++) n *= shape[i];
  if (n === 1) {
    throw new Error(`${name}: expected more than 1 value per channel when training, got an input of size [${shape}]`);
  }
}

/** x / max(‖x‖_p, eps) along dim. */
export function normalize(x: Tensor, opts: { p?: number; dim?: number; eps?: number } = {}): Tensor {
  return tidy(() => {
    const norm = ops.linalgVectorNorm(x, { ord: opts.p ?? 2, dim: [opts.dim ?? 1], keepdim: true });
    return x.div(norm.clampMin(opts.eps ?? 1e-12));
  });
}

// ---- embeddings and encodings ----

/** Rows of `weight` picked by integer `indices`; the paddingIdx row gets no gradient. */
export function embedding(
  indices: Tensor,
  weight: Tensor,
  opts: { paddingIdx?: number | null; scaleGradByFreq?: boolean } = {},
): Tensor {
  let paddingIdx = -1;
  if (opts.paddingIdx !== undefined && opts.paddingIdx !== null) {
    const n = weight.size(0);
    paddingIdx = opts.paddingIdx;
    if (!Number.isInteger(paddingIdx) || paddingIdx >= n || paddingIdx < -n) {
      throw new Error(`embedding: paddingIdx ${paddingIdx} is not within the ${n} embeddings (−${n} to ${n - 1})`);
    }
    if (paddingIdx < 0) paddingIdx += n;
  }
  return ops.embedding(weight, indices, { paddingIdx, scaleGradByFreq: opts.scaleGradByFreq ?? false });
}

/** int64 one-hot rows; numClasses defaults to max + 1. */
export function oneHot(indices: Tensor, opts: { numClasses?: number } = {}): Tensor {
  return ops.oneHot(indices, { numClasses: opts.numClasses ?? -1 });
}

// ---- losses ----

/**
 * Options of the classification losses: per-class weights, an ignored target index and the
 * reduction ('mean' by default).
 */
export interface ClassLossOptions {
  /** Per-class weights. */
  weight?: Tensor | null;
  /** Targets equal to this class index add nothing (and are not counted by 'mean'). */
  ignoreIndex?: number;
  /** How the per-sample losses are combined; 'mean' by default. */
  reduction?: Reduction;
}

/**
 * Cross entropy of logits [N, C, …] against class indices [N, …] or class probabilities [N, C, …].
 * labelSmoothing mixes the targets with the uniform distribution.
 */
export function crossEntropy(
  logits: Tensor,
  target: Tensor,
  opts: ClassLossOptions & { labelSmoothing?: number } = {},
): Tensor {
  return ops.crossEntropyLoss(logits, target, {
    weight: opts.weight ?? null,
    reduction: reductionCode(opts.reduction),
    ignoreIndex: opts.ignoreIndex ?? -100,
    labelSmoothing: opts.labelSmoothing ?? 0,
  });
}

/** Negative log-likelihood of log-probabilities [N, C, …] at class indices [N, …]. */
export function nllLoss(logProbs: Tensor, target: Tensor, opts: ClassLossOptions = {}): Tensor {
  return ops.nllLossNd(logProbs, target, {
    weight: opts.weight ?? null,
    reduction: reductionCode(opts.reduction),
    ignoreIndex: opts.ignoreIndex ?? -100,
  });
}

/**
 * PyTorch's functional losses broadcast input and target against each other before calling the
 * ATen kernel, whose own broadcasting gives wrong gradients to a broadcast operand. Like
 * PyTorch, a size mismatch also warns (once per pair of shapes), since it is usually a mistake.
 */
function broadcastPair(name: string, input: Tensor, target: Tensor): [Tensor, Tensor] {
  const a = input.shape;
  const b = target.shape;
  let same = a.length === b.length;
  for (let i = 0; same && i < a.length; i++) same = a[i] === b[i];
  if (same) return [input, target];
  warnOnce(
    `${name}: a target of size [${b}] differs from the input size [${a}]; broadcasting them will likely give ` +
      'wrong results. Please ensure they have the same size.',
  );
  const [x, y] = ops.broadcastTensors([input, target]);
  return [x, y];
}

const warned = new Set<string>();
function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  process.emitWarning(message, 'UserWarning');
}

/** Runs a pointwise ATen loss on input and target broadcast to one shape, freeing the expanded views. */
function pointwiseLoss(name: string, input: Tensor, target: Tensor, fn: (x: Tensor, y: Tensor) => Tensor): Tensor {
  const [x, y] = broadcastPair(name, input, target);
  if (x === input) return fn(x, y);
  try {
    return fn(x, y);
  } finally {
    x.dispose();
    y.dispose();
  }
}

/** Mean (or sum) of (input − target)²; input and target are broadcast first, as PyTorch does. */
export function mseLoss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  const reduction = reductionCode(opts.reduction);
  return pointwiseLoss('mseLoss', input, target, (x, y) => ops.mseLoss(x, y, { reduction }));
}

/** Mean (or sum) of |input − target|; input and target are broadcast first, as PyTorch does. */
export function l1Loss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  const reduction = reductionCode(opts.reduction);
  return pointwiseLoss('l1Loss', input, target, (x, y) => ops.l1Loss(x, y, { reduction }));
}

/**
 * ½d² where d = |input − target| < delta, else delta·(d − ½delta): squared near zero, linear (with
 * slope delta) beyond. delta defaults to 1 and must be positive.
 */
export function huberLoss(input: Tensor, target: Tensor, opts: { reduction?: Reduction; delta?: number } = {}): Tensor {
  const reduction = reductionCode(opts.reduction);
  const delta = opts.delta ?? 1;
  if (!(delta > 0)) throw new Error(`huberLoss: delta must be positive, got ${delta}`);
  return pointwiseLoss('huberLoss', input, target, (x, y) => ops.huberLoss(x, y, { reduction, delta }));
}

/**
 * ½d²/beta where d = |input − target| < beta, else d − ½beta: the Huber loss divided by beta, so
 * the linear part has slope 1. beta defaults to 1; beta 0 gives the L1 loss.
 */
export function smoothL1Loss(
  input: Tensor,
  target: Tensor,
  opts: { reduction?: Reduction; beta?: number } = {},
): Tensor {
  const reduction = reductionCode(opts.reduction);
  const beta = opts.beta ?? 1;
  if (!(beta >= 0)) throw new Error(`smoothL1Loss: beta must not be negative, got ${beta}`);
  // beta 0 is the L1 loss in value, but PyTorch 1.13 still takes smooth_l1_loss's backward there
  // (its gradient where input equals target differs from l1_loss's), so the same kernel is used.
  return pointwiseLoss('smoothL1Loss', input, target, (x, y) => ops.smoothL1Loss(x, y, { reduction, beta }));
}

function sameShape(a: Tensor, b: Tensor): boolean {
  const x = a.shape;
  const y = b.shape;
  return x.length === y.length && x.every((d, i) => d === y[i]);
}

/** −[t·log p + (1 − t)·log(1 − p)] for probabilities p (logs clamped at −100, as PyTorch). */
export function binaryCrossEntropy(
  probs: Tensor,
  target: Tensor,
  opts: { weight?: Tensor | null; reduction?: Reduction } = {},
): Tensor {
  if (!sameShape(probs, target)) {
    throw new Error(
      `binaryCrossEntropy: the target size [${target.shape}] differs from the input size [${probs.shape}]; ` +
        'they must be the same',
    );
  }
  const reduction = reductionCode(opts.reduction);
  const weight = opts.weight ?? null;
  // The kernel needs a weight of the input's shape; PyTorch expands a broadcastable one first.
  if (weight === null || sameShape(weight, probs)) return ops.binaryCrossEntropy(probs, target, { weight, reduction });
  return tidy(() => ops.binaryCrossEntropy(probs, target, { weight: weight.expand(probs.shape), reduction }));
}

/** Binary cross entropy of σ(logits), computed stably; posWeight scales the positive term per class. */
export function binaryCrossEntropyWithLogits(
  logits: Tensor,
  target: Tensor,
  opts: { weight?: Tensor | null; posWeight?: Tensor | null; reduction?: Reduction } = {},
): Tensor {
  if (!sameShape(logits, target)) {
    throw new Error(
      `binaryCrossEntropyWithLogits: the target size [${target.shape}] must be the same as the input size [${logits.shape}]`,
    );
  }
  return ops.binaryCrossEntropyWithLogits(logits, target, {
    weight: opts.weight ?? null,
    posWeight: opts.posWeight ?? null,
    reduction: reductionCode(opts.reduction),
  });
}

/**
 * KL(target ‖ input) summed pointwise as target·(log target − input), with `input` given as
 * log-probabilities (and target too when logTarget). 'batchmean' divides the sum by the batch size,
 * which is the true KL divergence per sample.
 */
export function klDiv(
  input: Tensor,
  target: Tensor,
  opts: { reduction?: Reduction | 'batchmean'; logTarget?: boolean } = {},
): Tensor {
  const reduction = opts.reduction ?? 'mean';
  if (reduction !== 'batchmean') {
    return ops.klDiv(input, target, { reduction: reductionCode(reduction), logTarget: opts.logTarget ?? false });
  }
  const sum = () => ops.klDiv(input, target, { reduction: 2, logTarget: opts.logTarget ?? false });
  if (input.ndim === 0) return sum();
  return tidy(() => sum().div(input.size(0)));
}

/**
 * Negative log-likelihood of target under N(input, variance), dropping the constant unless `full`.
 * The variance is clamped to ≥ eps for the value, while its gradient passes through unchanged;
 * a variance with one dim fewer than input (or a last dim of 1) is shared across the last dim.
 */
export function gaussianNllLoss(
  input: Tensor,
  target: Tensor,
  variance: Tensor,
  opts: { full?: boolean; eps?: number; reduction?: Reduction } = {},
): Tensor {
  const reduction = opts.reduction ?? 'mean';
  reductionCode(reduction);
  const inShape = input.shape;
  const vShape = variance.shape;
  const same = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
  const fits =
    same(inShape, vShape) ||
    same(inShape.slice(0, -1), vShape) ||
    (same(inShape.slice(0, -1), vShape.slice(0, -1)) && vShape[vShape.length - 1] === 1);
  if (!fits) throw new Error(`gaussianNllLoss: variance of shape [${vShape}] does not fit input [${inShape}]`);
  return tidy(() => {
    const v = (same(inShape.slice(0, -1), vShape) ? variance.unsqueeze(-1) : variance).clone();
    if (noGrad(() => v.lt(0).any().item())) throw new Error('gaussianNllLoss: variance has negative entries');
    // Clamping the copy in place without autograd keeps the gradient of the unclamped variance.
    noGrad(() => ops.clampMin_(v, opts.eps ?? 1e-6));
    let loss = v.log().add(input.sub(target).square().div(v)).mul(0.5);
    if (opts.full) loss = loss.add(0.5 * Math.log(2 * Math.PI));
    if (reduction === 'none') return loss;
    return reduction === 'mean' ? loss.mean() : loss.sum();
  });
}
