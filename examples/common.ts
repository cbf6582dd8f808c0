// What both examples share: their command line (the options every one takes, and numbers checked),
// the Fashion-MNIST subsets they train on, and the per-epoch memory report.
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { data, torch } from 'genlab';

type Defaults = Record<string, string>;

/**
 * Parses the command line: `--epochs`, `--batch-size`, `--lr`, `--seed`, `--subset`, `--test-subset`,
 * `--threads`, `--out`, `--report-memory`, plus any of `extra`, with the given defaults. Creates
 * `--out`, seeds genlab and applies `--threads`. `num(name, min, int)` reads a checked number.
 */
export function exampleArgs(defaults: Defaults, extra: Defaults = {}) {
  const string = (d?: string) => ({ type: 'string' as const, default: d });
  const { values } = parseArgs({
    options: {
      epochs: string(defaults.epochs),
      'batch-size': string(defaults['batch-size']),
      lr: string(defaults.lr),
      seed: string('1'),
      subset: string(),
      'test-subset': string(),
      threads: string(),
      out: string(defaults.out),
      'report-memory': { type: 'boolean', default: false },
      ...Object.fromEntries(Object.entries(extra).map(([k, d]) => [k, string(d)])),
    },
  });
  const opts = values as Record<string, string | boolean | undefined>;
  /** A numeric option, refused unless it is a finite number (a whole one when `int`) of at least `min`. */
  const num = (name: string, min: number, int = true): number => {
    const v = Number(opts[name]);
    if (!Number.isFinite(v) || v < min || (int && !Number.isInteger(v))) {
      console.error(`--${name}: expected ${int ? 'a whole number' : 'a number'} ≥ ${min}, got ${opts[name]}`);
      process.exit(2);
    }
    return v;
  };
  const out = String(opts.out);
  mkdirSync(out, { recursive: true });
  const seed = num('seed', 0);
  torch.manualSeed(seed);
  if (opts.threads !== undefined) torch.setNumThreads(num('threads', 1));
  return { opts, num, out, seed, reportMemory: opts['report-memory'] === true };
}

/** The first n examples of a dataset (all of them when n is undefined), freeing the rest. */
function firstN(ds: data.ImageDataset, n: number | undefined): data.ImageDataset {
  if (n === undefined || n >= ds.length) return ds;
  const part = ds.subset(Array.from({ length: n }, (_, i) => i));
  ds.dispose();
  return part;
}

/** Fashion-MNIST's training and test sets, cut to `--subset` and `--test-subset` when given. */
export function fashionMnist(args: ReturnType<typeof exampleArgs>): {
  trainSet: data.ImageDataset;
  testSet: data.ImageDataset;
} {
  const n = (name: string) => (args.opts[name] === undefined ? undefined : args.num(name, 1));
  const trainSet = firstN(data.loadFashionMnist({ split: 'train' }), n('subset'));
  const testSet = firstN(data.loadFashionMnist({ split: 'test' }), n('test-subset'));
  console.log(`fashion-mnist: ${trainSet.length} training and ${testSet.length} test images; seed ${args.seed}`);
  return { trainSet, testSet };
}

/** With --report-memory, a line of live tensors, their bytes and the process's RSS after an epoch. */
export function reportMemory(args: ReturnType<typeof exampleArgs>, epoch: number): void {
  if (!args.reportMemory) return;
  const { tensors, bytes } = torch.memory();
  console.log(`memory ${JSON.stringify({ epoch, tensors, bytes, rss: process.memoryUsage().rss })}`);
}
