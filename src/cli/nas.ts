// genlab nas search|train|eval|gradcam: DARTS / PIBConv architecture search and its evaluation networks.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  evaluateNasRun,
  gradcamNasRun,
  NAS_DATA,
  NAS_SEARCH_DEFAULTS,
  NAS_TRAIN_DEFAULTS,
  type NasSearchResult,
  type NasTrainResult,
  nasSearchSettings,
  nasTrainSettings,
  parseNasData,
  searchNasRun,
  trainNasRun,
} from '../nas/experiment.js';
import { readGenotype } from '../nas/genotype.js';
import { GenlabError } from '../torch/errors.js';
import { choice, float, int, path, text } from './args.js';
import { evalEvery, perData, root, runArg, threads, trainingOptions, trainRunOptions } from './common.js';
import { type Family, verb } from './verb.js';

const data = text(`data set: ${NAS_DATA.filter((d) => d !== 'cifar10').join(', ')} or cifar10:<folder>`, {
  default: 'digits',
});
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

function shape(defaults: typeof NAS_SEARCH_DEFAULTS) {
  return {
    c: int('channels of the first cells (even; doubled at each reduction)', {
      min: 2,
      max: 1024,
      defaultText: perData(defaults, 'c'),
    }),
    layers: int('cells in the network', { min: 1, max: 100, defaultText: perData(defaults, 'layers') }),
    trainSize: int('training images used, 0 for all', {
      min: 0,
      max: 1e7,
      defaultText: perData(defaults, 'trainSize'),
    }),
    size: int('image side to average-pool the images down to, 0 to keep them', {
      min: 0,
      max: 4096,
      defaultText: perData(defaults, 'size'),
    }),
  };
}

const search = verb({
  summary: 'search cells by DARTS, with DARTS or PIB ops',
  usage: '[options]',
  description:
    'Bi-level DARTS search: weights on half the training images, α on the other half. Writes genotype.json, α plots (alpha-normal.svg, alpha-reduce.svg) and results.json.',
  options: {
    data,
    root,
    ops: choice('operation set: DARTS (separable convs) or PIB (pseudo-inverted bottlenecks)', ['darts', 'pib'], {
      default: 'darts',
    }),
    order: int('1: first-order α gradient; 2: unrolled second order', { min: 1, max: 2, default: 1 }),
    nodes: int('intermediate nodes per cell', { min: 1, max: 8, default: 4 }),
    ...shape(NAS_SEARCH_DEFAULTS),
    ...trainingOptions(NAS_SEARCH_DEFAULTS),
    archLr: float("α's Adam learning rate", { min: 1e-9, max: 1, default: 3e-4 }),
    out: path('run folder to write', { defaultText: 'runs/nas-search-<data>-<ops>' }),
  },
  run: (o, _args, ctx) => {
    const { data: given, root: r, out, threads: _t, resume: _r, order, ...rest } = o;
    const { data: d, root: folder } = parseNasData(given, r);
    const cfg = nasSearchSettings(d, { ...rest, root: folder, order: order as 1 | 2 });
    return searchNasRun(cfg, out ?? join('runs', `nas-search-${d}-${o.ops}`), trainRunOptions(o, ctx));
  },
  show: (r: NasSearchResult) => [
    `search network accuracy on α's half ${pct(r.valAccuracy)} after ${r.steps} steps`,
    `skip connections kept: ${r.skips.normal} normal, ${r.skips.reduce} reduction (of 8 each)`,
    `genotype: ${join(r.run, 'genotype.json')}`,
  ],
});

/** A genotype file, or a search run folder holding one. */
function genotypeFile(p: string): string {
  const file = existsSync(p) && statSync(p).isDirectory() ? join(p, 'genotype.json') : p;
  if (!existsSync(file))
    throw new GenlabError('usage', `no genotype at ${file}`, 'give a genotype.json or a search run folder');
  return file;
}

const train = verb({
  summary: 'train a network of a genotype (aux head, drop-path, cutout)',
  usage: '<genotype.json | search run> [options]',
  description:
    'Builds an evaluation network from a genotype at --layers cells and trains it; writes results.json with test accuracy, parameters and MACs.',
  args: [{ name: 'genotype', help: 'genotype.json, or a search run folder' }],
  options: {
    data,
    root,
    ...shape(NAS_TRAIN_DEFAULTS),
    ...trainingOptions(NAS_TRAIN_DEFAULTS),
    auxWeight: float('weight of the auxiliary head’s loss (0: no head)', { min: 0, max: 10, default: 0.4 }),
    dropPath: float('final drop-path probability', { min: 0, max: 0.9, default: 0.2 }),
    cutout: int('cutout square side in pixels, 0 for none', {
      min: 0,
      max: 1024,
      defaultText: '2 for digits, 8 otherwise',
    }),
    testSize: int('test images the accuracy is taken on (the first ones), 0 for all', { min: 0, max: 1e7, default: 0 }),
    out: path('run folder to write', { defaultText: 'runs/nas-train-<data>' }),
    evalEvery,
  },
  run: (o, [g], ctx) => {
    const { data: given, root: r, out, threads: _t, resume: _r, evalEvery: _e, ...rest } = o;
    const { data: d, root: folder } = parseNasData(given, r);
    const cfg = nasTrainSettings(d, readGenotype(genotypeFile(g)), {
      ...rest,
      root: folder,
      auxiliary: o.auxWeight > 0,
    });
    return trainNasRun(cfg, out ?? join('runs', `nas-train-${d}`), trainRunOptions(o, ctx));
  },
  show: (r: NasTrainResult) => [
    `test accuracy ${pct(r.testAccuracy)} after ${r.steps} steps; ${r.params} parameters, ${(r.macs / 1e6).toFixed(3)} MMACs per image (${r.run})`,
  ],
});

const evaluate = verb({
  summary: 'test accuracy, parameters and MACs of a trained run',
  usage: '<run> [options]',
  description: 'Test accuracy of a trained network, its parameters (without the auxiliary head) and MACs per image.',
  args: [runArg],
  options: { threads },
  run: (_o, [dir]) => evaluateNasRun(dir),
  show: (r) => [
    `${r.data} test accuracy ${pct(r.testAccuracy)} on ${r.n} images; ${r.layers} cells, ${r.params} parameters, ${(r.macs / 1e6).toFixed(3)} MMACs per image`,
  ],
});

const gradcam = verb({
  summary: 'Grad-CAM heat maps of a trained run, as a PNG',
  usage: '<run> [--layer cells.4] [options]',
  description: 'Grad-CAM of the predicted class on the first test images: the images over their heat-map overlays.',
  args: [runArg],
  options: {
    layer: text('module whose feature maps are weighed, e.g. cells.3 or stem', { defaultText: 'the last cell' }),
    n: int('test images', { min: 1, max: 256, default: 8 }),
    out: path('PNG to write', { defaultText: '<run>/gradcam-<layer>.png' }),
    threads,
  },
  run: (o, [dir]) => gradcamNasRun(dir, { layer: o.layer, n: o.n, out: o.out }),
  show: (r) => [`wrote ${r.file} (layer ${r.layer}; predicted ${r.predicted.join(' ')}, labels ${r.labels.join(' ')})`],
});

export const nas: Family = {
  summary: 'DARTS architecture search with DARTS or PIB ops; MACs and Grad-CAM',
  verbs: { search, train, eval: evaluate, gradcam },
};
