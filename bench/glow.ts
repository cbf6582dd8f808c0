// npm run bench:glow — Glow training steps, genlab against the same model in PyTorch (bench/glow.py).
//   npx tsx bench/glow.ts            speed: the Adam step (dequantise, log p, bits/dim, backward, clip,
//                                    update) of two Glows, interleaved blocks against PyTorch, pinned
//                                    to one core (--rounds N --blocks N; --only digits|fashion times
//                                    one and writes nothing)
//   npx tsx bench/glow.ts results    trains Glow on digits and fashion-mnist through `genlab flows`,
//                                    then writes results/glow.md and results/glow-*.png
//                                    (--reuse: keep finished runs, redo evaluation and pictures)
// Each mode rewrites its own section of results/glow.md.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { torch } from '../src/index.js';
import {
  argValue,
  cliMalloc,
  genlabJson,
  median,
  PEER_MALLOC_NOTE,
  pairedRatio,
  pinToOneCore,
  type Row,
  ratioTable,
} from './common.js';
import { type GlowWorkload, glowTrainStep } from './glow-step.js';
import {
  type Interleaved,
  interleave,
  interleaveMethod,
  nodeSide,
  pythonSide,
  pytorchSides,
  serveSteps,
  spreadNote,
} from './interleave.js';

const RESULTS = 'results/glow.md';

/** Replaces (or appends) the section under `## heading` in the results file. */
function writeSection(heading: string, body: string): void {
  mkdirSync('results', { recursive: true });
  const title = '# Glow\n';
  let text = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : title;
  const start = text.indexOf(`\n## ${heading}\n`);
  const section = `\n## ${heading}\n\n${body.trim()}\n`;
  if (start < 0) text = `${text.trimEnd()}\n${section}`;
  else {
    const next = text.indexOf('\n## ', start + 1);
    text = text.slice(0, start) + section + (next < 0 ? '' : text.slice(next));
  }
  writeFileSync(RESULTS, `${text.trimEnd()}\n`);
}

interface Workload extends GlowWorkload {
  name: string;
  label: string;
  /** Steps per timed block, and untimed blocks before the first. */
  steps: number;
  warmupBlocks: number;
}

// The CLI's default models for the two data sets.
const WORKLOADS: Workload[] = [
  {
    name: 'digits',
    label: 'digits 8×8, L=2 K=8 hidden 64, batch 64',
    shape: [1, 8, 8],
    levels: 2,
    depth: 8,
    hidden: 64,
    batch: 64,
    levels_in_data: 17,
    steps: 10,
    warmupBlocks: 6,
  },
  {
    name: 'fashion',
    label: 'fashion 28×28, L=2 K=8 hidden 96, batch 64',
    shape: [1, 28, 28],
    levels: 2,
    depth: 8,
    hidden: 96,
    batch: 64,
    levels_in_data: 256,
    steps: 3,
    warmupBlocks: 6,
  },
];

/**
 * Times each workload in rounds: per round, a fresh genlab worker and two PyTorch workers (per-tensor
 * and multi-tensor Adam) run interleaved blocks of steps (bench/interleave.ts). Each side's figure
 * is the median block over every round; the ratio is the median over all block pairs.
 */
/** The worker side of speed(): the CLI's training step (bench/glow-step.ts), timed on request. */
function serveGlow(threads: string, w: Workload): void {
  torch.setNumThreads(Number(threads));
  serveSteps(glowTrainStep(w).step);
}

