// npm run bench:memory — memory, genlab against PyTorch, each measured in its own fresh process.
//   1. Peak resident set (VmHWM) of a Glow digits training run: the training step of bench/glow.ts
//      (digits model L=2 K=8 hidden 64, batch 64, Adam, fixed random batch of 17 grey levels) for
//      --steps steps (default 1000), genlab with and without the caching allocator, and the same
//      model in PyTorch (bench/glow.py train). The peak is read by GNU time (`/usr/bin/time -v`) when
//      it exists, else by the child itself from /proc/self/status at its end.
//   2. Resident set before and after a large evaluation in genlab: Glow bits/dim (fashion-MNIST-sized
//      model, L=2 K=8 hidden 96) over --images images (default 1000) at batch --eval-batch (500),
//      with the caching allocator and with glibc (GENLAB_CACHING_ALLOCATOR=0): right after, after
//      waiting past the allocator's age limit (its idle timer releases unused size classes), and after
//      torch.emptyCache().
// Writes the "Memory" section of results/engine.md (--no-write: print only). --threads N (default 1).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { TensorDataset } from '../src/data/dataset.js';
import { quantization } from '../src/flows/dequant.js';
import { evaluateBitsPerDim } from '../src/flows/evaluate.js';
import { FLOWS_MEMORY_FORMAT } from '../src/flows/experiment.js';
import { Glow } from '../src/flows/glow.js';
import { torch } from '../src/index.js';
import { argValue, cliMalloc, PYTHON, pythonEnv } from './common.js';
import { glowTrainStep } from './glow-step.js';

const SECTION = '## Memory';
const RESULTS = 'results/engine.md';
const GNU_TIME = '/usr/bin/time';
/** The allocator's default age limit in seconds (native/src/allocator.cc), unless the environment sets it. */
const AGE_LIMIT = Number(process.env.GENLAB_ALLOC_CACHE_SECONDS || 10);

// The digits workload of bench/glow.ts (the CLI's default digits model).
const DIGITS = {
  name: 'digits',
  shape: [1, 8, 8] as [number, number, number],
  levels: 2,
  depth: 8,
  hidden: 64,
  batch: 64,
  levels_in_data: 17,
  warmup: 0,
  reps: 0,
};

/** A line of /proc/self/status in MiB (VmRSS, VmHWM). */
function statusMiB(field: 'VmRSS' | 'VmHWM'): number {
  const m = readFileSync('/proc/self/status', 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** Child: trains `steps` steps as bench/glow.ts times them; prints the loss and its own VmHWM. */
function trainChild(steps: number, threads: number): void {
  torch.setNumThreads(threads);
  const loaded = statusMiB('VmRSS') * 1024;
  const { step } = glowTrainStep(DIGITS);
  let loss = Number.NaN;
  for (let i = 0; i < steps; i++) loss = step();
  console.log(JSON.stringify({ steps, loss, loadedKiB: loaded, vmHwmKiB: statusMiB('VmHWM') * 1024 }));
}

/** Child: RSS around one large Glow evaluation; prints them in MiB. */
async function evalChild(images: number, batch: number, threads: number): Promise<void> {
  torch.setNumThreads(threads);
  torch.manualSeed(0);
  const glow = new Glow({ shape: [1, 28, 28], levels: 2, depth: 8, hidden: 96, memoryFormat: FLOWS_MEMORY_FORMAT });
  const q = quantization(256);
  const x = torch.randint(0, 256, [images, 1, 28, 28]).float().div(255).keep();
  const data = new TensorDataset(x, torch.zeros([images], { dtype: 'int64' }));
  // A small evaluation first, so "before" is a process that has already evaluated (its code paths
  // warm, the model's own tensors made), as a training run between its periodic evaluations is.
  evaluateBitsPerDim(glow, data, q, { batchSize: 16, limit: 16 });
  const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));
  await sleep(AGE_LIMIT + 2);
  const before = statusMiB('VmRSS');
  const t0 = performance.now();
  const bpd = evaluateBitsPerDim(glow, data, q, { batchSize: batch }).bitsPerDim;
  const seconds = (performance.now() - t0) / 1000;
  const after = statusMiB('VmRSS');
  const cachedAfter = torch.memory().cachedBytes / 2 ** 20;
  await sleep(AGE_LIMIT + 2);
  const aged = statusMiB('VmRSS');
  const cachedAged = torch.memory().cachedBytes / 2 ** 20;
  torch.emptyCache();
  const emptied = statusMiB('VmRSS');
  const peak = statusMiB('VmHWM');
  glow.dispose();
  x.dispose();
  console.log(JSON.stringify({ bpd, seconds, before, after, cachedAfter, aged, cachedAged, emptied, peak }));
}

