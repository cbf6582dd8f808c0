// Weight initialisation, as torch.nn.init. Every function fills a tensor in place without recording
// autograd, returns it, and takes an optional generator (else the global one, seeded by manualSeed).
import { noGrad } from '../torch/autograd.js';
import { randn, scalarTensor } from '../torch/creation.js';
import * as ops from '../torch/generated/ops.js';
import type { Generator } from '../torch/random.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';

/** The generator the initial values are drawn from; the global one (seeded by manualSeed) otherwise. */
export interface InitOptions {
  /** The generator to draw from; the global one otherwise. */
  generator?: Generator;
}

/** The nonlinearities {@link calculateGain} knows, with PyTorch's names and camelCase aliases. */
export type Nonlinearity =
  | 'linear'
  | 'identity'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'convTranspose1d'
  | 'convTranspose2d'
  | 'convTranspose3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leakyRelu'
  | 'leaky_relu'
  | 'selu';

/**
 * Whether Kaiming initialisation scales by the fan-in (preserving activations' variance forward) or
 * the fan-out (gradients' backward).
 */
export type FanMode = 'fanIn' | 'fanOut';

/** The gain that keeps activations' variance steady through a nonlinearity, as calculate_gain. */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'identity':
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'convTranspose1d':
    case 'convTranspose2d':
    case 'convTranspose3d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leakyRelu':
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new Error(`calculateGain: unsupported nonlinearity '${nonlinearity}'`);
  }
}

/**
 * Fan-in and fan-out of a weight: dim 1 and dim 0 times the receptive field (the product of the
 * remaining dims). For ConvTranspose weights ([in, out/groups, k…]) this gives PyTorch's numbers too.
 */
export function calculateFanInAndFanOut(t: Tensor): { fanIn: number; fanOut: number } {
  const shape = t.shape;
  if (shape.length < 2) throw new Error(`fan in and fan out need a tensor with at least 2 dims, got [${shape}]`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

function fan(t: Tensor, mode: FanMode): number {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  return mode === 'fanIn' ? fanIn : fanOut;
}

/** Fills t with uniform draws from [a, b) (default [0, 1)), outside autograd; returns t. */
export function uniform_(t: Tensor, a = 0, b = 1, opts: InitOptions = {}): Tensor {
  return noGrad(() => t.uniform_(a, b, opts));
}

/**
 * Fills t with normal draws of the given mean and standard deviation (default 0 and 1), outside
 * autograd; returns t.
 */
export function normal_(t: Tensor, mean = 0, std = 1, opts: InitOptions = {}): Tensor {
  return noGrad(() => t.normal_(mean, std, opts));
}

/** Normal draws redrawn by inverse CDF into [a, b], as trunc_normal_. */
export function truncNormal_(
  t: Tensor,
  opts: InitOptions & { mean?: number; std?: number; a?: number; b?: number } = {},
): Tensor {
  const mean = opts.mean ?? 0;
  const std = opts.std ?? 1;
  const a = opts.a ?? -2;
  const b = opts.b ?? 2;
  const cdf = (x: number) => tidy(() => (1 + ops.erf(scalarTensor(x / Math.SQRT2, { dtype: 'float64' })).item()) / 2);
  const lo = cdf((a - mean) / std);
  const hi = cdf((b - mean) / std);
  return noGrad(() => {
    t.uniform_(2 * lo - 1, 2 * hi - 1, opts);
    ops.erfinv_(t);
    t.mul_(std * Math.SQRT2).add_(mean);
    return t.clamp_(a, b);
  });
}

/** Fills t with value, outside autograd; returns t. */
export function constant_(t: Tensor, value: number): Tensor {
  return noGrad(() => t.fill_(value));
}

/** Fills t with 0, outside autograd; returns t. */
export function zeros_(t: Tensor): Tensor {
  return noGrad(() => t.zero_());
}

/** Fills t with 1, outside autograd; returns t. */
export function ones_(t: Tensor): Tensor {
  return noGrad(() => t.fill_(1));
}

/** Glorot uniform: U(−a, a) with a = gain·√(6 / (fanIn + fanOut)). */
export function xavierUniform_(t: Tensor, opts: InitOptions & { gain?: number } = {}): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  const std = (opts.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut));
  const bound = Math.sqrt(3) * std;
  return uniform_(t, -bound, bound, opts);
}

/** Glorot normal: N(0, gain²·2 / (fanIn + fanOut)). */
export function xavierNormal_(t: Tensor, opts: InitOptions & { gain?: number } = {}): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  return normal_(t, 0, (opts.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut)), opts);
}

/**
 * Options of {@link kaimingUniform_} and {@link kaimingNormal_}: the leaky ReLU slope a (0), the
 * fan mode ('fanIn') and the nonlinearity ('leakyRelu').
 */
export interface KaimingOptions extends InitOptions {
  /** Negative slope of the leaky ReLU that follows (or its parameter for calculateGain). */
  a?: number;
  /** Scale by the fan-in or the fan-out; 'fanIn' by default. */
  mode?: FanMode;
  /** The nonlinearity that follows, for the gain; 'leakyRelu' by default. */
  nonlinearity?: Nonlinearity;
}

/** He uniform: U(−b, b) with b = gain·√(3 / fan). Defaults as PyTorch: a = 0, fanIn, leakyRelu. */
export function kaimingUniform_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const gain = calculateGain(opts.nonlinearity ?? 'leakyRelu', opts.a ?? 0);
  const bound = Math.sqrt(3) * (gain / Math.sqrt(fan(t, opts.mode ?? 'fanIn')));
  return uniform_(t, -bound, bound, opts);
}

/** He normal: N(0, gain² / fan). */
export function kaimingNormal_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const gain = calculateGain(opts.nonlinearity ?? 'leakyRelu', opts.a ?? 0);
  return normal_(t, 0, gain / Math.sqrt(fan(t, opts.mode ?? 'fanIn')), opts);
}

/**
 * A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one, signs fixed by diag(R) so
 * the result is uniformly distributed; dims after the first are flattened.
 */
export function orthogonal_(t: Tensor, opts: InitOptions & { gain?: number } = {}): Tensor {
  const shape = t.shape;
  if (shape.length < 2) throw new Error(`orthogonal_: needs at least 2 dims, got [${shape}]`);
  const rows = shape[0];
  const cols = t.numel() / rows;
  noGrad(() =>
    tidy(() => {
      let a = randn([rows, cols], { dtype: t.dtype, device: t.device, generator: opts.generator });
      if (rows < cols) a = a.t();
      const [q, r] = ops.linalgQr(a);
      let m = q.mul(r.diagonal().sign());
      if (rows < cols) m = m.t();
      t.copy_(m.reshape(shape)).mul_(opts.gain ?? 1);
    }),
  );
  return t;
}
