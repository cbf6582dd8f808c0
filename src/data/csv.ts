// Tabular data from CSV: a header row, numeric feature columns and an optional label column.
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
    super(x, y, { classes: opts.classes, name: opts.name ?? 'csv' });
    this.columns = columns;
  }

  protected override withTensors(x: Tensor, y: Tensor): this {
    return new TableDataset(x, y, this.columns, { classes: this.classes, name: this.name }) as this;
  }
}

/** Splits one line on the delimiter, honouring double quotes ("" inside quotes is a quote). */
function splitLine(line: string, delim: string): string[] {
  if (!line.includes('"')) return line.split(delim);
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (line.startsWith(delim, i)) {
      out.push(cur);
      cur = '';
      i += delim.length - 1;
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Parses CSV text; `path` only names the source in errors. */
export function parseCsv(text: string, path: string, opts: CsvOptions = {}): TableDataset {
  const delim = opts.delimiter ?? ',';
  const lines = text.split(/\r?\n/);
  const rows: { cells: string[]; line: number }[] = [];
  lines.forEach((l, i) => {
    if (l.trim() !== '') rows.push({ cells: splitLine(l, delim).map((c) => c.trim()), line: i + 1 });
  });
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
  body.forEach(({ cells, line }, r) => {
    if (cells.length !== width) {
      throw new DataError(`${path}: line ${line} has ${cells.length} fields, the header has ${width}`);
    }
    for (let k = 0; k < f; k++) {
      const s = cells[featIdx[k]];
      const v = s === '' ? Number.NaN : Number(s);
      if (Number.isNaN(v)) {
        throw new DataError(`${path}: line ${line}, column '${names[featIdx[k]]}': not a number: ${JSON.stringify(s)}`);
      }
      x[r * f + k] = v;
    }
    if (labelIdx >= 0) rawLabels.push(cells[labelIdx]);
  });
  // Integer labels are used as class ids; any other labels become ids of their sorted distinct values.
  let classes: string[] | undefined;
  const y = new BigInt64Array(body.length);
  if (labelIdx >= 0) {
    const numeric = rawLabels.every((s) => /^\d+$/.test(s));
    if (!numeric) classes = [...new Set(rawLabels)].sort();
    const id = new Map(classes?.map((c, i) => [c, i]));
    for (let i = 0; i < rawLabels.length; i++) y[i] = BigInt(numeric ? rawLabels[i] : id.get(rawLabels[i])!);
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