async function speed(): Promise<void> {
  pinToOneCore(import.meta.url);
  const threads = argValue('threads', '1');
  const rounds = Number(argValue('rounds', '3'));
  const blocks = Number(argValue('blocks', '8'));
  // --only digits (or fashion) times one model; the results file is then left alone.
  const only = argValue('only', '');
  const workloads = WORKLOADS.filter((w) => only === '' || w.name === only);
  if (workloads.length === 0) throw new Error(`--only: no workload named '${only}'`);
  const script = fileURLToPath(new URL('./glow.py', import.meta.url));
  const rows: Row[] = [];
  const notes: string[] = [];
  for (const w of workloads) {
    const json = JSON.stringify(w);
    const sides = [
      nodeSide('genlab', fileURLToPath(import.meta.url), ['serve', threads, json]),
      ...pytorchSides(script, ['serve', threads, json]),
      pythonSide('foreach', script, ['serve', threads, json, 'foreach']),
      pythonSide('channelsLast', script, ['serve', threads, json, 'channels_last']),
    ];
    const malloc = cliMalloc();
    const all: Interleaved[] = [];
    for (let r = 0; r < rounds; r++) {
      const t = await interleave(sides, { blocks, steps: w.steps, warmupBlocks: w.warmupBlocks });
      all.push(t);
      const m = (k: string) => (median(t.wall[k]) * 1e3).toFixed(1);
      process.stderr.write(
        `${w.name} round ${r + 1}/${rounds}: genlab ${m('genlab')} ms, PyTorch ${m('pytorch')} ms (stock ${m('stock')} ms)\n`,
      );
    }
    const series = (k: string, which: 'wall' | 'cpu') => all.flatMap((t) => t[which][k]);
    const row = (theirs: string, which: 'wall' | 'cpu', what: string): Row => ({
      key: theirs,
      name: `Glow training step, ${what}: ${w.label}`,
      genlab: median(series('genlab', which)),
      pytorch: median(series(theirs, which)),
      ratio: pairedRatio(series('genlab', which), series(theirs, which)),
      target: 0.95,
      unit: 'ms',
    });
    rows.push(
      row('stock', 'wall', 'wall-clock, PyTorch stock'),
      row('pytorch', 'wall', 'wall-clock, PyTorch tuned'),
      row('pytorch', 'cpu', 'process CPU time, PyTorch tuned'),
      row('foreach', 'wall', 'wall-clock, PyTorch tuned with `Adam(foreach=True)`'),
      row('channelsLast', 'wall', "wall-clock, PyTorch tuned with genlab's channels-last activations"),
    );
    if (malloc) rows.push(row('tcmalloc', 'wall', `wall-clock, PyTorch with the same malloc (${malloc})`));
    notes.push(spreadNote(w.name, series('genlab', 'wall'), series('pytorch', 'wall'), all));
  }
  const pinned = process.env.GENLAB_BENCH_PINNED ? ', pinned to core 0, single-threaded BLAS' : '';
  const w0 = workloads[0];
  const head = `\`npm run bench:glow\` (\`npx tsx bench/glow.ts\`), ${new Date().toISOString().slice(0, 10)}: genlab vs PyTorch 1.13 (bench/glow.py, the same model op for op), ${threads} thread(s)${pinned}. ${interleaveMethod(rounds, blocks, w0.warmupBlocks)} A step: dequantise, log p(x), bits/dim, backward, clip the gradient norm, Adam. genlab's Adam and gradient clipping use multi-tensor kernels (one native call per parameter group); PyTorch 1.13's \`Adam\` on CPU defaults to a per-parameter loop, so the fourth row of each model compares with its multi-tensor form, \`foreach=True\`. genlab's Glow lays its activations out channels-last (\`memoryFormat\`, the CLI's default), which oneDNN's convolutions read without reordering; the PyTorch model is row-major, as the reference code and \`nn.Conv2d\` are by default, and the fifth row gives it the same layout. genlab runs as its command line does, with tcmalloc preloaded (bin/genlab). ${PEER_MALLOC_NOTE}`;
  const body = `${head}\n\n${ratioTable(rows)}\n\n${notes.join('\n')}`;
  console.log(body);
  if (only === '') writeSection('Speed against PyTorch', body);
}

/** Runs a `genlab flows` verb in this process; returns what it printed with --json. */
async function genlab(verb: string, args: string[]): Promise<Record<string, any>> {
  const result = genlabJson(['flows', verb, ...args]);
  process.stderr.write(`genlab flows ${verb} ${args.join(' ')}\n`);
  return result;
}

interface Experiment {
  data: string;
  short: string;
  train: string[];
  manipulate: string[];
}

const EXPERIMENTS: Experiment[] = [
  { data: 'digits', short: 'digits', train: ['--steps', '800'], manipulate: ['--from', '1', '--to', '7'] },
  {
    data: 'fashion-mnist',
    short: 'fashion',
    train: ['--steps', '2000'],
    manipulate: ['--from', 'Sneaker', '--to', 'Ankle boot'],
  },
];

