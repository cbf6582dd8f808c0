// The IDX format of MNIST and Fashion-MNIST: a 4-byte magic (0, 0, type, number of dimensions),
// big-endian uint32 sizes, then the values in row-major order. Files may be gzipped.
import { join } from 'node:path';
import { gunzipSync, constants as zlibConstants } from 'node:zlib';
import { tensor } from '../torch/creation.js';
import { ImageDataset } from './dataset.js';
import { DataError, findFile, readRaw, requireFolder } from './errors.js';

type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  dims: number[];
  data: IdxData;
}

// type byte → bytes per value and a reader of big-endian values.
const types: Record<number, { name: string; bytes: number; make: (n: number) => IdxData }> = {
  8: { name: 'ubyte', bytes: 1, make: (n) => new Uint8Array(n) },
  9: { name: 'byte', bytes: 1, make: (n) => new Int8Array(n) },
  11: { name: 'short', bytes: 2, make: (n) => new Int16Array(n) },
  12: { name: 'int', bytes: 4, make: (n) => new Int32Array(n) },
  13: { name: 'float', bytes: 4, make: (n) => new Float32Array(n) },
  14: { name: 'double', bytes: 8, make: (n) => new Float64Array(n) },
};

const hex = (v: number) => `0x${v.toString(16).padStart(8, '0')}`;

export interface IdxExpect {
  /** Number of dimensions the caller needs (3 for images, 1 for labels). */
  dims?: number;
  /** Words for the truncation message: 'images', 'labels'. */
  noun?: string;
}

/** Above this many bytes a header is taken as corrupt: 4 GiB is far beyond any published IDX set. */
export const MAX_IDX_BYTES = 2 ** 32;

interface IdxHeader {
  typeCode: number;
  type: (typeof types)[number];
  dims: number[];
  headerBytes: number;
  /** Bytes of the whole file the header implies. */
  need: number;
}

/** Checks the magic and reads the sizes; null when `buf` ends before the sizes do (and `partial` is set). */
function readHeader(buf: Uint8Array, path: string, expect: IdxExpect, partial = false): IdxHeader | null {
  if (buf.length < 4) {
    if (partial) return null;
    throw new DataError(`${path}: truncated: ${buf.length} bytes is too short for an IDX header`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = view.getUint32(0);
  const typeCode = buf[2];
  const ndim = buf[3];
  const type = types[typeCode];
  const wanted = expect.dims === undefined ? null : 0x0800 | expect.dims;
  if (buf[0] !== 0 || buf[1] !== 0 || !type || ndim === 0 || (wanted !== null && magic !== wanted)) {
    const exp = wanted === null ? 'not an IDX file' : `expected ${hex(wanted)}`;
    throw new DataError(`${path}: bad IDX magic ${hex(magic)} (${exp})`);
  }
  const headerBytes = 4 + 4 * ndim;
  if (buf.length < headerBytes) {
    if (partial) return null;
    throw new DataError(`${path}: truncated: ${buf.length} bytes is too short for a ${ndim}-d IDX header`);
  }
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i));
  const count = dims.reduce((a, b) => a * b, 1);
  const need = headerBytes + count * type.bytes;
  if (need > MAX_IDX_BYTES) {
    throw new DataError(
      `${path}: header says ${describe(dims, expect)} (${need} bytes), more than the ${MAX_IDX_BYTES}-byte limit of an IDX file; the header is corrupt`,
    );
  }
  return { typeCode, type, dims, headerBytes, need };
}

function describe(dims: number[], expect: IdxExpect): string {
  const noun = expect.noun ?? 'items';
  return dims.length > 1 ? `${dims[0]} ${noun} of ${dims.slice(1).join('×')}` : `${dims[0]} ${noun}`;
}

/** Parses IDX bytes; `path` only names the file in errors. ubyte data is a view of `buf`, not a copy. */
export function parseIdx(buf: Uint8Array, path: string, expect: IdxExpect = {}): IdxArray {
  const { typeCode, type, dims, headerBytes, need } = readHeader(buf, path, expect) as IdxHeader;
  const count = (need - headerBytes) / type.bytes;
  if (buf.length !== need) {
    const problem = buf.length < need ? 'truncated' : 'trailing bytes';
    throw new DataError(
      `${path}: ${problem}: header says ${describe(dims, expect)} (${need} bytes) but the file holds ${buf.length} bytes`,
    );
  }
  if (type.bytes === 1) {
    const bytes = buf.subarray(headerBytes, headerBytes + count);
    return { dims, data: typeCode === 0x08 ? bytes : new Int8Array(bytes.buffer, bytes.byteOffset, count) };
  }
  // Wider types are big-endian on disk.
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const data = type.make(count);
  for (let i = 0, o = headerBytes; i < count; i++, o += type.bytes) {
    if (typeCode === 0x0b) data[i] = view.getInt16(o);
    else if (typeCode === 0x0c) data[i] = view.getInt32(o);
    else if (typeCode === 0x0d) data[i] = view.getFloat32(o);
    else data[i] = view.getFloat64(o);
  }
  return { dims, data };
}

