// numpy's .npy and .npz files, so arrays made in Python load as tensors.
//
// .npy (NEP 1, format versions 1.0–3.0): the magic "\x93NUMPY", a major and a minor version byte, the
// header length (2 bytes little-endian in 1.0, 4 in 2.0 and 3.0), then an ASCII (3.0: UTF-8) Python
// dict literal {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), } padded with spaces and
// ended by a newline, then the raw elements in C or Fortran order. Only plain numeric descrs are read
// (no objects, strings or records); big-endian data is byte-swapped.
// .npz: a zip archive of .npy members (np.savez stores them, np.savez_compressed deflates them); the
// member 'x.npy' is the array 'x'. Read from the central directory, ZIP64 fields included; each
// member's CRC-32 is checked. Every problem is a one-line GenlabError of kind 'data'.
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { crc32, inflateRawSync } from 'node:zlib';
import { type DType, dtypeCode } from './dtype.js';
import { GenlabError } from './errors.js';
import { N } from './native.js';
import { type Tensor, wrap } from './tensor.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** numpy's type code (after the byte-order character) → dtype and item size. */
const KINDS: Record<string, { dtype: DType; size: number }> = {
  f2: { dtype: 'float16', size: 2 },
  f4: { dtype: 'float32', size: 4 },
  f8: { dtype: 'float64', size: 8 },
  i1: { dtype: 'int8', size: 1 },
  i2: { dtype: 'int16', size: 2 },
  i4: { dtype: 'int32', size: 4 },
  i8: { dtype: 'int64', size: 8 },
  u1: { dtype: 'uint8', size: 1 },
  b1: { dtype: 'bool', size: 1 },
};

/** What a .npy header says. */
export interface NpyHeader {
  descr: string;
  dtype: DType;
  fortranOrder: boolean;
  shape: number[];
  /** Offset of the first element in the file. */
  dataOffset: number;
}

function fail(what: string, where: string, problem: string): GenlabError {
  return new GenlabError('data', `${what}: ${where}: ${problem}`);
}

/** A short, printable excerpt of header text for messages. */
function brief(s: string): string {
  const one = JSON.stringify(s);
  return one.length > 60 ? `${one.slice(0, 57)}..."` : one;
}

/**
 * The values of numpy's header dict, parsed strictly: quoted keys, and as values quoted strings,
 * True/False and tuples of non-negative integers. Returns the dict or a problem.
 */
function parseDict(text: string): Map<string, string | boolean | number[]> | string {
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  const str = (): string | null => {
    const q = text[i];
    if (q !== "'" && q !== '"') return null;
    const end = text.indexOf(q, i + 1);
    if (end < 0) return null;
    const s = text.slice(i + 1, end);
    if (s.includes('\\')) return null;
    i = end + 1;
    return s;
  };
  const out = new Map<string, string | boolean | number[]>();
  ws();
  if (text[i] !== '{') return 'header is not a dict literal';
  i++;
  for (;;) {
    ws();
    if (text[i] === '}') {
      i++;
      break;
    }
    const key = str();
    if (key === null) return `expected a quoted key at ${brief(text.slice(i, i + 20))}`;
    if (out.has(key)) return `key '${key}' appears twice`;
    ws();
    if (text[i] !== ':') return `expected ':' after '${key}'`;
    i++;
    ws();
    let value: string | boolean | number[];
    if (text.startsWith('True', i)) {
      value = true;
      i += 4;
    } else if (text.startsWith('False', i)) {
      value = false;
      i += 5;
    } else if (text[i] === '(') {
      i++;
      const dims: number[] = [];
      let commas = 0;
      for (;;) {
        ws();
        if (text[i] === ')') {
          i++;
          break;
        }
        const m = /^[0-9]+/.exec(text.slice(i, i + 20));
        if (!m) return `shape holds ${brief(text.slice(i, i + 10))}, not a non-negative integer`;
        if (m[0].length > 15) return `shape entry ${m[0]} is too large`;
        if (m[0].length > 1 && m[0][0] === '0') return `shape entry ${m[0]} has a leading zero`;
        dims.push(Number(m[0]));
        i += m[0].length;
        ws();
        if (text[i] === ',') {
          i++;
          commas++;
        } else if (text[i] !== ')') return `expected ',' or ')' in shape at ${brief(text.slice(i, i + 10))}`;
      }
      // (3) is not a tuple in Python but the number 3; numpy writes (3,).
      if (dims.length === 1 && commas === 0) return 'shape (n) is not a tuple; a 1-d shape is written (n,)';
      value = dims;
    } else {
      const s = str();
      if (s === null) return `value of '${key}' is not a string, True/False or a tuple`;
      value = s;
    }
    out.set(key, value);
    ws();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') return `expected ',' or '}' after the value of '${key}'`;
  }
  // numpy pads with spaces only.
  if (!/^ *$/.test(text.slice(i))) return `text after the dict: ${brief(text.slice(i))}`;
  return out;
}

