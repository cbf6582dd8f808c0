// One VAE class for the family: the plain VAE and β-VAE, iVAE (conditional factorial prior and an
// encoder that also sees u) and the LIDVAE (Brenier-map decoder). They differ only in their parts.
import { Module } from '../nn/module.js';
import { randn } from '../torch/creation.js';
import { cat } from '../torch/functions.js';
import type { Generator } from '../torch/random.js';
import type { Tensor } from '../torch/tensor.js';
import { BrenierDecoder, type BrenierDecoderOptions } from './brenier.js';
import { klNormal, normalLogProb } from './distributions.js';
import { type Likelihood, type LikelihoodKind, makeLikelihood } from './likelihoods.js';
import { type Activation, MLP } from './nets.js';

export type ModelKind = 'vae' | 'beta-vae' | 'ivae' | 'lidvae';
export const MODEL_KINDS: ModelKind[] = ['vae', 'beta-vae', 'ivae', 'lidvae'];

/** Everything needed to rebuild a model; JSON-able, stored in a run's config. */
export interface VaeConfig {
  model: ModelKind;
  dataDim: number;
  latentDim: number;
  /** Size of the auxiliary variable u (iVAE only; e.g. the number of segments, one-hot). */
  auxDim?: number;
  /** Hidden widths of the encoder and of the MLP decoder and prior. */
  hidden: number[];
  activation?: Activation;
  slope?: number;
  /** Xavier init (iVAE's code) instead of PyTorch's default. */
  xavier?: boolean;
  /** With xavier, zero the biases too (default true). */
  zeroBias?: boolean;
  /** Separate networks for the encoder's mean and log-variance, as ilkhem/iVAE (default false: one network, two heads). */
  splitEncoder?: boolean;
  likelihood: LikelihoodKind;
  /** Gaussian likelihood: a fixed variance, or 'learned'. */
  variance?: number | 'learned';
  /** Discretised logistic: grey levels. */
  levels?: number;
  /** Weight of the KL term (1 for the VAE, iVAE and LIDVAE; > 1 for the β-VAE). */
  beta?: number;
  brenier?: BrenierDecoderOptions;
}

/** Weights of the reconstruction, index-code MI, total-correlation and dimension-wise KL terms. */
export interface AnnealWeights {
  a: number;
  b: number;
  c: number;
  d: number;
}

/**
 * The schedule of `iVAE.anneal` in ilkhem/iVAE's models/nets.py, which `IVAE_wrapper` uses with
 * anneal=True (main.py's runner calls neither; it trains with constant weights, see reference.ts): until
 * 1/1.6 of training the reconstruction weight grows from a0 = 0.5/σ² to 2·a0 while the MI and KL weights
 * shrink to 1 and the TC weight grows to 1; then the plain ELBO (with β on the KL terms).
 */
export function annealWeights(step: number, totalSteps: number, a0: number, beta = 1): AnnealWeights {
  const thr = Math.floor(totalSteps / 1.6);
  if (step > thr) return { a: 1, b: beta, c: beta, d: beta };
  const t = step / thr;
  return {
    a: Math.min(2 * a0, a0 + a0 * t),
    b: Math.max(1, a0 * 0.3 * (1 - t)),
    c: Math.min(1, t),
    d: Math.max(1, a0 * 0.5 * (1 - t)),
  };
}

export interface Posterior {
  mean: Tensor;
  logVar: Tensor;
}

export interface ElboTerms {
  /** −mean(rec − β·KL), the training loss. */
  loss: Tensor;
  /** Per-example ELBO, rec − KL (β = 1), [B]. */
  elbo: Tensor;
  /** E_q log p(x|z) from one sample, [B]. */
  rec: Tensor;
  /** KL(q(z|x,u) ‖ p(z|u)), analytic, [B]. */
  kl: Tensor;
  /** The sampled latents [B, latent]. */
  z: Tensor;
}

