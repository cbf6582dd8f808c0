// The causal family's reproductions, written to results/causal.md (tables) and results/causal-*.svg.
// Sections run separately and keep their numbers in runs/causal-bench/*.json; `report` assembles:
//   npx tsx bench/causal.ts ihdp [steps]              IHDP 1–10, every estimator, ATE error and √PEHE
//   npx tsx bench/causal.ts lalonde [B]               LaLonde ATT vs the experimental $1,794
//   npx tsx bench/causal.ts coverage [cohorts] [B] [n] bootstrap coverage on simulated ICU cohorts
//   npx tsx bench/causal.ts icu [B]                   one simulated ICU cohort analysed in full
//   npx tsx bench/causal.ts report                    writes results/causal.md
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { overlapSvg } from '../src/causal/balance.js';
import { bootstrapMany } from '../src/causal/bootstrap.js';
import { loadIhdp, loadLalonde } from '../src/causal/data.js';
import { ESTIMATOR_DEFAULTS, OUTCOME_MODELS, selectEstimators } from '../src/causal/estimators.js';
import { analyse, analysisLovePlot, causalConfig, type EstimateRow, refuteRun } from '../src/causal/experiment.js';
import { fitPropensity } from '../src/causal/propensity.js';
import { simulateIcu } from '../src/causal/simulate.js';
import { setNumThreads } from '../src/torch/runtime.js';

const OUT = 'runs/causal-bench';
mkdirSync(OUT, { recursive: true });
setNumThreads(1);
const [section = 'report', ...rest] = process.argv.slice(2);
const arg = (i: number, d: number) => (rest[i] === undefined ? d : Number(rest[i]));
const save = (name: string, v: unknown) => writeFileSync(`${OUT}/${name}.json`, `${JSON.stringify(v, null, 1)}\n`);
const load = (name: string) =>
  existsSync(`${OUT}/${name}.json`) ? JSON.parse(readFileSync(`${OUT}/${name}.json`, 'utf8')) : undefined;
const log = (m: string) => process.stderr.write(`${m}\n`);

if (section === 'ihdp') {
  const steps = arg(0, 1500);
  const reps: { k: number; truth: number; rows: EstimateRow[] }[] = [];
  for (let k = 1; k <= 10; k++) {
    const d = loadIhdp(k);
    const a = await analyse(d, causalConfig(`ihdp:${k}`, { bootstrap: 0, nn: { steps, hidden: 64, alpha: 1 } }), (m) =>
      log(`ihdp:${k} ${m}`),
    );
    reps.push({ k, truth: a.truth!.value, rows: a.rows });
    save('ihdp', { steps, reps });
  }
}

if (section === 'lalonde') {
  const B = arg(0, 200);
  const d = loadLalonde();
  const cfg = causalConfig('lalonde', { bootstrap: B });
  const a = await analyse(d, cfg, log);
  const mi = await analyse(
    d,
    causalConfig('lalonde', { bootstrap: B, estimators: ['match'], matchRule: 'matchit' }),
    log,
  );
  save('lalonde', { B, analysis: a, matchit: mi.rows[0] });
  writeFileSync('results/causal-lalonde-love.svg', analysisLovePlot(a, d.covariates));
  writeFileSync(
    'results/causal-lalonde-overlap.svg',
    overlapSvg(fitPropensity(d).p, d.t, { title: 'Propensity overlap, LaLonde (NSW treated vs PSID)' }),
  );
}

if (section === 'coverage') {
  const cohorts = arg(0, 200);
  const B = arg(1, 100);
  const n = arg(2, 500);
  const confounding = arg(3, 1);
  const ests = selectEstimators(['all'], 'ATE');
  const tag = confounding === 1 ? '' : `-c${confounding}`;
  const file = `${OUT}/coverage${tag}.jsonl`;
  const done = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).length : 0;
  if (!done) writeFileSync(`${OUT}/coverage${tag}-settings.json`, JSON.stringify({ cohorts, B, n, confounding }));
  for (let c = done; c < cohorts; c++) {
    const start = performance.now();
    const d = simulateIcu({ n, seed: 1000 + c, confounding });
    const o = { ...ESTIMATOR_DEFAULTS, seed: c };
    const point = Object.fromEntries(
      ests.map((e) => {
        try {
          return [e.name, e.run(d, o).estimate];
        } catch {
          return [e.name, null];
        }
      }),
    );
    const boots = bootstrapMany(d, ests, o, B, { seed: c });
    const row = Object.fromEntries(
      [...boots].map(([k, b]) => [k, { est: point[k], lo: b.lo, hi: b.hi, se: b.se, failed: b.failed }]),
    );
    appendFileSync(file, `${JSON.stringify({ cohort: c, truth: d.truth!.ate, rows: row })}\n`);
    log(`cohort ${c + 1}/${cohorts}: ${((performance.now() - start) / 1000).toFixed(1)} s`);
  }
}

