// Self-contained SVG plots: line plots of training curves (optionally log-scale y) and 2-D scatter plots.
import { readFileSync } from 'node:fs';
import type { Tensor } from '../torch/tensor.js';
import { writeFileAtomic } from './files.js';

export interface Series {
  name: string;
  x: number[];
  y: number[];
}

export interface PlotOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  logY?: boolean;
  width?: number;
  height?: number;
}

const PALETTE = [
  '#1f6fb4',
  '#e4761b',
  '#2f9e44',
  '#d03434',
  '#8a5cc2',
  '#8c564b',
  '#d6559f',
  '#6b6b6b',
  '#a8a51d',
  '#19a9b8',
];
const MARGIN = { left: 70, right: 20, top: 36, bottom: 52 };

export function colour(i: number): string {
  const n = PALETTE.length;
  return PALETTE[((i % n) + n) % n];
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Short tick labels: fixed decimals matching the step, exponent form for very large or small values. */
function formatTick(v: number, step: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3)
    return v.toExponential(Math.max(0, Math.min(3, -Math.floor(Math.log10(step / a))))).replace('e+', 'e');
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return v.toFixed(Math.min(decimals, 6));
}

/** An axis: maps data values to pixels and lists ticks. */
interface Axis {
  lo: number;
  hi: number;
  log: boolean;
  ticks: { value: number; label: string }[];
}

/** A 1–2–5 step giving about `target` intervals over span. */
function niceStep(span: number, target = 5): number {
  const raw = span / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const r = raw / mag;
  return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
}

function linearAxis(min: number, max: number): Axis {
  if (!Number.isFinite(min) || !Number.isFinite(max)) [min, max] = [0, 1];
  if (min === max) {
    const d = min === 0 ? 1 : Math.abs(min) * 0.1;
    [min, max] = [min - d, max + d];
  }
  const step = niceStep(max - min);
  const lo = Math.floor(min / step + 1e-9) * step;
  const hi = Math.ceil(max / step - 1e-9) * step;
  const ticks: Axis['ticks'] = [];
  for (let k = Math.round(lo / step); k <= Math.round(hi / step); k++) {
    const v = k * step;
    ticks.push({ value: v, label: formatTick(v, step) });
  }
  return { lo, hi, log: false, ticks };
}

/** An axis over exactly [lo, hi] (no rounding out), with ticks at the multiples of step inside it. */
function exactAxis(lo: number, hi: number, step = niceStep(hi - lo)): Axis {
  const ticks: Axis['ticks'] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k <= Math.floor(hi / step + 1e-9); k++) {
    ticks.push({ value: k * step, label: formatTick(k * step, step) });
  }
  return { lo, hi, log: false, ticks };
}

/** Log axis over whole decades; adds 2× and 5× ticks when the range is short. */
function logAxis(min: number, max: number): Axis {
  if (!(min > 0) || !Number.isFinite(max)) [min, max] = [1, 10];
  let lo = Math.floor(Math.log10(min) + 1e-9);
  let hi = Math.ceil(Math.log10(max) - 1e-9);
  if (hi === lo) hi = lo + 1;
  const decades = hi - lo;
  const stride = Math.ceil(decades / 8);
  lo = Math.floor(lo / stride) * stride;
  const ticks: Axis['ticks'] = [];
  for (let e = lo; e <= hi; e += stride) {
    const label = e >= -3 && e <= 4 ? formatTick(10 ** e, 10 ** e) : `1e${e}`;
    ticks.push({ value: e, label });
    if (decades <= 2 && e < hi) {
      for (const m of [2, 5]) ticks.push({ value: e + Math.log10(m), label: formatTick(m * 10 ** e, 10 ** e) });
    }
  }
  return { lo, hi, log: true, ticks };
}

function project(axis: Axis, v: number, from: number, to: number): number {
  const t = axis.log ? Math.log10(v) : v;
  return from + ((t - axis.lo) / (axis.hi - axis.lo)) * (to - from);
}

const r1 = (v: number) => Math.round(v * 10) / 10;

