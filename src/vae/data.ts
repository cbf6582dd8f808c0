// Data for the VAE family as flat vectors: the nonlinear-ICA benchmark, the PPCA collapse case and
// image sets (digits, fashion-mnist, mnist). Labels double as the auxiliary variable u of the iVAE.

import { type Batch, TensorDataset } from '../data/dataset.js';
import { DataError } from '../data/errors.js';
import { type IcaOptions, makeNonlinearIca } from '../data/ica.js';
import { readNpz } from '../data/npy.js';
import { loadDataset } from '../data/registry.js';
import * as F from '../nn/functional.js';
import { arange, bernoulli, zeros } from '../torch/creation.js';
import { Generator } from '../torch/random.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import { makePpca, type PpcaOptions } from './synthetic.js';

export const VAE_DATA = ['ica', 'ppca', 'digits', 'fashion-mnist', 'mnist'] as const;

export interface VaeDataSpec {
  data: string;
  root?: string;
  /** Binarise images (Bernoulli likelihood): stochastically per batch for training, once (seeded) for tests. */
  binarize?: boolean;
  /** Evaluate on at most this many test examples (the first ones; all by default). */
  evalN?: number;
  ica?: IcaOptions;
  /** ica: an external data set in a .npz file instead of a generated one (readIcaFile). */
  icaFile?: string;
  ppca?: PpcaOptions;
}

/** An ICA data set from a .npz file: observations, segment labels and true sources. */
export interface IcaFile {
  /** Observations [N, D] float32. */
  x: Tensor;
  /** Segment index per row, int64 [N]. */
  segment: Tensor;
  /** True sources [N, d] float32. */
  s: Tensor;
  segments: number;
  dispose(): void;
}

/**
 * Reads an ICA data set saved as the reference code saves it (np.savez_compressed with keys x, u, s):
 * x [N, D], u one-hot [N, segments] (or segment indices [N]) and s [N, d]; other keys are ignored.
 */
export function readIcaFile(path: string): IcaFile {
  const arrays = readNpz(path);
  const { x, u, s } = arrays;
  try {
    for (const [k, t] of Object.entries({ x, u, s })) {
      if (!t) throw new DataError(`${path}: no array '${k}' (an ICA .npz holds x, u and s)`);
    }
    const n = x.size(0);
    if (x.ndim !== 2 || s.ndim !== 2 || s.size(0) !== n || u.size(0) !== n || u.ndim > 2) {
      throw new DataError(
        `${path}: x [${x.shape}], u [${u.shape}] and s [${s.shape}] must be [N, D], [N, segments] or [N], and [N, d]`,
      );
    }
    return tidy(() => {
      const segment = (u.ndim === 2 ? u.argmax(1) : u.to('int64')).keep();
      const segments = u.ndim === 2 ? u.size(1) : segment.max().item() + 1;
      const xs = x.to('float32').keep();
      const ss = s.to('float32').keep();
      return {
        x: xs,
        segment,
        s: ss,
        segments,
        dispose: () => {
          for (const t of [xs, segment, ss]) t.dispose();
        },
      };
    });
  } finally {
    for (const t of Object.values(arrays)) t.dispose();
  }
}

/** Sizes of an ICA .npz data set. */
export function icaFileData(path: string): { rows: number; dataDim: number; dim: number; segments: number } {
  const f = readIcaFile(path);
  try {
    return { rows: f.x.size(0), dataDim: f.x.size(1), dim: f.s.size(1), segments: f.segments };
  } finally {
    f.dispose();
  }
}

export interface VaeData {
  /** Training examples: x flat [N, D] (images as stored, converted per batch), y the labels/segments. */
  train: TensorDataset;
  /** Evaluation examples, flat float32 [n, D] (binarised when asked) and their labels. */
  test: { x: Tensor; y: Tensor };
  dataDim: number;
  /** Number of distinct labels, the size of a one-hot u. */
  classes: number;
  /** Grey levels of image data, for the discretised likelihood. */
  levels?: number;
  /** [C, H, W] of image data, for sample grids. */
  imageShape?: number[];
  /** True sources of the evaluation examples (ICA, PPCA), for MCC. */
  sources?: Tensor;
  binarize: boolean;
  dispose(): void;
}

