// Observational data for the estimators: a treatment (0/1), an outcome and covariates, read from any
// CSV (columns by name or name ranges) or from the embedded benchmarks (IHDP 1–10, LaLonde–PSID).
// Values are float64: the peers compute in double precision and the tests compare to 1e-6.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { readMaybeGzip } from '../data/errors.js';
import { GenlabError } from '../torch/errors.js';
import { type Matrix, matrix } from './linalg.js';

export interface Truth {
  /** Individual effects mu1 − mu0, where the benchmark gives both potential outcome means. */
  ite?: Float64Array;
  ate?: number;
  att?: number;
  /** Where the truth comes from, for reports. */
  source: string;
}

export interface CausalData {
  name: string;
  n: number;
  covariates: string[];
  x: Matrix;
  t: Uint8Array;
  y: Float64Array;
  treatment: string;
  outcome: string;
  /** The source line of each row, for messages. */
  lines?: number[];
  /**
   * The original unit of each row, when rows were resampled (a bootstrap resample repeats units);
   * cross-fitting puts all copies of a unit into one fold. Absent: row i is unit i.
   */
  units?: Int32Array;
  truth?: Truth;
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export interface CsvSpec {
  treatment: string;
  outcome: string;
  /** Names and ranges `first:last` (by header order); default every other column. */
  covariates?: string[];
  /** Text columns turned into indicators of each level but the first (sorted), as R's factors. */
  factors?: string[];
  /** Whether the first row names the columns (default true; without one they are c1, c2, …). */
  header?: boolean;
  name?: string;
}

function dataError(detail: string, hint?: string): GenlabError {
  return new GenlabError('data', detail, hint);
}

/** Expands `a:b` ranges of header names into the names between them, inclusive. */
export function selectColumns(spec: string[], names: string[], source: string): string[] {
  const out: string[] = [];
  const index = (s: string) => {
    const i = names.indexOf(s);
    if (i < 0) {
      throw new GenlabError(
        'usage',
        `${source}: no column '${s}' (columns: ${names.join(', ')})`,
        'check {covariates}',
      );
    }
    return i;
  };
  for (const item of spec) {
    const range = item.split(':');
    if (range.length === 2 && !names.includes(item)) {
      const [a, b] = range.map(index);
      if (b < a) throw new GenlabError('usage', `${source}: range '${item}' runs backwards`, 'check {covariates}');
      for (let i = a; i <= b; i++) out.push(names[i]);
    } else {
      out.push(names[index(item)]);
    }
  }
  const dup = out.find((c, i) => out.indexOf(c) !== i);
  if (dup) throw new GenlabError('usage', `${source}: covariate '${dup}' is selected twice`, 'check {covariates}');
  return out;
}

/** Parses CSV text into causal data; `source` names the file in errors. */
export function parseCausalCsv(text: string, source: string, spec: CsvSpec): CausalData {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
    }) as unknown as typeof records;
  } catch (e) {
    throw dataError(`${source}: ${(e as Error).message}`);
  }
  if (records.length === 0) throw dataError(`${source}: empty CSV file`);
  const hasHeader = spec.header ?? true;
  const width = records[0].record.length;
  const names = hasHeader ? records[0].record : Array.from({ length: width }, (_, i) => `c${i + 1}`);
  const body = hasHeader ? records.slice(1) : records;
  if (body.length === 0) throw dataError(`${source}: no data rows`);
  const sel = (name: string, what: string) => {
    const i = names.indexOf(name);
    if (i < 0) {
      throw new GenlabError(
        'usage',
        `${source}: no ${what} column '${name}' (columns: ${names.join(', ')})`,
        `check {${what}}`,
      );
    }
    return i;
  };
  const ti = sel(spec.treatment, 'treatment');
  const yi = sel(spec.outcome, 'outcome');
  // The unnamed first column of an R write.csv holds row names, never a covariate.
  const chosen = spec.covariates
    ? selectColumns(spec.covariates, names, source)
    : names.filter((c, i) => i !== ti && i !== yi && c !== '');
  for (const c of chosen) {
    if (c === spec.treatment || c === spec.outcome) {
      throw new GenlabError(
        'usage',
        `${source}: '${c}' cannot be both a covariate and the ${c === spec.treatment ? 'treatment' : 'outcome'}`,
        'check {covariates}',
      );
    }
  }
  const factors = new Set(spec.factors ?? []);
  for (const f of factors)
    if (!chosen.includes(f))
      throw new GenlabError('usage', `${source}: factor '${f}' is not a selected covariate`, 'check {factors}');
  const lines: number[] = [];
  for (const r of body) {
    if (r.record.length !== width) {
      throw dataError(`${source}: line ${r.info.lines} has ${r.record.length} fields, the header has ${width}`);
    }
    lines.push(r.info.lines);
  }
  const where = (r: number, col: number) => `${source}: row ${r + 1} (line ${lines[r]}), column '${names[col]}'`;
  const num = (r: number, col: number): number => {
    const s = body[r].record[col];
    if (!DECIMAL.test(s)) {
      const what =
        s === '' || /^(NA|NaN|null|\.)$/i.test(s)
          ? `missing value ${JSON.stringify(s)}`
          : `not a number: ${JSON.stringify(s)}`;
      throw dataError(`${where(r, col)}: ${what}`, 'remove or impute the row');
    }
    const v = Number(s);
    if (!Number.isFinite(v)) throw dataError(`${where(r, col)}: ${s} is not finite`);
    return v;
  };
  const n = body.length;
  const t = new Uint8Array(n);
  const y = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const v = num(r, ti);
    if (v !== 0 && v !== 1) {
      throw dataError(
        `${where(r, ti)}: the treatment must be 0 or 1, got ${body[r].record[ti]}`,
        'recode {treatment} as 0/1',
      );
    }
    t[r] = v;
    y[r] = num(r, yi);
  }
  // Covariate columns; a factor becomes indicators of its levels after the first.
  const cols: { name: string; values: Float64Array }[] = [];
  for (const c of chosen) {
    const ci = names.indexOf(c);
    if (factors.has(c)) {
      const raw = body.map((b, r) => {
        if (b.record[ci] === '') throw dataError(`${where(r, ci)}: missing value ""`, 'remove or impute the row');
        return b.record[ci];
      });
      const levels = [...new Set(raw)].sort();
      for (const level of levels.slice(1)) {
        cols.push({ name: `${c}${level}`, values: Float64Array.from(raw, (v) => (v === level ? 1 : 0)) });
      }
    } else {
      cols.push({ name: c, values: Float64Array.from({ length: n }, (_, r) => num(r, ci)) });
    }
  }
  const x = matrix(n, cols.length);
  cols.forEach((c, j) => {
    for (let r = 0; r < n; r++) x.a[r * cols.length + j] = c.values[r];
  });
  return checkCausalData({
    name: spec.name ?? source,
    n,
    covariates: cols.map((c) => c.name),
    x,
    t,
    y,
    treatment: spec.treatment,
    outcome: spec.outcome,
    lines,
  });
}

