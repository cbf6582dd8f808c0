// Printing tensors the way PyTorch's repr does, so outputs can be compared with Python line by line.
//
// The rules follow torch/_tensor_str.py: one shared column width per tensor; floats whose values are
// all whole print as `1.`; scientific notation when magnitudes span more than 1000× (or are tiny or
// huge); `...` for big tensors. Only the dtype names differ: genlab's (`dtype=float64`).
import { type DType, dtypeCode, isFloating } from './dtype.js';
import * as ops from './generated/ops.js';
import { N } from './native.js';
import { handle, setFormatter, type Tensor, wrap } from './tensor.js';

/** How tensors print: precision, summarising threshold and edge items, line width and scientific notation. */
export interface PrintOptions {
  /** Digits after the decimal point. */
  precision: number;
  /** Tensors with more elements than this are summarised with `...`. */
  threshold: number;
  /** Items kept at each end of a summarised dimension. */
  edgeItems: number;
  /** Characters per line before wrapping. */
  linewidth: number;
  /** Force scientific notation on (true) or off (false); null chooses per tensor. */
  sciMode: boolean | null;
}

const defaults: PrintOptions = { precision: 4, threshold: 1000, edgeItems: 3, linewidth: 80, sciMode: null };
let current: PrintOptions = { ...defaults };

/** Changes the global print options (only the given ones) and returns the previous options. */
export function setPrintOptions(opts: Partial<PrintOptions>): PrintOptions {
  const previous = current;
  const next = { ...current, ...definedOnly(opts) };
  for (const key of ['precision', 'threshold', 'edgeItems', 'linewidth'] as const) {
    if (!Number.isSafeInteger(next[key]) || next[key] < 0) {
      throw new Error(`setPrintOptions: ${key} must be a non-negative integer, got ${next[key]}`);
    }
  }
  current = next;
  return previous;
}

/** A copy of the current print options. */
export function getPrintOptions(): PrintOptions {
  return { ...current };
}

/** Restores PyTorch's defaults: precision 4, threshold 1000, edgeItems 3, linewidth 80, automatic sciMode. */
export function resetPrintOptions(): void {
  current = { ...defaults };
}

function definedOnly(o: Partial<PrintOptions>): Partial<PrintOptions> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** Dtypes PyTorch leaves out of the repr (float32 is the default dtype). */
const implicitDtypes = new Set<DType>(['float32', 'int64', 'bool']);
const PREFIX = 'tensor(';

/** The PyTorch-style repr of a tensor, e.g. `tensor([1.5000, 2.0000], dtype=float64)`. */
export function formatTensor(t: Tensor, opts?: Partial<PrintOptions>): string {
  if (t.isDisposed) return `${PREFIX}<disposed>)`;
  const o: PrintOptions = opts ? { ...current, ...definedOnly(opts) } : current;
  const indent = PREFIX.length;
  const suffixes: string[] = [];
  const device = t.device;
  if (device !== 'cpu') suffixes.push(`device='${device}'`);

  const dtype = t.dtype;
  const shape = t.shape;
  let body: string;
  if (t.numel() === 0) {
    // No elements to show the kind of number, so name the dtype and any shape other than (0,).
    if (shape.length !== 1) suffixes.push(`size=(${shape.join(', ')})`);
    if (dtype !== 'float32') suffixes.push(`dtype=${dtype}`);
    body = '[]';
  } else {
    if (!implicitDtypes.has(dtype)) suffixes.push(`dtype=${dtype}`);
    body = formatBody(t, indent, o);
  }

  const gradFn = t.gradFn;
  // libtorch names some nodes with their C++ namespace (torch::autograd::CopySlices); Python shows the last part.
  if (gradFn !== null) suffixes.push(`gradFn=<${gradFn.split('::').pop()}>`);
  else if (t.requiresGrad) suffixes.push('requiresGrad=true');
  return addSuffixes(PREFIX + body, suffixes, indent, o.linewidth);
}

function addSuffixes(text: string, suffixes: string[], indent: number, linewidth: number): string {
  const parts = [text];
  // PyTorch's own count (two more than the true length of the last line); kept so wrapping matches.
  let lastLine = text.length - text.lastIndexOf('\n') + 1;
  for (const s of suffixes) {
    if (lastLine + s.length + 2 > linewidth) {
      parts.push(`,\n${' '.repeat(indent)}${s}`);
      lastLine = indent + s.length;
    } else {
      parts.push(`, ${s}`);
      lastLine += s.length + 2;
    }
  }
  parts.push(')');
  return parts.join('');
}

// ---- the body: values, a shared formatter, nested brackets ----

/** The elements that will be shown: every dimension longer than 2·edgeItems keeps only its ends. */
interface Shown {
  shape: number[];
  values: ArrayLike<number | bigint>;
  /** Per dimension: whether a `...` stands between the two ends. */
  gaps: boolean[];
}

