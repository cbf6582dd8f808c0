// Tabular data from CSV: a header row, numeric feature columns and an optional label column.
import { parse } from 'csv-parse/sync';
import { tensor } from '../torch/creation.js';
import type { Tensor } from '../torch/tensor.js';
import { TensorDataset } from './dataset.js';
import { DataError, readMaybeGzip } from './errors.js';

export interface CsvOptions {
  /** The label column, by header name or 0-based index. Without one every label is 0. */
  labelColumn?: string | number;
  /** Feature columns to keep (names or indices); default: every column but the label. */
  columns?: (string | number)[];
  delimiter?: string;
  /** Whether the first row names the columns (default true); without it columns are named c0, c1… */
  header?: boolean;
}

/** Features as float32 [N, F]; `columns` names them. */
export class TableDataset extends TensorDataset {
  readonly columns: string[];

  constructor(x: Tensor, y: Tensor, columns: string[], opts: { classes?: string[]; name?: string } = {}) {
    super(x, y, { classes: opts.classes, name: opts.name ?? 'csv', own: true });
    this.columns = columns;
  }

  protected override withTensors(tensors: Tensor[]): this {
    const [x, y] = tensors;
    return new TableDataset(x, y, this.columns, { classes: this.classes, name: this.name }) as this;
  }
}

// csv-parse does the quoting (quoted delimiters, doubled quotes, newlines inside quotes), the record
// delimiters (\n, \r\n and a bare \r, found from the file) and a leading byte-order mark.

/** A plain decimal number: digits with an optional point and exponent; no hex, binary, Infinity or NaN. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/** Labels used as class ids as they are: non-negative integers. */
const INTEGER = /^\d+$/;
const INT64_MAX = 2n ** 63n - 1n;

/** The line a record starts on, from the line it ends on and the line breaks inside its quoted cells. */
function startLine(endLine: number, cells: string[]): number {
  let breaks = 0;
  for (const c of cells) breaks += c.match(/\r\n|\r|\n/g)?.length ?? 0;
  return endLine - breaks;
}

/** Parses CSV text; `path` only names the source in errors. */
export function parseCsv(text: string, path: string, opts: CsvOptions = {}): TableDataset {
  const delim = opts.delimiter ?? ',';
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      delimiter: delim,
      bom: true,
      info: true,
      relax_column_count: true, // counted below, with a message that names the header
      skip_empty_lines: true,
      trim: true,
    }) as unknown as typeof records;
  } catch (e) {
    throw new DataError(`${path}: ${(e as Error).message}`);
  }
  const rows = records.map((r) => ({ cells: r.record, line: startLine(r.info.lines, r.record) }));
  if (rows.length === 0) throw new DataError(`${path}: empty CSV file`);
  const hasHeader = opts.header ?? true;
  const width = rows[0].cells.length;
  const names = hasHeader ? rows[0].cells : Array.from({ length: width }, (_, i) => `c${i}`);
  const body = hasHeader ? rows.slice(1) : rows;
  const colIndex = (c: string | number): number => {
    const i = typeof c === 'number' ? c : names.indexOf(c);
    if (!Number.isInteger(i) || i < 0 || i >= width) {
      throw new DataError(`${path}: no column ${JSON.stringify(c)} (columns: ${names.join(', ')})`);
    }
    return i;
  };
  const labelIdx = opts.labelColumn === undefined ? -1 : colIndex(opts.labelColumn);
  const featIdx = opts.columns ? opts.columns.map(colIndex) : names.map((_, i) => i).filter((i) => i !== labelIdx);
  const f = featIdx.length;
  const x = new Float32Array(body.length * f);
  const rawLabels: string[] = [];
  const where = (line: number, col: number) => `${path}: line ${line}, column '${names[col]}'`;
  body.forEach(({ cells, line }, r) => {
    if (cells.length !== width) {
      throw new DataError(`${path}: line ${line} has ${cells.length} fields, the header has ${width}`);
    }
    for (let k = 0; k < f; k++) {
      const s = cells[featIdx[k]];
      // Number() alone would take '' as 0, '0x10' as 16 and 'Infinity' as a value.
      if (!DECIMAL.test(s)) {
        const what = s === '' ? 'empty cell, expected a number' : `not a number: ${JSON.stringify(s)}`;
        throw new DataError(`${where(line, featIdx[k])}: ${what}`);
      }
      const v = Math.fround(Number(s));
      if (!Number.isFinite(v)) {
        throw new DataError(`${where(line, featIdx[k])}: ${s} is beyond the float32 range (±3.4e38)`);
      }
      x[r * f + k] = v;
    }
    if (labelIdx >= 0) {
      // An empty label would silently turn integer class ids into class names.
      if (cells[labelIdx] === '') throw new DataError(`${where(line, labelIdx)}: empty cell, expected a label`);
      rawLabels.push(cells[labelIdx]);
    }
  });
  // Integer labels are used as class ids; any other labels become ids of their sorted distinct values.
  let classes: string[] | undefined;
  const y = new BigInt64Array(body.length);
  if (labelIdx >= 0) {
    const numeric = rawLabels.every((s) => INTEGER.test(s));
    if (!numeric) classes = [...new Set(rawLabels)].sort();
    const id = new Map(classes?.map((c, i) => [c, i]));
    for (let i = 0; i < rawLabels.length; i++) {
      const v = BigInt(numeric ? rawLabels[i] : id.get(rawLabels[i])!);
      // A BigInt64Array would wrap a larger value silently.
      if (v > INT64_MAX) {
        throw new DataError(`${where(body[i].line, labelIdx)}: label ${rawLabels[i]} is beyond the int64 range`);
      }
      y[i] = v;
    }
  }
  return new TableDataset(
    tensor(x, { shape: [body.length, f] }),
    tensor(y),
    featIdx.map((i) => names[i]),
    { classes },
  );
}

/** Reads a CSV file (plain or gzipped). */
export function readCsv(path: string, opts: CsvOptions = {}): TableDataset {
  return parseCsv(readMaybeGzip(path).toString('utf8'), path, opts);
}
