// The file format of genlab's compressed files: a magic, a format version, a JSON header, the
// payload, and a SHA-256 checksum of everything before it.
//
//   bytes 0–7    magic  89 'G' 'L' 'Z' 0D 0A 1A 0A  (PNG-style: catches text-mode and 7-bit damage)
//   bytes 8–9    format version, uint16 little-endian
//   bytes 10–13  header length h, uint32 LE (at most 64 KiB)
//   h bytes      header: UTF-8 JSON object (what the payload needs to be decoded)
//   4 bytes      payload length p, uint32 LE
//   p bytes      payload
//   32 bytes     SHA-256 of all the bytes above
//
// The total length must be exactly 14 + h + 4 + p + 32. Every check fails with a one-line error.
import { createHash } from 'node:crypto';
import { GenlabError } from '../torch/errors.js';

export const MAGIC = Uint8Array.from([0x89, 0x47, 0x4c, 0x5a, 0x0d, 0x0a, 0x1a, 0x0a]);
// Version 2: bits-back posteriors coded on a window of ±8 std (src/diffusion/bits-back.ts).
export const FORMAT_VERSION = 2;
const MAX_HEADER = 65536;
const CHECKSUM = 32;
/** Bytes the container adds around the header and payload. */
export const CONTAINER_OVERHEAD = 14 + 4 + CHECKSUM;

export function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

export function writeContainer(header: Record<string, unknown>, payload: Uint8Array): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  if (json.length > MAX_HEADER) throw new Error(`container: header of ${json.length} bytes is too long`);
  const out = Buffer.alloc(CONTAINER_OVERHEAD + json.length + payload.length);
  out.set(MAGIC, 0);
  out.writeUInt16LE(FORMAT_VERSION, 8);
  out.writeUInt32LE(json.length, 10);
  out.set(json, 14);
  out.writeUInt32LE(payload.length, 14 + json.length);
  out.set(payload, 18 + json.length);
  const body = out.subarray(0, out.length - CHECKSUM);
  out.set(sha256(body), body.length);
  // A plain Uint8Array, whose slice() copies (Buffer's would share the bytes).
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** Reads a container: checks magic, version, lengths and checksum; returns the parsed header and payload. */
export function readContainer(bytes: Uint8Array, name: string): { header: unknown; payload: Uint8Array } {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (what: string) => new GenlabError('data', `${name}: ${what}`);
  if (b.length < 8 || !b.subarray(0, 8).equals(MAGIC)) throw bad('not a genlab compressed file (bad magic)');
  if (b.length < CONTAINER_OVERHEAD) throw bad(`truncated (${b.length} bytes)`);
  const version = b.readUInt16LE(8);
  if (version !== FORMAT_VERSION) {
    throw bad(`format version ${version}, but this genlab reads version ${FORMAT_VERSION}`);
  }
  const h = b.readUInt32LE(10);
  if (h > MAX_HEADER || 18 + h + CHECKSUM > b.length) throw bad(`truncated or corrupt (header length ${h})`);
  const p = b.readUInt32LE(14 + h);
  const expected = CONTAINER_OVERHEAD + h + p;
  if (b.length !== expected) {
    throw bad(
      b.length < expected
        ? `truncated: ${b.length} bytes of ${expected}`
        : `${b.length - expected} unexpected bytes after the end (corrupt or concatenated)`,
    );
  }
  const body = b.subarray(0, b.length - CHECKSUM);
  if (!sha256(body).equals(b.subarray(b.length - CHECKSUM))) throw bad('checksum mismatch (the file is corrupt)');
  let header: unknown;
  try {
    header = JSON.parse(b.toString('utf8', 14, 14 + h));
  } catch {
    throw bad('header is not valid JSON');
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw bad('header is not an object');
  return { header, payload: new Uint8Array(b.subarray(18 + h, 18 + h + p)) };
}
