// loadDataset(name, opts): one entry point for every named data set (the CLI's data setting among others).
import { loadCifar10 } from './cifar.js';
import { TensorDataset } from './dataset.js';
import { loadDigits } from './digits.js';
import { DataError } from './errors.js';
import { loadFashionMnist, loadMnist } from './idx.js';
import { deriveSeed } from './rng.js';
import { makeToy, TOY_NAMES, toyName } from './toy.js';

export interface LoadOptions {
  /** Folder of the files (required for mnist and cifar10; fashion-mnist defaults to Debian's folder). */
  root?: string;
  /** 'train' (default) or 'test'; digits also has 'all'. */
  split?: 'train' | 'test' | 'all';
  /** Toys: number of points (default 10,000) and seed (default 0; the test split uses a derived seed). */
  n?: number;
  seed?: number;
  noise?: number;
}

export const DATASET_NAMES = ['digits', 'fashion-mnist', 'mnist', 'cifar10', ...TOY_NAMES] as const;

function needRoot(name: string, root: string | undefined): string {
  if (!root)
    throw new DataError(
      `${name}: no data folder given; nothing is downloaded`,
      'give the folder of its files with {root}',
    );
  return root;
}

function trainOrTest(name: string, split: LoadOptions['split']): 'train' | 'test' {
  if (split === 'all') throw new DataError(`${name}: split 'all' exists only for digits`);
  return split ?? 'train';
}

/** Loads a named data set; the caller owns it (dispose() frees its tensors). */
export function loadDataset(name: string, opts: LoadOptions = {}): TensorDataset {
  switch (name) {
    case 'digits':
      return loadDigits({ split: opts.split });
    case 'fashion-mnist':
      return loadFashionMnist({ root: opts.root, split: trainOrTest(name, opts.split) });
    case 'mnist':
      return loadMnist({ root: needRoot(name, opts.root), split: trainOrTest(name, opts.split) });
    case 'cifar10':
      return loadCifar10({ root: needRoot(name, opts.root), split: trainOrTest(name, opts.split) });
  }
  const toy = toyName(name);
  if (toy) {
    const split = trainOrTest(toy, opts.split);
    const base = opts.seed ?? 0;
    const seed = split === 'train' ? base : deriveSeed(base, 1);
    const { x, y } = makeToy(toy, opts.n ?? 10000, { seed, noise: opts.noise });
    return new TensorDataset(x, y, { name: toy, own: true });
  }
  throw new DataError(`unknown data set '${name}' (one of ${DATASET_NAMES.join(', ')})`);
}
