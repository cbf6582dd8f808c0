// genlab causal estimate|balance|refute|simulate: treatment effects from observational data, several
// estimators side by side with bootstrap intervals, balance, overlap, refuters and E-values.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Balance } from '../causal/balance.js';
import { type Analysis, balanceRun, estimateRun, refuteRun } from '../causal/experiment.js';
import { icuCsv, simulateIcu } from '../causal/simulate.js';
import { int, path, text } from './args.js';
import { configOf, dataOptions, simOptions } from './causal-options.js';
import { type Family, type VerbContext, verb } from './verb.js';

/** Warnings name settings in braces; here they become flags. */
const spellAll = (ws: string[], ctx: VerbContext) => ws.map((w) => w.replace(/\{(\w+)\}/g, (_, s) => ctx.spell(s)));

const f = (v: number | undefined, d = 3) => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d));

function table(a: Analysis): string[] {
  const d = Math.abs(a.rows[0]?.estimate ?? 0) > 100 ? 0 : 3;
  const head = [
    'estimator',
    a.estimand,
    '95% interval',
    'SE',
    'boot SE',
    ...(a.truth ? ['error'] : []),
    ...(a.rows[0]?.sqrtPehe !== undefined ? ['√PEHE'] : []),
  ];
  const body = a.rows.map((r) => [
    r.estimator,
    f(r.estimate, d),
    r.bootstrap ? `[${f(r.bootstrap.lo, d)}, ${f(r.bootstrap.hi, d)}]` : '—',
    f(r.se, d),
    f(r.bootstrap?.se, d),
    ...(a.truth ? [f(r.error, d)] : []),
    ...(r.sqrtPehe !== undefined ? [f(r.sqrtPehe)] : []),
  ]);
  const widths = head.map((h, j) => Math.max(h.length, ...body.map((b) => (b[j] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ');
  return [line(head), ...body.map(line)];
}

const estimate = verb({
  summary: 'estimators side by side with bootstrap intervals, Love and overlap plots',
  usage: '[--data ihdp:1|lalonde|sim|file.csv] [options]',
  description:
    'Runs the estimators on one data set, each with a bootstrap interval; writes results.json, love.svg and overlap.svg into the run folder.',
  options: {
    ...dataOptions,
    bootstrap: int('bootstrap resamples (0: none)', { min: 0, max: 1e5, default: 200 }),
    workers: int('bootstrap worker threads (the intervals do not depend on it)', { min: 1, max: 64, default: 1 }),
    out: path('run folder to write', { defaultText: 'runs/causal-<data>' }),
  },
  run: async (o, _args, ctx) => {
    const cfg = configOf(o, { bootstrap: o.bootstrap, workers: o.workers });
    const dir = o.out ?? join('runs', `causal-${cfg.data.replace(/[^\w.-]+/g, '-')}`);
    const r = await estimateRun(cfg, dir, { log: ctx.log, quiet: ctx.quiet });
    for (const row of r.rows) row.warnings = spellAll(row.warnings, ctx);
    return r;
  },
  show: (r) => [
    `${r.data}: n ${r.n}, treated ${r.treated}${r.truth ? `, true ${r.estimand} ${r.truth.value.toFixed(3)} (${r.truth.source})` : ''}`,
    ...table(r),
    ...r.rows.flatMap((row) => row.warnings.map((w) => `warning: ${w}`)),
    `run: ${r.run} (${r.files.map((p) => p.split('/').pop()).join(', ')})`,
  ],
});

function balanceLines(name: string, b: Balance): string[] {
  return [
    `${name}: max |SMD| ${b.maxAbsSmd.toFixed(3)}${b.ess ? `, ESS treated ${b.ess.treated.toFixed(1)}, control ${b.ess.control.toFixed(1)}` : ''}`,
    ...b.rows.map(
      (r) =>
        `  ${r.covariate.padEnd(14)} SMD ${f(r.smdAfter ?? r.smdBefore).padStart(7)}  var ratio ${f(r.varRatioAfter ?? r.varRatioBefore).padStart(6)}`,
    ),
  ];
}

const balance = verb({
  summary: 'standardised mean differences and variance ratios before and after adjustment',
  usage: '[--data …] [options]',
  description:
    'Covariate balance before and after stratification, matching and IPW (or --estimators), with a Love plot.',
  options: {
    ...dataOptions,
    estimators: text('weighting estimators to check, or all', { default: 'all' }),
    plot: path('write the Love plot SVG here'),
  },
  run: (o) => {
    if (o.plot) mkdirSync(dirname(o.plot), { recursive: true });
    return balanceRun(configOf(o), o.plot);
  },
  show: (r) => [
    ...balanceLines(`${r.data} unadjusted`, r.before),
    ...Object.entries(r.after).flatMap(([n, b]) => balanceLines(n, b)),
    ...(r.lovePlot ? [`Love plot: ${r.lovePlot}`] : []),
  ],
});

const refuteVerb = verb({
  summary: 'placebo treatment, random common cause and subset refuters',
  usage: '[--data …] [options]',
  description:
    'Reruns each estimator under the refuters: a permuted (placebo) treatment should give 0, an added random covariate or a subset should leave the estimate in place.',
  options: { ...dataOptions, runs: int('runs per refuter', { min: 1, max: 1e4, default: 20 }) },
  run: (o) => refuteRun(configOf(o), o.runs),
  show: (r) => [
    `${r.data}: refuter, estimator: original → mean ± sd of refuted (expected)`,
    ...r.refutations.map(
      (x) =>
        `${x.refuter.padEnd(20)} ${x.estimator.padEnd(14)} ${f(x.original).padStart(10)} → ${f(x.mean).padStart(10)} ± ${f(x.sd)} (expected ${f(x.expected)})${x.failed ? `, ${x.failed} failed` : ''}`,
    ),
  ],
});

const simulate = verb({
  summary: 'simulate an ICU cohort with confounded treatment and known effects (CSV)',
  usage: '[options]',
  description:
    'Writes a simulated ICU cohort (prone positioning and P/F ratio) with its true effects and propensities as CSV.',
  options: { ...simOptions, out: path('CSV file to write', { default: 'runs/icu-sim.csv' }) },
  run: (o) => {
    const c = simulateIcu({
      ...Object.fromEntries(Object.entries({ ...o, seed: o.simSeed }).filter(([, v]) => v !== undefined)),
    });
    mkdirSync(dirname(o.out), { recursive: true });
    writeFileSync(o.out, icuCsv(c));
    return {
      file: o.out,
      n: c.n,
      treated: c.t.reduce((a, b) => a + b, 0),
      ate: c.truth!.ate!,
      att: c.truth!.att!,
      settings: c.settings,
    };
  },
  show: (r) => [
    `${r.file}: ${r.n} patients, ${r.treated} proned; population ATE ${r.ate.toFixed(3)}, this cohort's ATT ${r.att.toFixed(3)}`,
  ],
});

export const causal: Family = {
  summary: 'treatment effects from observational data: estimators, bootstrap, balance, refuters',
  verbs: { estimate, balance, refute: refuteVerb, simulate },
};