/** Reads and checks the header of .npy bytes; `where` names the file in messages. */
export function parseNpyHeader(bytes: Uint8Array, where = '<buffer>'): NpyHeader {
  if (bytes.length < 10) throw fail('npy', where, `too short (${bytes.length} bytes) for a .npy header`);
  for (let k = 0; k < MAGIC.length; k++) {
    if (bytes[k] !== MAGIC[k]) throw fail('npy', where, 'not a .npy file (no \\x93NUMPY magic)');
  }
  const major = bytes[6];
  if (major < 1 || major > 3 || bytes[7] !== 0) {
    throw fail('npy', where, `format version ${major}.${bytes[7]} is not 1.0, 2.0 or 3.0`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) throw fail('npy', where, 'file ends inside the header length');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lengthBytes;
  const dataOffset = start + headerLength;
  if (dataOffset > bytes.length) {
    throw fail('npy', where, `header length ${headerLength} goes beyond the end of the file (${bytes.length} bytes)`);
  }
  let text: string;
  try {
    text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: true }).decode(bytes.subarray(start, dataOffset));
  } catch {
    throw fail('npy', where, 'header is not valid UTF-8');
  }
  if (!text.endsWith('\n')) throw fail('npy', where, 'header does not end with a newline');
  const dict = parseDict(text.slice(0, -1));
  if (typeof dict === 'string') throw fail('npy', where, dict);
  const keys = [...dict.keys()].sort().join(', ');
  if (keys !== 'descr, fortran_order, shape') {
    throw fail('npy', where, `header has keys [${keys}], expected descr, fortran_order and shape`);
  }
  const descr = dict.get('descr');
  const fortranOrder = dict.get('fortran_order');
  const shape = dict.get('shape');
  if (typeof descr !== 'string') throw fail('npy', where, 'descr is not a string (record dtypes are not supported)');
  if (typeof fortranOrder !== 'boolean') throw fail('npy', where, 'fortran_order is not True or False');
  if (!Array.isArray(shape)) throw fail('npy', where, 'shape is not a tuple');
  const kind = KINDS[descr.slice(1)];
  const order = descr[0];
  if (kind === undefined || !'<>|='.includes(order) || descr.length < 2 || (order === '|' && kind.size !== 1)) {
    throw fail(
      'npy',
      where,
      `unsupported dtype '${descr}' (supported: ${Object.keys(KINDS)
        .map((k) => `<${k}`)
        .join(', ')}, big-endian too)`,
    );
  }
  return { descr, dtype: kind.dtype, fortranOrder, shape, dataOffset };
}

/** The elements' bytes as little-endian. */
function littleEndian(bytes: Uint8Array, descr: string, size: number): Uint8Array {
  if (descr[0] !== '>' || size === 1) return bytes;
  const out = new Uint8Array(bytes.length);
  for (let at = 0; at < bytes.length; at += size) {
    for (let k = 0; k < size; k++) out[at + k] = bytes[at + size - 1 - k];
  }
  return out;
}

/** The array of .npy bytes as a CPU tensor (C-contiguous, whatever the file's order). */
export function parseNpy(bytes: Uint8Array, where = '<buffer>'): Tensor {
  if (endianness() !== 'LE') throw fail('npy', where, 'big-endian hosts are not supported');
  const h = parseNpyHeader(bytes, where);
  const size = KINDS[h.descr.slice(1)].size;
  let count = 1;
  for (const d of h.shape) count *= d;
  const have = bytes.length - h.dataOffset;
  if (!Number.isSafeInteger(count * size) || count * size !== have) {
    throw fail(
      'npy',
      where,
      `shape (${h.shape.join(', ')}) of ${h.descr} needs ${count * size} bytes of data, the file has ${have}`,
    );
  }
  const data = littleEndian(bytes.subarray(h.dataOffset), h.descr, size);
  // libtorch assumes a bool byte is 0 or 1.
  if (h.dtype === 'bool' && data.some((b) => b > 1))
    throw fail('npy', where, 'bool data holds bytes other than 0 and 1');
  if (!h.fortranOrder || h.shape.length < 2) return wrap(N.fromBuffer(data, h.shape, dtypeCode(h.dtype)));
  // Fortran order is C order of the reversed shape, transposed.
  const reversed = wrap(N.fromBuffer(data, [...h.shape].reverse(), dtypeCode(h.dtype)));
  try {
    return reversed.permute([...h.shape.keys()].reverse()).contiguous();
  } finally {
    reversed.dispose();
  }
}

