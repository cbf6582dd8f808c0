// When does the iVAE identify the sources? MCC of the iVAE and of the VAE (both with the reference
// runner's setting, `--preset reference`) on data sets we generate, varying one thing at a time
// around the reference runner's data (40 segments × 1000 points, scales U(0.5, 3), 3 layers of one
// repeated matrix with xtanh, decoder σ² = 0.1):
//   - the number of segments;
//   - the spread of the segment scales;
//   - the decoder's σ² (reported against the smallest eigenvalue of cov(x) of each draw);
//   - the number of mixing layers.
//   npx tsx bench/ivae-study.ts [--draws 5] [--steps 2000] [--axes segments,spread,variance,layers]
//                               [--only layers=4,variance=1] [--section ivae-study] [--report-only]
// Draws go round by round (every cell's draw 1, then every cell's draw 2, …), so a stopped study still
// covers every cell; --order 5,4 runs draws in another order, --report-only trains nothing.
// Resumable: each run has its own folder under runs/ivae-study/ named by model, steps, draw and data
// setting; a finished run (results.json) is read back, never retrained, and a stopped one resumes from
// its last checkpoint. The section of results/ivae.md and the plots are rewritten after each run.
// --only keeps the cells named axis=x (x as on the plots' axis; e.g. a check at another step count
// with --steps 5000 --section ivae-study-t5000), and then writes no plots.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type IcaOptions, makeNonlinearIca } from '../src/data/ica.js';
import { torch } from '../src/index.js';
import { type Series, savePlotSvg, saveScatterSvg } from '../src/train/plot.js';
import { vaeConfig } from '../src/vae/experiment.js';
import { referenceSetting } from '../src/vae/reference.js';
import { argValue } from './common.js';
import { f3, genlabRun, mean, sd, writeSection } from './ivae-common.js';

torch.setNumThreads(1);
const draws = Number(argValue('draws', '5'));
const steps = Number(argValue('steps', '2000'));
const axes = argValue('axes', 'segments,spread,variance,layers').split(',');
/** The draws to run, in order (default 1…draws); a second process can take them from the other end. */
const order = argValue('order', Array.from({ length: draws }, (_, i) => i + 1).join(','))
  .split(',')
  .map(Number);
const base = referenceSetting('ivae').ica;
const only = argValue('only', '')
  .split(',')
  .filter((o) => o !== '');
const section = argValue('section', 'ivae-study');
const reportOnly = process.argv.includes('--report-only');
const chosen = (c: Cell) => only.length === 0 || only.includes(`${c.axis}=${c.x}`);

interface Cell {
  axis: string;
  /** The value on the axis, as shown. */
  label: string;
  x: number;
  ica: Partial<IcaOptions>;
  variance: number;
}

const CELLS: Record<string, Cell[]> = {
  segments: [5, 10, 20, 40, 80].map((n) => ({
    axis: 'segments',
    label: String(n),
    x: n,
    ica: { segments: n },
    variance: 0.1,
  })),
  spread: (
    [
      [1.5, 2],
      [1, 2.5],
      [0.5, 3],
      [0.2, 5],
    ] as [number, number][]
  ).map((r) => ({
    axis: 'spread',
    label: `U(${r[0]}, ${r[1]})`,
    x: r[1] / r[0],
    ica: { scaleRange: r },
    variance: 0.1,
  })),
  variance: [0.01, 0.1, 1].map((v) => ({ axis: 'variance', label: `σ² = ${v}`, x: v, ica: {}, variance: v })),
  layers: [1, 2, 3, 4].map((n) => ({ axis: 'layers', label: String(n), x: n, ica: { layers: n }, variance: 0.1 })),
};

/** Cells with the same data and σ² are one run (the reference setting appears on every axis). */
const key = (c: Cell, draw: number, model: string) =>
  `${model}-t${steps}-d${draw}-${JSON.stringify({ ...base, ...c.ica })}-v${c.variance}`.replace(/[^\w.-]+/g, '_');

