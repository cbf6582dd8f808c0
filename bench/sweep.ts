// npm run bench:sweep — large tensors without a cliff.
//   1. A batch sweep (16 … 1024) of a small conv net's forward and backward on 28×28 inputs, genlab
//      against the same model in PyTorch (Python, same libtorch), time per example side by side.
//      PyTorch runs stock and with genlab's glibc thresholds (PEER_MALLOC_NOTE). Stock glibc hands the
//      top of its heap back to the system whenever more than its trim threshold is free (brk, about
//      12 times per step at batch 64) and faults those pages in again; with the thresholds, only
//      blocks past the 32 MiB mmap ceiling are (above batch ~300). genlab's caching allocator
//      (native/src/allocator.cc) keeps them.
//   2. Glow evaluation (fashion-MNIST-sized model, bits/dim under inference mode) per image at batch
//      100 and 500, with the caching allocator and, in a child process, without it
//      (GENLAB_CACHING_ALLOCATOR=0), once on the command line's malloc and once on glibc's.
// Rounds alternate genlab and PyTorch; per batch size the ratio is the median of the per-round ratios.
// Writes the "Batch sweep" section of results/engine.md and results/engine-sweep.svg.
//   --rounds N (default 3), --batches 16,64,256,1024, --glow-images N (default 1000), --no-glow, --no-write
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TensorDataset } from '../src/data/dataset.js';
import { quantization } from '../src/flows/dequant.js';
import { evaluateBitsPerDim } from '../src/flows/evaluate.js';
import { FLOWS_MEMORY_FORMAT } from '../src/flows/experiment.js';
import { Glow } from '../src/flows/glow.js';
import { nn, torch } from '../src/index.js';
import { savePlotSvg } from '../src/train/plot.js';
import {
  argValue,
  cliMalloc,
  median,
  medianWallCpu,
  PEER_MALLOC_NOTE,
  type PeerMalloc,
  pairedRatio,
  pinToOneCore,
  runPython,
} from './common.js';
import { smallConvNet } from './models.js';

const SECTION = '## Batch sweep';

/** Repetitions per batch size: about the same number of examples at each. */
const reps = (batch: number) => Math.max(3, Math.min(12, Math.round(2048 / batch)));

/** Per batch size: seconds per example (median step / batch), as wall-clock and as process CPU time. */
interface Sweep {
  wall: number[];
  cpu: number[];
}

/** Forward + cross-entropy + backward of the conv net at each batch size. */
function genlabSweep(batches: number[]): Sweep {
  torch.manualSeed(0);
  const model = smallConvNet();
  const out: Sweep = { wall: [], cpu: [] };
  for (const b of batches) {
    const x = torch.randn([b, 1, 28, 28]).keep();
    const y = torch.randint(0, 10, [b]).keep();
    const t = medianWallCpu(
      () =>
        torch.tidy(() => {
          model.zeroGrad();
          nn.F.crossEntropy(model.forward(x), y).backward();
        }),
      1,
      reps(b),
    );
    out.wall.push(t.wall / b);
    out.cpu.push(t.cpu / b);
    torch.dispose([x, y]);
  }
  model.dispose();
  return out;
}

const PYTHON = `
import json, sys, time, torch, torch.nn as nn, torch.nn.functional as F
batches = [int(b) for b in sys.argv[1].split(",")]
torch.set_num_threads(1)
torch.manual_seed(0)
def block(cin, cout, g):
    return [nn.Conv2d(cin, cout, 3, padding=1), nn.GroupNorm(g, cout), nn.SiLU()]
model = nn.Sequential(*block(1, 16, 4), *block(16, 32, 8), *block(32, 32, 8),
                      nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))
out = {"wall": [], "cpu": []}
for b in batches:
    x, y = torch.randn(b, 1, 28, 28), torch.randint(0, 10, (b,))
    def step():
        model.zero_grad()
        F.cross_entropy(model(x), y).backward()
    step()
    wall, cpu = [], []
    for _ in range(max(3, min(12, round(2048 / b)))):
        c0, t0 = time.process_time(), time.perf_counter()
        step()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    out["wall"].append(sorted(wall)[len(wall) // 2] / b)
    out["cpu"].append(sorted(cpu)[len(cpu) // 2] / b)
print(json.dumps({"torch": torch.__version__, **out}))
`;