function formatBody(t: Tensor, indent: number, o: PrintOptions): string {
  const summarise = t.numel() > o.threshold;
  const shown = shownElements(t, summarise, o.edgeItems);
  const fmt = new ElementFormatter(shown.values, t.dtype, o);
  if (shown.shape.length === 0) return fmt.format(shown.values[0]);
  return renderDim(shown, fmt, o, 0, 0, indent);
}

function shownElements(t: Tensor, summarise: boolean, edge: number): Shown {
  const shape = t.shape;
  const gaps = shape.map((n) => summarise && n > 2 * edge);
  // detach: printing must not extend the autograd graph.
  let cur = t.detach();
  try {
    gaps.forEach((gap, d) => {
      if (!gap) return;
      const n = shape[d];
      const keep = BigInt64Array.from({ length: 2 * edge }, (_, i) => BigInt(i < edge ? i : n - 2 * edge + i));
      const index = wrap(N.fromBuffer(keep, [keep.length], dtypeCode('int64')));
      const next = ops.indexSelect(cur, d, index);
      index.dispose();
      cur.dispose();
      cur = next;
    });
    return { shape: cur.shape, values: cur.toTypedArray() as ArrayLike<number | bigint>, gaps };
  } finally {
    cur.dispose();
  }
}

function renderDim(s: Shown, fmt: ElementFormatter, o: PrintOptions, d: number, base: number, indent: number): string {
  const n = s.shape[d];
  const stride = s.shape.slice(d + 1).reduce((a, b) => a * b, 1);
  const last = d === s.shape.length - 1;
  const items: string[] = [];
  if (s.gaps[d] && o.edgeItems === 0) {
    items.push('...');
  } else {
    for (let i = 0; i < n; i++) {
      if (s.gaps[d] && i === o.edgeItems) items.push(last ? ' ...' : '...');
      items.push(last ? fmt.format(s.values[base + i]) : renderDim(s, fmt, o, d + 1, base + i * stride, indent + 1));
    }
  }
  if (!last) {
    const blank = '\n'.repeat(s.shape.length - d - 1);
    return `[${items.join(`,${blank}${' '.repeat(indent + 1)}`)}]`;
  }
  // A row wraps after as many items as fit in the line width.
  const perLine = Math.max(1, Math.floor((o.linewidth - indent) / (fmt.width + 2)));
  const lines: string[] = [];
  for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(', '));
  return `[${lines.join(`,\n${' '.repeat(indent + 1)}`)}]`;
}

/** Chooses one notation and column width for all shown elements, then formats each. */
class ElementFormatter {
  width = 1;
  private readonly floating: boolean;
  private readonly isBool: boolean;
  private intMode = true;
  private sciMode = false;
  private readonly precision: number;

  constructor(values: ArrayLike<number | bigint>, dtype: DType, o: PrintOptions) {
    this.floating = isFloating(dtype);
    this.isBool = dtype === 'bool';
    this.precision = o.precision;
    if (!this.floating) {
      for (let i = 0; i < values.length; i++) this.width = Math.max(this.width, this.text(values[i]).length);
      return;
    }
    const finite: number[] = [];
    for (let i = 0; i < values.length; i++) {
      const v = Number(values[i]);
      if (Number.isFinite(v) && v !== 0) finite.push(v);
    }
    // PyTorch returns before applying a forced sciMode here, so all-zero tensors print as `0.`.
    if (finite.length === 0) return;
    let min = Infinity;
    let max = 0;
    for (const v of finite) {
      min = Math.min(min, Math.abs(v));
      max = Math.max(max, Math.abs(v));
    }
    this.intMode = finite.every((v) => v === Math.ceil(v));
    const wide = max / min > 1000 || max > 1e8;
    this.sciMode = this.intMode ? wide : wide || min < 1e-4;
    for (const v of finite) {
      const text = this.sciMode
        ? exponential(v, this.precision)
        : this.intMode
          ? `${fixed(v, 0)}.`
          : fixed(v, this.precision);
      this.width = Math.max(this.width, text.length);
    }
    if (o.sciMode !== null) this.sciMode = o.sciMode;
  }

  format(value: number | bigint): string {
    return this.text(value).padStart(this.width);
  }

  private text(value: number | bigint): string {
    if (!this.floating) return this.isBool ? (value ? 'True' : 'False') : String(value);
    const v = Number(value);
    if (this.sciMode) return exponential(v, this.precision);
    // The trailing dot marks a float among whole values; nan and inf need no mark.
    if (this.intMode) return Number.isFinite(v) ? `${fixed(v, 0)}.` : fixed(v, 0);
    return fixed(v, this.precision);
  }
}

// ---- decimal formatting with Python's rounding ----
// JS's toFixed/toExponential round exact ties away from zero; Python rounds them to even (0.125 → 0.12).
// Both round every other value correctly, so the fast JS path is used unless the value might be an
// exact tie; then the exact decimal value of the double (via BigInt) decides, about 20× slower.

