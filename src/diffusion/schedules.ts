// Noise schedules of a variational diffusion model, in γ(t) = −log SNR(t) with t ∈ [0, 1]:
//   σ²_t = sigmoid(γ_t), α²_t = sigmoid(−γ_t), SNR = α²/σ² = exp(−γ).
// Every schedule gives γ and its slope γ′(t) together, analytically: the continuous-time loss needs
// γ′, and an analytic slope avoids a double backward through the schedule.

import { Module } from '../nn/module.js';
import { Parameter } from '../nn/parameter.js';
import { noGrad } from '../torch/autograd.js';
import { randn, scalarTensor, tensor, zeros } from '../torch/creation.js';
import * as ops from '../torch/generated/ops.js';
import type { Generator } from '../torch/random.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';

export const SCHEDULE_KINDS = ['fixed', 'cosine', 'scalar', 'net'] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];

export interface ScheduleOptions {
  /** γ(0), the log noise-to-signal ratio of the least noisy latent (default −13.3). */
  gammaMin?: number;
  /** γ(1), of the noisiest latent (default 5). */
  gammaMax?: number;
  /** Learned schedules: also train the endpoints (default true); false keeps them at gammaMin/gammaMax. */
  learnEndpoints?: boolean;
  /** Width of the monotone network's hidden layer (default 1024, as the paper). */
  features?: number;
  generator?: Generator;
}

/** γ(t) with its slope dγ/dt, both shaped like t. */
export interface GammaAndSlope {
  gamma: Tensor;
  slope: Tensor;
}

export abstract class NoiseSchedule extends Module<[Tensor], Tensor> {
  abstract readonly kind: ScheduleKind;

  constructor(
    /** The configured endpoints; the network is conditioned on γ normalised by these. */
    readonly gammaMin: number,
    readonly gammaMax: number,
  ) {
    super();
    if (!(gammaMax > gammaMin))
      throw new Error(`noise schedule: need gammaMax > gammaMin, got ${gammaMin}, ${gammaMax}`);
  }

  abstract gammaAndSlope(t: Tensor): GammaAndSlope;

  gamma(t: Tensor): Tensor {
    return tidy(() => this.gammaAndSlope(t).gamma);
  }

  forward(t: Tensor): Tensor {
    return this.gamma(t);
  }

  /** True when the schedule has parameters to train. */
  get learned(): boolean {
    return this.parameters().length > 0;
  }

  /** γ(0) and γ(1) as numbers (for logs and tests). */
  endpoints(): [number, number] {
    return noGrad(() =>
      tidy(() => {
        const g = this.gamma(scalarTensor(0).reshape([1]));
        const h = this.gamma(scalarTensor(1).reshape([1]));
        return [g.item(), h.item()] as [number, number];
      }),
    );
  }
}

/** γ(t) = γ_min + (γ_max − γ_min) t: uniform in log-SNR (the fixed schedule of the paper). */
export class FixedLinearSchedule extends NoiseSchedule {
  readonly kind = 'fixed' as const;

  gammaAndSlope(t: Tensor): GammaAndSlope {
    const d = this.gammaMax - this.gammaMin;
    return { gamma: t.mul(d).add(this.gammaMin), slope: t.mul(0).add(d) };
  }
}

/**
 * The cosine schedule written in log-SNR: −log SNR(t) = 2 log tan(a t + b), with a, b chosen so the
 * endpoints are γ_min and γ_max (Nichol & Dhariwal's cosine ᾱ, truncated as in Kingma et al. 2023).
 */
export class CosineSchedule extends NoiseSchedule {
  readonly kind = 'cosine' as const;
  private readonly a: number;
  private readonly b: number;

  constructor(gammaMin: number, gammaMax: number) {
    super(gammaMin, gammaMax);
    this.b = Math.atan(Math.exp(gammaMin / 2));
    this.a = Math.atan(Math.exp(gammaMax / 2)) - this.b;
  }

  gammaAndSlope(t: Tensor): GammaAndSlope {
    const angle = t.mul(this.a).add(this.b);
    // d/dt 2 log tan(u) = 2a / (sin u cos u) = 4a / sin 2u.
    return {
      gamma: ops.tan(angle).log().mul(2),
      slope: angle
        .mul(2)
        .sin()
        .reciprocal()
        .mul(4 * this.a),
    };
  }
}

/**
 * Learned schedules share one form, γ(t) = b + |w| · h(t) with h monotone, h(0) = 0 and h(1) = 1:
 * b is γ(0), b + |w| is γ(1), and |w| keeps the schedule increasing whatever b and w become.
 */
abstract class EndpointSchedule extends NoiseSchedule {
  readonly b: Tensor;
  readonly w: Tensor;

  constructor(gammaMin: number, gammaMax: number, learnEndpoints: boolean) {
    super(gammaMin, gammaMax);
    const make = (v: number) => scalarTensor(v).reshape([1]);
    if (learnEndpoints) {
      this.b = this.registerParameter('b', Parameter.adopt(make(gammaMin)));
      this.w = this.registerParameter('w', Parameter.adopt(make(gammaMax - gammaMin)));
    } else {
      this.b = this.registerBuffer('b', make(gammaMin));
      this.w = this.registerBuffer('w', make(gammaMax - gammaMin));
    }
  }

