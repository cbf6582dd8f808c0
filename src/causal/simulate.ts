// A simulated ICU cohort in the spirit of the paper's target-trial emulation (Izdebski et al. 2021:
// prone positioning of ventilated COVID-19 patients, effect on oxygenation). Each row is one
// ventilated patient at the moment the clinician decides on a prone session:
//   age (years), sofa (SOFA score), pf_ratio (PaO2/FiO2, mmHg), peep (cmH2O), fio2, bmi (kg/m²).
// Clinicians prone the sicker patients more often (low P/F, high SOFA, high FiO2 and PEEP), and
// those patients also end with worse oxygenation, so the naive comparison is confounded. The outcome
// is the P/F ratio after the session; the individual effect grows as baseline P/F falls and BMI rises:
//   τ(x) = effect + heterogeneity·[(E[pf] − pf)/10 + (bmi − 29)/2]
// which averages exactly `effect` over the population (pf is log-normal with known mean, bmi normal
// with mean 29), so the population ATE is `effect` by construction.
import { Rng } from '../data/rng.js';
import { type CausalData, checkCausalData, truthFromIte } from './data.js';
import { matrix } from './linalg.js';
import { gaussian } from './refute.js';

export interface IcuSettings {
  /** Patients. */
  n: number;
  seed: number;
  /** Population average effect of proning on the P/F ratio (mmHg). */
  effect: number;
  /** Scale of the effect's variation between patients (0: constant effect). */
  heterogeneity: number;
  /** Multiplies the severity terms of the treatment choice (0: randomised, 1: default). */
  confounding: number;
  /** Residual sd of the outcome (mmHg). */
  noise: number;
}

export const ICU_DEFAULTS: IcuSettings = { n: 1000, seed: 0, effect: 20, heterogeneity: 1, confounding: 1, noise: 20 };

export const ICU_COVARIATES = ['age', 'sofa', 'pf_ratio', 'peep', 'fio2', 'bmi'];

const PF_MEDIAN = 150;
const PF_SIGMA = 0.35;
/** E[pf] of the log-normal baseline P/F ratio. */
export const PF_MEAN = PF_MEDIAN * Math.exp((PF_SIGMA * PF_SIGMA) / 2);

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

export interface IcuCohort extends CausalData {
  /** The propensity the simulated clinicians used. */
  propensity: Float64Array;
  settings: IcuSettings;
}

export function simulateIcu(settings: Partial<IcuSettings> = {}): IcuCohort {
  const s = { ...ICU_DEFAULTS, ...settings };
  const rng = new Rng(s.seed);
  const p = ICU_COVARIATES.length;
  const x = matrix(s.n, p);
  const t = new Uint8Array(s.n);
  const y = new Float64Array(s.n);
  const ite = new Float64Array(s.n);
  const e = new Float64Array(s.n);
  for (let i = 0; i < s.n; i++) {
    const age = clamp(62 + 13 * gaussian(rng), 18, 95);
    const pf = PF_MEDIAN * Math.exp(PF_SIGMA * gaussian(rng));
    // Sicker lungs go with more organ failure and more aggressive ventilator settings.
    const severity = (PF_MEDIAN - pf) / 50;
    const sofa = clamp(Math.round(7 + 1.5 * severity + 2.5 * gaussian(rng)), 0, 20);
    const peep = clamp(10 + 1.5 * severity + 2.5 * gaussian(rng), 5, 20);
    const fio2 = clamp(0.55 + 0.08 * severity + 0.1 * gaussian(rng), 0.3, 1);
    const bmi = 29 + 5 * gaussian(rng);
    x.a.set([age, sofa, pf, peep, fio2, bmi], i * p);
    // The clinicians' choice: logistic in the severity covariates.
    const logit =
      -0.5 +
      s.confounding *
        (-0.8 * ((pf - PF_MEDIAN) / 50) +
          0.15 * (sofa - 7) +
          2 * (fio2 - 0.55) +
          0.05 * (peep - 10) -
          0.015 * (age - 62));
    e[i] = 1 / (1 + Math.exp(-logit));
    t[i] = rng.random() < e[i] ? 1 : 0;
    const tau = s.effect + s.heterogeneity * ((PF_MEAN - pf) / 10 + (bmi - 29) / 2);
    // Untreated outcome: oxygenation persists, worsens with organ failure and age, and non-linearly
    // with FiO2 (a term the linear outcome models miss).
    const y0 = 40 + 0.8 * pf - 4 * (sofa - 7) - 0.4 * (age - 62) - 800 * (fio2 - 0.55) ** 2 - 1.5 * (peep - 10);
    ite[i] = tau;
    y[i] = y0 + t[i] * tau + s.noise * gaussian(rng);
  }
  const d = checkCausalData({
    name: `icu-sim (n ${s.n}, seed ${s.seed})`,
    n: s.n,
    covariates: [...ICU_COVARIATES],
    x,
    t,
    y,
    treatment: 'prone',
    outcome: 'pf_after',
  });
  const truth = truthFromIte(ite, t, 'simulated τ(x)');
  // The population ATE is `effect` by construction; the sample's mean of τ(x) is kept as sampleAte.
  return { ...d, truth: { ...truth, ate: s.effect }, propensity: e, settings: s };
}

/** The cohort as CSV text, with the true effect and propensity as extra columns. */
export function icuCsv(c: IcuCohort): string {
  const head = [...ICU_COVARIATES, 'prone', 'pf_after', 'true_effect', 'true_propensity'].join(',');
  const lines = [head];
  for (let i = 0; i < c.n; i++) {
    const row = Array.from(c.x.a.subarray(i * c.x.p, (i + 1) * c.x.p), (v, j) => (j === 1 ? String(v) : v.toFixed(4)));
    lines.push([...row, c.t[i], c.y[i].toFixed(4), c.truth!.ite![i].toFixed(4), c.propensity[i].toFixed(6)].join(','));
  }
  return `${lines.join('\n')}\n`;
}