/** Frame, grid, ticks, labels and title; returns the plot box. */
function frame(
  parts: string[],
  xAxis: Axis,
  yAxis: Axis,
  o: { width: number; height: number; title?: string; xLabel?: string; yLabel?: string },
): { x0: number; x1: number; y0: number; y1: number } {
  const x0 = MARGIN.left;
  const x1 = o.width - MARGIN.right;
  const y0 = o.height - MARGIN.bottom;
  const y1 = MARGIN.top;
  parts.push(`<rect width="${o.width}" height="${o.height}" fill="white"/>`);
  const tickPos = (axis: Axis, t: { value: number }, from: number, to: number) =>
    r1(from + ((t.value - axis.lo) / (axis.hi - axis.lo)) * (to - from));
  for (const t of xAxis.ticks) {
    const x = tickPos(xAxis, t, x0, x1);
    parts.push(`<line x1="${x}" y1="${y1}" x2="${x}" y2="${y0}" stroke="#e6e6e6"/>`);
    parts.push(`<line x1="${x}" y1="${y0}" x2="${x}" y2="${y0 + 5}" stroke="#333"/>`);
    parts.push(`<text x="${x}" y="${y0 + 18}" text-anchor="middle">${esc(t.label)}</text>`);
  }
  for (const t of yAxis.ticks) {
    const y = tickPos(yAxis, t, y0, y1);
    parts.push(`<line x1="${x0}" y1="${y}" x2="${x1}" y2="${y}" stroke="#e6e6e6"/>`);
    parts.push(`<line x1="${x0 - 5}" y1="${y}" x2="${x0}" y2="${y}" stroke="#333"/>`);
    parts.push(`<text x="${x0 - 8}" y="${y + 4}" text-anchor="end">${esc(t.label)}</text>`);
  }
  parts.push(`<rect x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}" fill="none" stroke="#333"/>`);
  if (o.title) parts.push(`<text x="${o.width / 2}" y="22" text-anchor="middle" font-size="15">${esc(o.title)}</text>`);
  if (o.xLabel) {
    parts.push(`<text x="${(x0 + x1) / 2}" y="${o.height - 12}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  }
  if (o.yLabel) {
    const cy = (y0 + y1) / 2;
    parts.push(`<text x="16" y="${cy}" text-anchor="middle" transform="rotate(-90 16 ${cy})">${esc(o.yLabel)}</text>`);
  }
  return { x0, x1, y0, y1 };
}

function legend(parts: string[], names: string[], box: { x1: number; y1: number }, marker: 'line' | 'box'): void {
  if (names.length === 0) return;
  const w = 24 + 7 * Math.max(...names.map((n) => n.length)) + 12;
  const x = box.x1 - w - 8;
  const y = box.y1 + 8;
  parts.push(
    `<rect x="${x}" y="${y}" width="${w}" height="${names.length * 18 + 8}" fill="white" fill-opacity="0.85" stroke="#bbb"/>`,
  );
  names.forEach((name, i) => {
    const cy = y + 13 + i * 18;
    const mark =
      marker === 'line'
        ? `<line x1="${x + 6}" y1="${cy}" x2="${x + 24}" y2="${cy}" stroke="${colour(i)}" stroke-width="2"/>`
        : `<rect x="${x + 11}" y="${cy - 4}" width="8" height="8" fill="${colour(i)}"/>`;
    parts.push(`${mark}<text x="${x + 30}" y="${cy + 4}">${esc(name)}</text>`);
  });
}

function svgDocument(width: number, height: number, parts: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/** A line plot of several series as an SVG string. Non-finite points (and y ≤ 0 on a log axis) are skipped. */
export function plotSvg(series: Series[], opts: PlotOptions = {}): string {
  const width = opts.width ?? 640;
  const height = opts.height ?? 400;
  const logY = opts.logY ?? false;
  const keep = (x: number, y: number) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0);
  const points = series.map((s) => {
    if (s.x.length !== s.y.length)
      throw new Error(`plot: series '${s.name}' has ${s.x.length} x and ${s.y.length} y values`);
    return s.x.map((x, i) => [x, s.y[i]] as const).filter(([x, y]) => keep(x, y));
  });
  // Loops, not Math.min(...xs): spreading a long run's log overflows the call stack.
  let [xmin, xmax, ymin, ymax] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const pts of points) {
    for (const [x, y] of pts)
      [xmin, xmax, ymin, ymax] = [Math.min(xmin, x), Math.max(xmax, x), Math.min(ymin, y), Math.max(ymax, y)];
  }
  const xAxis = linearAxis(xmin, xmax);
  const yAxis = logY ? logAxis(ymin, ymax) : linearAxis(ymin, ymax);
  const parts: string[] = [];
  const box = frame(parts, xAxis, yAxis, { ...opts, width, height });
  points.forEach((pts, i) => {
    if (pts.length === 0) return;
    const d = pts
      .map(
        ([x, y], k) =>
          `${k === 0 ? 'M' : 'L'}${r1(project(xAxis, x, box.x0, box.x1))},${r1(project(yAxis, y, box.y0, box.y1))}`,
      )
      .join('');
    const name = esc(series[i].name);
    parts.push(`<path d="${d}" fill="none" stroke="${colour(i)}" stroke-width="1.5" data-series="${name}"/>`);
    if (pts.length === 1) {
      const [x, y] = pts[0];
      parts.push(
        `<circle cx="${r1(project(xAxis, x, box.x0, box.x1))}" cy="${r1(project(yAxis, y, box.y0, box.y1))}" r="3" fill="${colour(i)}"/>`,
      );
    }
  });
  legend(
    parts,
    series.map((s) => s.name),
    box,
    'line',
  );
  return svgDocument(width, height, parts);
}

export function savePlotSvg(path: string, series: Series[], opts: PlotOptions = {}): void {
  writeFileAtomic(path, plotSvg(series, opts));
}

/** Looks up "a.b.c" in a parsed JSON object. */
function lookup(obj: unknown, key: string): unknown {
  let v: unknown = obj;
  for (const part of key.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** Series of chosen keys against `step` from a run's log.jsonl (one JSON object per line). */
export function readLogSeries(logPath: string, keys: string[], opts: { xKey?: string } = {}): Series[] {
  const xKey = opts.xKey ?? 'step';
  let text: string;
  try {
    text = readFileSync(logPath, 'utf8');
  } catch (e) {
    throw new Error(
      `${logPath}: cannot read the run log (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  const series = keys.map((name) => ({ name, x: [] as number[], y: [] as number[] }));
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      // A run killed mid-write leaves a partial last line; anything else is corruption.
      if (i >= lines.length - 2) return;
      throw new Error(`${logPath}: line ${i + 1} is not JSON`);
    }
    const x = lookup(row, xKey);
    if (typeof x !== 'number') return;
    keys.forEach((k, j) => {
      const y = lookup(row, k);
      if (typeof y === 'number') {
        series[j].x.push(x);
        series[j].y.push(y);
      }
    });
  });
  return series;
}