// AIPW alone, after the diagnosis in results/causal.md: the linear and the quadratic outcome model,
// each with its bootstrap interval (every replicate refits the propensity and outcome models on
// redrawn folds that keep a unit's copies together) and its influence-function interval.
if (section === 'coverage-aipw') {
  const cohorts = arg(0, 200);
  const B = arg(1, 100);
  const n = arg(2, 500);
  const confounding = arg(3, 1);
  const tag = confounding === 1 ? '' : `-c${confounding}`;
  const file = `${OUT}/coverage-aipw${tag}.jsonl`;
  const done = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).length : 0;
  if (!done) writeFileSync(`${OUT}/coverage-aipw${tag}-settings.json`, JSON.stringify({ cohorts, B, n, confounding }));
  const aipw = selectEstimators(['aipw'], 'ATE');
  for (let c = done; c < cohorts; c++) {
    const start = performance.now();
    const d = simulateIcu({ n, seed: 1000 + c, confounding });
    const rows: Record<string, unknown> = {};
    for (const outcomeModel of OUTCOME_MODELS) {
      const o = { ...ESTIMATOR_DEFAULTS, seed: c, outcomeModel };
      const point = aipw[0].run(d, o);
      const b = bootstrapMany(d, aipw, o, B, { seed: c }).get('aipw')!;
      rows[`aipw-${outcomeModel}`] = {
        est: point.estimate,
        ifSe: point.se,
        lo: b.lo,
        hi: b.hi,
        se: b.se,
        failed: b.failed,
      };
    }
    const sate = d.truth!.ite!.reduce((a, v) => a + v, 0) / d.n;
    appendFileSync(file, `${JSON.stringify({ cohort: c, truth: d.truth!.ate, sampleAte: sate, rows })}\n`);
    log(`cohort ${c + 1}/${cohorts}: ${((performance.now() - start) / 1000).toFixed(1)} s`);
  }
}

if (section === 'icu') {
  const B = arg(0, 200);
  const d = simulateIcu({ n: 1000, seed: 0 });
  const cfg = causalConfig('sim', { bootstrap: B, sim: { ...d.settings } });
  const a = await analyse(d, cfg, log);
  const att = await analyse(d, { ...cfg, estimand: 'ATT' }, log);
  const ref = refuteRun({ ...cfg, estimators: ['ols', 'ols-interact', 'stratify', 'ipw-norm', 'aipw'] }, 20);
  save('icu', { B, analysis: a, att, refute: ref.refutations });
  writeFileSync('results/causal-icu-love.svg', analysisLovePlot(a, d.covariates));
  writeFileSync(
    'results/causal-icu-overlap.svg',
    overlapSvg(fitPropensity(d).p, d.t, { title: 'Propensity overlap, simulated ICU cohort' }),
  );
}

