// Glow (Kingma & Dhariwal 2018): a multi-scale flow of ActNorm → invertible 1×1 conv → coupling steps.
import { ModuleList } from '../nn/layers/container.js';
import { Module } from '../nn/module.js';
import { noGrad } from '../torch/autograd.js';
import { randn } from '../torch/creation.js';
import type { Generator } from '../torch/random.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import { ActNorm } from './actnorm.js';
import { Coupling, type CouplingKind } from './coupling.js';
import { Flow } from './flow.js';
import { fromEps, gaussianLogp } from './gaussian.js';
import { InvConv2d, InvConv2dLU } from './invconv.js';
import { Split, TopPrior } from './prior.js';
import { squeeze2d, unsqueeze2d } from './squeeze.js';

export type Permutation = 'lu' | 'plain';

export interface GlowConfig {
  /** Image shape [C, H, W]. */
  shape: [number, number, number];
  /** L: levels, each squeeze → K steps → split (the last one without split). */
  levels: number;
  /** K: flow steps per level. */
  depth: number;
  /** Channels of the coupling networks' hidden layers. */
  hidden: number;
  coupling?: CouplingKind;
  /** The invertible 1×1 convolution: LU-decomposed (default) or plain. */
  permutation?: Permutation;
  learnTop?: boolean;
  /** > 0: a class-conditional top prior over this many classes. */
  numClasses?: number;
  /**
   * How the activations lie in memory inside the flow. 'channelsLast' ([N, H, W, C] order) lets
   * oneDNN's convolutions skip reordering them, about a fifth off a Fashion-MNIST training step on
   * CPU; its sums run in another order, so results differ from 'contiguous' (the default) in the
   * last digits. Inputs and outputs are row-major either way.
   */
  memoryFormat?: 'contiguous' | 'channelsLast';
}

/** One step of flow: ActNorm → invertible 1×1 conv → coupling. */
export class FlowStep extends Flow {
  readonly actnorm: ActNorm;
  readonly invconv: InvConv2d | InvConv2dLU;
  readonly coupling: Coupling;

  constructor(channels: number, hidden: number, coupling: CouplingKind, permutation: Permutation) {
    super();
    this.actnorm = this.registerModule('actnorm', new ActNorm(channels));
    this.invconv = this.registerModule(
      'invconv',
      permutation === 'lu' ? new InvConv2dLU(channels) : new InvConv2d(channels),
    );
    this.coupling = this.registerModule('coupling', new Coupling(channels, coupling, hidden));
  }

  // Its intermediates are freed when the step returns, by the scope every Module.forward has.
  forward(x: Tensor): [Tensor, Tensor] {
    const [a, ldA] = this.actnorm.forward(x);
    const [b, ldB] = this.invconv.forward(a);
    const [c, ldC] = this.coupling.forward(b);
    // The first two are 0-d: add them to each other before broadcasting onto the batch.
    return [c, ldA.add(ldB).add(ldC)];
  }

  reverse(y: Tensor): Tensor {
    return tidy(() => this.actnorm.reverse(this.invconv.reverse(this.coupling.reverse(y))));
  }
}

/** A level: its K steps and, except for the last level, the split that follows them. */
export class GlowLevel extends Module<never[], never> {
  readonly steps: ModuleList<FlowStep>;
  readonly split: Split | null;

  constructor(channels: number, config: GlowConfig, last: boolean) {
    super();
    const coupling = config.coupling ?? 'affine';
    const permutation = config.permutation ?? 'lu';
    this.steps = this.registerModule(
      'steps',
      new ModuleList(
        Array.from({ length: config.depth }, () => new FlowStep(channels, config.hidden, coupling, permutation)),
      ),
    );
    this.split = this.registerModule('split', last ? null : new Split(channels));
  }

  forward(): never {
    throw new Error('GlowLevel: call through Glow');
  }
}

export interface Encoding {
  /** log p(z) under the priors, [B], nats. */
  logp: Tensor;
  /** Σ log|det ∂f/∂x| of the flow, [B] (or 0-d when the flow is volume-preserving), nats. */
  logdet: Tensor;
  /** Standardised latents, one per level: eps_i = (z_i − mean_i) / std_i; the last is the top's. */
  eps: Tensor[];
}

export interface SampleOptions {
  /** Scales the standard deviation of every prior (T < 1 gives cleaner, less varied samples). */
  temperature?: number;
  /** Class labels [n], for a class-conditional prior. */
  y?: Tensor;
  generator?: Generator;
}

