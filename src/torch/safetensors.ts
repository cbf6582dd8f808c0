// The safetensors format, so checkpoints open in Python tools and back.
//
// Layout: an unsigned 64-bit little-endian header length n, then n bytes of JSON mapping each tensor
// name to {dtype, shape, data_offsets} (plus an optional "__metadata__" string map), then the raw
// little-endian tensor bytes, packed without gaps. Offsets count from the start of the data section.
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { writeChunksAtomic } from './atomic.js';
import { bytesPerElement, type DType, dtypeCode } from './dtype.js';
import { N } from './native.js';
import { Tensor, wrap } from './tensor.js';

/** Named tensors, as a plain object or a Map: what saveSafetensors() and serialize() take. */
export type TensorMap = Record<string, Tensor> | Map<string, Tensor>;
/** Free-form string metadata, stored under "__metadata__" in a safetensors file. */
export type Metadata = Record<string, string>;
/** What loadSafetensors() and deserialize() give back: the named tensors and the file's metadata. */
export interface SafetensorsContents {
  /** The tensors by name. */
  tensors: Record<string, Tensor>;
  /** The "__metadata__" map; empty when the file has none. */
  metadata: Metadata;
}

const formatCodes: Record<DType, string> = {
  float64: 'F64',
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  int16: 'I16',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};
const dtypeOfCode = new Map<string, DType>(Object.entries(formatCodes).map(([d, c]) => [c, d as DType]));

const METADATA_KEY = '__metadata__';
/** The reference reader's bound: a corrupt length must not make us allocate gigabytes. */
const MAX_HEADER_BYTES = 100_000_000;
/** readSync/writeSync take at most 2 GiB - 1 per call. */
const IO_CHUNK = 1 << 30;

interface Entry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

function fail(where: string, problem: string): Error {
  return new Error(`safetensors: ${where}: ${problem}`);
}

// The format is little-endian and we copy bytes verbatim; every platform libtorch ships for is too.
function checkHost(where: string): void {
  if (endianness() !== 'LE') throw fail(where, 'big-endian hosts are not supported');
}

// ---- writing ----

interface Plan {
  header: Uint8Array;
  items: { entry: Entry; tensor: Tensor }[];
  dataBytes: number;
}

/** Lays the tensors out like the reference writer: widest dtype first, then by name, so each is aligned. */
function plan(tensors: TensorMap, metadata: Metadata | undefined, where: string): Plan {
  const pairs = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const items = pairs.map(([name, tensor]) => {
    if (name === METADATA_KEY) throw fail(where, `'${METADATA_KEY}' is reserved and cannot name a tensor`);
    if (!(tensor instanceof Tensor)) throw fail(where, `'${name}' is not a Tensor`);
    if (tensor.isDisposed) throw fail(where, `tensor '${name}' is disposed`);
    const entry: Entry = { name, dtype: tensor.dtype, shape: tensor.shape, begin: 0, end: 0 };
    return { entry, tensor };
  });
  items.sort(
    (a, b) =>
      bytesPerElement[b.entry.dtype] - bytesPerElement[a.entry.dtype] ||
      (a.entry.name < b.entry.name ? -1 : a.entry.name > b.entry.name ? 1 : 0),
  );

  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw fail(where, `metadata value for '${k}' is a ${typeof v}, not a string`);
    }
    if (Object.keys(metadata).length > 0) header[METADATA_KEY] = metadata;
  }
  let offset = 0;
  for (const { entry } of items) {
    entry.begin = offset;
    entry.end = offset + byteLength(entry);
    offset = entry.end;
    // defineProperty: a tensor named "__proto__" must become a key, not a prototype.
    Object.defineProperty(header, entry.name, {
      value: { dtype: formatCodes[entry.dtype], shape: entry.shape, data_offsets: [entry.begin, entry.end] },
      enumerable: true,
    });
  }

  const json = Buffer.from(JSON.stringify(header), 'utf8');
  // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
  const padded = Math.ceil(json.length / 8) * 8;
  const head = Buffer.alloc(8 + padded, 0x20);
  head.writeBigUInt64LE(BigInt(padded), 0);
  json.copy(head, 8);
  return { header: head, items, dataBytes: offset };
}

function byteLength(e: { dtype: DType; shape: number[] }): number {
  return e.shape.reduce((a, b) => a * b, 1) * bytesPerElement[e.dtype];
}

/** A tensor's elements in row-major order, raw bits (16-bit floats are not widened). */
function rawBytes(item: { entry: Entry; tensor: Tensor }, where: string): Uint8Array {
  const bytes = item.tensor.toBytes();
  if (bytes.length !== item.entry.end - item.entry.begin) {
    throw fail(
      where,
      `tensor '${item.entry.name}' gave ${bytes.length} bytes, expected ${item.entry.end - item.entry.begin}`,
    );
  }
  return bytes;
}

/** The safetensors bytes of `tensors`, in memory. */
export function serialize(tensors: TensorMap, metadata?: Metadata): Buffer {
  const where = '<buffer>';
  checkHost(where);
  const p = plan(tensors, metadata, where);
  const out = Buffer.alloc(p.header.length + p.dataBytes);
  out.set(p.header, 0);
  for (const item of p.items) out.set(rawBytes(item, where), p.header.length + item.entry.begin);
  return out;
}