export function readCausalCsv(path: string, spec: CsvSpec): CausalData {
  return parseCausalCsv(readMaybeGzip(path).toString('utf8'), path, spec);
}

/** Rejects data no estimator can use: no treated or no control units, a constant covariate. */
export function checkCausalData(d: CausalData): CausalData {
  let n1 = 0;
  for (let i = 0; i < d.n; i++) n1 += d.t[i];
  if (n1 === 0) throw dataError(`${d.name}: no treated units (every '${d.treatment}' is 0)`, 'check {treatment}');
  if (n1 === d.n) throw dataError(`${d.name}: no control units (every '${d.treatment}' is 1)`, 'check {treatment}');
  const { p } = d.x;
  for (let j = 0; j < p; j++) {
    const v0 = d.x.a[j];
    let constant = true;
    for (let i = 1; i < d.n && constant; i++) constant = d.x.a[i * p + j] === v0;
    if (constant) {
      throw dataError(
        `${d.name}: covariate '${d.covariates[j]}' is constant (every row is ${v0})`,
        'drop it from {covariates}',
      );
    }
  }
  return d;
}

/** The count of treated units. */
export function treatedCount(d: CausalData): number {
  let n1 = 0;
  for (let i = 0; i < d.n; i++) n1 += d.t[i];
  return n1;
}

/** The same data restricted to rows `idx` (a bootstrap resample or a subset); truths follow the rows. */
export function subset(d: CausalData, idx: ArrayLike<number>, name = d.name): CausalData {
  const x = matrix(idx.length, d.x.p);
  const t = new Uint8Array(idx.length);
  const y = new Float64Array(idx.length);
  const ite = d.truth?.ite ? new Float64Array(idx.length) : undefined;
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k];
    x.a.set(d.x.a.subarray(i * d.x.p, (i + 1) * d.x.p), k * d.x.p);
    t[k] = d.t[i];
    y[k] = d.y[i];
    if (ite) ite[k] = d.truth!.ite![i];
  }
  const truth = d.truth && (ite ? truthFromIte(ite, t, d.truth.source) : d.truth);
  const units = Int32Array.from(idx, (i) => (d.units ? d.units[i] : i));
  return { ...d, name, n: idx.length, x, t, y, lines: undefined, truth, units };
}

