// The causal family's experiment: one analysis runs several estimators side by side on one data set
// (the paper's point: agreement between estimators with different assumptions is the evidence),
// each with a bootstrap interval, plus balance, overlap and E-values; written into a run folder.
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { GenlabError } from '../torch/errors.js';
import { checkSettings, familyConfig } from '../train/config.js';
import { Run } from '../train/run.js';
import type { TrainOptions } from '../train/session.js';
import { type Balance, balanceTable, lovePlotSvg, overlapSvg } from './balance.js';
import { type BootstrapResult, bootstrapManyParallel } from './bootstrap.js';
import { type CausalData, loadCausalData } from './data.js';
import {
  ESTIMATOR_DEFAULTS,
  ESTIMATOR_NAMES,
  type Estimate,
  type EstimatorOptions,
  OUTCOME_MODELS,
  type Shared,
  selectEstimators,
} from './estimators.js';
import { type EValue, eValueDifference } from './evalue.js';
import { registerMlpPropensity } from './mlp-propensity.js';
import { effectiveSampleSize, fitPropensityModel, PROPENSITY_KINDS } from './propensity.js';
import { REFUTERS, type Refutation, refute } from './refute.js';
import { ICU_DEFAULTS, simulateIcu } from './simulate.js';
import { sd } from './stats.js';
import { NN_ESTIMATORS, type NnEstimatorName, TARNET_DEFAULTS, tarnetEstimate } from './tarnet.js';

registerMlpPropensity();

export const ALL_ESTIMATORS = [...ESTIMATOR_NAMES, ...Object.keys(NN_ESTIMATORS)];

export const causalRunConfig = z.object({
  family: z.literal('causal'),
  data: z.string(),
  treatment: z.string().optional(),
  outcome: z.string().optional(),
  covariates: z.array(z.string()).optional(),
  factors: z.array(z.string()).optional(),
  estimand: z.enum(['ATE', 'ATT']),
  estimators: z.array(z.string()).min(1),
  bootstrap: z.number().int().min(0),
  trim: z.number().min(0).lt(0.5),
  caliper: z.number().min(0),
  strata: z.number().int().min(1).max(100),
  folds: z.number().int().min(1).max(20),
  matchRule: z.enum(['nearest', 'matchit']),
  propensity: z.enum(PROPENSITY_KINDS),
  outcomeModel: z.enum(OUTCOME_MODELS),
  /** Worker threads for the bootstrap (the result does not depend on it). */
  workers: z.number().int().min(1).max(64),
  seed: z.number().int().min(0),
  nn: z.object({ steps: z.number().int().min(1), hidden: z.number().int().min(1), alpha: z.number().min(0) }),
  sim: z.object({
    n: z.number().int().min(20),
    seed: z.number().int().min(0),
    effect: z.number(),
    heterogeneity: z.number(),
    confounding: z.number(),
    noise: z.number().min(0),
  }),
});
export type CausalRunConfig = z.infer<typeof causalRunConfig>;
export const parseCausalConfig = familyConfig('causal', causalRunConfig);

/** Defaults: the ATT on LaLonde (its benchmark is an ATT), the ATE elsewhere. */
export function causalConfig(data: string, overrides: Partial<Omit<CausalRunConfig, 'family'>> = {}): CausalRunConfig {
  const clean = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const cfg = {
    family: 'causal' as const,
    data,
    estimand: data === 'lalonde' ? ('ATT' as const) : ('ATE' as const),
    estimators: ['all'],
    bootstrap: 200,
    trim: ESTIMATOR_DEFAULTS.trim,
    caliper: ESTIMATOR_DEFAULTS.caliper,
    strata: ESTIMATOR_DEFAULTS.strata,
    folds: ESTIMATOR_DEFAULTS.folds,
    matchRule: ESTIMATOR_DEFAULTS.matchRule,
    propensity: ESTIMATOR_DEFAULTS.propensity,
    outcomeModel: ESTIMATOR_DEFAULTS.outcomeModel,
    workers: 1,
    seed: 0,
    nn: { steps: TARNET_DEFAULTS.steps, hidden: TARNET_DEFAULTS.hidden, alpha: TARNET_DEFAULTS.alpha },
    ...clean,
    sim: { ...ICU_DEFAULTS, ...(overrides.sim ?? {}) },
  };
  return checkSettings(causalRunConfig, cfg);
}

export function loadConfigData(cfg: CausalRunConfig): CausalData {
  if (cfg.data === 'sim') return simulateIcu(cfg.sim);
  return loadCausalData(cfg.data, cfg);
}

export function estimatorOptions(cfg: CausalRunConfig): EstimatorOptions {
  const { estimand, trim, caliper, strata, folds, matchRule, propensity, outcomeModel, seed } = cfg;
  return { estimand, trim, caliper, strata, folds, matchRule, propensity, outcomeModel, seed };
}

