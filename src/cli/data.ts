// genlab data show: a picture of a data set (an image grid, or a scatter plot for 2-D toys).
import { drawDataset } from '../train/show.js';
import { choice, int, path } from './args.js';
import { root } from './common.js';
import { type Family, verb } from './verb.js';

const show = verb({
  summary: 'write a grid of images or a scatter plot',
  usage: '<name> [options]',
  description: 'Draws samples of a data set.',
  args: [{ name: 'name', help: 'data set name' }],
  options: {
    root,
    n: int('images or points to show', { min: 1, max: 1e6, defaultText: '64 images, 2000 points' }),
    split: choice('data split', ['train', 'test'], { default: 'train' }),
    out: path('file to write', { defaultText: '<name>.png, or .svg for toys' }),
  },
  run: (o, [name]) => drawDataset(name, { root: o.root, split: o.split, n: o.n, file: o.out }),
  show: (r) => [`wrote ${r.file} (${r.n} samples of ${r.data})`],
});

export const data: Family = { summary: 'look at data sets', verbs: { show } };