// ---- .npz: the zip container ----

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const U32_MAX = 0xffffffff;

interface Member {
  name: string;
  /** Zip version needed to extract, ×10 (6.3 is the newest spec; later features are not read). */
  version: number;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** A little-endian reader that refuses to read past the end. */
class Reader {
  readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly where: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private need(at: number, n: number, what: string): void {
    if (!(at >= 0 && at + n <= this.bytes.length)) {
      throw fail(
        'npz',
        this.where,
        `${what} at byte ${at} goes beyond the end of the file (${this.bytes.length} bytes)`,
      );
    }
  }
  u16(at: number, what: string): number {
    this.need(at, 2, what);
    return this.view.getUint16(at, true);
  }
  u32(at: number, what: string): number {
    this.need(at, 4, what);
    return this.view.getUint32(at, true);
  }
  u64(at: number, what: string): number {
    this.need(at, 8, what);
    const v = this.view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw fail('npz', this.where, `${what} ${v} is too large`);
    return Number(v);
  }
  slice(at: number, n: number, what: string): Uint8Array {
    this.need(at, n, what);
    return this.bytes.subarray(at, at + n);
  }
}

/** The end-of-central-directory record: where the directory is and how many entries it has. */
function findDirectory(r: Reader): { offset: number; size: number; entries: number } {
  const b = r.bytes;
  let eocd = -1;
  // The record is 22 bytes plus a comment of at most 65,535.
  for (let at = b.length - 22; at >= Math.max(0, b.length - 22 - 65535); at--) {
    if (r.view.getUint32(at, true) === SIG_EOCD && at + 22 + r.view.getUint16(at + 20, true) === b.length) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) throw fail('npz', r.where, 'not a zip archive (no end-of-central-directory record)');
  let entries = r.u16(eocd + 10, 'entry count');
  let size = r.u32(eocd + 12, 'directory size');
  let offset = r.u32(eocd + 16, 'directory offset');
  if (r.u16(eocd + 4, 'disk number') !== 0 || r.u16(eocd + 6, 'disk number') !== 0) {
    throw fail('npz', r.where, 'multi-disk zip archives are not supported');
  }
  if (entries === 0xffff || size === U32_MAX || offset === U32_MAX) {
    const loc = eocd - 20;
    if (loc < 0 || r.u32(loc, 'ZIP64 locator') !== SIG_LOCATOR64) {
      throw fail('npz', r.where, 'ZIP64 fields without a ZIP64 locator');
    }
    const at = r.u64(loc + 8, 'ZIP64 record offset');
    if (r.u32(at, 'ZIP64 record') !== SIG_EOCD64) throw fail('npz', r.where, 'ZIP64 record signature is wrong');
    entries = r.u64(at + 32, 'ZIP64 entry count');
    size = r.u64(at + 40, 'ZIP64 directory size');
    offset = r.u64(at + 48, 'ZIP64 directory offset');
  }
  if (offset + size > eocd)
    throw fail('npz', r.where, `central directory [${offset}, ${offset + size}) overlaps its end record`);
  return { offset, size, entries };
}

function readMembers(r: Reader): Member[] {
  const dir = findDirectory(r);
  const members: Member[] = [];
  let at = dir.offset;
  const end = dir.offset + dir.size;
  for (let k = 0; k < dir.entries; k++) {
    if (r.u32(at, 'directory entry') !== SIG_CENTRAL)
      throw fail('npz', r.where, `directory entry ${k} has a wrong signature`);
    const nameLength = r.u16(at + 28, 'name length');
    const extraLength = r.u16(at + 30, 'extra length');
    const commentLength = r.u16(at + 32, 'comment length');
    const name = new TextDecoder('utf-8').decode(r.slice(at + 46, nameLength, 'member name'));
    const m: Member = {
      name,
      version: r.bytes[at + 6],
      flags: r.u16(at + 8, 'flags'),
      method: r.u16(at + 10, 'method'),
      crc: r.u32(at + 16, 'CRC'),
      compressedSize: r.u32(at + 20, 'compressed size'),
      size: r.u32(at + 24, 'size'),
      localOffset: r.u32(at + 42, 'local header offset'),
    };
    // ZIP64 extra field (id 1): the 8-byte values of the fields saturated above, in this order.
    let e = at + 46 + nameLength;
    const extraEnd = e + extraLength;
    while (e + 4 <= extraEnd) {
      const id = r.u16(e, 'extra id');
      const len = r.u16(e + 2, 'extra length');
      if (id === 1) {
        let p = e + 4;
        for (const field of ['size', 'compressedSize', 'localOffset'] as const) {
          if (m[field] === U32_MAX && p + 8 <= e + 4 + len) {
            m[field] = r.u64(p, `ZIP64 ${field}`);
            p += 8;
          }
        }
      }
      e += 4 + len;
    }
    if (m.size === U32_MAX || m.compressedSize === U32_MAX || m.localOffset === U32_MAX) {
      throw fail('npz', r.where, `member '${name}': ZIP64 sizes are missing`);
    }
    at = extraEnd + commentLength;
    if (at > end) throw fail('npz', r.where, 'directory entries run past the central directory');
    members.push(m);
  }
  if (at !== end)
    throw fail('npz', r.where, `central directory has ${end - at} bytes after its ${dir.entries} entries`);
  // Each member's header and data must end before the next member (or the directory) starts: overlapping
  // entries are how zip bombs reuse bytes.
  const sorted = [...members].sort((p, q) => p.localOffset - q.localOffset);
  sorted.forEach((m, k) => {
    const next = k + 1 < sorted.length ? sorted[k + 1].localOffset : dir.offset;
    const nameLength = r.u16(m.localOffset + 26, 'name length');
    const extraLength = r.u16(m.localOffset + 28, 'extra length');
    if (m.localOffset + 30 + nameLength + extraLength + m.compressedSize > next) {
      throw fail('npz', r.where, `member '${m.name}' overlaps the next entry`);
    }
  });
  return members;
}

function memberBytes(r: Reader, m: Member): Uint8Array {
  const what = `member '${m.name}'`;
  if (m.version > 63) throw fail('npz', r.where, `${what} needs zip version ${m.version / 10}, beyond 6.3`);
  if (m.flags & 0x41) throw fail('npz', r.where, `${what} is encrypted`);
  if (m.flags & 0x20) throw fail('npz', r.where, `${what} is compressed patched data, which is not supported`);
  if (r.u32(m.localOffset, 'local header') !== SIG_LOCAL)
    throw fail('npz', r.where, `${what}: local header signature is wrong`);
  const nameLength = r.u16(m.localOffset + 26, 'name length');
  const localName = new TextDecoder('utf-8').decode(r.slice(m.localOffset + 30, nameLength, 'local name'));
  if (localName !== m.name) throw fail('npz', r.where, `${what}: its local header names '${localName}'`);
  const start = m.localOffset + 30 + nameLength + r.u16(m.localOffset + 28, 'extra length');
  const packed = r.slice(start, m.compressedSize, `${what}'s data`);
  let data: Uint8Array;
  if (m.method === 0) {
    if (m.compressedSize !== m.size) throw fail('npz', r.where, `${what} is stored with two different sizes`);
    data = packed;
  } else if (m.method === 8) {
    try {
      // Capped: a lying size must not make us inflate gigabytes.
      data = inflateRawSync(packed, { maxOutputLength: Math.max(1, m.size) });
    } catch (e) {
      throw fail('npz', r.where, `${what}: corrupt deflate data (${(e as Error).message})`);
    }
    if (data.length !== m.size) throw fail('npz', r.where, `${what} inflates to ${data.length} bytes, not ${m.size}`);
  } else {
    throw fail('npz', r.where, `${what} uses compression method ${m.method} (only stored and deflate are read)`);
  }
  if (crc32(data) >>> 0 !== m.crc) throw fail('npz', r.where, `${what} fails its CRC-32 check`);
  return data;
}

/** The arrays of .npz bytes by name ('x.npy' → 'x'); the caller owns the tensors. */
export function parseNpz(bytes: Uint8Array, where = '<buffer>'): Record<string, Tensor> {
  const r = new Reader(bytes, where);
  const members = readMembers(r);
  const out: Record<string, Tensor> = {};
  try {
    for (const m of members) {
      if (!m.name.endsWith('.npy')) throw fail('npz', where, `member '${m.name}' is not a .npy array`);
      const key = m.name.slice(0, -4);
      if (Object.hasOwn(out, key)) throw fail('npz', where, `member '${m.name}' appears twice`);
      const t = parseNpy(memberBytes(r, m), `${where}:${m.name}`);
      Object.defineProperty(out, key, { value: t, enumerable: true, writable: true, configurable: true });
    }
  } catch (e) {
    for (const t of Object.values(out)) t.dispose();
    throw e;
  }
  return out;
}

function readBytes(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw fail(what, path, code === 'ENOENT' ? 'file not found' : `cannot read (${(e as Error).message})`);
  }
}

/** Loads a .npy file as a CPU tensor, like numpy.load. */
export function loadNpy(path: string): Tensor {
  return parseNpy(readBytes(path, 'npy'), path);
}

/** Loads every array of a .npz file, like numpy.load; the caller owns the tensors. */
export function loadNpz(path: string): Record<string, Tensor> {
  return parseNpz(readBytes(path, 'npz'), path);
}