/** Conditional factorial prior p(z|u) = Π N(z_i; 0, λ_i(u)), with log λ = MLP(u). */
export class ConditionalPrior extends Module<[Tensor], Tensor> {
  readonly net: MLP;
  constructor(auxDim: number, latentDim: number, opts: ConstructorParameters<typeof MLP>[2]) {
    super();
    this.net = this.registerModule('net', new MLP(auxDim, latentDim, opts));
  }
  /** log λ(u), [B, latent]. */
  forward(u: Tensor): Tensor {
    return this.net.forward(u);
  }
}

export class VAE extends Module<[Tensor, Tensor?], ElboTerms> {
  readonly encoder: MLP;
  /** The log-variance network when the encoder is split (then `encoder` gives the mean only). */
  readonly encoderLogVar: MLP | null;
  readonly decoder: Module<[Tensor], Tensor>;
  readonly likelihood: Likelihood;
  readonly prior: ConditionalPrior | null;
  readonly latentDim: number;
  readonly auxDim: number;
  beta: number;

  constructor(readonly config: VaeConfig) {
    super();
    const { dataDim, latentDim } = config;
    const mlp = {
      hidden: config.hidden,
      activation: config.activation,
      slope: config.slope,
      xavier: config.xavier,
      zeroBias: config.zeroBias,
    };
    this.latentDim = latentDim;
    this.auxDim = config.model === 'ivae' ? (config.auxDim ?? 0) : 0;
    if (config.model === 'ivae' && this.auxDim < 1) throw new Error('iVAE needs auxDim ≥ 1 (the size of u)');
    this.beta = config.beta ?? (config.model === 'beta-vae' ? 4 : 1);
    const split = config.splitEncoder ?? false;
    this.encoder = this.registerModule('encoder', new MLP(dataDim + this.auxDim, (split ? 1 : 2) * latentDim, mlp));
    this.encoderLogVar = this.registerModule(
      'encoderLogVar',
      split ? new MLP(dataDim + this.auxDim, latentDim, mlp) : null,
    );
    this.decoder = this.registerModule(
      'decoder',
      config.model === 'lidvae'
        ? new BrenierDecoder(latentDim, dataDim, config.brenier)
        : new MLP(latentDim, dataDim, mlp),
    );
    this.likelihood = this.registerModule(
      'likelihood',
      makeLikelihood(config.likelihood, dataDim, { variance: config.variance, levels: config.levels }),
    );
    this.prior = this.registerModule(
      'prior',
      this.auxDim > 0 ? new ConditionalPrior(this.auxDim, latentDim, mlp) : null,
    );
  }

  /** q(z|x) or, for the iVAE, q(z|x,u): a diagonal Gaussian. */
  encode(x: Tensor, u?: Tensor): Posterior {
    const input = this.prior ? cat([x, this.requireU(u)], 1) : x;
    const [mean, logVar] = this.encoderLogVar
      ? [this.encoder.forward(input), this.encoderLogVar.forward(input)]
      : this.encoder.forward(input).chunk(2, 1);
    // Bounded log-variances keep exp() finite early in training.
    return { mean, logVar: logVar.clamp(-30, 20) };
  }

  /** log-variances of p(z|u) [B, latent], or null for the standard normal prior. */
  priorLogVar(u?: Tensor): Tensor | null {
    return this.prior ? this.prior.forward(this.requireU(u)).clamp(-30, 20) : null;
  }

  /** The decoder's location (mean or logits) for latents [..., latent]. */
  decode(z: Tensor): Tensor {
    if (z.ndim === 2) return this.decoder.forward(z);
    const lead = z.shape.slice(0, -1);
    return this.decoder.forward(z.reshape(-1, this.latentDim)).unflatten(0, lead);
  }

  /** A reparameterised draw from q. */
  sampleLatent(q: Posterior, opts: { samples?: number; generator?: Generator } = {}): Tensor {
    const shape = opts.samples === undefined ? q.mean.shape : [opts.samples, ...q.mean.shape];
    const eps = randn(shape, { dtype: q.mean.dtype, generator: opts.generator });
    return q.mean.add(q.logVar.mul(0.5).exp().mul(eps));
  }

