// genlab runs plot: curves of any series in a run's log.jsonl; genlab runs serve: the dashboard (runs-serve.ts).
import { plotRun } from '../train/show.js';
import { flag, path, text } from './args.js';
import { runArg } from './common.js';
import { serve } from './runs-serve.js';
import { type Family, verb } from './verb.js';

const plot = verb({
  summary: 'plot series from log.jsonl',
  usage: '<run> [options]',
  description: 'Plots log.jsonl series of a run as an SVG.',
  args: [runArg],
  options: {
    keys: text('comma-separated series', { defaultText: 'every numeric key' }),
    out: path('SVG file to write', { defaultText: '<run>/curves.svg' }),
    logY: flag('logarithmic y axis'),
  },
  run: (o, [dir]) => plotRun(dir, { keys: o.keys?.split(',').filter(Boolean), file: o.out, logY: o.logY }),
  show: (r) => [`wrote ${r.file} (${r.keys.join(', ')})`],
});

export const runs: Family = { summary: 'inspect run folders', verbs: { plot, serve } };