/**
 * Writes `tensors` to `path` atomically: a temporary file in the same folder, flushed, then renamed,
 * so a crash never leaves a half-written checkpoint. Tensors are copied out one at a time.
 */
export function saveSafetensors(path: string, tensors: TensorMap, metadata?: Metadata): void {
  checkHost(path);
  const p = plan(tensors, metadata, path);
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  // Tensors are copied out one at a time as they are written, so no second copy of the whole file is held.
  function* chunks(): Generator<Uint8Array> {
    yield p.header;
    for (const item of p.items) yield rawBytes(item, path);
  }
  try {
    writeChunksAtomic(path, chunks(), tmp);
  } catch (e) {
    const msg = (e as Error).message;
    throw msg.startsWith('safetensors:') ? e : fail(path, `cannot write: ${msg}`);
  }
}

// ---- reading ----

/** Reads safetensors bytes held in memory; `name` labels error messages. */
export function deserialize(buf: Uint8Array, opts?: { name?: string }): SafetensorsContents {
  const where = opts?.name ?? '<buffer>';
  checkHost(where);
  const headerLength = readHeaderLength(buf.subarray(0, 8), buf.length, where);
  const dataStart = 8 + headerLength;
  const { entries, metadata } = parseHeader(buf.subarray(8, dataStart), buf.length - dataStart, where);
  return materialise(entries, metadata, where, (e) => buf.subarray(dataStart + e.begin, dataStart + e.end));
}

/** Loads every tensor of a safetensors file onto the CPU, reading one tensor at a time. */
export function loadSafetensors(path: string): SafetensorsContents {
  checkHost(path);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw fail(path, `cannot open: ${(e as Error).message}`);
  }
  try {
    const size = fstatSync(fd).size;
    const headerLength = readHeaderLength(readAt(fd, 0, Math.min(8, size), path), size, path);
    const dataStart = 8 + headerLength;
    const { entries, metadata } = parseHeader(readAt(fd, 8, headerLength, path), size - dataStart, path);
    return materialise(entries, metadata, path, (e) => readAt(fd, dataStart + e.begin, e.end - e.begin, path));
  } finally {
    closeSync(fd);
  }
}

function readAt(fd: number, position: number, length: number, where: string): Uint8Array {
  const out = Buffer.allocUnsafe(length);
  for (let at = 0; at < length; ) {
    const n = readSync(fd, out, at, Math.min(IO_CHUNK, length - at), position + at);
    if (n === 0) throw fail(where, `unexpected end of file at byte ${position + at}`);
    at += n;
  }
  return out;
}

function readHeaderLength(first8: Uint8Array, total: number, where: string): number {
  if (total < 8) throw fail(where, `too short (${total} bytes) to hold the 8-byte header length`);
  const n = Buffer.from(first8.buffer, first8.byteOffset, 8).readBigUInt64LE(0);
  if (n > BigInt(total - 8)) {
    throw fail(where, `header length ${n} goes beyond the end of the file (${total} bytes)`);
  }
  if (n > BigInt(MAX_HEADER_BYTES)) throw fail(where, `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  return Number(n);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

// The reference reader (Rust, serde_json) is strict where JSON.parse is lenient, and a file that one
// reader accepts and the other refuses, or reads differently, is a bug waiting in someone's pipeline.
// So before JSON.parse: no byte-order mark (TextDecoder would silently drop it), nesting no deeper
// than MAX_HEADER_DEPTH (a shape nested 10⁶ deep otherwise parses, then overflows the stack of any
// recursive code that touches it); after it, the scan's findings: no duplicate key in an object
// (JSON.parse keeps the last, silently), and shape and data_offsets numbers written as plain integers
// (serde refuses `6.0`, `6e0` and `-0` for a usize; JSON.parse makes them 6 and 0).
/** A valid header nests 3 deep (header → tensor → shape); anything past this is not a header. */
const MAX_HEADER_DEPTH = 64;
/** Integers as serde reads them; negative ones are left to the range checks, which name them better. */
const INTEGER_LITERAL = /^(?:0|-?[1-9][0-9]*)$/;
const INTEGER_KEYS = new Set(['shape', 'data_offsets']);

/**
 * One linear pass over the header text, tracking only what JSON.parse hides: nesting depth, the keys
 * of each object and the numbers inside shape and data_offsets. It never throws on malformed JSON
 * (JSON.parse reports that); it returns the first problem found, or throws at once for too-deep nesting.
 */
function scanHeader(text: string, where: string): string | null {
  interface Frame {
    array: boolean;
    keys: Set<string>;
    /** Objects: the key of the value being read; arrays: the key the array is the value of. */
    key: string | null;
    expectKey: boolean;
  }
  const stack: Frame[] = [];
  let problem: string | null = null;
  const n = text.length;
  for (let i = 0; i < n; ) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= MAX_HEADER_DEPTH) {
        throw fail(where, `header nests deeper than ${MAX_HEADER_DEPTH} levels; a safetensors header nests 3`);
      }
      const array = c === 0x5b;
      stack.push({ array, keys: new Set(), key: array ? (top?.key ?? null) : null, expectKey: !array });
      i++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      i++;
    } else if (c === 0x2c /* , */) {
      if (top && !top.array) top.expectKey = true;
      i++;
    } else if (c === 0x22 /* " */) {
      let j = i + 1;
      while (j < n && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      if (top && !top.array && top.expectKey) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, j + 1)) as string;
        } catch {
          return problem; // malformed: JSON.parse will say so
        }
        if (top.keys.has(key) && problem === null) {
          problem = `header has the key ${JSON.stringify(key)} twice in one object`;
        }
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = j + 1;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      while (j < n && /[0-9eE.+-]/.test(text[j])) j++;
      const literal = text.slice(i, j);
      if (top?.array && INTEGER_KEYS.has(top.key ?? '') && !INTEGER_LITERAL.test(literal) && problem === null) {
        const owner = stack.length >= 3 ? stack[stack.length - 3].key : null;
        problem = `${owner === null ? '' : `tensor '${owner}': `}${top.key} holds ${literal}, not an integer written as one`;
      }
      i = j;
    } else i++;
  }
  return problem;
}

function parseHeader(bytes: Uint8Array, dataLength: number, where: string): { entries: Entry[]; metadata: Metadata } {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw fail(where, 'header starts with a byte-order mark; the format has none');
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw fail(where, 'header is not valid UTF-8');
  }
  const problem = scanHeader(text, where);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw fail(where, `header is not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(header)) throw fail(where, 'header is not a JSON object');
  if (problem !== null) throw fail(where, problem);

  const metadata: Metadata = {};
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      if (!isPlainObject(info)) throw fail(where, `'${METADATA_KEY}' is not an object`);
      for (const [k, v] of Object.entries(info)) {
        if (typeof v !== 'string') throw fail(where, `metadata value for '${k}' is not a string`);
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
    } else {
      entries.push(parseEntry(name, info, dataLength, where));
    }
  }
  checkCoverage(entries, dataLength, where);
  return { entries, metadata };
}