export function truthFromIte(ite: Float64Array, t: Uint8Array, source: string): Truth {
  let ate = 0;
  let att = 0;
  let n1 = 0;
  for (let i = 0; i < ite.length; i++) {
    ate += ite[i];
    if (t[i]) {
      att += ite[i];
      n1++;
    }
  }
  return { ite, ate: ate / ite.length, att: att / Math.max(n1, 1), source };
}

// ---- embedded benchmarks ----

/** data/causal/ in the package (src/causal → ../../data/causal). */
export const DATA_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'data', 'causal');

export const IHDP_REPLICATES = 10;
const IHDP_COLUMNS = [
  'treatment',
  'y_factual',
  'y_cfactual',
  'mu0',
  'mu1',
  ...Array.from({ length: 25 }, (_, i) => `x${i + 1}`),
];

/** IHDP replicate k (1–10): 747 children, 25 covariates, both potential outcome means known. */
export function loadIhdp(k: number): CausalData {
  if (!Number.isInteger(k) || k < 1 || k > IHDP_REPLICATES) {
    throw new GenlabError(
      'usage',
      `IHDP replicate must be 1–${IHDP_REPLICATES}, got ${k}`,
      'use ihdp:1 … ihdp:10 in {data}',
    );
  }
  const file = join(DATA_DIR, `ihdp_npci_${k}.csv.gz`);
  const header = `${IHDP_COLUMNS.join(',')}\n`;
  const text = header + readMaybeGzip(file).toString('utf8');
  const covariates = IHDP_COLUMNS.slice(5);
  const d = parseCausalCsv(text, file, { treatment: 'treatment', outcome: 'y_factual', covariates, name: `ihdp:${k}` });
  // mu0 and mu1 are read again for the truth: the noiseless potential outcome means.
  const all = parseCausalCsv(text, file, { treatment: 'treatment', outcome: 'y_factual', covariates: ['mu0', 'mu1'] });
  const ite = Float64Array.from({ length: d.n }, (_, i) => all.x.a[2 * i + 1] - all.x.a[2 * i]);
  d.truth = truthFromIte(ite, d.t, 'IHDP simulated mu1 − mu0');
  return d;
}

/** The experimental NSW estimate (Dehejia & Wahba 1999: 185 treated vs 260 randomised controls). */
export const LALONDE_EXPERIMENTAL_ATT = 1794.34;

/**
 * LaLonde as in R's MatchIt: 185 NSW treated men and 429 PSID comparison men; race is a factor
 * (black, hispan, white: indicators racehispan and racewhite, black the reference, as R codes it).
 */
export function loadLalonde(): CausalData {
  const file = join(DATA_DIR, 'lalonde_psid_matchit.csv');
  const d = readCausalCsv(file, {
    treatment: 'treat',
    outcome: 're78',
    covariates: ['age', 'educ', 'race', 'married', 'nodegree', 're74', 're75'],
    factors: ['race'],
    name: 'lalonde',
  });
  d.truth = { att: LALONDE_EXPERIMENTAL_ATT, source: 'NSW experiment (Dehejia & Wahba 1999), not this sample' };
  return d;
}

/** `ihdp:K`, `lalonde`, or a CSV path (then `spec` names its columns). */
export function loadCausalData(data: string, spec?: Partial<CsvSpec>): CausalData {
  const m = /^ihdp:(\d+)$/.exec(data);
  if (m) return loadIhdp(Number(m[1]));
  if (data === 'ihdp') return loadIhdp(1);
  if (data === 'lalonde') return loadLalonde();
  if (!existsSync(data)) {
    throw new GenlabError(
      'usage',
      `no data '${data}': give ihdp:1 … ihdp:10, lalonde, sim or a CSV file`,
      'check {data}',
    );
  }
  if (!spec?.treatment || !spec.outcome) {
    throw new GenlabError(
      'usage',
      `${data}: a CSV needs its treatment and outcome columns`,
      'give {treatment} and {outcome}',
    );
  }
  return readCausalCsv(data, spec as CsvSpec);
}
