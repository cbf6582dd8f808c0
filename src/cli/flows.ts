// genlab flows train|sample|eval|interpolate|manipulate: Glow with exact likelihoods.
import { join } from 'node:path';
import {
  ALPHAS,
  classIndex,
  evaluateFlowsRun,
  FLOWS_DEFAULTS,
  FLOWS_MEMORY_FORMAT,
  type FlowsTrainResult,
  flowsConfig,
  interpolateFlowsRun,
  loadFlowsRun,
  manipulateFlowsRun,
  sampleFlowsRun,
  TEMPERATURES,
  trainFlowsRun,
} from '../flows/experiment.js';
import { MEMORY_FORMATS } from '../train/config.js';
import { choice, flag, float, floats, int, path, text } from './args.js';
import { evalEvery, perData, root, runArg, seed, threads, trainingOptions, trainRunOptions } from './common.js';
import { type Family, verb } from './verb.js';

const train = verb({
  summary: 'train a Glow on --data (digits, fashion-mnist, mnist, cifar10)',
  usage: '[options]',
  description: 'Trains a Glow by maximum likelihood; writes results.json, a loss curve and a temperature grid.',
  options: {
    data: text('data set: digits, fashion-mnist, mnist or cifar10', { default: 'digits' }),
    root,
    ...trainingOptions(FLOWS_DEFAULTS),
    levels: int('L, levels of the multi-scale architecture', { min: 1, max: 8, defaultText: '2' }),
    depth: int('K, flow steps per level', { min: 1, max: 256, defaultText: '8' }),
    hidden: int('channels of the coupling networks', {
      min: 1,
      max: 4096,
      defaultText: perData(FLOWS_DEFAULTS, 'hidden'),
    }),
    coupling: choice('coupling layers', ['affine', 'additive'], { default: 'affine' }),
    permutation: choice('invertible 1×1 convolution', ['lu', 'plain'], { default: 'lu' }),
    nBits: int('reduce 8-bit data to n bits (0: keep every level)', { min: 0, max: 8, default: 0 }),
    conditional: flag('class-conditional top prior'),
    warmup: int('linear learning-rate warm-up steps', { min: 0, max: 1e9, defaultText: 'steps/10, at most 500' }),
    clip: float('clip the gradient norm to this (0: off)', { min: 0, max: 1e9, default: 50 }),
    initBatch: int('examples for the data-dependent ActNorm initialisation', { min: 1, max: 1e6, default: 512 }),
    memoryFormat: choice('activation layout (channelsLast: faster on CPU)', MEMORY_FORMATS, {
      default: FLOWS_MEMORY_FORMAT,
    }),
    out: path('run folder to write', { defaultText: 'runs/glow-<data>' }),
    evalEvery,
  },
  run: (o, _args, ctx) => {
    const { data, root, out, resume, threads: _t, evalEvery, ...rest } = o;
    const cfg = flowsConfig(data, { ...rest, root });
    const dir = out ?? join('runs', `glow-${data}`);
    return trainFlowsRun(cfg, dir, trainRunOptions(o, ctx));
  },
  show: (r: FlowsTrainResult) => [
    `test ${r.testBitsPerDim.toFixed(4)} bits/dim (${r.bins} bins) after ${r.steps} steps (${r.run})`,
  ],
});

const runOptions = { seed, threads };

const sample = verb({
  summary: 'temperature grid of samples from a run',
  usage: '<run> [options]',
  description: 'A temperature grid of samples: one row per temperature, from the same noise.',
  args: [runArg],
  options: {
    ...runOptions,
    temperatures: floats('one row per temperature', { min: 0, max: 10, default: TEMPERATURES }),
    n: int('samples per row', { min: 1, max: 1000, default: 10 }),
    class: text('class to sample, an index or a name, for a class-conditional run', { defaultText: 'all in turn' }),
    out: path('PNG to write', { defaultText: '<run>/samples.png' }),
  },
  run: (o, [dir]) => {
    const r = loadFlowsRun(dir);
    const classes = o.class === undefined ? undefined : [classIndex(r, o.class, 'class')];
    const file = o.out ?? join(dir, 'samples.png');
    return sampleFlowsRun(r, { file, temperatures: o.temperatures, n: o.n, classes, seed: o.seed });
  },
  show: (r) => [`wrote ${r.file}: ${r.temperatures.length} rows (T = ${r.temperatures.join(', ')}) of ${r.n}`],
});

const evaluate = verb({
  summary: 'test bits/dim of a run',
  usage: '<run> [options]',
  description: 'Bits/dim of a trained Glow, with a seeded dequantisation so that repeated evaluations agree.',
  args: [runArg],
  options: {
    ...runOptions,
    split: choice('data split', ['test', 'train'], { default: 'test' }),
    limit: int('evaluate the first n images only', { min: 1, max: 1e9, defaultText: 'all' }),
  },
  run: (o, [dir]) => evaluateFlowsRun(loadFlowsRun(dir), { split: o.split, limit: o.limit, seed: o.seed }),
  show: (r) => [
    `${r.data} ${r.split}: ${r.bitsPerDim.toFixed(4)} bits/dim on ${r.n} images`,
    `  (−log p of the dequantised data in [−½, ½): ${r.nllNats.toFixed(2)} nats/image, plus log2(${r.bins}) = ${Math.log2(r.bins).toFixed(3)} bits/dim for the ${r.bins} bins)`,
  ],
});

const interpolateVerb = verb({
  summary: 'latent interpolation strips between test images',
  usage: '<run> [options]',
  description: 'Latent interpolation between pairs of random test images.',
  args: [runArg],
  options: {
    ...runOptions,
    pairs: int('rows, each between two random test images', { min: 1, max: 100, default: 4 }),
    steps: int('images per row, ends included', { min: 2, max: 100, default: 8 }),
    out: path('PNG to write', { defaultText: '<run>/interpolation.png' }),
  },
  run: (o, [dir]) =>
    interpolateFlowsRun(loadFlowsRun(dir), {
      file: o.out ?? join(dir, 'interpolation.png'),
      pairs: o.pairs,
      steps: o.steps,
      seed: o.seed,
    }),
  show: (r) => [`wrote ${r.file}: ${r.pairs} rows of ${r.steps}`],
});

const manipulateVerb = verb({
  summary: 'move images along a class-mean latent direction',
  usage: '<run> [options]',
  description: 'Moves test images along the class-mean latent direction from one class to another.',
  args: [runArg],
  options: {
    ...runOptions,
    from: text('source class, index or name', { default: '0' }),
    to: text('target class, index or name', { default: '1' }),
    n: int('test images of the source class, one row each', { min: 1, max: 100, default: 4 }),
    alphas: floats('multiples of the direction, one column each', { min: -100, max: 100, default: ALPHAS }),
    out: path('PNG to write', { defaultText: '<run>/manipulation.png' }),
  },
  run: (o, [dir]) => {
    const r = loadFlowsRun(dir);
    return manipulateFlowsRun(r, {
      file: o.out ?? join(dir, 'manipulation.png'),
      from: classIndex(r, o.from, 'from'),
      to: classIndex(r, o.to, 'to'),
      n: o.n,
      alphas: o.alphas,
      seed: o.seed,
    });
  },
  show: (r) => [
    `wrote ${r.file}: ${r.n} '${r.fromName}' images moved toward '${r.toName}' (α = ${r.alphas.join(', ')})`,
  ],
});

export const flows: Family = {
  summary: 'Glow: invertible flows with exact likelihoods',
  verbs: { train, sample, eval: evaluate, interpolate: interpolateVerb, manipulate: manipulateVerb },
};
