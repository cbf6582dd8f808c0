// genlab vae train|eval: VAE, β-VAE, iVAE and the latent-identifiable VAE, with MCC on the
// nonlinear-ICA benchmark and posterior-collapse diagnostics (active units, MI, KL, IWAE NLL).
import { join } from 'node:path';
import { Run } from '../train/run.js';
import { VAE_DATA } from '../vae/data.js';
import {
  defaultRunConfig,
  evaluateExperiment,
  loadRunModel,
  trainVaeRun,
  type VaeEvaluation,
  type VaeRunConfig,
} from '../vae/experiment.js';
import { LIKELIHOODS, type LikelihoodKind } from '../vae/likelihoods.js';
import { MODEL_KINDS, type ModelKind } from '../vae/model.js';
import { ACTIVATIONS, type Activation } from '../vae/nets.js';
import {
  CliError,
  choice,
  commonOptions,
  floatOption,
  intOption,
  type OptionSpec,
  type Parsed,
  parseOrHelp,
  stringOption,
} from './args.js';
import { EXIT_INTERRUPTED, firstPositional, note, report, requireOut, setupEngine, trainingConfig } from './common.js';
import type { Family } from './main.js';

const s = (description: string): OptionSpec => ({ type: 'string', description });

const trainOptions: Record<string, OptionSpec> = {
  ...commonOptions,
  data: s(`data: ${VAE_DATA.join(', ')} (default ica)`),
  model: s(`${MODEL_KINDS.join(', ')} (default vae)`),
  latent: s('latent dimensions (ica: the source dimension)'),
  hidden: s('hidden widths of the MLPs, comma-separated (e.g. 50,50)'),
  activation: s(`MLP activation: ${ACTIVATIONS.join(', ')}`),
  beta: s('KL weight (beta-vae default 4, others 1)'),
  likelihood: s(`decoder likelihood: ${LIKELIHOODS.join(', ')} (images default bernoulli)`),
  variance: s("gaussian likelihood variance: a number or 'learned' (ica default 0.01)"),
  'lr-floor': s('final learning rate as a fraction of --lr, cosine decay (default 0.1)'),
  'eval-n': s('evaluate on the first n test examples (0: all)'),
  k: s('importance samples of the IWAE NLL bound'),
  'eval-every': s('steps between evaluations during training (default: only at the end)'),
  anneal: s("on|off: iVAE's annealed reweighting of the ELBO terms (default on for ica)"),
  segments: s('ica: segments (default 40)'),
  'per-segment': s('ica: points per segment (default 1000)'),
  dim: s('ica: source dimension (default 5)'),
  'mix-layers': s('ica: layers of the mixing MLP (default 3)'),
  'mix-activation': s('ica: lrelu, xtanh or none (default lrelu)'),
  source: s('ica: gauss or laplace (default gauss)'),
  'data-seed': s('ica / ppca: seed of the generated data (default 1)'),
  'true-dim': s('ppca: true latent dimension (default 1)'),
  noise: s('ppca: observation noise sd (default 0.1)'),
  'icnn-hidden': s('lidvae: widths of g1 and g2 hidden layers, e.g. 64,128'),
};

function widths(p: Parsed, name: string, fallback: number[]): number[] {
  const raw = p.values[name];
  if (raw === undefined) return fallback;
  const w = String(raw).split(',').map(Number);
  if (w.length === 0 || w.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new CliError(`--${name} must be comma-separated positive integers, got '${raw}'`, 2);
  }
  return w;
}

/** The run config from the command line: per-data defaults, then the flags. */
export function configFromArgs(p: Parsed): VaeRunConfig {
  const data = choice(p, 'data', VAE_DATA, 'ica');
  const model = choice<ModelKind>(p, 'model', MODEL_KINDS, 'vae');
  const d = defaultRunConfig(model, data);
  const varianceRaw = stringOption(p, 'variance', String(d.variance));
  const variance = varianceRaw === 'learned' ? 'learned' : Number(varianceRaw);
  if (variance !== 'learned' && !(variance > 0)) throw new CliError(`--variance must be > 0 or 'learned'`, 2);
  const cfg: VaeRunConfig = {
    ...d,
    root: stringOption(p, 'root', ''),
    likelihood: choice<LikelihoodKind>(p, 'likelihood', LIKELIHOODS, d.likelihood),
    latent: intOption(p, 'latent', intOption(p, 'dim', d.latent, 1), 1),
    hidden: widths(p, 'hidden', d.hidden),
    activation: choice<Activation>(p, 'activation', ACTIVATIONS, d.activation),
    beta: floatOption(p, 'beta', d.beta),
    variance,
    steps: intOption(p, 'steps', d.steps, 1),
    batchSize: intOption(p, 'batch-size', d.batchSize, 1),
    lr: floatOption(p, 'lr', d.lr),
    lrFloor: floatOption(p, 'lr-floor', d.lrFloor),
    seed: intOption(p, 'seed', 0),
    evalN: intOption(p, 'eval-n', d.evalN),
    k: intOption(p, 'k', d.k, 1),
    anneal: choice(p, 'anneal', ['on', 'off'] as const, d.anneal ? 'on' : 'off') === 'on',
  };
  const dataSeed = intOption(p, 'data-seed', 1);
  if (data === 'ica') {
    cfg.ica = {
      segments: intOption(p, 'segments', 40, 1),
      perSegment: intOption(p, 'per-segment', 1000, 1),
      dim: intOption(p, 'dim', 5, 1),
      layers: intOption(p, 'mix-layers', 3, 1),
      activation: choice(p, 'mix-activation', ['lrelu', 'xtanh', 'none'] as const, 'lrelu'),
      source: choice(p, 'source', ['gauss', 'laplace'] as const, 'gauss'),
      seed: dataSeed,
    };
  }
  if (data === 'ppca') {
    cfg.ppca = {
      trueDim: intOption(p, 'true-dim', 1, 1),
      noise: floatOption(p, 'noise', 0.1),
      seed: dataSeed,
    };
  }
  if (model === 'lidvae') {
    const [h1, h2] = widths(p, 'icnn-hidden', [64, 128]);
    cfg.brenier = { hidden1: h1, hidden2: h2 ?? h1 };
  }
  if (cfg.likelihood === 'bernoulli' && (data === 'ica' || data === 'ppca')) {
    throw new CliError(`--likelihood bernoulli needs image data; ${data} is real-valued`, 2);
  }
  return cfg;
}