interface Row {
  cell: Cell;
  draw: number;
  model: 'ivae' | 'vae';
  mcc: number;
  /** Smallest eigenvalue of cov(x) of the draw. */
  lambdaMin: number;
  /** Wall-clock seconds the run took when it was trained. */
  seconds: number;
}

const lambdaCache = new Map<string, number>();
function lambdaMin(ica: IcaOptions): number {
  const k = JSON.stringify(ica);
  const hit = lambdaCache.get(k);
  if (hit !== undefined) return hit;
  const data = makeNonlinearIca(ica);
  const v = torch.tidy(() => {
    const x = data.x.to('float64');
    const c = x.sub(x.mean([0], { keepdim: true }));
    const cov = c
      .t()
      .matmul(c)
      .div(x.size(0) - 1);
    return torch.linalg.eigvalsh(cov).min().item();
  });
  data.dispose();
  lambdaCache.set(k, v);
  return v;
}

const rows: Row[] = [];
const seen = new Map<string, Row>();
for (const draw of order) {
  for (const axis of axes) {
    for (const cell of CELLS[axis].filter(chosen)) {
      for (const model of ['ivae', 'vae'] as const) {
        const k = key(cell, draw, model);
        let row = seen.get(k);
        if (row) {
          rows.push({ ...row, cell });
          continue;
        }
        const ica = { ...base, ...cell.ica, seed: draw };
        // k = 2: the IWAE bound is not studied here, and evaluation would dominate short runs.
        const cfg = vaeConfig(model, 'ica', {
          preset: 'reference',
          k: 2,
          steps,
          seed: 0,
          dataSeed: draw,
          ica,
          variance: cell.variance,
        });
        // --report-only: tables and plots from the finished runs, training nothing.
        if (reportOnly && !existsSync(join('runs/ivae-study', k, 'results.json'))) continue;
        let run: Awaited<ReturnType<typeof genlabRun>>;
        try {
          run = await genlabRun(cfg, join('runs/ivae-study', k));
        } catch (e) {
          // Another study process holds this run folder: leave the run to it. Any other error stops the study.
          if (!/is in use by another training/.test((e as Error).message)) throw e;
          console.log(`skipped ${k}: ${(e as Error).message}`);
          continue;
        }
        const mcc = run.result.mcc ?? Number.NaN;
        row = { cell, draw, model, mcc, lambdaMin: lambdaMin(ica), seconds: run.seconds };
        seen.set(k, row);
        rows.push(row);
        console.log(JSON.stringify({ axis, cell: cell.label, draw, model, mcc: row.mcc, lambdaMin: row.lambdaMin }));
        if (!reportOnly) report();
      }
    }
  }
}
report();

/** Mean ± sd of the finite values, and how many there are (a diverged run's NaN is counted apart). */
function stats(xs: number[]): { text: string; n: number; nan: number } {
  const ok = xs.filter((x) => Number.isFinite(x));
  const nan = xs.length - ok.length;
  const text = ok.length ? `${f3(mean(ok))} ± ${f3(sd(ok))}` : '–';
  return { text, n: ok.length, nan };
}

function count(s: { n: number; nan: number }): string {
  return `${s.n}${s.nan ? ` (+${s.nan} NaN)` : ''}`;
}

/** iVAE − VAE on the draws where both finished with a finite MCC: mean ± sd, and in how many the iVAE is ahead. */
function paired(pairs: [number, number][]): { diff: string; ahead: string } {
  const both = pairs.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
  if (both.length === 0) return { diff: '–', ahead: '–' };
  const d = both.map(([a, b]) => a - b);
  return { diff: `${f3(mean(d))} ± ${f3(sd(d))}`, ahead: `${d.filter((x) => x > 0).length} / ${d.length}` };
}