function parseEntry(name: string, info: unknown, dataLength: number, where: string): Entry {
  const what = `tensor '${name}'`;
  if (!isPlainObject(info)) throw fail(where, `${what}: entry is not an object`);
  const { dtype: code, shape, data_offsets: offsets } = info;
  if (typeof code !== 'string') throw fail(where, `${what}: missing dtype`);
  const dtype = dtypeOfCode.get(code);
  if (dtype === undefined) {
    throw fail(where, `${what}: unknown dtype '${code}' (supported: ${[...dtypeOfCode.keys()].join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw fail(where, `${what}: shape ${brief(shape)} is not a list of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
    throw fail(where, `${what}: data_offsets ${brief(offsets)} is not a [begin, end] pair`);
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataLength) {
    throw fail(
      where,
      `${what}: data_offsets [${begin}, ${end}] are out of range (data section has ${dataLength} bytes)`,
    );
  }
  const entry: Entry = { name, dtype, shape, begin, end };
  const need = byteLength(entry);
  if (need !== end - begin) {
    throw fail(
      where,
      `${what}: shape [${shape.join(', ')}] × ${code} needs ${need} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`,
    );
  }
  return entry;
}

/** The tensors must tile the data section exactly: no overlap, no gap, nothing left over. */
function checkCoverage(entries: Entry[], dataLength: number, where: string): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: Entry | undefined;
  for (const e of sorted) {
    if (e.begin < covered) {
      throw fail(where, `tensor '${e.name}' overlaps tensor '${previous?.name}' (data_offsets start at ${e.begin})`);
    }
    if (e.begin > covered) {
      throw fail(where, `bytes ${covered}..${e.begin} of the data section belong to no tensor`);
    }
    covered = e.end;
    previous = e;
  }
  if (covered !== dataLength) {
    throw fail(where, `the tensors cover ${covered} bytes but the data section has ${dataLength}`);
  }
}

function materialise(
  entries: Entry[],
  metadata: Metadata,
  where: string,
  bytesOf: (e: Entry) => Uint8Array,
): SafetensorsContents {
  const tensors: Record<string, Tensor> = {};
  const made: Tensor[] = [];
  try {
    for (const e of entries) {
      const bytes = bytesOf(e);
      // libtorch assumes a bool byte is 0 or 1; anything else is undefined behaviour there.
      if (e.dtype === 'bool' && bytes.some((b) => b > 1)) {
        throw fail(where, `tensor '${e.name}': BOOL data holds bytes other than 0 and 1`);
      }
      const t = wrap(N.fromBuffer(bytes, e.shape, dtypeCode(e.dtype)));
      made.push(t);
      Object.defineProperty(tensors, e.name, { value: t, enumerable: true, writable: true, configurable: true });
    }
  } catch (e) {
    for (const t of made) t.dispose();
    throw e;
  }
  return { tensors, metadata };
}

/** A header value for a one-line message: its JSON, cut at 80 characters. */
function brief(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