/** Plots keys of a run's log.jsonl against step into an SVG file. */
export function plotRunLog(logPath: string, keys: string[], outPath: string, opts: PlotOptions = {}): void {
  savePlotSvg(outPath, readLogSeries(logPath, keys), { xLabel: 'step', ...opts });
}

export interface ScatterOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  /** Colours points by integer label. */
  labels?: ArrayLike<number | bigint> | Tensor;
  /** Legend names per label. */
  classes?: string[];
  radius?: number;
  opacity?: number;
  /** Same units per pixel on both axes (default true), so circles look round. */
  equalAspect?: boolean;
  /** Fixed [xmin, xmax, ymin, ymax] instead of fitting the data. */
  range?: [number, number, number, number];
}

function isTensor(v: unknown): v is Tensor {
  return typeof v === 'object' && v !== null && typeof (v as Tensor).toTypedArray === 'function';
}

/** Flat [x0, y0, x1, y1, …] from a [N, 2] tensor or an array of pairs. */
function flatPoints(points: Tensor | ArrayLike<number>[]): Float64Array {
  if (isTensor(points)) {
    if (points.ndim !== 2 || points.shape[1] !== 2)
      throw new Error(`scatter: expected [N, 2] points, got [${points.shape}]`);
    return Float64Array.from(points.toTypedArray() as ArrayLike<number>, Number);
  }
  const out = new Float64Array(points.length * 2);
  points.forEach((p, i) => {
    out[2 * i] = p[0];
    out[2 * i + 1] = p[1];
  });
  return out;
}

