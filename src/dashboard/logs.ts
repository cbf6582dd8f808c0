// Reading a run's log.jsonl incrementally, with memory bounded whatever its length.
//
// A LogReader remembers how far it has read (byte offset, file identity) and on each update reads
// only the bytes appended since, in fixed-size chunks; a truncated or replaced file (a resumed run
// rewrites its log) starts it again from the top. On top of it, a LogIndex keeps what the runs table
// needs (line count, last step, keys, the first broken line) and, for charts, one Downsampler per
// series: a fixed number of buckets of consecutive points that merge pairwise when full, so a
// million-line log costs the same memory as a two-thousand-line one.
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/** Keys read as the wall-time axis (seconds) when a log carries one; they are not plotted as metrics. */
export const TIME_KEYS = ['time', 'wallTime', 'seconds', 'elapsed'] as const;
const CHUNK = 1 << 20;
/** Buckets per series; at most this many (×2 points) are kept, however long the log. */
export const BUCKETS = 2048;
/** Keys remembered per log; a log with more numeric keys is unusual and the rest are not charted. */
const MAX_KEYS = 256;

export type Row = Record<string, unknown>;

/** Reads the lines appended to a file since the last call. */
export class LogReader {
  private offset = 0;
  private ino = -1;
  private carry = '';
  private decoder = new StringDecoder('utf8');
  /** Complete lines seen so far (1-based number of the last one). */
  lines = 0;
  /** The file's size at the last look; `offset < size` when a budget stopped the read early. */
  size = 0;

  constructor(readonly file: string) {}

  /**
   * Calls `line` for each complete line appended since the last call, reading at most about
   * `budget` bytes (the rest waits for the next call). Returns 'reset' (after starting over) when
   * the file was truncated or replaced, 'missing' when it is absent.
   */
  async update(line: (text: string, n: number) => void, budget = Infinity): Promise<'ok' | 'reset' | 'missing'> {
    let size: number;
    let ino: number;
    try {
      const st = statSync(this.file);
      size = st.size;
      ino = st.ino;
    } catch {
      return 'missing';
    }
    let result: 'ok' | 'reset' = 'ok';
    if (size < this.offset || (this.ino !== -1 && ino !== this.ino)) {
      this.offset = 0;
      this.carry = '';
      this.lines = 0;
      this.decoder = new StringDecoder('utf8');
      result = 'reset';
    }
    this.ino = ino;
    this.size = size;
    if (size === this.offset) return result;
    const end = Math.min(size, this.offset + budget);
    // Synchronous reads of 1 MB chunks, letting the event loop through between chunks.
    const fd = openSync(this.file, 'r');
    try {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, end - this.offset));
      while (this.offset < end) {
        if (this.offset + buf.length < end) await new Promise((r) => setImmediate(r));
        const bytesRead = readSync(fd, buf, 0, Math.min(buf.length, end - this.offset), this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        const parts = (this.carry + this.decoder.write(buf.subarray(0, bytesRead))).split('\n');
        this.carry = parts.pop() ?? '';
        for (const text of parts) line(text, ++this.lines);
      }
    } finally {
      closeSync(fd);
    }
    return result;
  }

  /** An unterminated last line (a write in progress, or a crash cut it short). */
  get pending(): string {
    return this.carry;
  }

  /** The part of the file read so far, 0…1. */
  get fraction(): number {
    return this.size === 0 ? 1 : this.offset / this.size;
  }
}

