// Invertible 1×1 convolutions: a learned channel mixing W with cheap log-determinant H·W·log|det W|.
import * as F from '../nn/functional.js';
import { Parameter } from '../nn/parameter.js';
import { eye, ones, randn } from '../torch/creation.js';
import { linalg } from '../torch/functions.js';
import type { Generator } from '../torch/random.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import { Flow } from './flow.js';

/** A random rotation: the Q of a Gaussian matrix's QR decomposition, as the reference initialises W. */
export function randomOrthogonal(n: number, generator?: Generator): Tensor {
  return tidy(() => linalg.qr(randn([n, n], { dtype: 'float64', generator }))[0]);
}

function conv1x1(x: Tensor, w: Tensor): Tensor {
  const c = w.shape[0];
  return F.conv2d(x, w.view(c, c, 1, 1));
}

/** Plain version: W is a free matrix; log|det W| by slogdet in float64, where float32 loses digits. */
export class InvConv2d extends Flow {
  readonly weight: Parameter;

  constructor(
    readonly channels: number,
    opts: { generator?: Generator } = {},
  ) {
    super();
    this.weight = this.registerParameter('weight', Parameter.adopt(randomOrthogonal(channels, opts.generator).float()));
  }

  forward(x: Tensor): [Tensor, Tensor] {
    const logAbsDet = linalg.slogdet(this.weight.double())[1].to(x.dtype);
    return [conv1x1(x, this.weight), logAbsDet.mul(x.shape[2] * x.shape[3])];
  }

  reverse(y: Tensor): Tensor {
    return conv1x1(y, linalg.inv(this.weight.double()).to(y.dtype));
  }

  override extraRepr(): string {
    return `${this.channels}`;
  }
}

/**
 * LU-decomposed version: W = P · L · (U + diag(sign · exp(logS))), with P and sign fixed at
 * initialisation and L (unit lower), U (strictly upper) and logS learned, so log|det W| = Σ logS
 * costs nothing.
 */
export class InvConv2dLU extends Flow {
  readonly lower: Parameter;
  readonly upper: Parameter;
  readonly logS: Parameter;
  readonly p: Tensor;
  readonly signS: Tensor;
  private readonly lMask: Tensor;
  private readonly identity: Tensor;

  constructor(
    readonly channels: number,
    opts: { generator?: Generator } = {},
  ) {
    super();
    const [p, l, u, s] = tidy(() => {
      const [p, l, u] = linalg.lu(randomOrthogonal(channels, opts.generator));
      return [p.float(), l.float(), u.triu(1).float(), u.diagonal().float()];
    });
    this.p = this.registerBuffer('p', p);
    this.signS = this.registerBuffer(
      'signS',
      tidy(() => s.sign()),
    );
    this.lower = this.registerParameter('lower', Parameter.adopt(l));
    this.upper = this.registerParameter('upper', Parameter.adopt(u));
    this.logS = this.registerParameter('logS', Parameter.adopt(tidy(() => s.abs().log())));
    s.dispose();
    // Fixed by the channel count; left out of the state dict.
    this.lMask = this.registerBuffer(
      'lMask',
      tidy(() => ones([channels, channels]).tril(-1)),
      { persistent: false },
    );
    this.identity = this.registerBuffer('identity', eye(channels), { persistent: false });
  }

  /** W assembled from its factors. */
  weight(): Tensor {
    const l = this.lower.mul(this.lMask).add(this.identity);
    const u = this.upper.mul(this.lMask.t()).add(this.signS.mul(this.logS.exp()).diag());
    return this.p.matmul(l.matmul(u));
  }

  forward(x: Tensor): [Tensor, Tensor] {
    return [conv1x1(x, this.weight()), this.logS.sum().mul(x.shape[2] * x.shape[3])];
  }

  reverse(y: Tensor): Tensor {
    return conv1x1(y, linalg.inv(this.weight().double()).to(y.dtype));
  }

  override extraRepr(): string {
    return `${this.channels}`;
  }
}
