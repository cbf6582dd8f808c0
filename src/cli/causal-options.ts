// The option tables of `genlab causal` (data, estimators, simulator) and their conversion into a
// run config, shared by the verbs in causal.ts.
import { type CausalRunConfig, causalConfig } from '../causal/experiment.js';
import { ICU_DEFAULTS } from '../causal/simulate.js';
import { choice, float, int, text } from './args.js';
import { seed, threads } from './common.js';

const list = (s?: string) =>
  s === undefined
    ? undefined
    : s
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean);

export const simOptions = {
  n: int('sim: patients', { min: 20, max: 1e7, defaultText: String(ICU_DEFAULTS.n) }),
  simSeed: int('sim: seed of the simulated cohort', { min: 0, max: 2 ** 31 - 1, defaultText: '0' }),
  effect: float('sim: population average effect (mmHg of P/F ratio)', {
    min: -1e4,
    max: 1e4,
    defaultText: String(ICU_DEFAULTS.effect),
  }),
  heterogeneity: float('sim: scale of effect variation between patients', { min: 0, max: 100, defaultText: '1' }),
  confounding: float('sim: strength of severity in the treatment choice (0: randomised)', {
    min: 0,
    max: 10,
    defaultText: '1',
  }),
  noise: float('sim: outcome noise sd', { min: 0, max: 1e4, defaultText: String(ICU_DEFAULTS.noise) }),
};

export const dataOptions = {
  data: text('ihdp:1 … ihdp:10, lalonde, sim (the ICU simulator) or a CSV file', { default: 'ihdp:1' }),
  treatment: text('CSV: treatment column (0/1)'),
  outcome: text('CSV: outcome column'),
  covariates: text('CSV: covariate columns, names or ranges first:last, comma-separated', {
    defaultText: 'all others',
  }),
  factors: text('CSV: text covariates to expand into level indicators'),
  estimand: choice('effect to estimate', ['ATE', 'ATT'], { defaultText: 'ATT for lalonde, else ATE' }),
  estimators: text('comma-separated estimators, or all', { default: 'all' }),
  trim: float('IPW/AIPW: drop units with propensity outside [trim, 1 − trim]', { min: 0, max: 0.49, default: 0 }),
  caliper: float('matching caliper in sds of the propensity score (0: none)', { min: 0, max: 10, default: 0 }),
  strata: int('propensity strata for stratification', { min: 1, max: 100, default: 5 }),
  folds: int('AIPW cross-fitting folds (1: none)', { min: 1, max: 20, default: 5 }),
  matchRule: choice("nearest-neighbour rule: 'matchit' reproduces MatchIt 4.5.1's pairs", ['nearest', 'matchit'], {
    default: 'nearest',
  }),
  propensity: choice('propensity model of stratification, matching, IPW and AIPW', ['logistic', 'mlp'], {
    default: 'logistic',
  }),
  outcomeModel: choice(
    "AIPW's outcome models: linear, or with squares of the non-binary covariates",
    ['linear', 'quadratic'],
    {
      default: 'linear',
    },
  ),
  nnSteps: int('TARNet/CFR training steps', { min: 1, max: 1e6, default: 1500 }),
  seed,
  threads,
  ...simOptions,
};

type DataValues = {
  data: string;
  treatment?: string;
  outcome?: string;
  covariates?: string;
  factors?: string;
  estimand?: 'ATE' | 'ATT';
  estimators: string;
  trim: number;
  caliper: number;
  strata: number;
  folds: number;
  matchRule: 'nearest' | 'matchit';
  propensity: 'logistic' | 'mlp';
  outcomeModel: 'linear' | 'quadratic';
  nnSteps: number;
  seed: number;
  n?: number;
  simSeed?: number;
  effect?: number;
  heterogeneity?: number;
  confounding?: number;
  noise?: number;
};

export function configOf(o: DataValues, extra: Partial<CausalRunConfig> = {}): CausalRunConfig {
  const sim = {
    n: o.n,
    seed: o.simSeed,
    effect: o.effect,
    heterogeneity: o.heterogeneity,
    confounding: o.confounding,
    noise: o.noise,
  };
  return causalConfig(o.data, {
    ...o,
    covariates: list(o.covariates),
    factors: list(o.factors),
    estimators: list(o.estimators),
    nn: { steps: o.nnSteps, hidden: 64, alpha: 1 },
    sim: { ...ICU_DEFAULTS, ...Object.fromEntries(Object.entries(sim).filter(([, v]) => v !== undefined)) },
    ...extra,
  });
}