/** Runs a child command, under GNU time when present; returns its JSON line and time's peak (KiB). */
function measured(cmd: string, args: string[], env: Record<string, string> = {}) {
  const useTime = existsSync(GNU_TIME);
  const r = spawnSync(useTime ? GNU_TIME : cmd, useTime ? ['-v', cmd, ...args] : args, {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    env: { ...process.env, ...env },
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args[0]} failed: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop() as string);
  const m = useTime ? r.stderr.match(/Maximum resident set size \(kbytes\): (\d+)/) : null;
  return { out, peakKiB: m ? Number(m[1]) : Number(out.vmHwmKiB) };
}

const self = (mode: string, ...args: string[]) => [...process.execArgv, fileURLToPath(import.meta.url), mode, ...args];

function replaceSection(body: string): void {
  const old = readFileSync(RESULTS, 'utf8');
  const section = `${SECTION}\n\n${body.trim()}\n`;
  const start = old.indexOf(`${SECTION}\n`);
  const next = start < 0 ? -1 : old.indexOf('\n## ', start + 1);
  const text =
    start < 0 ? `${old.trimEnd()}\n\n${section}` : `${old.slice(0, start)}${section}${next < 0 ? '' : old.slice(next)}`;
  writeFileSync(RESULTS, text);
}

