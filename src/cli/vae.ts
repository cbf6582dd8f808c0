// genlab vae train|eval: VAE, β-VAE, iVAE and the latent-identifiable VAE, with MCC on the
// nonlinear-ICA benchmark and posterior-collapse diagnostics (active units, MI, KL, IWAE NLL).
import { join } from 'node:path';
import { GenlabError } from '../torch/errors.js';
import {
  evaluateVaeRun,
  PPCA_DEFAULTS,
  trainVaeRun,
  type VaeEvaluation,
  type VaeTrainResult,
  vaeConfig,
} from '../vae/experiment.js';
import { LIKELIHOODS } from '../vae/likelihoods.js';
import { MODEL_KINDS } from '../vae/model.js';
import { ACTIVATIONS } from '../vae/nets.js';
import { choice, float, int, ints, path, text } from './args.js';
import { evalEvery, root, runArg, threads, trainingOptions, trainRunOptions } from './common.js';
import { dataOption, parseData, referenceOptions, referenceSettings } from './vae-options.js';
import { type Family, verb } from './verb.js';

const budget = { ica: { steps: 5000, batchSize: 64, lr: 1e-2 }, images: { steps: 3000, batchSize: 128, lr: 1e-3 } };

const train = verb({
  summary: 'train --model vae|beta-vae|ivae|lidvae on --data ica|ppca|digits|fashion-mnist',
  usage:
    '--model vae|beta-vae|ivae|lidvae --data ica|ica:<file.npz>|ppca|digits|fashion-mnist [--preset reference] [options]',
  description: 'Trains a VAE-family model, then reports MCC (ica, ppca) and collapse diagnostics.',
  options: {
    data: dataOption,
    model: choice('model', MODEL_KINDS, { default: 'vae' }),
    root,
    ...trainingOptions(budget),
    latent: int('latent dimensions', { min: 1, max: 4096, defaultText: 'ica: the source dimension' }),
    hidden: ints('hidden widths of the MLPs, e.g. 50,50', { min: 1, max: 1 << 16, defaultText: 'by data' }),
    activation: choice('MLP activation', ACTIVATIONS, { defaultText: 'lrelu' }),
    beta: float('KL weight', { min: 0, max: 1e6, defaultText: 'beta-vae 4, others 1' }),
    likelihood: choice('decoder likelihood', LIKELIHOODS, { defaultText: 'images bernoulli, else gaussian' }),
    variance: text("gaussian likelihood variance: a number > 0 or 'learned'", { defaultText: 'ica 0.01, preset 0.1' }),
    lrFloor: float('final learning rate as a fraction of --lr, cosine decay', { min: 0, max: 1, defaultText: '0.1' }),
    evalN: int('evaluate on the first n test examples (0: all)', { min: 0, max: 1e9, defaultText: 'by data' }),
    k: int('importance samples of the IWAE NLL bound', { min: 1, max: 1e5, defaultText: 'ica 20, else 100' }),
    evalEvery: { ...evalEvery, defaultText: 'only at the end' },
    anneal: choice("IVAE_wrapper's annealed reweighting of the ELBO terms", ['on', 'off'], {
      defaultText: 'on for ica',
    }),
    ...referenceOptions,
    dataSeed: int('ica / ppca: seed of the generated data', { min: 0, max: 2 ** 31 - 1, default: 1 }),
    trueDim: int('ppca: true latent dimension', { min: 1, max: 1000, defaultText: String(PPCA_DEFAULTS.trueDim) }),
    noise: float('ppca: observation noise sd', { min: 0, max: 1e3, defaultText: String(PPCA_DEFAULTS.noise) }),
    icnnHidden: ints('lidvae: widths of g1 and g2 hidden layers, e.g. 64,128', {
      min: 1,
      max: 1 << 16,
      default: [64, 128],
    }),
    out: path('run folder to write', { defaultText: 'runs/vae-<model>-<data>' }),
  },
  run: (o, _args, ctx) => {
    const variance = o.variance === undefined || o.variance === 'learned' ? o.variance : Number(o.variance);
    if (typeof variance === 'number' && !(variance > 0)) {
      throw new GenlabError('usage', `variance must be > 0 or 'learned', got '${o.variance}'`, 'check {variance}');
    }
    const { data, icaFile } = parseData(o.data);
    const cfg = vaeConfig(o.model, data, {
      ...o,
      ...referenceSettings(o),
      icaFile,
      variance,
      anneal: o.anneal === undefined ? undefined : o.anneal === 'on',
      ppca: { trueDim: o.trueDim, noise: o.noise },
    });
    const dir = o.out ?? join('runs', `vae-${cfg.model}-${cfg.data}`);
    return trainVaeRun(cfg, dir, trainRunOptions(o, ctx));
  },
  show: (r: VaeTrainResult) => summaryLines(r, r.run),
});

function summaryLines(e: VaeEvaluation, dir: string): string[] {
  const c = e.collapse;
  const lines = [
    `${e.model} on ${e.data}: active units ${c.activeUnits}/${c.latentDim}, MI ${c.mutualInfo.toFixed(3)}, KL ${c.kl.toFixed(3)}, NLL ≤ ${c.nll.toFixed(3)} nats (IWAE, k=${c.k}, n=${c.n})`,
  ];
  if (e.mcc !== undefined) {
    const sampled = e.mccSample === undefined ? '' : `, of sampled z ${e.mccSample.toFixed(4)}`;
    lines.unshift(`MCC ${e.mcc.toFixed(4)} (Spearman ${e.mccSpearman?.toFixed(4)}${sampled})`);
  }
  lines.push(`run: ${dir}`);
  return lines;
}

const evaluate = verb({
  summary: 'MCC, active units, MI, KL and IWAE NLL of a run',
  usage: '<run> [options]',
  description: 'MCC and collapse diagnostics of a trained run.',
  args: [runArg],
  options: {
    k: int('importance samples of the NLL bound', { min: 1, max: 1e5, defaultText: "the run's" }),
    evalN: int('evaluate on the first n test examples (0: all)', { min: 0, max: 1e9, defaultText: "the run's" }),
    seed: int('seed of the Monte Carlo estimates', { min: 0, max: 2 ** 31 - 1, default: 1234 }),
    threads,
  },
  run: (o, [dir]) => evaluateVaeRun(dir, o),
  show: (r) => summaryLines(r, r.run),
});

export const vae: Family = {
  summary: 'VAE, β-VAE, iVAE and latent-identifiable VAE; MCC and collapse diagnostics',
  verbs: { train, eval: evaluate },
};
