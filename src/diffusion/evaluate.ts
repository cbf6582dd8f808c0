// Evaluation: test-set bits/dim of the VLB, and sample quality (FID, IS) through a feature network.
import { existsSync } from 'node:fs';
import type { TensorDataset } from '../data/dataset.js';
import { extractBatched } from '../metrics/extractor.js';
import { classifierExtractor, featureNetPath, loadFeatureNet } from '../metrics/featureNet.js';
import { fidFromFeatures } from '../metrics/fid.js';
import { inceptionScore } from '../metrics/inception.js';
import { inferenceMode } from '../torch/autograd.js';
import { arange } from '../torch/creation.js';
import { cat } from '../torch/functions.js';
import type { Generator } from '../torch/random.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import type { VDM } from './model.js';
import type { SamplerKind } from './sampling.js';

export interface BitsPerDim {
  /** The VLB, and its three parts, averaged over the test set, in bits/dim. */
  bpd: number;
  recon: number;
  prior: number;
  diff: number;
  /** Standard error of bpd over images. */
  stderr: number;
  /**
   * Standard deviation of the one-draw VLB estimator of an image, averaged over images (needs
   * timeSamples ≥ 2, else NaN): what the variance-minimising schedule lowers.
   */
  estimatorStd: number;
  images: number;
  timeSamples: number;
}

/**
 * The VLB of every test example, averaged over `timeSamples` draws of (t, ε) per example; batches
 * use antithetic times, as training does.
 */
export function testBitsPerDim(
  model: VDM,
  data: TensorDataset,
  opts: { timeSamples?: number; batchSize?: number; generator?: Generator; onBatch?: (done: number) => void } = {},
): BitsPerDim {
  const reps = opts.timeSamples ?? 1;
  const batchSize = opts.batchSize ?? 250;
  const n = data.length;
  const sums = { total: 0, recon: 0, prior: 0, diff: 0 };
  let sumSq = 0;
  let sumVar = 0;
  let dims = 1;
  inferenceMode(() => {
    for (let start = 0; start < n; start += batchSize) {
      tidy(() => {
        const x = data.batch(arange(start, Math.min(n, start + batchSize), 1, { dtype: 'int64' })).x;
        dims = model.dims(x);
        let total: Tensor | null = null;
        let totalSq: Tensor | null = null;
        for (let r = 0; r < reps; r++) {
          const terms = model.forward(x, { generator: opts.generator });
          total = total === null ? terms.total : total.add(terms.total);
          totalSq = totalSq === null ? terms.total.square() : totalSq.add(terms.total.square());
          sums.recon += terms.recon.sum().item();
          sums.prior += terms.prior.sum().item();
          sums.diff += terms.diff.sum().item();
        }
        const perImage = total!.div(reps);
        sums.total += perImage.sum().item();
        sumSq += perImage.square().sum().item();
        if (reps > 1)
          sumVar += totalSq!
            .sub(perImage.square().mul(reps))
            .div(reps - 1)
            .sum()
            .item();
      });
      opts.onBatch?.(Math.min(n, start + batchSize));
    }
  });
  const toBpd = dims * Math.LN2;
  const mean = sums.total / n;
  const variance = Math.max(0, sumSq / n - mean * mean);
  return {
    bpd: mean / toBpd,
    recon: sums.recon / (n * reps) / toBpd,
    prior: sums.prior / (n * reps) / toBpd,
    diff: sums.diff / (n * reps) / toBpd,
    stderr: Math.sqrt(variance / Math.max(1, n - 1)) / toBpd,
    estimatorStd: reps > 1 ? Math.sqrt(Math.max(0, sumVar / n)) / toBpd : Number.NaN,
    images: n,
    timeSamples: reps,
  };
}

export interface SampleQuality {
  fid: number;
  inceptionScore: number;
  samples: number;
}

/** True when the shipped feature network for this data set is present. */
export function hasFeatureNet(data: string): boolean {
  try {
    return existsSync(featureNetPath(data));
  } catch {
    return false;
  }
}

/**
 * FID between n samples and the test images, and IS of the samples, in the shipped classifier's
 * feature space. Returns null when that network is missing.
 */
export function sampleQuality(
  model: VDM,
  data: string,
  test: TensorDataset,
  opts: { n: number; steps: number; sampler?: SamplerKind; generator?: Generator; batchSize?: number },
): SampleQuality | null {
  if (!hasFeatureNet(data)) return null;
  const net = loadFeatureNet(data);
  try {
    const extractor = classifierExtractor(net);
    return tidy(() => {
      const shape = test.x.shape.slice(1);
      const parts: Tensor[] = [];
      const batch = opts.batchSize ?? 250;
      for (let done = 0; done < opts.n; done += batch) {
        const m = Math.min(batch, opts.n - done);
        parts.push(model.sample(m, shape, { steps: opts.steps, sampler: opts.sampler, generator: opts.generator }));
      }
      const samples = cat(parts);
      const real = (test as TensorDataset & { images?: () => Tensor }).images?.() ?? test.x;
      const fid = fidFromFeatures(
        extractBatched(extractor, samples, 'features'),
        extractBatched(extractor, real, 'features'),
      );
      const is = inceptionScore(extractBatched(extractor, samples, 'probs'));
      return { fid, inceptionScore: is.mean, samples: opts.n };
    });
  } finally {
    net.dispose();
  }
}