/** Loads the data of a VAE run; the caller owns the result. */
export function loadVaeData(spec: VaeDataSpec): VaeData {
  const binarize = spec.binarize ?? false;
  if (spec.data === 'ica' && spec.icaFile) {
    const f = readIcaFile(spec.icaFile);
    const train = tidy(() => new TensorDataset(f.x.clone(), f.segment.clone(), { name: 'ica', own: true }));
    const n = Math.min(spec.evalN ?? f.x.size(0), f.x.size(0));
    const test = tidy(() => ({ x: f.x.narrow(0, 0, n).clone().keep(), y: f.segment.narrow(0, 0, n).clone().keep() }));
    const sources = tidy(() => f.s.narrow(0, 0, n).clone().keep());
    const classes = f.segments;
    f.dispose();
    return finish({ train, test, dataDim: train.shape[0], classes, sources, binarize });
  }
  if (spec.data === 'ica') {
    const ica = makeNonlinearIca(spec.ica);
    const train = ica.toDataset();
    // Identifiability is judged on the data the model was fitted to, as in the paper.
    const n = Math.min(spec.evalN ?? ica.x.size(0), ica.x.size(0));
    const test = tidy(() => ({
      x: ica.x.narrow(0, 0, n).clone().keep(),
      y: ica.segment.narrow(0, 0, n).clone().keep(),
    }));
    const sources = tidy(() => ica.s.narrow(0, 0, n).clone().keep());
    const classes = ica.options.segments;
    ica.dispose();
    return finish({ train, test, dataDim: train.shape[0], classes, sources, binarize });
  }
  if (spec.data === 'ppca') {
    const tr = makePpca(spec.ppca, 'train');
    const te = makePpca({ ...spec.ppca, n: spec.evalN ?? 1000 }, 'test');
    const train = new TensorDataset(tr.x, undefined, { name: 'ppca' });
    tr.z.dispose();
    tr.w.dispose();
    te.w.dispose();
    const test = { x: te.x.keep(), y: zeros([te.x.size(0)], { dtype: 'int64' }).keep() };
    return finish({ train, test, dataDim: train.shape[0], classes: 1, sources: te.z.keep(), binarize });
  }
  const train = loadDataset(spec.data, { root: spec.root, split: 'train' });
  const testSet = loadDataset(spec.data, { root: spec.root, split: 'test' });
  const imageShape = train.shape;
  const n = Math.min(spec.evalN ?? testSet.length, testSet.length);
  const test = tidy(() => {
    const b = testSet.batch(arange(n, undefined, 1, { dtype: 'int64' }));
    let x = b.x.flatten(1);
    // A fixed binarisation, so every evaluation sees the same test bits.
    if (binarize) x = bernoulli(x, { generator: new Generator(20210) });
    return { x: x.keep(), y: b.y.keep() };
  });
  testSet.dispose();
  const levels = (train as { levels?: number }).levels;
  return finish({
    train,
    test,
    dataDim: imageShape.reduce((a, b) => a * b, 1),
    classes: train.classes?.length ?? 10,
    levels,
    imageShape,
    binarize,
  });
}

function finish(d: Omit<VaeData, 'dispose'>): VaeData {
  return {
    ...d,
    dispose() {
      d.train.dispose();
      d.test.x.dispose();
      d.test.y.dispose();
      d.sources?.dispose();
    },
  };
}

/** A training batch as model inputs: flat x (binarised when asked, with the global generator) and one-hot u. */
export function prepareBatch(batch: Batch, data: VaeData): { x: Tensor; u: Tensor } {
  let x = batch.x.ndim > 2 ? batch.x.flatten(1) : batch.x;
  if (data.binarize) x = bernoulli(x);
  return { x, u: oneHot(batch.y, data.classes) };
}

/** Labels as float one-hot rows, the auxiliary variable of the iVAE. */
export function oneHot(y: Tensor, classes: number): Tensor {
  return F.oneHot(y, { numClasses: classes }).to('float32');
}