function pythonSweep(batches: number[], glibc: PeerMalloc): Sweep & { version: string } {
  const script = join(tmpdir(), `genlab-bench-sweep-${process.pid}.py`);
  writeFileSync(script, PYTHON);
  try {
    const r = runPython(script, [batches.join(',')], null, glibc) as unknown as Sweep & { torch: string };
    return { version: r.torch, wall: r.wall, cpu: r.cpu };
  } finally {
    rmSync(script, { force: true });
  }
}

/** Glow evaluation, seconds per image, at each batch size (one process, as `genlab flows eval`). */
function glowEval(batches: number[], images: number): number[] {
  torch.manualSeed(0);
  const glow = new Glow({ shape: [1, 28, 28], levels: 2, depth: 8, hidden: 96, memoryFormat: FLOWS_MEMORY_FORMAT });
  const q = quantization(256);
  const x = torch.randint(0, 256, [images, 1, 28, 28]).float().div(255).keep();
  const data = new TensorDataset(x, torch.zeros([images], { dtype: 'int64' }));
  const out = batches.map((b) => {
    // One batch first: a long evaluation runs in the steady state, where the cache holds this size's blocks.
    evaluateBitsPerDim(glow, data, q, { batchSize: b, limit: b });
    const t0 = performance.now();
    evaluateBitsPerDim(glow, data, q, { batchSize: b });
    return (performance.now() - t0) / 1000 / images;
  });
  glow.dispose();
  x.dispose();
  return out;
}

/** glowEval in a child process with the given environment; prints and returns its JSON. */
function glowEvalChild(env: Record<string, string>): number[] {
  const r = spawnSync(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), 'glow-child', ...process.argv.slice(2)],
    {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  if (r.status !== 0) throw new Error('glow evaluation child failed');
  return JSON.parse(r.stdout.trim().split('\n').pop() as string);
}

const GLOW_BATCHES = [100, 500];
const GLOW_IMAGES = Number(argValue('glow-images', '1000'));