function summaryLines(e: VaeEvaluation, dir: string): string[] {
  const c = e.collapse;
  const lines = [
    `${e.model} on ${e.data}: active units ${c.activeUnits}/${c.latentDim}, MI ${c.mutualInfo.toFixed(3)}, KL ${c.kl.toFixed(3)}, NLL ≤ ${c.nll.toFixed(3)} nats (IWAE, k=${c.k}, n=${c.n})`,
  ];
  if (e.mcc !== undefined) lines.unshift(`MCC ${e.mcc.toFixed(4)} (Spearman ${e.mccSpearman!.toFixed(4)})`);
  lines.push(`run: ${dir}`);
  return lines;
}

export interface VerbOutput {
  /** The --json object. */
  result: Record<string, unknown>;
  /** The readable lines otherwise. */
  lines: string[];
}

/** `vae train` without printing: trains and returns what would be reported (null if interrupted). */
export async function trainCommand(p: Parsed): Promise<VerbOutput | null> {
  const fresh = configFromArgs(p);
  const outDir = requireOut(p, join('runs', `vae-${fresh.model}-${fresh.data}`));
  const { cfg, resume, engine } = trainingConfig(p, outDir, fresh);
  note(p, `vae: ${JSON.stringify({ ...cfg, threads: engine.threads })} -> ${outDir}`);
  const evalEvery = p.values['eval-every'] === undefined ? undefined : intOption(p, 'eval-every', 1, 1);
  const { result, evaluation } = await trainVaeRun(cfg, outDir, {
    resume,
    quiet: Boolean(p.values.quiet),
    log: (m) => note(p, m),
    evalEvery,
  });
  if (result.stoppedBy === 'signal' || !evaluation) return null;
  return {
    result: { ...evaluation, steps: result.step, loss: result.metrics.loss, run: outDir },
    lines: summaryLines(evaluation, outDir),
  };
}

async function train(argv: string[]): Promise<void> {
  const p = parseOrHelp(
    argv,
    trainOptions,
    'genlab vae train --model vae|beta-vae|ivae|lidvae --data ica|ppca|digits|fashion-mnist [options]',
    'Trains a VAE-family model, then reports MCC (ica, ppca) and collapse diagnostics.',
  );
  if (!p) return;
  const out = await trainCommand(p);
  if (out === null) process.exitCode = EXIT_INTERRUPTED;
  else report(p, out.result, out.lines);
}

const evalOptions: Record<string, OptionSpec> = {
  k: s('importance samples of the NLL bound (default: the run’s)'),
  'eval-n': s('evaluate on the first n test examples (default: the run’s)'),
  seed: s('seed of the Monte Carlo estimates (default 1234)'),
  threads: commonOptions.threads,
};

/** `vae eval` without printing. */
export function evalCommand(p: Parsed): VerbOutput {
  setupEngine(p);
  const dir = firstPositional(p, 'run folder');
  const saved = Run.load(dir).config as unknown as VaeRunConfig;
  const cfg = { ...saved, k: intOption(p, 'k', saved.k, 1), evalN: intOption(p, 'eval-n', saved.evalN) };
  const { data, model } = loadRunModel(dir, cfg);
  try {
    const e = evaluateExperiment(model, data, cfg, intOption(p, 'seed', 1234));
    return { result: { ...e, run: dir }, lines: summaryLines(e, dir) };
  } finally {
    model.dispose();
    data.dispose();
  }
}

async function evaluate(argv: string[]): Promise<void> {
  const p = parseOrHelp(
    argv,
    evalOptions,
    'genlab vae eval <run> [options]',
    'MCC and collapse diagnostics of a trained run.',
  );
  if (!p) return;
  const out = evalCommand(p);
  report(p, out.result, out.lines);
}

export { evalOptions, trainOptions };

export const vae: Family = {
  summary: 'VAE, β-VAE, iVAE and latent-identifiable VAE; MCC and collapse diagnostics',
  verbs: {
    train: { summary: 'train --model vae|beta-vae|ivae|lidvae on --data ica|ppca|digits|fashion-mnist', run: train },
    eval: { summary: 'MCC, active units, MI, KL and IWAE NLL of a run', run: evaluate },
  },
};
