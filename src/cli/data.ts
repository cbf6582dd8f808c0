// genlab data show: a picture of a data set (an image grid, or a scatter plot for 2-D toys).
import { join } from 'node:path';
import { loadDataset } from '../data/registry.js';
import { arange } from '../torch/creation.js';
import { tidy } from '../torch/scope.js';
import { saveImageGrid } from '../train/images.js';
import { saveScatterSvg } from '../train/plot.js';
import { commonOptions, intOption, parseOrHelp, stringOption } from './args.js';
import { firstPositional, report } from './common.js';
import type { Family } from './main.js';

const options = {
  root: commonOptions.root,
  n: { type: 'string' as const, description: 'images (default 64) or points (default 2000) to show' },
  split: { type: 'string' as const, description: 'train (default) or test' },
  out: { type: 'string' as const, description: 'file to write (default <name>.png, or .svg for toys)' },
};

async function show(argv: string[]): Promise<void> {
  const p = parseOrHelp(argv, options, 'genlab data show <name> [options]', 'Draws samples of a data set.');
  if (!p) return;
  const name = firstPositional(p, 'data set name');
  const split = stringOption(p, 'split', 'train') as 'train' | 'test';
  const ds = loadDataset(name, { root: stringOption(p, 'root', '') || undefined, split });
  const isImage = ds.x.ndim === 4;
  const n = Math.min(intOption(p, 'n', isImage ? 64 : 2000, 1), ds.length);
  const out = stringOption(p, 'out', join('.', `${name}.${isImage ? 'png' : 'svg'}`));
  tidy(() => {
    const batch = ds.batch(arange(n, undefined, 1, { dtype: 'int64' }));
    if (isImage) {
      const scale = batch.x.size(-1) <= 8 ? 4 : batch.x.size(-1) <= 32 ? 2 : 1;
      saveImageGrid(out, batch.x, { nrow: Math.ceil(Math.sqrt(n)), scale });
    } else {
      saveScatterSvg(out, batch.x, { title: `${name} (${n} points)`, labels: batch.y });
    }
  });
  report(p, { data: name, n, file: out }, [`wrote ${out} (${n} ${isImage ? 'images' : 'points'} of ${name})`]);
  ds.dispose();
}

export const data: Family = {
  summary: 'look at data sets',
  verbs: { show: { summary: 'write a grid of images or a scatter plot', run: show } },
};