function main(): void {
  pinToOneCore(import.meta.url);
  torch.setNumThreads(1);
  const rounds = Number(argValue('rounds', '3'));
  const batches = argValue('batches', '16,32,64,128,256,512,1024').split(',').map(Number);
  const load0 = loadavg()[0];
  const series = () => ({ wall: batches.map(() => [] as number[]), cpu: batches.map(() => [] as number[]) });
  const ours = series();
  const theirs = series();
  const stock = series();
  let version = '';
  for (let r = 0; r < rounds; r++) {
    const g = genlabSweep(batches);
    const p = pythonSweep(batches, 'tuned');
    const ps = pythonSweep(batches, 'stock');
    version = p.version;
    for (const k of ['wall', 'cpu'] as const) {
      batches.forEach((_, i) => {
        ours[k][i].push(g[k][i]);
        theirs[k][i].push(p[k][i]);
        stock[k][i].push(ps[k][i]);
      });
    }
    process.stderr.write(`round ${r + 1}/${rounds} done\n`);
  }
  const us = (s: number) => (s * 1e6).toFixed(0);
  const rows = batches.map((b, i) => {
    const against = (k: 'wall' | 'cpu', peer: ReturnType<typeof series>) =>
      `${us(median(peer[k][i]))} µs | **${pairedRatio(ours[k][i], peer[k][i]).toFixed(3)}**`;
    const cell = (k: 'wall' | 'cpu') => `${us(median(ours[k][i]))} µs | ${against(k, stock)} | ${against(k, theirs)}`;
    return `| ${b} | ${cell('cpu')} | ${cell('wall')} |`;
  });
  let glowText = '';
  if (!process.argv.includes('--no-glow')) {
    const on = glowEvalChild({});
    const malloc = cliMalloc();
    const mallocOnly = glowEvalChild({ GENLAB_CACHING_ALLOCATOR: '0' });
    // Neither allocator: glibc's malloc, whose mmap ceiling is the cliff this section is about.
    const glibc = glowEvalChild({ GENLAB_CACHING_ALLOCATOR: '0', LD_PRELOAD: '' });
    const ms = (s: number) => (s * 1e3).toFixed(2);
    const mallocName = malloc ? 'tcmalloc' : "the process's malloc";
    glowText = [
      '',
      `Glow evaluation (\`evaluateBitsPerDim\`, fashion-MNIST-sized model, L=2 K=8 hidden 96, bits/dim of ${GLOW_IMAGES} random images after one warm-up batch, one process each, genlab only), wall-clock ms per image. genlab runs as its command does${malloc ? `, on ${malloc}` : ''}; the last column turns off both the caching allocator and the preload:`,
      '',
      `| batch | caching allocator (default) | ${mallocName} alone (\`GENLAB_CACHING_ALLOCATOR=0\`) | glibc's malloc alone |`,
      '|---|---|---|---|',
      ...GLOW_BATCHES.map((b, i) => `| ${b} | ${ms(on[i])} | ${ms(mallocOnly[i])} | ${ms(glibc[i])} |`),
    ].join('\n');
  }
  const load1 = loadavg()[0];
  const text = [
    SECTION,
    '',
    `\`npm run bench:sweep\`, ${new Date().toISOString().slice(0, 10)}: conv net 3×(conv 3×3 + GroupNorm + SiLU) on 1×28×28, forward + cross-entropy + backward, genlab (as its command runs${cliMalloc() ? ', on tcmalloc' : ''}) against PyTorch ${version}, 1 thread, pinned to one core, ${rounds} alternating rounds; time per example is the median over rounds of each side's median step divided by the batch, the ratio the median of per-round ratios. CPU time (user + system, so page faults count) is the steadier measure on a shared machine: it leaves out the time a process waits for the core. Load average ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end (shared machine). ${PEER_MALLOC_NOTE.replace(/; and under the same tcmalloc.*$/, '.')}`,
    '',
    '| batch | genlab CPU per example | PyTorch stock | ratio | PyTorch tuned | ratio | genlab wall per example | PyTorch stock | ratio | PyTorch tuned | ratio |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    '![batch sweep](engine-sweep.svg)',
    glowText,
  ].join('\n');
  console.log(text);
  if (process.argv.includes('--no-write')) return;
  const x = batches.map((b) => Math.log2(b));
  savePlotSvg(
    'results/engine-sweep.svg',
    [
      { name: 'genlab', x, y: ours.cpu.map((o) => median(o) * 1e6) },
      { name: 'PyTorch stock', x, y: stock.cpu.map((t) => median(t) * 1e6) },
      { name: 'PyTorch tuned', x, y: theirs.cpu.map((t) => median(t) * 1e6) },
    ],
    {
      title: 'conv net forward + backward, 1 thread: CPU time per example',
      xLabel: 'log2 batch size',
      yLabel: 'µs per example',
    },
  );
  const old = existsSync('results/engine.md') ? readFileSync('results/engine.md', 'utf8') : '# Engine benchmark\n';
  const start = old.indexOf(`${SECTION}\n`);
  let next = start < 0 ? -1 : old.indexOf('\n## ', start + 1);
  if (start >= 0 && next < 0) next = old.length;
  const updated =
    start < 0
      ? `${old.trimEnd()}\n\n${text}\n`
      : `${old.slice(0, start)}${text}\n${old.slice(next).replace(/^\n*/, '\n')}`;
  writeFileSync('results/engine.md', `${updated.trimEnd()}\n`);
}

if (process.argv[2] === 'glow-child') {
  torch.setNumThreads(1);
  console.log(JSON.stringify(glowEval(GLOW_BATCHES, GLOW_IMAGES)));
} else main();
