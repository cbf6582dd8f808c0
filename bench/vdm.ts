// npm run bench:vdm — the digits VDM (U-Net, fixed schedule, continuous-time VLB, Adam) in genlab
// and in PyTorch (bench/vdm.py), side by side:
//   1. training-step time, median over alternating rounds, pinned to one core: the ratio genlab/PyTorch;
//   2. the loss of each after the same number of steps, from independent inits, compared statistically.
// `npx tsx bench/vdm.ts results` instead runs the experiments behind results/vdm.md (schedules on digits,
// Fashion-MNIST, the swirl, sample grids); `--steps N` sets the digits budget.
// Both modes rewrite only their own section of results/vdm.md.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImageDataset } from '../src/data/dataset.js';
import { loadDataset } from '../src/data/registry.js';
import { buildModel, defaultConfig } from '../src/diffusion/config.js';
import { extractBatched } from '../src/metrics/extractor.js';
import { classifierExtractor, loadFeatureNet } from '../src/metrics/featureNet.js';
import { fidFromFeatures } from '../src/metrics/fid.js';
import { inceptionScore } from '../src/metrics/inception.js';
import { Adam } from '../src/optim/adam.js';
import { clipGradNorm } from '../src/optim/clip.js';
import * as torch from '../src/torch/index.js';
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
  runPython,
} from './common.js';
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
import { type BenchSettings, digitsBenchSettings } from './vdm-settings.js';

const RESULTS = 'results/vdm.md';
const mode = process.argv[2] === 'results' ? 'results' : process.argv[2] === 'serve' ? 'serve' : 'bench';

const SECTIONS = ['quickstart', 'digits', 'digits-fid', 'fashion', 'swirl', 'bench'];
const HEADER = [
  '# Variational diffusion models: results',
  '',
  'Written by `bench/vdm.ts`; each section by the command it names. Timings were taken on the shared',
  '2-core machine, often with other jobs running: see each section for the load it ran under.',
  '',
].join('\n');

/** Replaces one section of results/vdm.md (between <!-- name --> markers), keeping the others in order. */
function writeSection(name: string, body: string): void {
  mkdirSync('results', { recursive: true });
  const old = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '';
  const blocks = new Map<string, string>();
  for (const key of SECTIONS) {
    const m = old.match(new RegExp(`<!-- ${key}:start -->\\n([\\s\\S]*?)\\n<!-- ${key}:end -->`));
    if (m) blocks.set(key, m[1]);
  }
  blocks.set(name, body.trim());
  const parts = SECTIONS.filter((k) => blocks.has(k)).map(
    (k) => `<!-- ${k}:start -->\n${blocks.get(k)}\n<!-- ${k}:end -->`,
  );
  writeFileSync(RESULTS, `${HEADER}\n${parts.join('\n\n')}\n`);
}

function meanSe(xs: number[]): { mean: number; se: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, se: Math.sqrt(v / n) };
}

// ---------------------------------------------------------------------------------------------
// 1–2. genlab against PyTorch

/** The genlab side: the same net, loss, optimizer and clipping as bench/vdm.py; returns a step function. */
function genlabTrainer(s: BenchSettings, train: ImageDataset, seed: number) {
  torch.manualSeed(seed);
  const cfg = { ...defaultConfig('digits'), width: s.width, depth: s.depth, fourier: s.fourier };
  cfg.memoryFormat = s.memoryFormat ?? 'contiguous';
  Object.assign(cfg, { schedule: 'fixed', gammaMin: s.gammaMin, gammaMax: s.gammaMax });
  const model = buildModel(cfg, { shape: [1, 8, 8], levels: s.levels });
  const opt = new Adam(model.parameters(), { lr: s.lr });
  const gen = new torch.Generator(seed);
  const n = train.length;
  const step = () =>
    torch.tidy(() => {
      const x = train.batch(torch.randint(0, n, [s.batchSize], { generator: gen })).x;
      opt.zeroGrad();
      const st = model.lossAndBackward(x);
      clipGradNorm(model.parameters(), 1);
      opt.step();
      return st.loss;
    });
  return { step, params: model.numParameters(), dispose: () => model.dispose() };
}

/** The worker side of the step timing: genlab's trainer on the settings the parent wrote. */
function serveVdm(settingsFile: string): void {
  const s = JSON.parse(readFileSync(settingsFile, 'utf8')) as BenchSettings;
  torch.setNumThreads(s.threads);
  const train = loadDataset('digits', { split: 'train' }) as ImageDataset;
  serveSteps(genlabTrainer(s, train, 0).step);
}