function main(): void {
  const steps = argValue('steps', '1000');
  const threads = argValue('threads', '1');
  const images = argValue('images', '1000');
  const batch = argValue('eval-batch', '500');
  const mib = (kib: number) => (kib / 1024).toFixed(0);
  const load0 = loadavg()[0];
  // genlab's children run as the command does, on the malloc bin/genlab preloads; PyTorch's as python3 does.
  const malloc = cliMalloc();
  const cli: Record<string, string> = malloc ? { LD_PRELOAD: malloc } : {};
  const glibc = { ...cli, GENLAB_CACHING_ALLOCATOR: '0' };
  const systemMalloc = { LD_PRELOAD: '' };

  const train = [
    { name: 'genlab, caching allocator (default)', r: measured(process.execPath, self('train', steps, threads), cli) },
    {
      name: 'genlab, glibc (`GENLAB_CACHING_ALLOCATOR=0`)',
      r: measured(process.execPath, self('train', steps, threads), glibc),
    },
    {
      name: 'PyTorch (bench/glow.py train)',
      r: measured(
        PYTHON,
        [fileURLToPath(new URL('./glow.py', import.meta.url)), 'train', threads, JSON.stringify(DIGITS), steps],
        { ...(pythonEnv() as Record<string, string>), LD_PRELOAD: '' },
      ),
    },
  ];
  if (malloc) {
    train.push({
      name: "genlab on glibc's malloc (`GENLAB_MALLOC=system`), caching allocator on",
      r: measured(process.execPath, self('train', steps, threads), systemMalloc),
    });
  }
  for (const t of train) process.stderr.write(`train ${t.name}: peak ${mib(t.r.peakKiB)} MiB, loss ${t.r.out.loss}\n`);
  const ev = [
    {
      name: 'caching allocator (default)',
      r: measured(process.execPath, self('eval', images, batch, threads), cli).out,
    },
    {
      name: 'glibc (`GENLAB_CACHING_ALLOCATOR=0`)',
      r: measured(process.execPath, self('eval', images, batch, threads), glibc).out,
    },
  ];
  const load1 = loadavg()[0];
  const pct = (x: number, base: number) =>
    `${x.toFixed(0)} MiB (${x >= base ? '+' : ''}${(((x - base) / base) * 100).toFixed(0)}%)`;
  const within = (x: number, base: number) => (x <= base * 1.1 ? 'yes' : 'no');
  const peakBy = existsSync(GNU_TIME)
    ? 'GNU time (`/usr/bin/time -v`, maximum resident set size)'
    : 'the child itself (VmHWM of /proc/self/status at its end)';
  const body = [
    `\`npm run bench:memory -- --steps ${steps} --images ${images} --eval-batch ${batch}\`, ${new Date().toISOString().slice(0, 10)}: each row a fresh process, ${threads} thread(s); load average ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end.`,
    '',
    `Peak resident set of a ${steps}-step Glow digits training run: the training step of \`bench:glow\` (L=2 K=8 hidden 64, batch 64 of 8×8 images with 17 grey levels, the same random batch every step, so no data loader and no test evaluations), read by ${peakBy}. genlab's processes run as its command does, on ${malloc ?? "glibc's malloc"} (bin/genlab), but the last row; "glibc" in the second row means the caching allocator is off (\`GENLAB_CACHING_ALLOCATOR=0\`), not the malloc. PyTorch ${train[2].r.out.torch} runs the same model op for op, with the glibc thresholds genlab's addon sets. "Loaded" is the resident set after the runtime and libtorch are loaded, before the model is made. The two sides draw their initial weights from different random streams, so their losses differ.`,
    '',
    '| process | RSS once loaded (before the model) | peak RSS | peak − loaded | final loss (bits/dim) |',
    '|---|---|---|---|---|',
    ...train.map(
      ({ name, r }) =>
        `| ${name} | ${mib(r.out.loadedKiB)} MiB | ${mib(r.peakKiB)} MiB | ${mib(r.peakKiB - r.out.loadedKiB)} MiB | ${Number(r.out.loss).toFixed(3)} |`,
    ),
    `| ratio genlab (default) / PyTorch | | **${(train[0].r.peakKiB / train[2].r.peakKiB).toFixed(2)}** | **${((train[0].r.peakKiB - train[0].r.out.loadedKiB) / (train[2].r.peakKiB - train[2].r.out.loadedKiB)).toFixed(2)}** | |`,
    '',
    `Resident set around a large evaluation in genlab: Glow bits/dim (fashion-MNIST-sized model, L=2 K=8 hidden 96) of ${images} random 28×28 images at batch ${batch}, under inference mode. "Before" is after a 16-image evaluation and ${AGE_LIMIT + 2} s idle; "aged" is ${AGE_LIMIT + 2} s after the evaluation, past the allocator's age limit of ${AGE_LIMIT} s (\`GENLAB_ALLOC_CACHE_SECONDS\`), with no call but the allocator's idle timer; "emptied" is after that and \`torch.emptyCache()\`. Percentages are against "before"; "within 10%" is of the aged RSS.`,
    '',
    '| allocator | evaluation | before | right after (cached) | aged (cached) | emptied | peak | within 10% after aging |',
    '|---|---|---|---|---|---|---|---|',
    ...ev.map(
      ({ name, r }) =>
        `| ${name} | ${r.seconds.toFixed(1)} s | ${r.before.toFixed(0)} MiB | ${pct(r.after, r.before)} (${r.cachedAfter.toFixed(0)} MiB) | ${pct(r.aged, r.before)} (${r.cachedAged.toFixed(0)} MiB) | ${pct(r.emptied, r.before)} | ${r.peak.toFixed(0)} MiB | ${within(r.aged, r.before)} |`,
    ),
  ].join('\n');
  console.log(body);
  if (!process.argv.includes('--no-write')) replaceSection(body);
}

const [mode, a, b, c] = process.argv.slice(2);
if (mode === 'train') trainChild(Number(a), Number(b));
else if (mode === 'eval') await evalChild(Number(a), Number(b), Number(c));
else main();
