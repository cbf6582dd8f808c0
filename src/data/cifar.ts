// CIFAR-10 in its binary version: records of 1 label byte and 3,072 pixel bytes (1,024 red, then
// green, then blue, each 32×32 row-major), 10,000 records per file.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { tensor } from '../torch/creation.js';
import { ImageDataset } from './dataset.js';
import { DataError, readRaw, requireFolder } from './errors.js';
import type { FolderOptions } from './idx.js';

const RECORD = 1 + 3 * 32 * 32;
/** Records in each published batch file (data_batch_1..5.bin, test_batch.bin). */
export const CIFAR10_RECORDS_PER_FILE = 10000;
export const CIFAR10_CLASSES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];

/**
 * Parses one binary batch file; returns labels and the pixel bytes in [N, 3, 32, 32] order. With
 * `records`, the file must hold exactly that many: a file cut at a record boundary is otherwise whole.
 */
export function parseCifarBatch(
  buf: Uint8Array,
  path: string,
  records?: number,
): { labels: Uint8Array; pixels: Uint8Array } {
  if (buf.length === 0 || buf.length % RECORD !== 0) {
    const whole = Math.floor(buf.length / RECORD);
    throw new DataError(
      `${path}: truncated: ${buf.length} bytes is not a whole number of ${RECORD}-byte records (${whole} whole records)`,
    );
  }
  const n = buf.length / RECORD;
  if (records !== undefined && n !== records) {
    throw new DataError(
      `${path}: holds ${n} records (${buf.length} bytes), expected ${records} (${records * RECORD} bytes)`,
      n < records ? 'the file was cut short: copy it again from the CIFAR-10 binary archive' : undefined,
    );
  }
  const labels = new Uint8Array(n);
  const pixels = new Uint8Array(n * (RECORD - 1));
  for (let i = 0; i < n; i++) {
    const o = i * RECORD;
    if (buf[o] > 9) throw new DataError(`${path}: record ${i} has label ${buf[o]}, expected 0..9`);
    labels[i] = buf[o];
    pixels.set(buf.subarray(o + 1, o + RECORD), i * (RECORD - 1));
  }
  return { labels, pixels };
}

/** A batch file's bytes; a gzipped one inflates no further than one byte past `records` records. */
function readBatch(path: string, records: number): Uint8Array {
  const raw = readRaw(path);
  if (raw.length < 2 || raw[0] !== 0x1f || raw[1] !== 0x8b) return raw;
  try {
    return gunzipSync(raw, { maxOutputLength: records * RECORD + 1 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DataError(
        `${path}: inflates to more than ${records} records (${records * RECORD} bytes); inflating stopped there`,
      );
    }
    throw new DataError(`${path}: corrupt gzip data (${(e as Error).message})`);
  }
}

/** The folder with the .bin files: root itself, or the cifar-10-batches-bin folder the archive unpacks to. */
function batchFolder(root: string): string {
  const nested = join(root, 'cifar-10-batches-bin');
  return existsSync(join(root, 'test_batch.bin')) || !existsSync(nested) ? root : nested;
}

/** Class names from batches.meta.txt when present. */
function classNames(dir: string): string[] {
  const meta = join(dir, 'batches.meta.txt');
  if (!existsSync(meta)) return CIFAR10_CLASSES;
  const names = readFileSync(meta, 'utf8')
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);
  return names.length === 10 ? names : CIFAR10_CLASSES;
}

export interface CifarOptions extends FolderOptions {
  root: string;
  /**
   * Records each batch file must hold: 10,000 in the published files, the default. Set it only to read
   * a copy cut down on purpose (e.g. for tests); every file must then hold exactly this many.
   */
  recordsPerFile?: number;
}

/** CIFAR-10 from a user-given folder: 50,000 train images (data_batch_1..5.bin) or 10,000 test. */
export function loadCifar10(opts: CifarOptions): ImageDataset {
  const records = opts.recordsPerFile ?? CIFAR10_RECORDS_PER_FILE;
  if (!Number.isSafeInteger(records) || records < 1) {
    throw new DataError(`cifar10: recordsPerFile must be a positive integer, got ${records}`);
  }
  const split = opts.split ?? 'train';
  if (split !== 'train' && split !== 'test') throw new DataError(`cifar10: unknown split '${split}' (train or test)`);
  requireFolder('cifar10', opts.root);
  const dir = batchFolder(opts.root);
  const files = split === 'train' ? [1, 2, 3, 4, 5].map((k) => `data_batch_${k}.bin`) : ['test_batch.bin'];
  const parts = files.map((f) => {
    const path = join(dir, f);
    return parseCifarBatch(readBatch(path, records), path, records);
  });
  const n = parts.reduce((s, p) => s + p.labels.length, 0);
  const labels = new Uint8Array(n);
  const pixels = new Uint8Array(n * (RECORD - 1));
  let at = 0;
  for (const p of parts) {
    labels.set(p.labels, at);
    pixels.set(p.pixels, at * (RECORD - 1));
    at += p.labels.length;
  }
  const x = tensor(pixels, { shape: [n, 3, 32, 32] });
  const y = tensor(labels, { dtype: 'int64' });
  return new ImageDataset(x, y, { levels: 256, classes: classNames(dir), name: 'cifar10' });
}