async function bench(): Promise<void> {
  pinToOneCore(import.meta.url);
  const rounds = Number(argValue('rounds', '3'));
  const curveSteps = Number(argValue('curve-steps', '400'));
  const threads = Number(argValue('threads', '1'));
  torch.setNumThreads(threads);
  const dir = mkdtempSync(join(tmpdir(), 'genlab-vdm-bench-'));
  const s = digitsBenchSettings(threads, dir);
  const train = loadDataset('digits', { split: 'train' }) as ImageDataset;
  const script = fileURLToPath(new URL('./vdm.py', import.meta.url));
  // PyTorch runs the model row-major, as bench/vdm.py is written, unless a side says otherwise.
  const python = (extra: Record<string, unknown>) => {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ ...s, memoryFormat: 'contiguous', ...extra }));
    return runPython(script, [file]);
  };

  // 1. Step time: interleaved blocks of warm worker processes, so drift on the machine hits both.
  const blocks = Number(argValue('blocks', '8'));
  const warmupBlocks = 6;
  // Each worker reads its own settings file: genlab with the CLI's defaults (channels-last) and
  // row-major; PyTorch row-major as written, and in genlab's channels-last layout.
  const settings = (name: string, extra: Record<string, unknown>) => {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify({ ...s, ...extra }));
    return file;
  };
  const rowMajor = { memoryFormat: 'contiguous' };
  const sides = [
    nodeSide('genlab', fileURLToPath(import.meta.url), ['serve', settings('serve', {})]),
    nodeSide('genlabRM', fileURLToPath(import.meta.url), ['serve', settings('serve-rm', rowMajor)]),
    ...pytorchSides(script, [settings('serve-py', { mode: 'serve', ...rowMajor })]),
    pythonSide('foreach', script, [settings('serve-foreach', { mode: 'serve', foreach: true, ...rowMajor })]),
    pythonSide('pytorchCL', script, [settings('serve-py-cl', { mode: 'serve', memoryFormat: 'channelsLast' })]),
  ];
  const malloc = cliMalloc();
  const all: Interleaved[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = await interleave(sides, { blocks, steps: 10, warmupBlocks });
    all.push(t);
    const m = (k: string) => (median(t.wall[k]) * 1e3).toFixed(1);
    process.stderr.write(
      `timing round ${r + 1}/${rounds}: genlab ${m('genlab')} ms (row-major ${m('genlabRM')} ms), PyTorch ${m('pytorch')} ms (stock ${m('stock')} ms, foreach Adam ${m('foreach')} ms, channels-last ${m('pytorchCL')} ms)\n`,
    );
  }
  const ours = all.flatMap((t) => t.wall.genlab);
  const theirs = all.flatMap((t) => t.wall.pytorch);
  const theirsStock = all.flatMap((t) => t.wall.stock);
  const theirsForeach = all.flatMap((t) => t.wall.foreach);
  const theirsMalloc = malloc ? all.flatMap((t) => t.wall.tcmalloc) : [];
  const oursRM = all.flatMap((t) => t.wall.genlabRM);
  const theirsCL = all.flatMap((t) => t.wall.pytorchCL);
  const py = python({ mode: 'curve', seed: 0, steps: 1 });
  const torchVersion = String(py.torch);
  const params = genlabTrainer(s, train, 0).params;
  if (Number(py.params) !== params) throw new Error(`parameter counts differ: genlab ${params}, PyTorch ${py.params}`);

  // 2. Loss after equal steps, from independent inits and data orders (seeds 1 and 2).
  const g = genlabTrainer(s, train, 1);
  const oursCurve: number[] = [];
  for (let i = 0; i < curveSteps; i++) oursCurve.push(g.step());
  g.dispose();
  const theirCurve = (python({ mode: 'curve', seed: 2, steps: curveSteps }).losses as unknown as number[]) ?? [];
  const window = Math.max(10, Math.floor(curveSteps / 4));
  const a = meanSe(oursCurve.slice(-window));
  const b = meanSe(theirCurve.slice(-window));
  const diff = a.mean - b.mean;
  const se = Math.hypot(a.se, b.se);
  const checkpoints = [0.25, 0.5, 0.75, 1].map((f) => Math.round(f * curveSteps));
  const at = (c: number[], k: number) => meanSe(c.slice(Math.max(0, k - 25), k)).mean;

  const label = `VDM training step (U-Net width ${s.width}, depth ${s.depth}, ${params} parameters), digits batch ${s.batchSize}`;
  const against = (key: string, what: string, theirsOf: number[], oursOf = ours): Row => ({
    key,
    name: `${label}, ${what}`,
    genlab: median(oursOf),
    pytorch: median(theirsOf),
    ratio: pairedRatio(oursOf, theirsOf),
    target: 0.95,
    unit: 'ms',
  });
  const rows: Row[] = [
    against('vdm', 'PyTorch stock', theirsStock),
    against('vdmTuned', 'PyTorch tuned', theirs),
    against('vdmForeach', 'PyTorch tuned with `Adam(foreach=True)`', theirsForeach),
  ];
  if (malloc) rows.push(against('vdmMalloc', `PyTorch with the same malloc (${malloc})`, theirsMalloc));
  rows.push(
    against('vdmRowMajor', 'genlab `--memory-format contiguous`, PyTorch stock', theirsStock, oursRM),
    against('vdmRowMajorTuned', 'genlab `--memory-format contiguous`, PyTorch tuned', theirs, oursRM),
    against('vdmBothChannelsLast', 'both channels-last, PyTorch tuned', theirsCL),
  );
  const pinned = process.env.GENLAB_BENCH_PINNED ? ', pinned to core 0, single-threaded BLAS' : '';
  const head = `genlab vs PyTorch ${torchVersion}, ${threads} thread(s)${pinned}, blocks of 10 steps. ${interleaveMethod(rounds, blocks, warmupBlocks)} ${spreadNote('VDM digits', ours, theirs, all)}`;
  const curveTable = [
    '| step | genlab loss (bits/dim, mean of 25 steps) | PyTorch loss |',
    '|---|---|---|',
    ...checkpoints.map((k) => `| ${k} | ${at(oursCurve, k).toFixed(3)} | ${at(theirCurve, k).toFixed(3)} |`),
  ].join('\n');
  const verdict = Math.abs(diff) <= 3 * se ? 'within noise' : 'NOT within noise';
  const summary = `Mean training loss over steps ${curveSteps - window + 1}–${curveSteps}: genlab ${a.mean.toFixed(3)} ± ${a.se.toFixed(3)}, PyTorch ${b.mean.toFixed(3)} ± ${b.se.toFixed(3)} bits/dim; difference ${diff.toFixed(3)} ± ${se.toFixed(3)} (${(Math.abs(diff) / se).toFixed(1)} standard errors: ${verdict}).`;
  console.log(`${head}\n\n${ratioTable(rows)}\n\n${curveTable}\n\n${summary}`);
  const when = new Date().toISOString().slice(0, 10);
  writeSection(
    'bench',
    `## genlab against PyTorch\n\n\`npm run bench:vdm\`, ${when}: ${head} The same U-Net, fixed schedule, continuous-time VLB, Adam (lr ${s.lr}) and gradient clipping, written in PyTorch in \`bench/vdm.py\`. genlab's Adam and clipping use multi-tensor kernels; PyTorch 1.13's \`Adam\` on CPU defaults to a per-parameter loop, so the third row compares with its multi-tensor form. genlab runs the CLI's default layout, channels-last (with genlab's own kernels for it: GroupNorm, and GroupNorm + SiLU as one node), and PyTorch the model as written, row-major; the next two rows time genlab row-major (\`--memory-format contiguous\`, the layout of the runs above, trained before channels-last became the default), and the last the same PyTorch model in channels-last layout, whose GroupNorm libtorch 1.13 runs through a slow path. genlab runs as its command line does, with tcmalloc preloaded (bin/genlab). ${PEER_MALLOC_NOTE}\n\n${ratioTable(rows)}\n\nLoss curves from independent initialisations and data orders (${curveSteps} steps each):\n\n${curveTable}\n\n${summary}`,
  );
  rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// 3. The experiments of results/vdm.md