const bits = new DataView(new ArrayBuffer(8));

/** |x| = digits × 10^−scale exactly (every finite double is a finite decimal). */
function exactDecimal(x: number): { digits: bigint; scale: number } {
  bits.setFloat64(0, x);
  const hi = bits.getUint32(0);
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(bits.getUint32(4));
  let exp = -1074;
  if (biased !== 0) {
    mantissa |= 1n << 52n;
    exp = biased - 1075;
  }
  while (exp < 0 && mantissa !== 0n && (mantissa & 1n) === 0n) {
    mantissa >>= 1n;
    exp++;
  }
  if (exp >= 0) return { digits: mantissa << BigInt(exp), scale: 0 };
  return { digits: mantissa * 5n ** BigInt(-exp), scale: -exp };
}

/** digits / 10^drop rounded half to even (or scaled up when drop < 0). */
function dropDigits(digits: bigint, drop: number): bigint {
  if (drop <= 0) return digits * 10n ** BigInt(-drop);
  const unit = 10n ** BigInt(drop);
  let q = digits / unit;
  const twice = (digits % unit) * 2n;
  if (twice > unit || (twice === unit && (q & 1n) === 1n)) q++;
  return q;
}

function nonFinite(x: number): string | null {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  return null;
}

function signOf(x: number): string {
  return x < 0 || Object.is(x, -0) ? '-' : '';
}

/** Whether y (a scaled |x|, with rounding error) could be an odd integer, i.e. x an exact tie. */
function maybeTie(y: number): boolean {
  if (!(y < 2 ** 52)) return true; // too coarse to tell
  const r = Math.round(y);
  return r % 2 === 1 && Math.abs(y - r) <= y * 1e-9;
}

/** Python's `'{:.pf}'.format(x)`. */
export function fixed(x: number, precision: number): string {
  const special = nonFinite(x);
  if (special !== null) return special;
  const a = Math.abs(x);
  // toFixed drops the sign of -0, so the sign is always added by hand.
  if (precision <= 100 && !maybeTie(2 * a * 10 ** precision)) return signOf(x) + a.toFixed(precision);
  return exactFixed(x, precision);
}

/** Python's `'{:.pe}'.format(x)`. */
export function exponential(x: number, precision: number): string {
  const special = nonFinite(x);
  if (special !== null) return special;
  const a = Math.abs(x);
  if (a !== 0 && precision <= 100) {
    const [mantissa, e] = a.toExponential(precision).split('e');
    const exp10 = Number(e);
    // A tie sits at the rounded exponent, or one below it when rounding carried (9.99995 → 1.0000e+01).
    const safe = Math.abs(exp10 - precision) < 300;
    if (safe && !maybeTie((2 * a) / 10 ** (exp10 - precision)) && !maybeTie((2 * a) / 10 ** (exp10 - 1 - precision))) {
      return signOf(x) + mantissa + exponentText(exp10);
    }
  }
  return exactExponential(x, precision);
}

function exponentText(exp10: number): string {
  return `e${exp10 < 0 ? '-' : '+'}${String(Math.abs(exp10)).padStart(2, '0')}`;
}

/** `fixed` on the exact decimal value; correct for every double. */
export function exactFixed(x: number, precision: number): string {
  const special = nonFinite(x);
  if (special !== null) return special;
  const { digits, scale } = exactDecimal(x);
  const s = dropDigits(digits, scale - precision)
    .toString()
    .padStart(precision + 1, '0');
  const body = precision > 0 ? `${s.slice(0, -precision)}.${s.slice(-precision)}` : s;
  return signOf(x) + body;
}

/** `exponential` on the exact decimal value; correct for every double. */
export function exactExponential(x: number, precision: number): string {
  const special = nonFinite(x);
  if (special !== null) return special;
  let mantissa: string;
  let exp10 = 0;
  if (x === 0) {
    mantissa = '0'.repeat(precision + 1);
  } else {
    const { digits, scale } = exactDecimal(x);
    const length = digits.toString().length;
    exp10 = length - 1 - scale;
    mantissa = dropDigits(digits, length - (precision + 1)).toString();
    // Rounding up can carry into a new digit (9.99996 → 10.0000): shift it into the exponent.
    if (mantissa.length > precision + 1) {
      mantissa = mantissa.slice(0, precision + 1);
      exp10++;
    }
  }
  const head = precision > 0 ? `${mantissa[0]}.${mantissa.slice(1)}` : mantissa;
  return signOf(x) + head + exponentText(exp10);
}

// Tensor#toString and util.inspect print through this module once it is loaded. A printing failure
// must not turn into an exception inside a log line or a debugger, so it falls back to a short form.
setFormatter((t) => {
  try {
    return formatTensor(t);
  } catch (e) {
    return `Tensor(${t.isDisposed ? 'disposed' : N.describe(handle(t))}; cannot print: ${(e as Error).message})`;
  }
});
