// A small PNG codec: 8-bit greyscale, grey+alpha, RGB and RGBA, non-interlaced. Enough to write
// sample grids and plots and to read them back in tests.
import { readFileSync } from 'node:fs';
import { deflateSync, inflateSync } from 'node:zlib';
import { writeFileAtomic } from './files.js';

export interface RawImage {
  width: number;
  height: number;
  /** 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
  channels: 1 | 2 | 3 | 4;
  /** Row-major, channels interleaved, height·width·channels bytes. */
  data: Uint8Array;
}

const SIGNATURE = Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]);
// PNG colour types by channel count, and back.
const COLOUR_TYPE: Record<number, number> = { 1: 0, 2: 4, 3: 2, 4: 6 };
const CHANNELS: Record<number, 1 | 2 | 3 | 4> = { 0: 1, 4: 2, 2: 3, 6: 4 };

let crcTable: Uint32Array | null = null;

/** CRC-32 (ISO 3309, polynomial 0xEDB88320), as PNG chunks use. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

function chunk(type: string, body: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.write(type, 4, 'latin1');
  out.set(body, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + body.length)), 8 + body.length);
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Filters one row with filter type f (0 none, 1 sub, 2 up, 3 average, 4 Paeth) into out. */
function filterRow(f: number, row: Uint8Array, prev: Uint8Array | null, bpp: number, out: Uint8Array): void {
  for (let i = 0; i < row.length; i++) {
    const a = i >= bpp ? row[i - bpp] : 0;
    const b = prev ? prev[i] : 0;
    const c = prev && i >= bpp ? prev[i - bpp] : 0;
    const pred = f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : paeth(a, b, c);
    out[i] = (row[i] - pred) & 0xff;
  }
}

/** Encodes an image, choosing per row the filter with the smallest sum of |residual| (libpng's heuristic). */
export function encodePng(img: RawImage): Buffer {
  const { width, height, channels, data } = img;
  if (!(channels in COLOUR_TYPE)) throw new Error(`encodePng: ${channels} channels (1–4 supported)`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`encodePng: bad size ${width}×${height}`);
  }
  const stride = width * channels;
  if (data.length !== stride * height) {
    throw new Error(`encodePng: ${data.length} bytes for a ${width}×${height}×${channels} image`);
  }
  const filtered = new Uint8Array((stride + 1) * height);
  const trial = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const row = data.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? data.subarray((y - 1) * stride, y * stride) : null;
    let best = 0;
    let bestCost = Number.POSITIVE_INFINITY;
    for (let f = 0; f < 5; f++) {
      filterRow(f, row, prev, channels, trial);
      let cost = 0;
      for (let i = 0; i < stride; i++) cost += trial[i] < 128 ? trial[i] : 256 - trial[i];
      if (cost < bestCost) {
        bestCost = cost;
        best = f;
      }
    }
    const o = y * (stride + 1);
    filtered[o] = best;
    filterRow(best, row, prev, channels, filtered.subarray(o + 1, o + 1 + stride));
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = COLOUR_TYPE[channels];
  // compression 0, filter method 0, no interlace: bytes 10..12 stay zero.
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(filtered, { level: 9 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** Decodes an 8-bit, non-interlaced PNG (grey, grey+alpha, RGB, RGBA); palettes and 16-bit are refused. */
export function decodePng(buf: Uint8Array, name = 'PNG'): RawImage {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 8 || !b.subarray(0, 8).equals(SIGNATURE)) throw new Error(`${name}: not a PNG file (bad signature)`);
  let pos = 8;
  let width = 0;
  let height = 0;
  let channels: 1 | 2 | 3 | 4 = 1;
  const idat: Buffer[] = [];
  while (pos + 12 <= b.length) {
    const len = b.readUInt32BE(pos);
    const type = b.toString('latin1', pos + 4, pos + 8);
    if (pos + 12 + len > b.length) throw new Error(`${name}: truncated ${type} chunk`);
    const body = b.subarray(pos + 8, pos + 8 + len);
    if (crc32(b.subarray(pos + 4, pos + 8 + len)) !== b.readUInt32BE(pos + 8 + len)) {
      throw new Error(`${name}: bad CRC in ${type} chunk`);
    }
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const depth = body[8];
      const ct = body[9];
      if (depth !== 8 || !(ct in CHANNELS) || body[12] !== 0) {
        throw new Error(`${name}: unsupported PNG (bit depth ${depth}, colour type ${ct}, interlace ${body[12]})`);
      }
      channels = CHANNELS[ct];
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  if (width === 0 || idat.length === 0) throw new Error(`${name}: missing IHDR or IDAT`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length < (stride + 1) * height) throw new Error(`${name}: image data too short`);
  const data = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = data.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? data.subarray((y - 1) * stride, y * stride) : null;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? row[i - channels] : 0;
      const bb = prev ? prev[i] : 0;
      const c = prev && i >= channels ? prev[i - channels] : 0;
      let pred: number;
      if (f === 0) pred = 0;
      else if (f === 1) pred = a;
      else if (f === 2) pred = bb;
      else if (f === 3) pred = (a + bb) >> 1;
      else if (f === 4) pred = paeth(a, bb, c);
      else throw new Error(`${name}: bad filter type ${f} on row ${y}`);
      row[i] = (src[i] + pred) & 0xff;
    }
  }
  return { width, height, channels, data };
}

/** Writes a file through a temporary name and a rename, so readers never see half a file. */

export function writePng(path: string, img: RawImage): void {
  writeFileAtomic(path, encodePng(img));
}

export function readPng(path: string): RawImage {
  return decodePng(readFileSync(path), path);
}
