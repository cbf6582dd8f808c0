// genlab distill edit|inpaint: class-guided editing and inpainting of PNG images with a distilled
// student in a few steps (or with the guided teacher); each writes a PNG of strips, one per image.

import { MASK_SHAPES } from '../diffusion/distill/quality.js';
import { SAMPLER_KINDS } from '../diffusion/distill/samplers.js';
import { editRun, inpaintRun, openRun, type StripResult } from '../diffusion/distill/use.js';
import { choice, float, floats, int, ints, path, text, UsageError } from './args.js';
import { runArg, seed, threads } from './common.js';
import { verb } from './verb.js';

const shared = {
  images: text("comma-separated PNG files of the model's image size (8×8 grey for digits)"),
  steps: int('sampling steps (a student run: one its rounds wrote)', { min: 1, max: 1e5, default: 4 }),
  w: float('guidance weight', { min: 0, max: 100, default: 1 }),
  sampler: choice("ddim, or the paper's stochastic sampler", SAMPLER_KINDS, { default: 'ddim' }),
  out: path('PNG to write', { defaultText: '<run>/edit-<target>.png or <run>/inpaint.png' }),
  seed,
  threads,
};

const files = (images: string | undefined) => (images ?? '').split(',').filter((f) => f.length > 0);

const show = (what: string) => (r: StripResult) => [
  `wrote ${r.file}: ${r.images} ${what} strips of ${r.columns} images, ${r.steps} steps (${r.evaluations} evaluations each)`,
];

export const edit = verb({
  summary: 'class-guided editing: noise PNG images to each --levels t, denoise towards --target',
  usage: '<run> --images a.png,b.png --target <class> [options]',
  description: 'SDEdit with the distilled sampler: each strip is the image, then its edits from each noise level.',
  args: [runArg],
  options: {
    ...shared,
    target: int('class to edit towards', { min: 0, max: 1e4 }),
    levels: floats('noise levels t in (0, 1] to start from', { min: 0.01, max: 1, default: [0.4, 0.6, 0.8] }),
  },
  run: (o, [dir]) => {
    if (o.target === undefined) throw new UsageError('missing --target (the class to edit towards)');
    return editRun(openRun(dir, o.steps), files(o.images), { ...o, target: o.target, file: o.out });
  },
  show: show('edit'),
});

export const inpaint = verb({
  summary: 'inpaint PNG images: fill a --mask PNG (white = fill) or --shape region',
  usage: '<run> --images a.png,b.png --class <c> [--mask m.png | --shape centre] [options]',
  description: 'Each strip is the image, the image with its hole grey, then --samples completions.',
  args: [runArg],
  options: {
    ...shared,
    class: ints('class of the images: one for all, or one per image', { min: 0, max: 1e4 }),
    mask: path('mask PNG of the image size; white pixels are filled in'),
    shape: choice('a named mask instead of --mask', MASK_SHAPES, { default: 'centre' }),
    samples: int('completions per image', { min: 1, max: 64, default: 4 }),
  },
  run: (o, [dir]) => {
    if (o.class === undefined) throw new UsageError('missing --class (the class of the images)');
    return inpaintRun(openRun(dir, o.steps), files(o.images), {
      ...o,
      labels: o.class,
      mask: o.mask ?? o.shape,
      file: o.out,
    });
  },
  show: show('inpaint'),
});