/** The step of the last complete line of a log that parses, read from its last 64 KB only. */
export function tailStep(file: string): number | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const { size } = fstatSync(fd);
    const n = Math.min(size, 1 << 16);
    const buf = Buffer.alloc(n);
    readSync(fd, buf, 0, n, size - n);
    const lines = buf.toString('utf8').split('\n');
    lines.pop(); // unterminated, or empty after the last newline
    for (let i = lines.length - 1; i >= (n < size ? 1 : 0); i--) {
      try {
        const step = JSON.parse(lines[i]).step;
        if (typeof step === 'number') return step;
      } catch {
        // a broken line: look further back
      }
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The first line that is not a JSON object with a numeric step. */
export interface BrokenLine {
  line: number;
  text: string;
}

/** A point of a series: its step, its wall time (NaN when the log has none) and its value. */
export type Point = [step: number, time: number, value: number];

/**
 * Consecutive points in at most BUCKETS buckets, each remembering its first and last x and its
 * smallest and largest value (in order), so that a plot of the buckets keeps every spike.
 */
export class Downsampler {
  /** Points per bucket; doubles each time the buckets are full and merge pairwise. */
  private span = 1;
  private count = 0;
  // Per bucket: points, first/last step, first/last time, min, max, and whether min came first.
  private n = new Float64Array(BUCKETS);
  private s0 = new Float64Array(BUCKETS);
  private s1 = new Float64Array(BUCKETS);
  private t0 = new Float64Array(BUCKETS);
  private t1 = new Float64Array(BUCKETS);
  private lo = new Float64Array(BUCKETS);
  private hi = new Float64Array(BUCKETS);
  private loFirst = new Uint8Array(BUCKETS);
  /** Points seen. */
  total = 0;

  /** Adds one point: its step, wall time (NaN when none) and value. */
  add(step: number, time: number, y: number): void {
    this.total++;
    let b = this.count - 1;
    if (b < 0 || this.n[b] >= this.span) {
      if (this.count === BUCKETS) this.merge();
      b = this.count++;
      this.n[b] = 1;
      this.s0[b] = this.s1[b] = step;
      this.t0[b] = this.t1[b] = time;
      this.lo[b] = this.hi[b] = y;
      this.loFirst[b] = 1;
      return;
    }
    this.n[b]++;
    this.s1[b] = step;
    this.t1[b] = time;
    if (y < this.lo[b]) {
      this.lo[b] = y;
      this.loFirst[b] = 0;
    } else if (y > this.hi[b]) {
      this.hi[b] = y;
      this.loFirst[b] = 1;
    }
  }

  private merge(): void {
    const half = this.count >> 1;
    for (let i = 0; i < half; i++) this.combine(i, 2 * i, 2 * i + 1);
    this.count = half;
    this.span *= 2;
  }

  /** Bucket `to` becomes buckets `a` and `b` together (a before b). */
  private combine(to: number, a: number, b: number): void {
    const lo = Math.min(this.lo[a], this.lo[b]);
    const hi = Math.max(this.hi[a], this.hi[b]);
    // Which extreme comes first: the bucket holding the low one vs the one holding the high one.
    const loAt = this.lo[a] <= this.lo[b] ? a : b;
    const hiAt = this.hi[a] >= this.hi[b] ? a : b;
    const loFirst = loAt === hiAt ? this.loFirst[loAt] : loAt === a ? 1 : 0;
    this.n[to] = this.n[a] + this.n[b];
    this.s0[to] = this.s0[a];
    this.t0[to] = this.t0[a];
    this.s1[to] = this.s1[b];
    this.t1[to] = this.t1[b];
    this.lo[to] = lo;
    this.hi[to] = hi;
    this.loFirst[to] = loFirst;
  }

  /**
   * At most about 2·width points along `axis`: the raw points while there are few enough, otherwise
   * per group of buckets its low and high value, at the group's first and last x, in their order.
   */
  points(width: number, axis: 'step' | 'time'): { x: number[]; y: number[]; exact: boolean } {
    const x: number[] = [];
    const y: number[] = [];
    const first = axis === 'step' ? this.s0 : this.t0;
    const last = axis === 'step' ? this.s1 : this.t1;
    const per = Math.max(1, Math.ceil(this.count / width));
    const exact = this.span === 1 && per === 1;
    for (let g = 0; g < this.count; g += per) {
      const end = Math.min(this.count, g + per) - 1;
      let lo = Infinity;
      let hi = -Infinity;
      let loFirst = 1;
      let loAt = g;
      let hiAt = g;
      for (let b = g; b <= end; b++) {
        if (this.lo[b] < lo) {
          lo = this.lo[b];
          loAt = b;
        }
        if (this.hi[b] > hi) {
          hi = this.hi[b];
          hiAt = b;
        }
      }
      loFirst = loAt === hiAt ? this.loFirst[loAt] : loAt < hiAt ? 1 : 0;
      const single = this.span === 1 && g === end;
      const x0 = first[g];
      const x1 = last[end];
      if (single) {
        push(x, y, x0, lo);
      } else if (loFirst) {
        push(x, y, x0, lo);
        push(x, y, x1, hi);
      } else {
        push(x, y, x0, hi);
        push(x, y, x1, lo);
      }
    }
    return { x, y, exact };
  }
}

function push(x: number[], y: number[], xv: number, yv: number): void {
  if (!Number.isFinite(xv)) return; // no wall time on this line
  x.push(xv);
  y.push(yv);
}

/** What the runs table needs from a log, and (when `series` is on) its series for charts. */
export class LogIndex {
  private readonly reader: LogReader;
  lastStep: number | undefined;
  lastValues: Record<string, number> = {};
  keys = new Set<string>();
  hasTime = false;
  broken: BrokenLine | undefined;
  brokenCount = 0;
  /** The first metric logged as null (JSON's NaN or infinity): the run diverged there. */
  nonFinite: { step: number; key: string } | undefined;
  series = new Map<string, Downsampler>();
  private listeners = new Set<(points: Record<string, Point[]>) => void>();

  constructor(
    readonly file: string,
    public withSeries: boolean,
  ) {
    this.reader = new LogReader(file);
  }

  /** Frees the series (a chart no longer shown); what the table needs stays. */
  dropSeries(): void {
    this.withSeries = false;
    this.series.clear();
  }

  get lines(): number {
    return this.reader.lines;
  }

  /** The unterminated last line, if any. */
  get pending(): string {
    return this.reader.pending;
  }

  /** Whether someone listens for new points (a live chart). */
  get listening(): boolean {
    return this.listeners.size > 0;
  }

  /** Calls `f` with the points of every line appended from now on. */
  listen(f: (points: Record<string, Point[]>) => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  private clear(): void {
    this.lastStep = undefined;
    this.lastValues = {};
    this.keys.clear();
    this.hasTime = false;
    this.broken = undefined;
    this.brokenCount = 0;
    this.nonFinite = undefined;
    this.series.clear();
  }

  /** The part of the log read so far, 0…1 (below 1 when a budget stopped the last update early). */
  get fraction(): number {
    return this.reader.fraction;
  }

  /** Reads what was appended (at most about `budget` bytes); 'reset' when the file was rewritten. */
  update(budget = Infinity): Promise<'ok' | 'reset' | 'missing'> {
    // One read at a time: the table, a chart request and the live poll may all ask at once.
    const next = this.queue.then(() => this.read(budget));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private queue: Promise<unknown> = Promise.resolve();

  private async read(budget: number): Promise<'ok' | 'reset' | 'missing'> {
    const added: Record<string, Point[]> = {};
    let reset = false;
    const result = await this.reader.update((text, n) => {
      if (n === 1 && !reset) {
        // starting from the top (first read or a rewritten file)
        this.clear();
        reset = true;
      }
      this.addLine(text, n, added);
    }, budget);
    if (result === 'reset' && !reset) this.clear(); // rewritten to nothing
    if (this.listeners.size && Object.keys(added).length) for (const f of this.listeners) f(added);
    return result;
  }

  private addLine(text: string, n: number, added: Record<string, Point[]>): void {
    if (text.trim() === '') return;
    let row: unknown;
    try {
      row = JSON.parse(text);
    } catch {
      row = undefined;
    }
    if (typeof row !== 'object' || row === null || Array.isArray(row) || typeof (row as Row).step !== 'number') {
      this.brokenCount++;
      this.broken ??= { line: n, text: text.length > 120 ? `${text.slice(0, 120)}…` : text };
      return;
    }
    const r = row as Row;
    const step = r.step as number;
    this.lastStep = this.lastStep === undefined ? step : Math.max(this.lastStep, step);
    let time = Number.NaN;
    for (const k of TIME_KEYS) {
      if (typeof r[k] === 'number') {
        time = r[k] as number;
        this.hasTime = true;
        break;
      }
    }
    for (const k in r) {
      const v = r[k];
      if (v === null) this.nonFinite ??= { step, key: k };
      if (k === 'step' || typeof v !== 'number' || (TIME_KEYS as readonly string[]).includes(k)) continue;
      if (!this.keys.has(k)) {
        if (this.keys.size >= MAX_KEYS) continue;
        this.keys.add(k);
      }
      this.lastValues[k] = v;
      if (!this.withSeries || !Number.isFinite(v)) continue;
      let s = this.series.get(k);
      if (!s) {
        s = new Downsampler();
        this.series.set(k, s);
      }
      s.add(step, time, v);
      if (!this.listeners.size) continue;
      added[k] ??= [];
      added[k].push([step, time, v]);
    }
  }
}