function report(): void {
  const runs = [...seen.values()];
  const minutes = runs.reduce((a, r) => a + r.seconds, 0) / 60;
  const counts = new Set(
    axes.flatMap((axis) =>
      CELLS[axis]
        .filter(chosen)
        .map((c) => rows.filter((r) => r.cell.axis === axis && r.cell.label === c.label).length / 2),
    ),
  );
  const args = [`--draws ${draws}`, `--steps ${steps}`, `--axes ${axes.join(',')}`];
  if (only.length) args.push(`--only ${only.join(',')}`, `--section ${section}`);
  const out = [
    `## ${only.length ? `Check at ${steps.toLocaleString('en')} steps` : 'When does the iVAE identify the sources?'}`,
    '',
    `Command: \`npx tsx bench/ivae-study.ts ${args.join(' ')}\` (1 thread, on a machine shared with other jobs; ${runs.length} distinct runs, ${minutes.toFixed(0)} min of wall time summed over them; draws per cell: ${[...counts].sort().join(', ')} of ${draws}).`,
    '',
    `Every run: \`--preset reference\` (widths 100, xtanh, PyTorch init, σ² = 0.1 unless varied, weights a=100 b=1 c=0 d=10 for the iVAE and a=1000 b=c=d=1 for the VAE, Adam 0.01 with the plateau schedule, batch 64), **${steps.toLocaleString('en')} steps** (the reference runs 12,500; at 5,000 it gets 0.87–0.88 on its easy draw), model seed 0, data seed = draw. Data: the reference runner's generator settings (40 segments × 1000, 5 Gaussian sources, scales U(0.5, 3), 3 xtanh layers of one repeated matrix) with one thing changed per cell. A cell changes the generator's random stream, so for the same draw number its mixing matrices differ from the base cell's (see the σ²/λ_min column); the σ² cells share the base cell's data. MCC of the posterior means on all points. n: draws with a finite MCC (a run that diverged counts as NaN, left out of the means). iVAE − VAE: paired by draw; "iVAE ahead": in how many draws its MCC is the higher.`,
    '',
  ];
  for (const axis of axes) {
    const cells = CELLS[axis].filter(chosen);
    if (cells.length === 0) continue;
    out.push(`### ${axis === 'variance' ? 'decoder σ² against λ_min(cov x)' : axis}`, '');
    out.push(
      '| value | n (iVAE / VAE) | iVAE MCC (mean ± sd) | VAE MCC (mean ± sd) | iVAE − VAE (mean ± sd) | iVAE ahead | per draw (iVAE / VAE) | σ² / λ_min(cov x) per draw |',
    );
    out.push('|---|---|---|---|---|---|---|---|');
    const series: Series[] = [
      { name: 'iVAE', x: [], y: [] },
      { name: 'VAE', x: [], y: [] },
    ];
    for (const cell of cells) {
      const of = (m: string) =>
        rows.filter((r) => r.cell.axis === axis && r.cell.label === cell.label && r.model === m);
      const iv = of('ivae');
      const va = of('vae');
      if (iv.length === 0) continue;
      const si = stats(iv.map((r) => r.mcc));
      const sv = stats(va.map((r) => r.mcc));
      const vaeOf = (draw: number) => va.find((v) => v.draw === draw)?.mcc;
      const p = paired(iv.map((r) => [r.mcc, vaeOf(r.draw) ?? Number.NaN]));
      const perDraw = iv
        .map((r) => {
          const v = vaeOf(r.draw);
          return `${f3(r.mcc)} / ${v === undefined ? '–' : f3(v)}`;
        })
        .join('; ');
      const ratios = iv.map((r) => (r.cell.variance / r.lambdaMin).toFixed(2)).join(', ');
      out.push(
        `| ${cell.label} | ${count(si)} / ${count(sv)} | ${si.text} | ${sv.text} | ${p.diff} | ${p.ahead} | ${perDraw} | ${ratios} |`,
      );
      const finite = (rs: Row[]) => rs.map((r) => r.mcc).filter((x) => Number.isFinite(x));
      if (si.n) {
        series[0].x.push(cell.x);
        series[0].y.push(mean(finite(iv)));
      }
      if (sv.n) {
        series[1].x.push(cell.x);
        series[1].y.push(mean(finite(va)));
      }
    }
    out.push('');
    if (only.length) continue;
    out.push(`![MCC against ${axis}](ivae-study-${axis}.svg)`, '');
    const xLabel = {
      segments: 'segments',
      spread: 'hi / lo of the scale range',
      variance: 'decoder σ²',
      layers: 'mixing layers',
    }[axis];
    savePlotSvg(`results/ivae-study-${axis}.svg`, series, {
      title: `MCC against ${axis} (mean over draws)`,
      xLabel,
      yLabel: 'MCC',
    });
  }
  if (!only.length) ratioReport(runs, out);
  writeSection('results/ivae.md', section, out.join('\n'));
}

