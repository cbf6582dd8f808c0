// The causal family's reproductions, written to results/causal.md (tables) and results/causal-*.svg.
// Sections run separately and keep their numbers in runs/causal-bench/*.json; `report` assembles:
//   npx tsx bench/causal.ts ihdp [steps]              IHDP 1–10, every estimator, ATE error and √PEHE
//   npx tsx bench/causal.ts lalonde [B]               LaLonde ATT vs the experimental $1,794
//   npx tsx bench/causal.ts coverage [cohorts] [B] [n] bootstrap coverage on simulated ICU cohorts
//   npx tsx bench/causal.ts aipw-diagnosis [cohorts]   why AIPW's intervals missed: one switch at a time
//   npx tsx bench/causal.ts coverage-aipw [cohorts] [B] [n] [confounding]   AIPW, both outcome models
//   npx tsx bench/causal.ts icu [B]                   one simulated ICU cohort analysed in full
//   npx tsx bench/causal.ts report                    writes results/causal.md
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { overlapSvg } from '../src/causal/balance.js';
import { bootstrapMany } from '../src/causal/bootstrap.js';
import { loadIhdp, loadLalonde, subset } from '../src/causal/data.js';
import {
  ESTIMATOR_DEFAULTS,
  foldsOf,
  OUTCOME_MODELS,
  outcomeDesign,
  selectEstimators,
} from '../src/causal/estimators.js';
import { analyse, analysisLovePlot, causalConfig, type EstimateRow, refuteRun } from '../src/causal/experiment.js';
import { matVec, ridgeCoef, rows, withIntercept } from '../src/causal/linalg.js';
import { fitPropensity, logisticPropensity } from '../src/causal/propensity.js';
import { ICU_COVARIATES, type IcuCohort, simulateIcu } from '../src/causal/simulate.js';
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

