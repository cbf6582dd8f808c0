// Fuzzing the CSV reader (parseCsv with a label column).
//
// The base table has no quotes, so a small reference reader (`reference`, below) can judge the
// mutations that keep it quote-free: a line per record, cells split on commas, every feature a
// decimal of the forms the base uses or its prefixes (-?digits, optionally a point and digits),
// every label digits within int64. The parser must accept exactly what the reference accepts, with
// the same values. Cell replacements draw from lists of tokens known to be good or bad. Random
// byte flips and splices (which may bring quotes) have no reference: only no crash, and, when
// accepted, finite features and integer labels.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataError, parseCsv, type TableDataset } from '../../src/data/index.js';
import { flip, Prng, Tally } from './harness.js';

const rng = new Prng(4180);
const ROWS = 12;
const NAMES = ['f0', 'f1', 'f2', 'label'];

function baseText(): string {
  const r = new Prng(7);
  const lines = [NAMES.join(',')];
  for (let i = 0; i < ROWS; i++) {
    const f0 = `${r.int(200) - 100}`;
    const f1 = `${r.int(50)}.${r.int(100)}`;
    const f2 = `-${r.int(9)}.${r.int(10)}${r.int(10)}`;
    lines.push([f0, f1, f2, `${r.int(12)}`].join(','));
  }
  return `${lines.join('\n')}\n`;
}

const base = baseText();

interface Table {
  x: number[];
  y: bigint[];
}

/** The reference reading of quote-free text with \n, \r\n or \r line ends, or null when malformed. */
function reference(text: string): Table | null {
  const lines = text.split(/\r\n|\r|\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) return null;
  const header = lines[0].split(',').map((c) => c.trim());
  const labelAt = header.indexOf('label');
  if (labelAt < 0 || header.length !== 4) return null;
  const x: number[] = [];
  const y: bigint[] = [];
  for (const line of lines.slice(1)) {
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length !== 4) return null;
    for (let k = 0; k < 4; k++) {
      if (k === labelAt) continue;
      if (!/^[+-]?\d+(\.\d*)?$/.test(cells[k])) return null;
      x.push(Math.fround(Number(cells[k])));
    }
    if (!/^\d+$/.test(cells[labelAt]) || BigInt(cells[labelAt]) >= 2n ** 63n) return null;
    y.push(BigInt(cells[labelAt]));
  }
  return { x, y };
}

/** The text cut after `at` characters. */
function truncate(text: string, at: number): string {
  return text.slice(0, at);
}

function read(ds: TableDataset): Table {
  return {
    x: Array.from(ds.x.toTypedArray() as Float32Array),
    y: Array.from(ds.y.toTypedArray() as BigInt64Array),
  };
}

function matches(got: Table, want: Table | null): string | null {
  if (want === null) return 'the reference reader refuses it';
  if (got.x.length !== want.x.length || got.x.some((v, i) => !Object.is(v, want.x[i]))) return 'features differ';
  if (got.y.join() !== want.y.join()) return `labels ${got.y} != ${want.y}`;
  return null;
}

const GOOD = ['0', '-7', '12.5', '3.', '+4', '1e3', '2.5E-2', '.5', '-0'];
const BAD = [
  '',
  'Infinity',
  '-Infinity',
  'NaN',
  '1e400',
  '0x10',
  '0b101',
  '0o7',
  '1_000',
  'abc',
  '1e',
  '.',
  '-',
  '1.2.3',
  '١٢',
  '1 2',
  '1,2',
];
const GOOD_VALUE: Record<string, number> = {
  '0': 0,
  '-7': -7,
  '12.5': 12.5,
  '3.': 3,
  '+4': 4,
  '1e3': 1000,
  '2.5E-2': Math.fround(0.025),
  '.5': 0.5,
  '-0': -0,
};
const BAD_LABELS = ['', '9223372036854775808', '1,1'];

/** The i-th cell of the table as [start, end) in the text, with its row and column. */
const cells: { s: number; e: number; row: number; col: number }[] = [];
{
  let at = 0;
  base.split('\n').forEach((line, row) => {
    let s = at;
    line.split(',').forEach((cell, col) => {
      if (row > 0 && line !== '') cells.push({ s, e: s + cell.length, row, col });
      s += cell.length + 1;
    });
    at += line.length + 1;
  });
}

