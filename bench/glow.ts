// npm run bench:glow — Glow training steps, genlab against the same model in PyTorch (bench/glow.py).
//   npx tsx bench/glow.ts            speed: median Adam step (dequantise, log p, bits/dim, backward,
//                                    clip, update) on two Glows, alternating rounds, pinned to one core
//                                    (--rounds N; --only digits|fashion times one and writes nothing)
//   npx tsx bench/glow.ts results    trains Glow on digits and fashion-mnist through `genlab flows`,
//                                    then writes results/glow.md and results/glow-*.png
//                                    (--reuse: keep finished runs, redo evaluation and pictures)
// Each mode rewrites its own section of results/glow.md.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { torch } from '../src/index.js';
import {
  argValue,
  genlabJson,
  median,
  medianWallCpu,
  pairedRatio,
  pinToOneCore,
  type Row,
  ratioTable,
  runPython,
} from './common.js';
import { type GlowWorkload, glowTrainStep } from './glow-step.js';

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
  warmup: number;
  reps: number;
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
    warmup: 5,
    reps: 30,
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
    warmup: 2,
    reps: 10,
  },
];

/** The CLI's training step (bench/glow-step.ts), median wall-clock and CPU seconds. */
function stepTimes(w: Workload): { wall: number; cpu: number } {
  const { step, dispose } = glowTrainStep(w);
  const t = medianWallCpu(step, w.warmup, w.reps);
  dispose();
  return t;
}

/**
 * One round of genlab's side in a fresh process, as each of PyTorch's rounds is: a process that
 * has already trained the other models carries their heap and allocator state into the timing.
 */
function genlabRound(workloads: Workload[], threads: number): Record<string, { wall: number; cpu: number }> {
  const r = spawnSync(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), 'round', String(threads), JSON.stringify(workloads)],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  if (r.status !== 0) throw new Error(`genlab round failed: ${r.stderr.trim().split('\n').pop()}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

/** The child side of genlabRound: times each workload and prints one JSON object. */
function round(threads: number, workloads: Workload[]): void {
  torch.setNumThreads(threads);
  console.log(JSON.stringify(Object.fromEntries(workloads.map((w) => [w.name, stepTimes(w)]))));
}

function speed(): void {
  pinToOneCore(import.meta.url);
  const threads = Number(argValue('threads', '1'));
  const rounds = Number(argValue('rounds', '5'));
  // --only digits (or fashion) times one model; the results file is then left alone.
  const only = argValue('only', '');
  const workloads = WORKLOADS.filter((w) => only === '' || w.name === only);
  if (workloads.length === 0) throw new Error(`--only: no workload named '${only}'`);
  const script = fileURLToPath(new URL('./glow.py', import.meta.url));
  const series = (keys: string[]) =>
    Object.fromEntries(workloads.flatMap((w) => keys.map((k) => [`${w.name}${k}`, []]))) as Record<string, number[]>;
  const ours = series(['', 'Cpu']);
  const theirs = series(['', 'Cpu', 'Foreach', 'ForeachCpu']);
  let version = '';
  for (let r = 0; r < rounds; r++) {
    const t = genlabRound(workloads, threads);
    for (const w of workloads) {
      ours[w.name].push(t[w.name].wall);
      ours[`${w.name}Cpu`].push(t[w.name].cpu);
    }
    const py = runPython(script, [String(threads), JSON.stringify(workloads)]);
    version = String(py.torch);
    for (const k of Object.keys(theirs)) theirs[k].push(Number(py[k]));
    const line = workloads.map(
      (w) => `${w.name} ${(ours[w.name][r] * 1e3).toFixed(1)} vs ${(theirs[w.name][r] * 1e3).toFixed(1)} ms`,
    );
    process.stderr.write(`round ${r + 1}/${rounds}: ${line.join(', ')}\n`);
  }
  const row = (w: Workload, ourKey: string, theirKey: string, what: string): Row => ({
    key: theirKey,
    name: `Glow training step, ${what}: ${w.label}`,
    genlab: median(ours[`${w.name}${ourKey}`]),
    pytorch: median(theirs[`${w.name}${theirKey}`]),
    ratio: pairedRatio(ours[`${w.name}${ourKey}`], theirs[`${w.name}${theirKey}`]),
    target: 1.05,
    unit: 'ms',
  });
  const rows: Row[] = workloads.flatMap((w) => [
    row(w, '', '', 'wall-clock'),
    row(w, 'Cpu', 'Cpu', 'process CPU time'),
    row(w, '', 'Foreach', 'wall-clock, PyTorch with `Adam(foreach=True)`'),
  ]);
  const pinned = process.env.GENLAB_BENCH_PINNED ? ', pinned to core 0, single-threaded BLAS' : '';
  const head = `\`npm run bench:glow\` (\`npx tsx bench/glow.ts\`), ${new Date().toISOString().slice(0, 10)}: genlab vs PyTorch ${version} (bench/glow.py, the same model op for op), ${threads} thread(s)${pinned}, ${rounds} alternating rounds, each a fresh process on both sides; times are the median over rounds of each side's median step, and the ratio is the median over rounds of that round's genlab/PyTorch ratio. A step: dequantise, log p(x), bits/dim, backward, clip the gradient norm, Adam. genlab's Adam and gradient clipping use multi-tensor kernels (one native call per parameter group); PyTorch 1.13's \`Adam\` on CPU defaults to a per-parameter loop, so the third row of each model compares with its multi-tensor form, \`foreach=True\`. CPU time counts every thread of the process (V8's garbage collector included) but not time spent descheduled, so it is the steadier number on a shared machine.`;
  // The spread of the per-round ratios shows how far the machine's drift reaches into the medians.
  const spread = workloads
    .map((w) => {
      const ratios = ours[w.name].map((g, r) => g / theirs[w.name][r]).sort((a, b) => a - b);
      return `${w.name} ${ratios[0].toFixed(3)}–${ratios[ratios.length - 1].toFixed(3)}`;
    })
    .join(', ');
  const body = `${head}\n\n${ratioTable(rows)}\n\nRatio of each round's wall-clock medians, lowest to highest: ${spread}.`;
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
      `| L=${cfg.levels}, K=${cfg.depth}, hidden ${cfg.hidden}, ${cfg.coupling} coupling, ${cfg.permutation === 'lu' ? 'LU-decomposed' : 'plain'} 1×1 conv, learned top prior; ${t.params.toLocaleString('en')} parameters | ${cfg.steps} steps × batch ${cfg.batchSize}, Adam ${cfg.lr}, linear warm-up ${cfg.warmup} steps then cosine, gradient norm clipped at ${cfg.clip} | ${(t.trainSeconds / 60).toFixed(1)} min | ${ev.bins} | **${ev.bitsPerDim.toFixed(3)}** (all ${ev.n} test images) |`,
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
else if (process.argv[2] === 'round') round(Number(process.argv[3]), JSON.parse(process.argv[4]));
else speed();