// Why AIPW's intervals missed (results/causal.md): AIPW's arithmetic with one switch at a time, on the
// coverage cohorts, point estimates and influence-function SEs only (no bootstrap): clipping level,
// the true propensity instead of the fitted one, the outcome model (linear, the simulator's own
// FiO2² term, squares of all covariates), against the sd of the estimates across cohorts.
if (section === 'aipw-diagnosis') {
  const cohorts = arg(0, 200);
  type Variant = { clip: number; oracle?: boolean; outcome: 'linear' | 'fio2' | 'quadratic' };
  const variants: Record<string, Variant> = {
    'as shipped (clip 0.01, linear)': { clip: 0.01, outcome: 'linear' },
    'no clipping': { clip: 1e-12, outcome: 'linear' },
    'clip 0.05': { clip: 0.05, outcome: 'linear' },
    'true propensity, no clipping': { clip: 1e-12, oracle: true, outcome: 'linear' },
    'outcome + the simulator’s FiO2² term': { clip: 0.01, outcome: 'fio2' },
    'outcome + squares (--outcome-model quadratic)': { clip: 0.01, outcome: 'quadratic' },
  };
  const fio2 = ICU_COVARIATES.indexOf('fio2');
  const aipwWith = (d: IcuCohort, v: Variant, seed: number) => {
    const xo =
      v.outcome === 'fio2'
        ? withIntercept(d.x, [Float64Array.from({ length: d.n }, (_, i) => (d.x.a[i * d.x.p + fio2] - 0.55) ** 2)])
        : outcomeDesign(d.x, v.outcome);
    const folds = foldsOf(d.n, 5, seed);
    const psi = new Float64Array(d.n);
    for (let f = 0; f < 5; f++) {
      const test = [...folds.keys()].filter((i) => folds[i] === f);
      const train = [...folds.keys()].filter((i) => folds[i] !== f);
      const e = logisticPropensity(subset(d, train), { seed, ridge: 1 }).predict(rows(d.x, test));
      const arm = (a: number) => {
        const r = train.filter((i) => d.t[i] === a);
        return matVec(
          rows(xo, test),
          ridgeCoef(
            rows(xo, r),
            Float64Array.from(r, (i) => d.y[i]),
            1e-6,
          ),
        );
      };
      const [m1, m0] = [arm(1), arm(0)];
      test.forEach((i, k) => {
        const ei = Math.min(Math.max(v.oracle ? d.propensity[i] : e[k], v.clip), 1 - v.clip);
        const t = d.t[i];
        psi[i] = m1[k] - m0[k] + (t * (d.y[i] - m1[k])) / ei - ((1 - t) * (d.y[i] - m0[k])) / (1 - ei);
      });
    }
    const est = psi.reduce((a, b) => a + b, 0) / d.n;
    return { est, se: Math.sqrt(psi.reduce((a, b) => a + (b - est) ** 2, 0)) / d.n };
  };
  const out: Record<string, { est: number; se: number }[]> = Object.fromEntries(
    Object.keys(variants).map((k) => [k, []]),
  );
  const sate: number[] = [];
  for (let c = 0; c < cohorts; c++) {
    const d = simulateIcu({ n: 500, seed: 1000 + c });
    sate.push(d.truth!.ite!.reduce((a, b) => a + b, 0) / d.n);
    for (const [k, v] of Object.entries(variants)) out[k].push(aipwWith(d, v, c));
  }
  save('aipw-diagnosis', { cohorts, sate, variants: out });
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

  const diag = load('aipw-diagnosis');
  if (diag) {
    const old = existsSync(`${OUT}/coverage.jsonl`)
      ? readFileSync(`${OUT}/coverage.jsonl`, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).rows.aipw.se as number)
      : [];
    const sateMs = ms(diag.sate.map((v: number) => v - 20)).split(' ± ');
    out.push(
      `### AIPW diagnosis (${diag.cohorts} cohorts of 500, confounding 1; sample ATE − 20: mean ${sateMs[0]}, sd ${sateMs[1]}; mean bootstrap SE of the earlier run ${f(old.reduce((a, b) => a + b, 0) / Math.max(old.length, 1))})`,
      '',
      '| variant | mean − truth | sd of estimates | mean IF SE | IF coverage of 20 | of the sample ATE |',
      '|---|---|---|---|---|---|',
    );
    for (const [k, rs] of Object.entries(diag.variants) as [string, { est: number; se: number }[]][]) {
      const [bias, spread] = ms(rs.map((r) => r.est - 20)).split(' ± ');
      const mean = rs.reduce((a, r) => a + r.se, 0) / rs.length;
      const cov = rs.filter((r) => Math.abs(r.est - 20) <= 1.96 * r.se).length;
      const covS = rs.filter((r, i) => Math.abs(r.est - diag.sate[i]) <= 1.96 * r.se).length;
      out.push(`| ${k} | ${bias} | ${spread} | ${f(mean)} | ${cov}/${rs.length} | ${covS}/${rs.length} |`);
    }
    out.push('');
  }
  for (const tag of ['', '-c0.5']) {
    const covFile = `${OUT}/coverage-aipw${tag}.jsonl`;
    if (!existsSync(covFile)) continue;
    const lines = readFileSync(covFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const st = JSON.parse(readFileSync(`${OUT}/coverage-aipw${tag}-settings.json`, 'utf8'));
    out.push(
      `### AIPW coverage (${lines.length} cohorts of ${st.n}, confounding ${st.confounding}, B = ${st.B}, true ATE ${lines[0].truth}; folds redrawn per resample, a unit's copies in one fold)`,
      '',
      '| AIPW outcome model | bootstrap coverage | misses above / below | IF (sandwich) coverage | mean − truth | sd of estimates | mean bootstrap SE | mean IF SE | mean bootstrap width |',
      '|---|---|---|---|---|---|---|---|---|',
    );
    for (const name of Object.keys(lines[0].rows)) {
      const rs = lines.map((l) => ({ ...l.rows[name], truth: l.truth }));
      const n = rs.length;
      const pct = (k: number) => `${k}/${n} = ${((100 * k) / n).toFixed(1)}%`;
      const boot = rs.filter((r) => r.lo <= r.truth && r.truth <= r.hi).length;
      const inf = rs.filter((r) => Math.abs(r.est - r.truth) <= 1.96 * r.ifSe).length;
      const [bias, spread] = ms(rs.map((r) => r.est - r.truth)).split(' ± ');
      const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
      out.push(
        `| ${name.replace('aipw-', '')} | ${pct(boot)} | ${rs.filter((r) => r.lo > r.truth).length} / ${rs.filter((r) => r.hi < r.truth).length} | ${pct(inf)} | ${bias} | ${spread} | ${f(mean(rs.map((r) => r.se)))} | ${f(mean(rs.map((r) => r.ifSe)))} | ${f(mean(rs.map((r) => r.hi - r.lo)))} |`,
      );
    }
    out.push('');
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