/** A scatter plot of 2-D points as an SVG string. */
export function scatterSvg(points: Tensor | ArrayLike<number>[], opts: ScatterOptions = {}): string {
  const width = opts.width ?? 480;
  const height = opts.height ?? 480;
  const p = flatPoints(points);
  const n = p.length / 2;
  const labelsRaw = opts.labels === undefined ? null : isTensor(opts.labels) ? opts.labels.toTypedArray() : opts.labels;
  const labels = labelsRaw ? Int32Array.from(labelsRaw as ArrayLike<number>, Number) : new Int32Array(n);
  if (labels.length !== n) throw new Error(`scatter: ${labels.length} labels for ${n} points`);
  let [xmin, xmax, ymin, ymax] = opts.range ?? [Infinity, -Infinity, Infinity, -Infinity];
  if (!opts.range) {
    for (let i = 0; i < n; i++) {
      const x = p[2 * i];
      const y = p[2 * i + 1];
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      [xmin, xmax, ymin, ymax] = [Math.min(xmin, x), Math.max(xmax, x), Math.min(ymin, y), Math.max(ymax, y)];
    }
  }
  if (!Number.isFinite(xmin) || !Number.isFinite(ymin)) [xmin, xmax, ymin, ymax] = [-1, 1, -1, 1];
  if (!opts.range) {
    // A 4% margin so points do not sit on the frame.
    const [mx, my] = [(xmax - xmin || 1) * 0.04, (ymax - ymin || 1) * 0.04];
    [xmin, xmax, ymin, ymax] = [xmin - mx, xmax + mx, ymin - my, ymax + my];
  }
  let step: number | undefined;
  if (opts.equalAspect ?? true) {
    // Widen the narrower span so both axes have the same units per pixel, and share one tick step.
    const pw = width - MARGIN.left - MARGIN.right;
    const ph = height - MARGIN.top - MARGIN.bottom;
    const per = Math.max((xmax - xmin) / pw, (ymax - ymin) / ph);
    const cx = (xmin + xmax) / 2;
    const cy = (ymin + ymax) / 2;
    [xmin, xmax, ymin, ymax] = [cx - (per * pw) / 2, cx + (per * pw) / 2, cy - (per * ph) / 2, cy + (per * ph) / 2];
    step = niceStep(Math.max(xmax - xmin, ymax - ymin));
  }
  const xAxis = exactAxis(xmin, xmax, step);
  const yAxis = exactAxis(ymin, ymax, step);
  const parts: string[] = [];
  const box = frame(parts, xAxis, yAxis, { ...opts, width, height });
  const radius = opts.radius ?? 1.5;
  const groups = new Map<number, string[]>();
  for (let i = 0; i < n; i++) {
    const x = p[2 * i];
    const y = p[2 * i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    const px = r1(project(xAxis, x, box.x0, box.x1));
    const py = r1(project(yAxis, y, box.y0, box.y1));
    if (px < box.x0 || px > box.x1 || py < box.y1 || py > box.y0) continue;
    const list = groups.get(labels[i]) ?? [];
    list.push(`<circle cx="${px}" cy="${py}" r="${radius}"/>`);
    groups.set(labels[i], list);
  }
  for (const [label, circles] of [...groups].sort((a, b) => a[0] - b[0])) {
    parts.push(
      `<g fill="${colour(label)}" fill-opacity="${opts.opacity ?? 0.6}" data-label="${label}">`,
      ...circles,
      '</g>',
    );
  }
  if (opts.classes) legend(parts, opts.classes, box, 'box');
  return svgDocument(width, height, parts);
}

export function saveScatterSvg(path: string, points: Tensor | ArrayLike<number>[], opts: ScatterOptions = {}): void {
  writeFileAtomic(path, scatterSvg(points, opts));
}
