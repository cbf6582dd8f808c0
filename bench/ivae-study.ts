// When does the iVAE identify the sources? MCC of the iVAE and of the VAE (both with the reference
// runner's setting, `--preset reference`) on data sets we generate, varying one thing at a time
// around the reference runner's data (40 segments × 1000 points, scales U(0.5, 3), 3 layers of one
// repeated matrix with xtanh, decoder σ² = 0.1):
//   - the number of segments;
//   - the spread of the segment scales;
//   - the decoder's σ² (reported against the smallest eigenvalue of cov(x) of each draw);
//   - the number of mixing layers.
//   npx tsx bench/ivae-study.ts [--draws 5] [--steps 2000] [--axes segments,spread,variance,layers]
// Draws go round by round (every cell's draw 1, then every cell's draw 2, …), so a stopped study still
// covers every cell; --order 5,4 runs draws in another order, --report-only trains nothing. Runs are cached under runs/ivae-study/; the section of results/ivae.md and the
// plots are rewritten after each run.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type IcaOptions, makeNonlinearIca } from '../src/data/ica.js';
import { torch } from '../src/index.js';
import { type Series, savePlotSvg } from '../src/train/plot.js';
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
const t0 = performance.now();
for (const draw of order) {
  for (const axis of axes) {
    for (const cell of CELLS[axis]) {
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
        if (process.argv.includes('--report-only') && !existsSync(join('runs/ivae-study', k, 'results.json'))) continue;
        let result: Awaited<ReturnType<typeof genlabRun>>['result'];
        try {
          ({ result } = await genlabRun(cfg, join('runs/ivae-study', k)));
        } catch (e) {
          // Another study process holds this run folder: leave the run to it.
          console.log(`skipped ${k}: ${(e as Error).message}`);
          continue;
        }
        row = { cell, draw, model, mcc: result.mcc ?? Number.NaN, lambdaMin: lambdaMin(ica) };
        seen.set(k, row);
        rows.push(row);
        console.log(JSON.stringify({ axis, cell: cell.label, draw, model, mcc: row.mcc, lambdaMin: row.lambdaMin }));
        report();
      }
    }
  }
}
report();

function report(): void {
  const minutes = (performance.now() - t0) / 60000;
  const done = Math.max(0, ...rows.map((r) => r.draw));
  const out = [
    '## When does the iVAE identify the sources?',
    '',
    `Command: \`npx tsx bench/ivae-study.ts --draws ${draws} --steps ${steps} --axes ${axes.join(',')}\` (${minutes.toFixed(0)} min in this session, 1 thread, on a machine shared with other jobs; ${new Set(seen.keys()).size} distinct runs; draws completed: up to ${done} of ${draws}).`,
    '',
    `Every run: \`--preset reference\` (widths 100, xtanh, PyTorch init, σ² = 0.1 unless varied, weights a=100 b=1 c=0 d=10 for the iVAE and a=1000 b=c=d=1 for the VAE, Adam 0.01 with the plateau schedule, batch 64), **${steps.toLocaleString('en')} steps** (the reference runs 12,500; at 5,000 it gets 0.87–0.88 on its easy draw), model seed 0, data seed = draw. Data: the reference runner's generator settings (40 segments × 1000, 5 Gaussian sources, scales U(0.5, 3), 3 xtanh layers of one repeated matrix) with one thing changed per cell. MCC of the posterior means on all points. n is the number of draws a cell has.`,
    '',
  ];
  for (const axis of axes) {
    out.push(`### ${axis === 'variance' ? 'decoder σ² against λ_min(cov x)' : axis}`, '');
    out.push(
      '| value | n | iVAE MCC (mean ± sd) | VAE MCC (mean ± sd) | iVAE − VAE | per draw (iVAE / VAE) | σ² / λ_min(cov x) per draw |',
    );
    out.push('|---|---|---|---|---|---|---|');
    const series: Series[] = [
      { name: 'iVAE', x: [], y: [] },
      { name: 'VAE', x: [], y: [] },
    ];
    for (const cell of CELLS[axis]) {
      const of = (m: string) =>
        rows.filter((r) => r.cell.axis === axis && r.cell.label === cell.label && r.model === m);
      const iv = of('ivae');
      const va = of('vae');
      if (iv.length === 0) continue;
      const mi = iv.map((r) => r.mcc);
      const mv = va.map((r) => r.mcc);
      const perDraw = iv.map((r) => `${f3(r.mcc)} / ${f3(va.find((v) => v.draw === r.draw)?.mcc)}`).join('; ');
      const ratios = iv.map((r) => (r.cell.variance / r.lambdaMin).toFixed(2)).join(', ');
      const diff = mv.length ? f3(mean(mi) - mean(mv)) : '–';
      out.push(
        `| ${cell.label} | ${iv.length} | ${f3(mean(mi))} ± ${f3(sd(mi))} | ${mv.length ? `${f3(mean(mv))} ± ${f3(sd(mv))}` : '–'} | ${diff} | ${perDraw} | ${ratios} |`,
      );
      series[0].x.push(cell.x);
      series[0].y.push(mean(mi));
      if (mv.length) {
        series[1].x.push(cell.x);
        series[1].y.push(mean(mv));
      }
    }
    out.push('', `![MCC against ${axis}](ivae-study-${axis}.svg)`, '');
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
  // Every run with its σ²/λ_min, the quantity that separated the reference's easy draw from the hard ones.
  const byRatio = [...seen.values()]
    .map((r) => ({ ratio: r.cell.variance / r.lambdaMin, r }))
    .sort((a, b) => a.ratio - b.ratio);
  const ratioSeries: Series[] = ['ivae', 'vae'].map((m) => ({
    name: m === 'ivae' ? 'iVAE' : 'VAE',
    x: byRatio.filter((p) => p.r.model === m).map((p) => Math.log10(p.ratio)),
    y: byRatio.filter((p) => p.r.model === m).map((p) => p.r.mcc),
  }));
  savePlotSvg('results/ivae-study-ratio.svg', ratioSeries, {
    title: 'MCC of every run against log10(σ² / λ_min(cov x))',
    xLabel: 'log10(σ² / λ_min)',
    yLabel: 'MCC',
  });
  out.push('### Every run against σ² / λ_min(cov x)', '', '![MCC against the ratio](ivae-study-ratio.svg)', '');
  writeSection('results/ivae.md', 'ivae-study', out.join('\n'));
}