export interface EstimateRow {
  estimator: string;
  estimand: string;
  estimate: number;
  se?: number;
  seKind?: string;
  bootstrap?: Omit<BootstrapResult, 'estimates'>;
  /** Estimate − truth, where the data's truth is known. */
  error?: number;
  /** √PEHE where individual truths are known (a constant-effect estimator uses its estimate for all). */
  sqrtPehe?: number;
  eValue?: EValue;
  warnings: string[];
  seconds: number;
}

export interface Analysis {
  data: string;
  n: number;
  treated: number;
  estimand: string;
  truth?: { value: number; source: string };
  rows: EstimateRow[];
  balance?: { estimators: string[]; before: Balance; after: Record<string, Balance> };
  propensity?: { min: number; max: number; essTreated: number; essControl: number };
}

function isNn(name: string): name is NnEstimatorName {
  return name in NN_ESTIMATORS;
}

/** Runs one estimator by name (the linear ones or the networks) on data. */
export function runEstimator(d: CausalData, name: string, cfg: CausalRunConfig, shared?: Shared): Estimate {
  if (isNn(name)) {
    return tarnetEstimate(d, name, cfg.estimand, {
      steps: cfg.nn.steps,
      hidden: cfg.nn.hidden,
      alpha: cfg.nn.alpha,
      seed: cfg.seed,
    });
  }
  return selectEstimators([name], cfg.estimand)[0].run(d, estimatorOptions(cfg), shared);
}

/** The estimator names a config asks for; 'all' means every estimator that applies to the estimand. */
export function estimatorNames(cfg: CausalRunConfig): string[] {
  if (cfg.estimators.includes('all'))
    return [...selectEstimators(['all'], cfg.estimand).map((e) => e.name), ...Object.keys(NN_ESTIMATORS)];
  for (const n of cfg.estimators) {
    if (!ALL_ESTIMATORS.includes(n)) {
      throw new GenlabError(
        'usage',
        `unknown estimator '${n}'; one of: all, ${ALL_ESTIMATORS.join(', ')}`,
        'check {estimators}',
      );
    }
  }
  return cfg.estimators;
}

/** Every estimator side by side, with bootstrap intervals (the networks are not bootstrapped). */
export async function analyse(d: CausalData, cfg: CausalRunConfig, log?: (m: string) => void): Promise<Analysis> {
  const names = estimatorNames(cfg);
  const shared: Shared = {};
  const truthValue = cfg.estimand === 'ATE' ? d.truth?.ate : d.truth?.att;
  const sdY = sd(d.y);
  const rows: EstimateRow[] = [];
  const after: Record<string, Balance> = {};
  const linear = names.filter((n) => !isNn(n));
  let boots: Map<string, BootstrapResult> | undefined;
  if (cfg.bootstrap > 0 && linear.length) {
    const start = performance.now();
    boots = await bootstrapManyParallel(
      d,
      linear.map((n) => selectEstimators([n], cfg.estimand)[0]),
      estimatorOptions(cfg),
      cfg.bootstrap,
      { seed: cfg.seed, workers: cfg.workers },
    );
    log?.(
      `bootstrap: ${cfg.bootstrap} resamples of ${linear.length} estimators (${((performance.now() - start) / 1000).toFixed(1)} s)`,
    );
  }
  for (const name of names) {
    const start = performance.now();
    const e = runEstimator(d, name, cfg, shared);
    const boot = boots?.get(name);
    if (boot?.failed) e.warnings.push(`${name}: ${boot.failed} of ${boot.replicates} bootstrap resamples failed`);
    const lo = boot?.lo ?? e.estimate - 1.96 * (e.se ?? Number.NaN);
    const hi = boot?.hi ?? e.estimate + 1.96 * (e.se ?? Number.NaN);
    const row: EstimateRow = {
      estimator: name,
      estimand: e.estimand,
      estimate: e.estimate,
      se: e.se,
      seKind: e.seKind,
      warnings: e.warnings,
      seconds: (performance.now() - start) / 1000,
    };
    if (boot) {
      const { estimates: _, ...rest } = boot;
      row.bootstrap = rest;
    }
    if (truthValue !== undefined) row.error = e.estimate - truthValue;
    const trueIte = d.truth?.ite;
    if (trueIte) {
      let s = 0;
      for (let i = 0; i < d.n; i++) s += ((e.ite ? e.ite[i] : e.estimate) - trueIte[i]) ** 2;
      row.sqrtPehe = Math.sqrt(s / d.n);
    }
    if (Number.isFinite(lo) && Number.isFinite(hi)) row.eValue = eValueDifference(e.estimate, lo, hi, sdY);
    if (e.weights) after[name] = balanceTable(d, cfg.estimand, e.weights);
    rows.push(row);
    log?.(`${name}: ${e.estimate.toFixed(4)} (${row.seconds.toFixed(1)} s)`);
  }
  const analysis: Analysis = {
    data: d.name,
    n: d.n,
    treated: d.t.reduce((a, b) => a + b, 0),
    estimand: cfg.estimand,
    rows,
    balance: { estimators: Object.keys(after), before: balanceTable(d, cfg.estimand), after },
  };
  if (truthValue !== undefined) analysis.truth = { value: truthValue, source: d.truth!.source };
  if (shared.propensity) {
    const e = shared.propensity.p;
    const w = Array.from(e, (v, i) => (d.t[i] ? 1 / v : 1 / (1 - v)));
    analysis.propensity = {
      min: Math.min(...e),
      max: Math.max(...e),
      essTreated: effectiveSampleSize(w.map((v, i) => (d.t[i] ? v : 0))),
      essControl: effectiveSampleSize(w.map((v, i) => (d.t[i] ? 0 : v))),
    };
  }
  return analysis;
}

