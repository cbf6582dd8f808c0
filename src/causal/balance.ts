// Covariate balance before and after adjustment: standardised mean differences and variance ratios
// (Austin 2009), with the standardiser taken from the unadjusted sample so that before and after are
// on one scale (as R's cobalt does), the effective sample size of the weights, and two pictures: a
// Love plot of |SMD| per covariate and mirrored histograms of the propensity score by group.
import type { CausalData } from './data.js';
import type { Estimand } from './estimators.js';
import { effectiveSampleSize } from './propensity.js';

export interface BalanceRow {
  covariate: string;
  smdBefore: number;
  smdAfter?: number;
  varRatioBefore: number;
  varRatioAfter?: number;
}

export interface Balance {
  rows: BalanceRow[];
  /** Effective sample sizes of the adjusting weights, per group. */
  ess?: { treated: number; control: number };
  /** The largest |SMD| after adjustment (before, without weights). */
  maxAbsSmd: number;
}

function moments(d: CausalData, j: number, arm: number, w?: ArrayLike<number>): { mean: number; variance: number } {
  let sw = 0;
  let s = 0;
  for (let i = 0; i < d.n; i++) {
    if (d.t[i] !== arm) continue;
    const wi = w ? w[i] : 1;
    sw += wi;
    s += wi * d.x.a[i * d.x.p + j];
  }
  const mean = s / sw;
  let v = 0;
  let sw2 = 0;
  for (let i = 0; i < d.n; i++) {
    if (d.t[i] !== arm) continue;
    const wi = w ? w[i] : 1;
    v += wi * (d.x.a[i * d.x.p + j] - mean) ** 2;
    sw2 += wi * wi;
  }
  // The unbiased weighted variance with reliability weights; with unit weights it is the usual n − 1 form.
  const variance = v / (sw - sw2 / sw);
  return { mean, variance };
}

/** SMDs and variance ratios of every covariate, unweighted and (when given) under `weights`. */
export function balanceTable(d: CausalData, estimand: Estimand, weights?: ArrayLike<number>): Balance {
  const rows: BalanceRow[] = [];
  for (let j = 0; j < d.x.p; j++) {
    const b1 = moments(d, j, 1);
    const b0 = moments(d, j, 0);
    // The ATT's standardiser is the treated group's sd; the ATE's the pooled sd of the two groups.
    const sd = estimand === 'ATT' ? Math.sqrt(b1.variance) : Math.sqrt((b1.variance + b0.variance) / 2);
    const row: BalanceRow = {
      covariate: d.covariates[j],
      smdBefore: (b1.mean - b0.mean) / sd,
      varRatioBefore: b1.variance / b0.variance,
    };
    if (weights) {
      const a1 = moments(d, j, 1, weights);
      const a0 = moments(d, j, 0, weights);
      row.smdAfter = (a1.mean - a0.mean) / sd;
      row.varRatioAfter = a1.variance / a0.variance;
    }
    rows.push(row);
  }
  const ess = weights
    ? {
        treated: effectiveSampleSize(Array.from(weights, (w, i) => (d.t[i] ? w : 0))),
        control: effectiveSampleSize(Array.from(weights, (w, i) => (d.t[i] ? 0 : w))),
      }
    : undefined;
  const maxAbsSmd = Math.max(...rows.map((r) => Math.abs(r.smdAfter ?? r.smdBefore)));
  return { rows, ess, maxAbsSmd };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number) => Number(v.toFixed(2)).toString();

/**
 * A Love plot: one row per covariate, |SMD| before (open circle) and after each adjustment (filled
 * marks), with the customary 0.1 threshold drawn.
 */