async function runCli(verb: 'train' | 'sample' | 'eval', args: string[]): Promise<void> {
  genlabJson(['diffusion', verb, ...args, '--quiet']);
}

/** Runs `genlab diffusion eval <run> --json` in-process and returns its result (also saved as eval.json). */
async function evalJson(run: string, args: string[]): Promise<Record<string, number | string | null>> {
  const result = genlabJson(['diffusion', 'eval', run, '--quiet', ...args]);
  writeFileSync(join(run, 'eval.json'), `${JSON.stringify(result)}\n`);
  return result;
}

/** FID of 1,000 training digits against the test digits, and their IS: what a perfect model would get. */
function realDigitsFid(): { fid: number; is: number } {
  const net = loadFeatureNet('digits');
  const extractor = classifierExtractor(net);
  const train = loadDataset('digits', { split: 'train' }) as ImageDataset;
  const test = loadDataset('digits', { split: 'test' }) as ImageDataset;
  const out = torch.tidy(() => {
    const real = train.images().narrow(0, 0, 1000);
    const fid = fidFromFeatures(
      extractBatched(extractor, real, 'features'),
      extractBatched(extractor, test.images(), 'features'),
    );
    return { fid, is: inceptionScore(extractBatched(extractor, real, 'probs')).mean };
  });
  net.dispose();
  train.dispose();
  test.dispose();
  return out;
}