  /** h(t) and h′(t). */
  protected abstract shape(t: Tensor): { h: Tensor; dh: Tensor };

  gammaAndSlope(t: Tensor): GammaAndSlope {
    const { h, dh } = this.shape(t);
    const scale = this.w.abs();
    return { gamma: h.mul(scale).add(this.b), slope: dh.mul(scale) };
  }
}

/** γ = b + |w| t, initialised at γ_min = −13.3 and γ_max = 5 (the paper's `learnable_scalar`). */
export class LearnedScalarSchedule extends EndpointSchedule {
  readonly kind = 'scalar' as const;

  constructor(gammaMin: number, gammaMax: number, opts: { learnEndpoints?: boolean } = {}) {
    super(gammaMin, gammaMax, opts.learnEndpoints ?? true);
  }

  protected shape(t: Tensor): { h: Tensor; dh: Tensor } {
    return { h: t.mul(1), dh: t.mul(0).add(1) };
  }
}

/**
 * The paper's monotone network, f(t) = l1(t) + l3(2(sigmoid(l2(2(t − ½))) − ½)) / n, whose weights
 * enter through |·| so f is increasing; its bias is dropped since the rescaling below removes it.
 * It gives the shape h(t) = (f(t) − f(0)) / (f(1) − f(0)), so the endpoints are exactly b and b + |w|
 * whatever the network learns.
 */
export class MonotoneNetSchedule extends EndpointSchedule {
  readonly kind = 'net' as const;
  readonly l1: Parameter;
  readonly l2Weight: Parameter;
  readonly l2Bias: Parameter;
  readonly l3: Parameter;
  readonly features: number;

  constructor(gammaMin: number, gammaMax: number, opts: Omit<ScheduleOptions, 'gammaMin' | 'gammaMax'> = {}) {
    super(gammaMin, gammaMax, opts.learnEndpoints ?? true);
    const n = opts.features ?? 1024;
    this.features = n;
    const g = { generator: opts.generator };
    // As the reference: l1 starts at the linear schedule's slope, the weights of l2 and l3 at
    // N(0, 0.01²) and l2's bias at 0, so the network starts (almost) linear.
    this.l1 = this.registerParameter('l1', Parameter.adopt(scalarTensor(gammaMax - gammaMin).reshape([1])));
    const normal = (shape: number[]) => tidy(() => randn(shape, g).mul(0.01));
    this.l2Weight = this.registerParameter('l2Weight', Parameter.adopt(normal([n])));
    this.l2Bias = this.registerParameter('l2Bias', Parameter.adopt(zeros([n])));
    this.l3 = this.registerParameter('l3', Parameter.adopt(normal([n])));
  }

  /** f(t) and f′(t) for t of any shape. */
  private raw(t: Tensor): { f: Tensor; df: Tensor } {
    const n = this.features;
    const w1 = this.l1.abs();
    const w2 = this.l2Weight.abs();
    const w3 = this.l3.abs();
    const u = t.unsqueeze(-1); // [..., 1] against [n]
    const s = u.sub(0.5).mul(2).mul(w2).add(this.l2Bias).sigmoid();
    const f = t.mul(w1).add(s.sub(0.5).mul(2).mul(w3).sum(-1).div(n));
    // d/dt of 2(σ(2 w2 (t − ½) + b2) − ½) is 4 w2 σ(1 − σ).
    const df = w1.add(
      s
        .mul(s.rsub(1))
        .mul(w2)
        .mul(w3)
        .sum(-1)
        .mul(4 / n),
    );
    return { f, df };
  }

  protected shape(t: Tensor): { h: Tensor; dh: Tensor } {
    const { f, df } = this.raw(t);
    const ends = this.raw(tensor([0, 1], { dtype: t.dtype }));
    const f0 = ends.f.select(0, 0);
    const range = ends.f.select(0, 1).sub(f0);
    return { h: f.sub(f0).div(range), dh: df.div(range) };
  }
}

export function makeSchedule(kind: ScheduleKind, opts: ScheduleOptions = {}): NoiseSchedule {
  const gammaMin = opts.gammaMin ?? -13.3;
  const gammaMax = opts.gammaMax ?? 5;
  switch (kind) {
    case 'fixed':
      return new FixedLinearSchedule(gammaMin, gammaMax);
    case 'cosine':
      return new CosineSchedule(gammaMin, gammaMax);
    case 'scalar':
      return new LearnedScalarSchedule(gammaMin, gammaMax, opts);
    case 'net':
      return new MonotoneNetSchedule(gammaMin, gammaMax, opts);
    default:
      throw new Error(`unknown noise schedule '${kind}' (one of ${SCHEDULE_KINDS.join(', ')})`);
  }
}

/** σ² = sigmoid(γ). */
export function sigma2(gamma: Tensor): Tensor {
  return gamma.sigmoid();
}

/** α² = sigmoid(−γ). */
export function alpha2(gamma: Tensor): Tensor {
  return gamma.neg().sigmoid();
}

/** α and σ of a γ. */
export function alphaSigma(gamma: Tensor): { alpha: Tensor; sigma: Tensor } {
  return { alpha: alpha2(gamma).sqrt(), sigma: sigma2(gamma).sqrt() };
}

/** SNR = α²/σ² = exp(−γ). */
export function snr(gamma: Tensor): Tensor {
  return gamma.neg().exp();
}