export function lovePlotSvg(
  covariates: string[],
  series: { name: string; smd: number[] }[],
  opts: { title?: string } = {},
): string {
  const rowH = 18;
  const left = 150;
  const top = 40;
  const width = 620;
  const legendH = 18 * series.length + 10;
  const height = top + rowH * covariates.length + 40 + legendH;
  const max = Math.max(0.25, ...series.flatMap((s) => s.smd.map(Math.abs)).filter(Number.isFinite)) * 1.05;
  const plotW = width - left - 20;
  const sx = (v: number) => left + (Math.min(Math.abs(v), max) / max) * plotW;
  const colours = ['#6b6b6b', '#1f6fb4', '#e4761b', '#2f9e44', '#d03434', '#8a5cc2', '#d6559f', '#19a9b8', '#a8a51d'];
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="13">${esc(opts.title ?? 'Covariate balance (Love plot)')}</text>`,
  ];
  const bottom = top + rowH * covariates.length;
  for (const tick of [0, 0.1, 0.2, 0.5, 1, 2].filter((v) => v <= max)) {
    out.push(
      `<line x1="${sx(tick)}" y1="${top - 5}" x2="${sx(tick)}" y2="${bottom}" stroke="${tick === 0.1 ? '#d03434' : '#dddddd'}" stroke-dasharray="${tick === 0.1 ? '4 3' : ''}"/>`,
      `<text x="${sx(tick)}" y="${bottom + 14}" text-anchor="middle">${tick}</text>`,
    );
  }
  out.push(
    `<text x="${left + plotW / 2}" y="${bottom + 30}" text-anchor="middle">|standardised mean difference|</text>`,
  );
  covariates.forEach((c, k) => {
    const y = top + rowH * k + rowH / 2;
    out.push(`<text x="${left - 8}" y="${y + 4}" text-anchor="end">${esc(c)}</text>`);
    series.forEach((s, si) => {
      const v = s.smd[k];
      if (!Number.isFinite(v)) return;
      const col = colours[si % colours.length];
      out.push(
        si === 0
          ? `<circle cx="${sx(v).toFixed(1)}" cy="${y}" r="4" fill="none" stroke="${col}" stroke-width="1.5"><title>${esc(s.name)}: ${fmt(v)}</title></circle>`
          : `<circle cx="${sx(v).toFixed(1)}" cy="${y}" r="3.5" fill="${col}" fill-opacity="0.8"><title>${esc(s.name)}: ${fmt(v)}</title></circle>`,
      );
    });
  });
  series.forEach((s, si) => {
    const y = bottom + 48 + 18 * si;
    const col = colours[si % colours.length];
    out.push(
      si === 0
        ? `<circle cx="${left}" cy="${y}" r="4" fill="none" stroke="${col}" stroke-width="1.5"/>`
        : `<circle cx="${left}" cy="${y}" r="3.5" fill="${col}"/>`,
      `<text x="${left + 10}" y="${y + 4}">${esc(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Mirrored histograms of the propensity score: treated above the axis, controls below. */
export function overlapSvg(
  e: ArrayLike<number>,
  t: ArrayLike<number>,
  opts: { bins?: number; title?: string } = {},
): string {
  const bins = opts.bins ?? 25;
  const h1 = new Array(bins).fill(0);
  const h0 = new Array(bins).fill(0);
  for (let i = 0; i < e.length; i++) {
    const b = Math.min(bins - 1, Math.floor(e[i] * bins));
    (t[i] ? h1 : h0)[b]++;
  }
  const width = 560;
  const height = 360;
  const left = 50;
  const right = 20;
  const mid = height / 2;
  const half = mid - 50;
  const max = Math.max(...h1, ...h0, 1);
  const bw = (width - left - right) / bins;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="13">${esc(opts.title ?? 'Propensity score overlap')}</text>`,
  ];
  for (let b = 0; b < bins; b++) {
    const x = left + b * bw;
    const a = (h1[b] / max) * half;
    const c = (h0[b] / max) * half;
    if (h1[b])
      out.push(
        `<rect x="${x.toFixed(1)}" y="${(mid - a).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${a.toFixed(1)}" fill="#e4761b"><title>treated ${h1[b]}</title></rect>`,
      );
    if (h0[b])
      out.push(
        `<rect x="${x.toFixed(1)}" y="${mid}" width="${(bw - 1).toFixed(1)}" height="${c.toFixed(1)}" fill="#1f6fb4"><title>control ${h0[b]}</title></rect>`,
      );
  }
  out.push(`<line x1="${left}" y1="${mid}" x2="${width - right}" y2="${mid}" stroke="black"/>`);
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    const x = left + v * (width - left - right);
    out.push(`<text x="${x}" y="${height - 22}" text-anchor="middle">${v}</text>`);
  }
  out.push(
    `<text x="${width / 2}" y="${height - 6}" text-anchor="middle">propensity score</text>`,
    `<text x="${left - 6}" y="${mid - half + 10}" text-anchor="end">${max}</text>`,
    `<text x="${left - 6}" y="${mid + half}" text-anchor="end">${max}</text>`,
    `<text x="${width - right}" y="${mid - half}" text-anchor="end" fill="#e4761b">treated (${Array.from(t).filter((v) => v).length})</text>`,
    `<text x="${width - right}" y="${mid + half}" text-anchor="end" fill="#1f6fb4">control (${Array.from(t).filter((v) => !v).length})</text>`,
    '</svg>',
  );
  return `${out.join('\n')}\n`;
}