/** Every distinct run against σ²/λ_min, the quantity that separated the reference's easy draw from the hard ones. */
function ratioReport(runs: Row[], out: string[]): void {
  const byRatio = runs.map((r) => ({ ratio: r.cell.variance / r.lambdaMin, r })).sort((a, b) => a.ratio - b.ratio);
  const finite = byRatio.filter((p) => Number.isFinite(p.r.mcc));
  saveScatterSvg(
    'results/ivae-study-ratio.svg',
    finite.map((p) => [Math.log10(p.ratio), p.r.mcc]),
    {
      title: 'MCC of every run against log10(σ² / λ_min(cov x))',
      xLabel: 'log10(σ² / λ_min)',
      yLabel: 'MCC',
      labels: finite.map((p) => (p.r.model === 'ivae' ? 0 : 1)),
      classes: ['iVAE', 'VAE'],
      equalAspect: false,
      radius: 3,
    },
  );
  // The paired difference per data set, so the trend is not hidden by the spread across data sets.
  const diffs = finite
    .filter((p) => p.r.model === 'ivae')
    .map((p) => [Math.log10(p.ratio), p.r.mcc - (twinOf(runs, p.r) ?? Number.NaN)]);
  saveScatterSvg('results/ivae-study-ratio-diff.svg', diffs, {
    title: 'iVAE − VAE MCC per data set against log10(σ² / λ_min(cov x))',
    xLabel: 'log10(σ² / λ_min)',
    yLabel: 'iVAE − VAE',
    equalAspect: false,
    radius: 3,
  });
  out.push('### Every run against σ² / λ_min(cov x)', '');
  out.push(
    'Each distinct data set and σ² once (the base cell is on every axis but counted once), binned by σ² / λ_min(cov x).',
    '',
  );
  out.push(
    '| σ² / λ_min | data sets | iVAE MCC (mean ± sd) | VAE MCC (mean ± sd) | iVAE − VAE (mean ± sd) | iVAE ahead |',
  );
  out.push('|---|---|---|---|---|---|');
  const bins: [number, number, string][] = [
    [0, 1, '< 1'],
    [1, 10, '1–10'],
    [10, 100, '10–100'],
    [100, Number.POSITIVE_INFINITY, '≥ 100'],
  ];
  for (const [lo, hi, label] of bins) {
    const inBin = byRatio.filter((p) => p.ratio >= lo && p.ratio < hi);
    const iv = inBin.filter((p) => p.r.model === 'ivae').map((p) => p.r);
    const va = inBin.filter((p) => p.r.model === 'vae').map((p) => p.r);
    if (iv.length === 0) continue;
    const si = stats(iv.map((r) => r.mcc));
    const sv = stats(va.map((r) => r.mcc));
    const p = paired(iv.map((r) => [r.mcc, twinOf(va, r) ?? Number.NaN]));
    out.push(`| ${label} | ${iv.length} | ${si.text} | ${sv.text} | ${p.diff} | ${p.ahead} |`);
  }
  out.push(
    '',
    '![MCC against the ratio](ivae-study-ratio.svg)',
    '',
    '![iVAE − VAE against the ratio](ivae-study-ratio-diff.svg)',
    '',
  );
}

/** The VAE's MCC on the same data set and σ² as the iVAE run r. */
function twinOf(runs: Row[], r: Row): number | undefined {
  return runs.find(
    (v) => v.model === 'vae' && v.draw === r.draw && v.cell.variance === r.cell.variance && v.lambdaMin === r.lambdaMin,
  )?.mcc;
}
