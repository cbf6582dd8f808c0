// A synthetic case where posterior collapse is known to happen: probabilistic PCA with fewer true
// latent dimensions than the model has (the LIDVAE paper's "one-dimensional PPCA fit with two").
// The extra latent has a zero column in every optimal W, so it is non-identifiable and a standard
// VAE's posterior for it equals the prior.
import { randn } from '../torch/creation.js';
import { Generator } from '../torch/random.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';

export interface PpcaOptions {
  n?: number;
  /** Observed dimension (default 5). */
  dataDim?: number;
  /** True latent dimension (default 1). */
  trueDim?: number;
  /** Standard deviation of the loadings W (default 2). */
  loadingScale?: number;
  /** Standard deviation of the observation noise (default 0.1). */
  noise?: number;
  seed?: number;
}

export interface PpcaData {
  /** Observations x = z·Wᵀ + ε, [n, dataDim] float32. */
  x: Tensor;
  /** True latents [n, trueDim]. */
  z: Tensor;
  /** Loadings [dataDim, trueDim]. */
  w: Tensor;
}

/** Draws a PPCA data set; the loadings depend on the seed only, so train and test splits share them. */
export function makePpca(opts: PpcaOptions = {}, split: 'train' | 'test' = 'train'): PpcaData {
  const n = opts.n ?? 5000;
  const d = opts.dataDim ?? 5;
  const m = opts.trueDim ?? 1;
  const seed = opts.seed ?? 0;
  return tidy(() => {
    const w = randn([d, m], { generator: new Generator(seed) }).mul(opts.loadingScale ?? 2);
    const g = new Generator(seed * 2 + (split === 'train' ? 1 : 2));
    const z = randn([n, m], { generator: g });
    const x = z.matmul(w.t()).add(randn([n, d], { generator: g }).mul(opts.noise ?? 0.1));
    return { x, z, w };
  });
}
