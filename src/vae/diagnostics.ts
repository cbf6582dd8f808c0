// Posterior-collapse diagnostics, as in Burda et al. (active units), He et al. (2019, mutual
// information) and the LIDVAE paper: a collapsed latent has q(z|x) = p(z), so its posterior mean does
// not move with x, it carries no information about x and its KL is 0.
import { enableGrad, grad, noGrad } from '../torch/autograd.js';
import { zerosLike } from '../torch/creation.js';
import { cat } from '../torch/functions.js';
import type { Generator } from '../torch/random.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import { normalLogProb } from './distributions.js';
import type { Posterior, VAE } from './model.js';

/** Units whose posterior mean varies over the data: Var_x E_q[z_i|x] ≥ threshold (default 0.01). */
export function activeUnits(means: Tensor, threshold = 0.01): { count: number; variances: number[] } {
  return tidy(() => {
    const variances = Array.from(means.to('float64').var(0).toTypedArray() as Float64Array);
    return { count: variances.filter((v) => v >= threshold).length, variances };
  });
}

/**
 * I_q(x; z) = E_x E_q(z|x)[log q(z|x) − log q(z)], with the aggregate posterior q(z) estimated by the
 * mixture of the batch's posteriors (He et al., 2019). At most log(batch size).
 */
export function mutualInformation(q: Posterior, opts: { generator?: Generator } = {}): number {
  return tidy(() => {
    const mean = q.mean.to('float64');
    const logVar = q.logVar.to('float64');
    const b = mean.size(0);
    // E_q log q(z|x) = −½ Σ_i (log 2π + logVar_i + 1).
    const negEntropy = logVar
      .add(1 + Math.log(2 * Math.PI))
      .sum(1)
      .mul(-0.5)
      .mean();
    const z = mean.add(logVar.mul(0.5).exp().mul(randnLike64(mean, opts.generator)));
    // log q(z_j | x_i) for every pair: [B (z), B (x)].
    const logDensity = normalLogProb(z.unsqueeze(1), mean.unsqueeze(0), logVar.unsqueeze(0)).sum(-1);
    const logQz = logDensity.logsumexp(1).sub(Math.log(b));
    return negEntropy.sub(logQz.mean()).item();
  });
}

function randnLike64(t: Tensor, generator?: Generator): Tensor {
  return t.clone().normal_(0, 1, { generator });
}

export interface CollapseReport {
  /** Units with Var_x E[z|x] ≥ 0.01. */
  activeUnits: number;
  latentDim: number;
  /** Var_x E[z_i|x] per unit. */
  unitVariances: number[];
  /** Mutual information I_q(x; z), nats (batch estimate, averaged over batches). */
  mutualInfo: number;
  /** Mean KL(q(z|x) ‖ p(z)), nats. */
  kl: number;
  /** Mean one-sample ELBO, nats. */
  elbo: number;
  /** Mean E_q log p(x|z), nats. */
  rec: number;
  /** −mean IWAE bound with k samples: an upper bound on the negative log-likelihood, nats. */
  nll: number;
  k: number;
  n: number;
}

/**
 * The collapse diagnostics of a model on data x (and u for the iVAE), in batches, without autograd.
 * A generator makes the Monte Carlo estimates reproducible.
 */
export function collapseDiagnostics(
  model: VAE,
  x: Tensor,
  u: Tensor | null,
  opts: { k?: number; batchSize?: number; threshold?: number; generator?: Generator } = {},
): CollapseReport {
  const k = opts.k ?? 100;
  const batchSize = opts.batchSize ?? 500;
  const n = x.size(0);
  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(() =>
      tidy(() => {
        const means: Tensor[] = [];
        let mi = 0;
        let kl = 0;
        let elbo = 0;
        let rec = 0;
        let nll = 0;
        for (let start = 0; start < n; start += batchSize) {
          const len = Math.min(batchSize, n - start);
          tidy(() => {
            const xb = x.narrow(0, start, len);
            const ub = u ? u.narrow(0, start, len) : undefined;
            const q = model.encode(xb, ub);
            means.push(q.mean.keep());
            // The MI estimate is biased for small batches; weight batches by size.
            mi += mutualInformation(q, { generator: opts.generator }) * len;
            const terms = model.forward(xb, ub, { generator: opts.generator });
            kl += terms.kl.sum().item();
            elbo += terms.elbo.sum().item();
            rec += terms.rec.sum().item();
            nll -= iwaeChunked(model, xb, ub, k, opts.generator).sum().item();
          });
        }
        const all = cat(means);
        for (const m of means) m.dispose();
        const au = activeUnits(all, opts.threshold ?? 0.01);
        return {
          activeUnits: au.count,
          latentDim: model.latentDim,
          unitVariances: au.variances,
          mutualInfo: mi / n,
          kl: kl / n,
          elbo: elbo / n,
          rec: rec / n,
          nll: nll / n,
          k,
          n,
        };
      }),
    );
  } finally {
    if (wasTraining) model.train();
  }
}

/**
 * The IWAE bound with k samples, drawn in chunks of at most ~2,000 decoder rows (samples × batch) and
 * combined by log-sum-exp: large fresh tensors are slow to allocate, and memory stays bounded.
 */
export function iwaeChunked(model: VAE, x: Tensor, u: Tensor | undefined, k: number, generator?: Generator): Tensor {
  const perChunk = Math.max(1, Math.min(k, Math.floor(2000 / x.size(0))));
  return tidy(() => {
    const parts: Tensor[] = [];
    for (let done = 0; done < k; done += perChunk) {
      const m = Math.min(perChunk, k - done);
      parts.push(model.logImportanceWeights(x, u, m, { generator }));
    }
    return cat(parts).logsumexp(0).sub(Math.log(k));
  });
}

/**
 * How much the decoder's output moves with each latent: the root-mean-square over z of the column
 * norms ‖∂f(z)/∂z_i‖ of its Jacobian. One backward pass per output dimension, so meant for
 * low-dimensional data. A collapsed unit with a sensitive decoder is an encoder choice; with an
 * insensitive one, the decoder has (nearly) dropped the latent.
 */
export function decoderSensitivity(model: VAE, z: Tensor): number[] {
  return tidy(() =>
    enableGrad(() => {
      const input = z.detach().requiresGrad_(true);
      const out = model.decode(input);
      let sq = zerosLike(input);
      for (let d = 0; d < out.size(1); d++) {
        const [g] = grad(out.select(1, d).sum(), input, { retainGraph: true });
        sq = sq.add(g!.square());
      }
      return Array.from(sq.mean(0).sqrt().toTypedArray() as Float32Array);
    }),
  );
}