export class Glow extends Module<[Tensor, Tensor?], Tensor> {
  readonly config: GlowConfig;
  readonly levels: ModuleList<GlowLevel>;
  readonly prior: TopPrior;
  /** Shapes [C, H, W] of the latents encode() returns. */
  readonly latentShapes: [number, number, number][];

  constructor(config: GlowConfig) {
    super();
    this.config = config;
    let [c, h, w] = config.shape;
    const levels: GlowLevel[] = [];
    this.latentShapes = [];
    for (let i = 0; i < config.levels; i++) {
      if (h % 2 !== 0 || w % 2 !== 0) {
        throw new Error(
          `Glow: ${config.shape[1]}×${config.shape[2]} images can't be squeezed ${i + 1} times; use fewer levels`,
        );
      }
      c *= 4;
      h /= 2;
      w /= 2;
      const last = i === config.levels - 1;
      levels.push(new GlowLevel(c, config, last));
      if (!last) {
        c /= 2;
        this.latentShapes.push([c, h, w]);
      }
    }
    this.latentShapes.push([c, h, w]);
    this.levels = this.registerModule('levels', new ModuleList(levels));
    this.prior = this.registerModule(
      'prior',
      new TopPrior([c, h, w], { learnTop: config.learnTop ?? true, numClasses: config.numClasses ?? 0 }),
    );
  }

  /** Activations after each squeeze, in the layout the config asks for. */
  private layout(z: Tensor): Tensor {
    return this.config.memoryFormat === 'channelsLast' ? z.contiguous('channelsLast') : z;
  }

  /** Dimensions D of one image. */
  get dims(): number {
    return this.config.shape.reduce((a, b) => a * b, 1);
  }

  /** log p(x) in nats, [B]: the density of the (dequantised, rescaled) input. */
  forward(x: Tensor, y?: Tensor): Tensor {
    const { logp, logdet } = this.encode(x, y);
    return logp.add(logdet);
  }

  encode(x: Tensor, y?: Tensor): Encoding {
    let z = x;
    let logdet: Tensor | null = null;
    let logp: Tensor | null = null;
    const eps: Tensor[] = [];
    for (const level of this.levels) {
      z = this.layout(squeeze2d(z));
      for (const step of level.steps) {
        const [out, ld] = step.forward(z);
        z = out;
        logdet = logdet === null ? ld : logdet.add(ld);
      }
      if (level.split) {
        const s = level.split.forward(z);
        z = s.z1;
        logp = logp === null ? s.logp : logp.add(s.logp);
        eps.push(s.eps.contiguous());
      }
    }
    const [mean, logs] = this.prior.forward(x.shape[0], y);
    const top = gaussianLogp(z, mean, logs);
    eps.push(top.eps.contiguous());
    return { logp: logp === null ? top.logp : logp.add(top.logp), logdet: logdet!, eps };
  }

  /** The exact inverse of encode(): images from standardised latents. */
  decode(eps: Tensor[], y?: Tensor): Tensor {
    const n = this.levels.length;
    if (eps.length !== n) throw new Error(`Glow.decode: expected ${n} latents, got ${eps.length}`);
    const [mean, logs] = this.prior.forward(eps[0].shape[0], y);
    let z = fromEps(eps[n - 1], mean, logs);
    for (let i = n - 1; i >= 0; i--) {
      const level = this.levels.at(i);
      if (level.split) z = level.split.reverse(z, eps[i]);
      z = this.layout(z);
      for (let k = level.steps.length - 1; k >= 0; k--) z = level.steps.at(k).reverse(z);
      z = unsqueeze2d(z);
    }
    return z.contiguous();
  }

  /** n samples; eps ~ N(0, T² I) at every level. */
  sample(n: number, opts: SampleOptions = {}): Tensor {
    const t = opts.temperature ?? 1;
    return tidy(() => {
      const dtype = this.parameters()[0].dtype;
      const eps = this.latentShapes.map((s) => randn([n, ...s], { dtype, generator: opts.generator }).mul(t));
      return this.decode(eps, opts.y);
    });
  }

  /** Data-dependent initialisation of every ActNorm, in order, from one (large) batch. */
  initialize(x: Tensor, y?: Tensor): void {
    tidy(() => noGrad(() => this.encode(x, y)));
  }

  /** Every ActNorm, in the order the data meets them. */
  actnorms(): ActNorm[] {
    return this.modules().filter((m): m is ActNorm => m instanceof ActNorm);
  }
}