if (section === 'report') {
  const f = (v: number | null | undefined, d = 2) =>
    v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d);
  const ms = (v: number[]) => {
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    const s = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1));
    return `${m.toFixed(2)} ± ${s.toFixed(2)}`;
  };
  const out: string[] = [];
  const ihdp = load('ihdp');
  if (ihdp) {
    out.push(
      `### IHDP 1–10 (ATE; mean ± sd over the ${ihdp.reps.length} replicates; TARNet/CFR ${ihdp.steps} steps)`,
      '',
    );
    out.push('| estimator | ε_ATE = abs(ATE − truth) | √PEHE |', '|---|---|---|');
    for (const name of ihdp.reps[0].rows.map((r: EstimateRow) => r.estimator)) {
      const rows = ihdp.reps.map((r: { rows: EstimateRow[] }) => r.rows.find((x) => x.estimator === name)!);
      out.push(
        `| ${name} | ${ms(rows.map((r: EstimateRow) => Math.abs(r.error!)))} | ${ms(rows.map((r: EstimateRow) => r.sqrtPehe!))} |`,
      );
    }
    out.push('');
  }
  const lal = load('lalonde');
  if (lal) {
    out.push(`### LaLonde ATT (bootstrap B = ${lal.B}; experimental benchmark $1,794)`, '');
    out.push(
      '| estimator | ATT | 95% bootstrap interval | SE (analytic) | SE (bootstrap) | ATT − 1,794 |',
      '|---|---|---|---|---|---|',
    );
    for (const r of [...lal.analysis.rows, { ...lal.matchit, estimator: 'match (MatchIt rule)' }] as EstimateRow[]) {
      const b = r.bootstrap;
      out.push(
        `| ${r.estimator} | ${f(r.estimate, 0)} | ${b ? `[${f(b.lo, 0)}, ${f(b.hi, 0)}]` : '—'} | ${f(r.se, 0)} | ${f(b?.se, 0)} | ${f(r.estimate - 1794, 0)} |`,
      );
    }
    out.push('');
  }
  for (const tag of ['', '-c0.5']) {
    const covFile = `${OUT}/coverage${tag}.jsonl`;
    if (!existsSync(covFile)) continue;
    {
      const lines = readFileSync(covFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const st = JSON.parse(readFileSync(`${OUT}/coverage${tag}-settings.json`, 'utf8'));
      out.push(
        `### Coverage of 95% percentile bootstrap intervals (${lines.length} simulated cohorts of ${st.n}, confounding ${st.confounding ?? 1}, B = ${st.B}, true ATE ${lines[0].truth})`,
        '',
      );
      out.push(
        '| estimator | coverage | mean estimate − truth | sd of estimates | mean interval width | failed resamples |',
        '|---|---|---|---|---|---|',
      );
      for (const name of Object.keys(lines[0].rows)) {
        const rs = lines.map((l) => ({ ...l.rows[name], truth: l.truth })).filter((r) => r.est !== null);
        const cover = rs.filter((r) => r.lo <= r.truth && r.truth <= r.hi).length;
        const bias = rs.map((r) => r.est - r.truth);
        out.push(
          `| ${name} | ${cover}/${rs.length} = ${((100 * cover) / rs.length).toFixed(1)}% | ${ms(bias).split(' ± ')[0]} | ${ms(bias).split(' ± ')[1]} | ${f(rs.reduce((a, r) => a + (r.hi - r.lo), 0) / rs.length)} | ${rs.reduce((a, r) => a + r.failed, 0)} |`,
        );
      }
      out.push('');
    }
  }

  const icu = load('icu');
  if (icu) {
    for (const a of [icu.analysis, icu.att]) {
      out.push(
        `### Simulated ICU cohort, ${a.estimand} (n ${a.n}, ${a.treated} proned; true ${a.estimand} ${f(a.truth.value)}; B = ${icu.B})`,
        '',
      );
      out.push(
        '| estimator | estimate | 95% bootstrap interval | covers truth | E-value (point / limit) | √PEHE |',
        '|---|---|---|---|---|---|',
      );
      for (const r of a.rows as EstimateRow[]) {
        const b = r.bootstrap;
        const covers = b ? (b.lo <= a.truth.value && a.truth.value <= b.hi ? 'yes' : 'no') : '—';
        out.push(
          `| ${r.estimator} | ${f(r.estimate)} | ${b ? `[${f(b.lo)}, ${f(b.hi)}]` : '—'} | ${covers} | ${r.eValue ? `${f(r.eValue.point)} / ${f(r.eValue.limit)}` : '—'} | ${f(r.sqrtPehe)} |`,
        );
      }
      out.push('');
    }
    out.push('| refuter | estimator | original | refuted mean ± sd (20 runs) | expected |', '|---|---|---|---|---|');
    for (const r of icu.refute)
      out.push(`| ${r.refuter} | ${r.estimator} | ${f(r.original)} | ${f(r.mean)} ± ${f(r.sd)} | ${f(r.expected)} |`);
    out.push('');
  }
  writeFileSync(`${OUT}/tables.md`, `${out.join('\n')}\n`);
  process.stdout.write(`${out.join('\n')}\n`);
}