function mutate(): { kind: string; text: string; known: boolean; expect?: (t: Table) => string | null } {
  const kindAt = rng.int(9);
  switch (kindAt) {
    case 0:
      return { kind: 'truncate', text: truncate(base, rng.int(base.length)), known: true };
    case 1: {
      const cell = rng.pick(cells.filter((c) => c.col < 3));
      const token = rng.pick([...GOOD, ...BAD]);
      const text = base.slice(0, cell.s) + token + base.slice(cell.e);
      const good = GOOD.includes(token);
      // A good token must come back as its value, wherever it stands.
      const expect = good
        ? (t: Table) => {
            const v = t.x[(cell.row - 1) * 3 + cell.col];
            return Object.is(v, GOOD_VALUE[token]) ? null : `'${token}' read as ${v}`;
          }
        : undefined;
      return {
        kind: good ? 'cell-good' : 'cell-bad',
        text,
        known: false,
        expect: good ? expect : () => `'${token}' accepted`,
      };
    }
    case 2: {
      const cell = rng.pick(cells.filter((c) => c.col === 3));
      const token = rng.pick(BAD_LABELS);
      return { kind: 'label-bad', text: base.slice(0, cell.s) + token + base.slice(cell.e), known: true };
    }
    case 3: {
      const eol = rng.pick(['\r', '\r\n']);
      return { kind: 'line-ends', text: base.replace(/\n/g, eol), known: true };
    }
    case 4: {
      // Delete, duplicate or shorten one data line.
      const lines = base.split('\n');
      const i = 1 + rng.int(ROWS);
      const op = rng.int(3);
      if (op === 0) lines.splice(i, 1);
      else if (op === 1) lines.splice(i, 0, lines[i]);
      else
        lines[i] = lines[i]
          .split(',')
          .slice(0, 1 + rng.int(3))
          .join(',');
      return { kind: ['line-delete', 'line-duplicate', 'line-short'][op], text: lines.join('\n'), known: true };
    }
    case 5: {
      // A cell put in quotes: the same table.
      const cell = rng.pick(cells);
      const text = `${base.slice(0, cell.s)}"${base.slice(cell.s, cell.e)}"${base.slice(cell.e)}`;
      return { kind: 'quote-cell', text, known: false, expect: (t) => matches(t, reference(base)) };
    }
    case 6: {
      const at = rng.int(base.length);
      const ch = rng.pick(['"', ',', '\n', '\r', ' ', 'e', '.', '-', 'x', '\t', '\u00a0', '\ufeff']);
      return { kind: 'insert-char', text: base.slice(0, at) + ch + base.slice(at), known: false };
    }
    case 7: {
      const bytes = flip(new TextEncoder().encode(base), rng.int(base.length), 1 + rng.int(255));
      return { kind: 'flip-byte', text: Buffer.from(bytes).toString('utf8'), known: false };
    }
    default: {
      const at = rng.int(base.length);
      return { kind: 'splice-delete', text: base.slice(0, at) + base.slice(at + 1 + rng.int(20)), known: false };
    }
  }
}

test('fuzz CSV: accepted exactly as the reference reads it, good tokens kept, bad ones refused, no crash', (t) => {
  const tally = new Tally('csv');
  const isOwn = (e: unknown) => e instanceof DataError;
  tally.run(
    'none',
    'base',
    () => read(parseCsv(base, 'fuzz.csv', { labelColumn: 'label' })),
    isOwn,
    (r) => matches(r, reference(base)),
  );
  assert.equal(tally.counts.get('none')?.accepted, 1);
  for (let c = 0; c < 1500; c++) {
    const m = mutate();
    const want = m.known ? reference(m.text) : null;
    const outcome = tally.run(
      m.kind,
      `case ${c}`,
      () => {
        const ds = parseCsv(m.text, 'fuzz.csv', { labelColumn: 'label' });
        try {
          return read(ds);
        } finally {
          ds.dispose();
        }
      },
      isOwn,
      (r) => {
        if (m.known) return matches(r, want);
        if (m.expect) return m.expect(r);
        // No reference: at least finite features and non-negative labels.
        if (r.x.some((v) => !Number.isFinite(v))) return 'a feature is not finite';
        return r.y.some((v) => v < 0n) ? 'a label is negative' : null;
      },
    );
    if (outcome === 'refused' && m.known && want !== null)
      tally.failures.push(`${m.kind} case ${c}: refused a valid table`);
    if (outcome === 'refused' && (m.kind === 'quote-cell' || m.kind === 'cell-good'))
      tally.failures.push(`${m.kind} case ${c}: refused a valid table`);
  }
  tally.finish(t);
});