async function results(): Promise<void> {
  const threads = argValue('threads', '1');
  const only = argValue('only', 'digits,fashion').split(',');
  writeSection(
    'Bits/dim',
    'Bits/dim is of the discrete data, through uniform dequantisation: the model scores y = (b + u)/bins − ½ on [−½, ½)^D, with b the integer bin and u ~ U[0, 1)^D, and bits/dim = (−log p(y) + D ln bins)/(D ln 2) (`src/flows/dequant.ts`, on `dequantizedBitsPerDim` of `src/metrics/bits.ts` with range [−½, ½]). A uniform model scores log2(bins); the digits have 17 grey levels (log2 17 = 4.087), fashion-mnist 256 (8 bits). The test set is dequantised once with a fixed seed, so `genlab flows eval <run>` reproduces each number exactly.',
  );
  for (const e of EXPERIMENTS.filter((x) => only.includes(x.short))) {
    const dir = join('runs', `bench-glow-${e.short}`);
    // --reuse: keep a finished run and redo only the evaluation and pictures.
    const reuse = process.argv.includes('--reuse') && existsSync(join(dir, 'results.json'));
    if (!reuse) rmSync(dir, { recursive: true, force: true });
    const t = reuse
      ? JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'))
      : await genlab('train', ['--data', e.data, ...e.train, '--out', dir, '--threads', threads, '--quiet']);
    const ev = await genlab('eval', [dir, '--threads', threads]);
    const file = (kind: string) => `results/glow-${e.short}-${kind}.png`;
    await genlab('sample', [dir, '--out', file('samples')]);
    await genlab('interpolate', [dir, '--out', file('interpolation'), '--pairs', '4', '--steps', '9']);
    const m = await genlab('manipulate', [dir, ...e.manipulate, '--out', file('manipulation'), '--n', '4']);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    const curve = readFileSync(join(dir, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => l.testBitsPerDim !== undefined)
      .map((l) => `${l.step}: ${l.testBitsPerDim.toFixed(3)}`);
    const body = [
      `\`npx tsx bench/glow.ts results\`, ${new Date().toISOString().slice(0, 10)}, ${threads} libtorch thread(s) on a 2-core machine shared with other jobs (so the wall time, which includes the periodic test evaluations, is an upper bound). The run is in ${dir}.`,
      '',
      '| model | training | wall time | bins | test bits/dim |',
      '|---|---|---|---|---|',
      `| L=${cfg.levels}, K=${cfg.depth}, hidden ${cfg.hidden}, ${cfg.coupling} coupling, ${cfg.permutation === 'lu' ? 'LU-decomposed' : 'plain'} 1×1 conv, learned top prior, activations ${cfg.memoryFormat === 'channelsLast' ? 'channels-last' : 'row-major'}; ${t.params.toLocaleString('en')} parameters | ${cfg.steps} steps × batch ${cfg.batchSize}, Adam ${cfg.lr}, linear warm-up ${cfg.warmup} steps then cosine, gradient norm clipped at ${cfg.clip} | ${(t.trainSeconds / 60).toFixed(1)} min | ${ev.bins} | **${ev.bitsPerDim.toFixed(3)}** (all ${ev.n} test images) |`,
      '',
      `Test bits/dim during training (first 2,000 test images; the last is the full set): ${curve.join(', ')}.`,
      '',
      `Temperature grid, rows T = 0, 0.5, 0.7, 0.8, 0.9, 1, the same noise in every row (\`genlab flows sample\`):\n\n![samples](glow-${e.short}-samples.png)`,
      '',
      `Latent interpolation between pairs of test images; the ends are the encoded images themselves (\`genlab flows interpolate\`):\n\n![interpolation](glow-${e.short}-interpolation.png)`,
      '',
      `Class manipulation (\`genlab flows manipulate <run> ${e.manipulate.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}\`): test images of class ${m.from} plus α · (mean latent of class ${m.to} − mean latent of class ${m.from}), means over training images, α = ${m.alphas.join(', ')} left to right:\n\n![manipulation](glow-${e.short}-manipulation.png)`,
    ].join('\n');
    writeSection(`Glow on ${e.data}`, body);
  }
  console.log(readFileSync(RESULTS, 'utf8'));
}

if (process.argv[2] === 'results') await results();
else if (process.argv[2] === 'serve') serveGlow(process.argv[3], JSON.parse(process.argv[4]));
else await speed();