export interface EstimateResult extends Analysis {
  run: string;
  files: string[];
}

/** The Love plot of an analysis: unadjusted and each weighting estimator's |SMD|. */
export function analysisLovePlot(a: Analysis, covariates: string[]): string {
  const b = a.balance!;
  return lovePlotSvg(
    covariates,
    [
      { name: 'unadjusted', smd: b.before.rows.map((r) => r.smdBefore) },
      ...b.estimators.map((n) => ({ name: n, smd: b.after[n].rows.map((r) => r.smdAfter ?? Number.NaN) })),
    ],
    { title: `Covariate balance, ${a.data} (${a.estimand})` },
  );
}

/** `genlab causal estimate`: the analysis, written into a run folder with its two plots. */
export async function estimateRun(cfg: CausalRunConfig, dir: string, opts: TrainOptions = {}): Promise<EstimateResult> {
  const d = loadConfigData(cfg);
  const run = Run.open(dir, cfg, { parse: parseCausalConfig, notify: opts.log });
  try {
    opts.log?.(
      `causal estimate: ${JSON.stringify({ ...cfg, sim: cfg.data === 'sim' ? cfg.sim : undefined })} -> ${dir}`,
    );
    const a = await analyse(d, cfg, opts.log);
    const files = [run.path('results.json'), run.path('love.svg')];
    writeFileSync(files[1], analysisLovePlot(a, d.covariates));
    let e: Float64Array | undefined;
    try {
      e = fitPropensityModel(d, cfg.propensity, { seed: cfg.seed }).p;
    } catch {
      e = undefined;
    }
    if (e) {
      files.push(run.path('overlap.svg'));
      writeFileSync(files[2], overlapSvg(e, d.t, { title: `Propensity overlap, ${a.data}` }));
    }
    const result = { ...a, run: dir, files };
    writeFileSync(files[0], `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    run.close();
  }
}

export interface BalanceResult {
  data: string;
  estimand: string;
  before: Balance;
  after: Record<string, Balance>;
  lovePlot?: string;
}

/** `genlab causal balance`: SMDs and variance ratios before and after each weighting estimator. */
export function balanceRun(cfg: CausalRunConfig, out?: string): BalanceResult {
  const d = loadConfigData(cfg);
  const names = estimatorNames({
    ...cfg,
    estimators: cfg.estimators.includes('all') ? ['stratify', 'match', 'ipw-norm'] : cfg.estimators,
  });
  const shared: Shared = {};
  const after: Record<string, Balance> = {};
  for (const n of names) {
    if (cfg.estimand === 'ATE' && n === 'match') continue;
    const e = runEstimator(d, n, cfg, shared);
    if (e.weights) after[n] = balanceTable(d, cfg.estimand, e.weights);
  }
  const result: BalanceResult = { data: d.name, estimand: cfg.estimand, before: balanceTable(d, cfg.estimand), after };
  if (out) {
    writeFileSync(
      out,
      lovePlotSvg(d.covariates, [
        { name: 'unadjusted', smd: result.before.rows.map((r) => r.smdBefore) },
        ...Object.entries(after).map(([n, b]) => ({ name: n, smd: b.rows.map((r) => r.smdAfter ?? Number.NaN) })),
      ]),
    );
    result.lovePlot = out;
  }
  return result;
}

/** `genlab causal refute`: each refuter against each (non-network) estimator. */
export function refuteRun(cfg: CausalRunConfig, runs: number): { data: string; refutations: Refutation[] } {
  const d = loadConfigData(cfg);
  const names = estimatorNames(cfg).filter((n) => !isNn(n));
  const refutations: Refutation[] = [];
  for (const n of names) {
    const est = selectEstimators([n], cfg.estimand)[0];
    const original = est.run(d, estimatorOptions(cfg)).estimate;
    for (const r of REFUTERS) refutations.push(refute(d, est, estimatorOptions(cfg), r, { runs, original }));
  }
  return { data: d.name, refutations };
}
