// The UCI 8×8 handwritten digits (1,797 images, 17 grey levels), shipped in data/digits/.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { tensor } from '../torch/creation.js';
import { ImageDataset } from './dataset.js';
import { DataError } from './errors.js';
import { Rng } from './rng.js';

export const DIGITS_COUNT = 1797;
export const DIGITS_TEST_COUNT = 360;
export const DIGITS_LEVELS = 17;
/** Seed of the fixed split: Rng(DIGITS_SPLIT_SEED).permutation(1797); its first 360 rows are the test set. */
export const DIGITS_SPLIT_SEED = 0;

/** src/data/ and dist/data/ both sit two levels below the package root. */
export const DIGITS_FILE = fileURLToPath(new URL('../../data/digits/digits.csv.gz', import.meta.url));

let cache: { pixels: Uint8Array; labels: Uint8Array } | null = null;

/** The raw table: pixels [1797 × 64] as levels 0..16, labels 0..9. Parsed once per process. */
export function digitsArrays(): { pixels: Uint8Array; labels: Uint8Array } {
  if (cache) return cache;
  let text: string;
  try {
    text = gunzipSync(readFileSync(DIGITS_FILE)).toString('ascii');
  } catch (e) {
    throw new DataError(`${DIGITS_FILE}: cannot read the embedded digits (${(e as Error).message})`);
  }
  const rows = text.split('\n').filter((r) => r.length > 0);
  if (rows.length !== DIGITS_COUNT)
    throw new DataError(`${DIGITS_FILE}: ${rows.length} rows, expected ${DIGITS_COUNT}`);
  const pixels = new Uint8Array(DIGITS_COUNT * 64);
  const labels = new Uint8Array(DIGITS_COUNT);
  rows.forEach((row, r) => {
    const v = row.split(',').map(Number);
    if (v.length !== 65 || v.some((x, j) => !Number.isInteger(x) || x < 0 || x > (j < 64 ? 16 : 9))) {
      throw new DataError(`${DIGITS_FILE}: line ${r + 1} is not 64 levels 0..16 and a label 0..9`);
    }
    pixels.set(v.slice(0, 64), r * 64);
    labels[r] = v[64];
  });
  cache = { pixels, labels };
  return cache;
}

/** Row numbers of each split, ascending. The split is fixed: the same on every machine and version. */
export function digitsSplit(): { train: Int32Array; test: Int32Array } {
  const perm = new Rng(DIGITS_SPLIT_SEED).permutation(DIGITS_COUNT);
  const test = perm.slice(0, DIGITS_TEST_COUNT).sort();
  const train = perm.slice(DIGITS_TEST_COUNT).sort();
  return { train, test };
}

/**
 * The digits as an ImageDataset: raw levels uint8 [N, 1, 8, 8], batches float32 level/16 in [0, 1].
 * split 'train' has 1,437 images, 'test' 360, 'all' 1,797 (in file order).
 */
export function loadDigits(opts: { split?: 'train' | 'test' | 'all' } = {}): ImageDataset {
  const split = opts.split ?? 'train';
  if (split !== 'train' && split !== 'test' && split !== 'all') {
    throw new DataError(`digits: unknown split '${split}' (train, test or all)`);
  }
  const { pixels, labels } = digitsArrays();
  let rows: ArrayLike<number> | null = null;
  if (split !== 'all') rows = digitsSplit()[split];
  const n = rows ? rows.length : DIGITS_COUNT;
  const px = new Uint8Array(n * 64);
  const lb = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const r = rows ? rows[k] : k;
    px.set(pixels.subarray(r * 64, r * 64 + 64), k * 64);
    lb[k] = labels[r];
  }
  const x = tensor(px, { shape: [n, 1, 8, 8] });
  const y = tensor(lb, { dtype: 'int64' });
  const classes = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
  return new ImageDataset(x, y, { levels: DIGITS_LEVELS, classes, name: 'digits' });
}