function readResults(dir: string): Record<string, number | string> {
  return JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
}

async function results(): Promise<void> {
  const steps = argValue('steps', '3000');
  const fashionSteps = argValue('fashion-steps', '1500');
  const threads = argValue('threads', '2');
  const only = argValue('only', 'quickstart,digits,digits-fid,fashion,swirl').split(',');
  const root = argValue('runs', 'runs/bench-vdm');
  // The U-Net layout of the digits and Fashion-MNIST runs; `contiguous` reproduces the committed
  // sections trained before channels-last became the CLI's default.
  const layout = argValue('memory-format', 'channelsLast');
  const when = new Date().toISOString().slice(0, 10);
  const fmt = (v: unknown, d = 3) => (typeof v === 'number' ? v.toFixed(d) : String(v));

  const variants: [string, string[]][] = [
    ['fixed linear', ['--schedule', 'fixed']],
    ['learned scalar', ['--schedule', 'scalar', '--objective', 'vlb']],
    ['learned network', ['--schedule', 'net', '--objective', 'vlb']],
    ['learned network, variance-minimising', ['--schedule', 'net', '--objective', 'variance']],
  ];
  const tagOf = (extra: string[]) => `${extra[1]}${extra.includes('variance') ? '-variance' : ''}`;
  if (only.includes('quickstart')) {
    // Exactly the README's command, in a child process as a user runs it, timed from the outside.
    const out = join(root, 'quickstart');
    rmSync(out, { recursive: true, force: true });
    const bin = fileURLToPath(new URL('../bin/genlab.js', import.meta.url));
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [bin, 'diffusion', 'train', '--out', out, '--quiet'], { encoding: 'utf8' });
    const secs = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`quickstart failed: ${r.stderr}`);
    const q = readResults(out);
    copyFileSync(join(out, 'samples.png'), 'results/vdm-digits-quickstart.png');
    const load = loadavg()[0].toFixed(1);
    writeSection(
      'quickstart',
      `## Quickstart\n\n\`genlab diffusion train\` with no options, ${when}: ${q.steps} steps on the embedded digits (U-Net width 32, depth 1, learned network schedule trained for low variance), ${secs.toFixed(0)} s from start to finish including the final evaluation and 64 samples of 1000 ancestral steps (load average ${load} at the end, on 2 cores). Test bits/dim ${fmt(q.testBpd)} ± ${fmt(q.testBpdStderr)} (4 draws per image).\n\n![quickstart samples](vdm-digits-quickstart.png)`,
    );
  }

  if (only.includes('digits')) {
    const rows: string[] = [];
    for (const [name, extra] of variants) {
      const tag = tagOf(extra);
      const out = join(root, `digits-${tag}`);
      rmSync(out, { recursive: true, force: true });
      const t0 = performance.now();
      await runCli('train', [
        '--data',
        'digits',
        '--steps',
        steps,
        '--threads',
        threads,
        '--time-samples',
        '16',
        '--out',
        out,
        '--memory-format',
        layout,
        ...extra,
      ]);
      const secs = (performance.now() - t0) / 1000;
      const r = readResults(out);
      const png = `results/vdm-digits-${tag}.png`;
      copyFileSync(join(out, 'samples.png'), png);
      rows.push(
        `| ${name} | ${fmt(r.testBpd)} ± ${fmt(r.testBpdStderr)} | ${fmt(r.estimatorStd, 2)} | ${fmt(r.recon)} / ${fmt(r.prior, 4)} / ${fmt(r.diff)} | ${fmt(r.gamma0, 2)}, ${fmt(r.gamma1, 2)} | ${secs.toFixed(0)} s | ![](${png.replace('results/', '')}) |`,
      );
      process.stderr.write(`digits ${name}: ${fmt(r.testBpd)} bits/dim\n`);
    }
    writeSection(
      'digits',
      `## Digits: schedules after a fixed budget\n\n\`npx tsx bench/vdm.ts results --only digits --steps ${steps} --memory-format ${layout}\`, ${when}: the quickstart model (\`genlab diffusion train\` defaults: U-Net width 32, depth 1, batch 64, lr 4e-3, γ from −7.8 to 5; U-Net layout ${layout}) for ${steps} steps each, with the schedule and objective of each row, ${threads} thread(s); times are wall-clock (load average ${loadavg()[0].toFixed(1)} at the end). Test bits/dim of the VLB over the 360 test digits × 16 (t, ε) draws, EMA weights, ± the standard error over images; "estimator std" is the standard deviation of a one-draw VLB estimate of an image, averaged over images (what the variance-minimising schedule lowers). Samples: 64 draws, 1000 ancestral steps.\n\n| schedule | test bits/dim | estimator std | recon / prior / diffusion | learned γ(0), γ(1) | time | samples |\n|---|---|---|---|---|---|---|\n${rows.join('\n')}`,
    );
  }

  if (only.includes('digits-fid')) {
    // Sample quality of the runs above, in the shipped digits classifier's feature space.
    const rows: string[] = [];
    for (const [name, extra] of variants) {
      const out = join(root, `digits-${tagOf(extra)}`);
      const e = await evalJson(out, ['--threads', threads, '--fid-samples', '1000', '--time-samples', '1']);
      rows.push(`| ${name} | ${fmt(e.fid, 2)} | ${fmt(e.inceptionScore, 2)} |`);
      process.stderr.write(`digits ${name}: FID ${fmt(e.fid, 2)}\n`);
    }
    const floor = realDigitsFid();
    rows.push(`| *1,000 training digits (the floor)* | ${fmt(floor.fid, 2)} | ${fmt(floor.is, 2)} |`);
    writeSection(
      'digits-fid',
      `### Sample quality\n\n\`npx tsx bench/vdm.ts results --only digits-fid\`, ${when}: FID against the 360 test digits and Inception Score, both in the feature space of the shipped digits classifier (\`assets/feature-nets/digits.safetensors\`), from 1,000 samples of each run above (1000 ancestral steps, EMA weights). The last row scores 1,000 real training digits the same way.\n\n| schedule | FID | IS |\n|---|---|---|\n${rows.join('\n')}`,
    );
  }

  if (only.includes('fashion')) {
    const out = join(root, 'fashion-mnist');
    rmSync(out, { recursive: true, force: true });
    const t0 = performance.now();
    await runCli('train', [
      '--data',
      'fashion-mnist',
      '--steps',
      fashionSteps,
      '--threads',
      threads,
      '--memory-format',
      layout,
      '--out',
      out,
    ]);
    const secs = (performance.now() - t0) / 1000;
    copyFileSync(join(out, 'samples.png'), 'results/vdm-fashion-mnist.png');
    const e = await evalJson(out, ['--threads', threads, '--fid-samples', '1000', '--steps', '100']);
    const fid =
      e.fid === undefined || e.fid === null
        ? 'unavailable (no feature network in assets/feature-nets/)'
        : `${fmt(e.fid, 2)} (IS ${fmt(e.inceptionScore, 2)}; 1000 samples, 100 ancestral steps)`;
    writeSection(
      'fashion',
      `## Fashion-MNIST\n\n\`npx tsx bench/vdm.ts results --only fashion --fashion-steps ${fashionSteps} --memory-format ${layout}\`, ${when}: the \`--data fashion-mnist\` defaults (U-Net width 16, depth 1, two downsamplings, batch 64, fixed schedule; U-Net layout ${layout}) for ${fashionSteps} steps, ${threads} thread(s), ${(secs / 60).toFixed(0)} min (load average ${loadavg()[0].toFixed(1)} at the end).\n\n| test bits/dim (10,000 images × ${fmt(e.timeSamples, 0)} draw) | FID |\n|---|---|\n| ${fmt(e.bpd)} ± ${fmt(e.stderr)} | ${fid} |\n\n![Fashion-MNIST samples](vdm-fashion-mnist.png)`,
    );
  }

  if (only.includes('swirl')) {
    const out = join(root, 'swirl');
    rmSync(out, { recursive: true, force: true });
    await runCli('train', ['--data', 'swirl', '--threads', threads, '--out', out]);
    const r = readResults(out);
    copyFileSync(join(out, 'samples.svg'), 'results/vdm-swirl.svg');
    writeSection(
      'swirl',
      `## 2-D swirl\n\n\`genlab diffusion train --data swirl\` (MLP denoiser, ${r.steps} steps), ${when}: test VLB ${fmt(r.testBpd)} bits/dim (a density bound on continuous data). Blue: test points; orange: 2,000 samples, 1000 ancestral steps.\n\n![swirl samples](vdm-swirl.svg)`,
    );
  }
}

if (mode === 'results') await results();
else if (mode === 'serve') serveVdm(process.argv[3]);
else await bench();