/**
 * Inflates a gzipped IDX file no further than its header allows. A small gzip file can inflate to
 * gigabytes (a "gzip bomb"), so the header is inflated first, from a growing prefix of the compressed
 * bytes, and the whole stream is then inflated with zlib's maxOutputLength set to the size the header
 * implies: a stream that inflates to more stops there instead of filling memory.
 */
function inflateIdx(raw: Uint8Array, path: string, expect: IdxExpect): Uint8Array {
  const corrupt = (e: unknown) => new DataError(`${path}: corrupt gzip data (${(e as Error).message})`);
  let header: IdxHeader | null = null;
  // Each prefix of p compressed bytes inflates to at most about 1,032·p bytes (deflate's largest ratio).
  for (let p = 256; header === null; p *= 16) {
    const whole = p >= raw.length;
    let head: Buffer;
    try {
      // A prefix ends mid-stream: sync-flush returns what it holds; the whole file must end properly.
      head = whole
        ? gunzipSync(raw, { maxOutputLength: MAX_IDX_BYTES })
        : gunzipSync(raw.subarray(0, p), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    } catch (e) {
      throw corrupt(e);
    }
    header = readHeader(head, path, expect, !whole);
    if (whole) break;
  }
  const limit = (header as IdxHeader).need;
  try {
    return gunzipSync(raw, { maxOutputLength: Math.max(1, limit) });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE') throw corrupt(e);
    const { dims } = header as IdxHeader;
    throw new DataError(
      `${path}: trailing bytes: header says ${describe(dims, expect)} (${limit} bytes) but the data inflates to more; inflating stopped there`,
    );
  }
}

/** Reads an IDX file, gzipped or plain. */
export function readIdx(path: string, expect: IdxExpect = {}): IdxArray {
  const raw = readRaw(path);
  const gz = raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b;
  return parseIdx(gz ? inflateIdx(raw, path, expect) : raw, path, expect);
}

/** An image dataset from an IDX pair: ubyte images [N, H, W] and ubyte labels [N]. */
export function loadIdxPair(
  imagesPath: string,
  labelsPath: string,
  opts: { name: string; classes?: string[] },
): ImageDataset {
  const images = readIdx(imagesPath, { dims: 3, noun: 'images' });
  const labels = readIdx(labelsPath, { dims: 1, noun: 'labels' });
  const [n, h, w] = images.dims;
  if (labels.dims[0] !== n) {
    throw new DataError(`${labelsPath}: holds ${labels.dims[0]} labels but ${imagesPath} holds ${n} images`);
  }
  const classCount = opts.classes?.length;
  if (classCount !== undefined) {
    const bad = (labels.data as Uint8Array).findIndex((v) => v >= classCount);
    if (bad >= 0) {
      throw new DataError(
        `${labelsPath}: label ${labels.data[bad]} at item ${bad} is not a class 0..${classCount - 1}`,
      );
    }
  }
  const x = tensor(images.data as Uint8Array, { shape: [n, 1, h, w] });
  const y = tensor(labels.data as Uint8Array, { dtype: 'int64' });
  return new ImageDataset(x, y, { levels: 256, classes: opts.classes, name: opts.name });
}

export type Split = 'train' | 'test';

export interface FolderOptions {
  /** The folder holding the files. */
  root?: string;
  split?: Split;
}

const DIGIT_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
export const FASHION_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** Where Debian's dataset-fashion-mnist package puts the files. */
export const FASHION_MNIST_ROOT = '/usr/share/datasets/fashion-mnist';

/** The standard file names, gzipped or not, directly in root or in torchvision's MNIST/raw layout. */
function idxFiles(root: string, split: Split): { images: string; labels: string } {
  const prefix = split === 'train' ? 'train' : 't10k';
  const names = (kind: 'images' | 'labels', d: 1 | 3) => {
    const base = [`${prefix}-${kind}-idx${d}-ubyte`, `${prefix}-${kind}.idx${d}-ubyte`];
    const dirs = [root, join(root, 'raw')];
    return dirs.flatMap((dir) => base.flatMap((b) => [join(dir, `${b}.gz`), join(dir, b)]));
  };
  return { images: findFile(names('images', 3)), labels: findFile(names('labels', 1)) };
}

function checkSplit(what: string, split: string): Split {
  if (split !== 'train' && split !== 'test') throw new DataError(`${what}: unknown split '${split}' (train or test)`);
  return split;
}

/** MNIST from a user-given folder (no downloads). */
export function loadMnist(opts: FolderOptions & { root: string }): ImageDataset {
  const split = checkSplit('mnist', opts.split ?? 'train');
  requireFolder('mnist', opts.root);
  const f = idxFiles(opts.root, split);
  return loadIdxPair(f.images, f.labels, { name: 'mnist', classes: DIGIT_NAMES });
}

/** Fashion-MNIST, by default from the Debian package's folder. */
export function loadFashionMnist(opts: FolderOptions = {}): ImageDataset {
  const split = checkSplit('fashion-mnist', opts.split ?? 'train');
  const root = opts.root ?? FASHION_MNIST_ROOT;
  const hint = opts.root
    ? undefined
    : 'install the dataset-fashion-mnist package, or give the folder of its files with {root}';
  requireFolder('fashion-mnist', root, hint);
  const f = idxFiles(root, split);
  return loadIdxPair(f.images, f.labels, { name: 'fashion-mnist', classes: FASHION_CLASSES });
}