  /** One-sample ELBO with analytic KL; the loss weights the KL by β. */
  forward(x: Tensor, u?: Tensor, opts: { generator?: Generator } = {}): ElboTerms {
    const q = this.encode(x, u);
    const z = this.sampleLatent(q, opts);
    const rec = this.likelihood.forward(x, this.decode(z));
    const kl = klNormal(q.mean, q.logVar, this.priorLogVar(u)).sum(-1);
    const loss = this.beta === 1 ? rec.sub(kl).mean().neg() : rec.sub(kl.mul(this.beta)).mean().neg();
    return { loss, elbo: rec.sub(kl), rec, kl, z };
  }

  /**
   * The reweighted ELBO decomposition of iVAE's reference code (after β-TCVAE); its runner uses constant
   * weights (a 100, b 1, c 0, d 10 for the iVAE), `IVAE_wrapper` the annealed ones of annealWeights:
   * a·log p(x|z) − b·(log q(z|x) − log q(z)) − c·(log q(z) − Σ_i log q(z_i)) − d·(Σ_i log q(z_i) − log p(z|u)),
   * with q(z) and q(z_i) estimated on the minibatch for a data set of `datasetSize` points.
   * All weights 1 give the one-sample ELBO. Returns the loss (negated mean) and the ELBO terms.
   */
  annealedLoss(
    x: Tensor,
    u: Tensor | undefined,
    w: AnnealWeights,
    datasetSize: number,
    opts: { generator?: Generator } = {},
  ): ElboTerms {
    const q = this.encode(x, u);
    const z = this.sampleLatent(q, opts);
    const m = z.size(0);
    const logPx = this.likelihood.forward(x, this.decode(z));
    const pLogVar = this.priorLogVar(u);
    const logPz = normalLogProb(z, 0, pLogVar ?? 0).sum(-1);
    const logQzx = normalLogProb(z, q.mean, q.logVar).sum(-1);
    // log q(z_b,i | x_j) for every pair of batch rows: [M (z), M (x), latent].
    const pairwise = normalLogProb(z.unsqueeze(1), q.mean.unsqueeze(0), q.logVar.unsqueeze(0));
    const logNorm = Math.log(m * datasetSize);
    const logQz = pairwise.sum(-1).logsumexp(1).sub(logNorm);
    const logQzi = pairwise.logsumexp(1).sub(logNorm).sum(-1);
    const objective = logPx
      .mul(w.a)
      .sub(logQzx.sub(logQz).mul(w.b))
      .sub(logQz.sub(logQzi).mul(w.c))
      .sub(logQzi.sub(logPz).mul(w.d));
    const kl = klNormal(q.mean, q.logVar, pLogVar).sum(-1);
    return { loss: objective.mean().neg(), elbo: logPx.sub(kl), rec: logPx, kl, z };
  }

  /** log p(x, z_k | u) − log q(z_k | x, u) for k samples, [k, B]. */
  logImportanceWeights(x: Tensor, u: Tensor | undefined, k: number, opts: { generator?: Generator } = {}): Tensor {
    const q = this.encode(x, u);
    const z = this.sampleLatent(q, { samples: k, generator: opts.generator });
    const logPx = this.likelihood.forward(x, this.decode(z));
    const pLogVar = this.priorLogVar(u);
    const logPz = normalLogProb(z, 0, pLogVar ?? 0).sum(-1);
    const logQz = normalLogProb(z, q.mean, q.logVar).sum(-1);
    return logPx.add(logPz).sub(logQz);
  }

  /** The importance-weighted bound log (1/k) Σ_k w_k ≤ log p(x|u) (Burda et al., 2016), [B]. */
  iwae(x: Tensor, u: Tensor | undefined, k: number, opts: { generator?: Generator } = {}): Tensor {
    return this.logImportanceWeights(x, u, k, opts).logsumexp(0).sub(Math.log(k));
  }

  /** Keeps constrained parameters valid; call after every optimiser step. */
  afterStep(): void {
    if (this.decoder instanceof BrenierDecoder) this.decoder.clipSingularValues_();
  }

  private requireU(u: Tensor | undefined): Tensor {
    if (!u) throw new Error('this model conditions on the auxiliary variable u; pass it');
    return u;
  }
}
