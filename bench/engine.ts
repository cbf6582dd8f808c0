// npm run bench:engine — genlab against PyTorch (same libtorch) on three workloads, in one run:
//   (a) per-operator overhead of a tiny add, (b) an Adam step of an MLP 784-512-512-10 at batch 128,
//   (c) an Adam step of a small conv net (3 × conv + GroupNorm + SiLU) on 28×28 at batch 64.
// (a) alternates rounds of genlab (this process) and PyTorch and takes each side's best repetition,
// where noise only adds; (b) and (c) time interleaved blocks of steps from warm worker processes
// (bench/interleave.ts). --rounds N --blocks N --only add,mlp,conv.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { nn, optim, torch } from '../src/index.js';
import type { Tensor } from '../src/torch/index.js';
import {
  argValue,
  bestTime,
  cliMalloc,
  median,
  PARITY_HEADING,
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
  pytorchSides,
  serveSteps,
  spreadNote,
} from './interleave.js';
import { smallConvNet } from './models.js';

function tinyAdd(n: number): number {
  const a = torch.randn([2, 3]).keep();
  const b = torch.randn([3]).keep();
  const t = bestTime(
    () => {
      // Scopes of 100 ops, about one training step's worth of temporaries.
      for (let i = 0; i < n; i += 100) {
        torch.tidy(() => {
          for (let j = 0; j < 100; j++) a.add(b);
        });
      }
    },
    2,
    15,
  );
  torch.dispose([a, b]);
  return t / n;
}

function trainStep(model: nn.Module, x: Tensor, y: Tensor, opt: optim.Adam): () => void {
  return () =>
    torch.tidy(() => {
      opt.zeroGrad();
      const loss = nn.F.crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
    });
}

/** The MLP's Adam step (b), on a fixed batch. */
function mlpStep(): () => void {
  torch.manualSeed(0);
  const model = new nn.Sequential(
    new nn.Linear(784, 512),
    new nn.ReLU(),
    new nn.Linear(512, 512),
    new nn.ReLU(),
    new nn.Linear(512, 10),
  );
  const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
  return trainStep(model, torch.randn([128, 784]).keep(), torch.randint(0, 10, [128]).keep(), opt);
}

/** The conv net's Adam step (c), on a fixed batch. */
function convStep(): () => void {
  torch.manualSeed(0);
  const model = smallConvNet();
  const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
  return trainStep(model, torch.randn([64, 1, 28, 28]).keep(), torch.randint(0, 10, [64]).keep(), opt);
}

if (process.argv[2] === 'serve') {
  torch.setNumThreads(Number(process.argv[4]));
  serveSteps(process.argv[3] === 'mlp' ? mlpStep() : convStep());
} else {
  await main();
}

async function main(): Promise<void> {
  pinToOneCore(import.meta.url);
  const threads = argValue('threads', '1');
  const rounds = Number(argValue('rounds', '3'));
  const blocks = Number(argValue('blocks', '8'));
  const only = argValue('only', 'add,mlp,conv').split(',');
  torch.setNumThreads(Number(threads));
  const script = fileURLToPath(new URL('./engine.py', import.meta.url));
  // PyTorch again under the malloc genlab's command line preloads (cliMalloc), to show what of the
  // lead is the allocator's.
  const malloc = cliMalloc();
  const ours: Record<string, number[]> = { add: [], mlp: [], conv: [] };
  const theirs: Record<string, number[]> = { add: [], mlp: [], conv: [] };
  const theirsMalloc: Record<string, number[]> = { add: [], mlp: [], conv: [] };
  const theirsStock: Record<string, number[]> = { add: [], mlp: [], conv: [] };
  const notes: string[] = [];

  // (a): best of 15 repetitions per round, rounds alternating; this process is genlab's side.
  if (only.includes('add')) {
    for (let r = 0; r < rounds; r++) {
      ours.add.push(tinyAdd(20000));
      theirs.add.push(Number(runPython(script, [threads, 'add']).add));
      theirsStock.add.push(Number(runPython(script, [threads, 'add'], null, 'stock').add));
      if (malloc) theirsMalloc.add.push(Number(runPython(script, [threads, 'add'], malloc).add));
    }
  }
  // (b), (c): interleaved blocks of steps from warm worker processes.
  const me = fileURLToPath(import.meta.url);
  for (const key of ['mlp', 'conv'].filter((k) => only.includes(k))) {
    const sides = [nodeSide('genlab', me, ['serve', key, threads]), ...pytorchSides(script, ['serve', threads, key])];
    const steps = key === 'mlp' ? 20 : 5;
    const all: Interleaved[] = [];
    for (let r = 0; r < rounds; r++) all.push(await interleave(sides, { blocks, steps, warmupBlocks: 4 }));
    const series = (k: string) => all.flatMap((t) => t.wall[k]);
    ours[key] = series('genlab');
    theirs[key] = series('pytorch');
    theirsStock[key] = series('stock');
    if (malloc) theirsMalloc[key] = series('tcmalloc');
    notes.push(spreadNote(key === 'mlp' ? '(b)' : '(c)', ours[key], theirs[key], all));
  }

  const base: Row[] = [
    { key: 'add', name: '(a) tiny add, per op', target: 0.9, unit: 'µs', genlab: 0, pytorch: 0 },
    {
      key: 'mlp',
      name: '(b) MLP 784-512-512-10, Adam step, batch 128',
      target: 1.05,
      unit: 'ms',
      genlab: 0,
      pytorch: 0,
    },
    {
      key: 'conv',
      name: '(c) conv net 3×(conv+GroupNorm+SiLU), 28×28, batch 64',
      target: 0.95,
      unit: 'ms',
      genlab: 0,
      pytorch: 0,
    },
  ];
  const allRows: Row[] = base.flatMap((r) => {
    const against = (suffix: string, label: string, theirsOf: Record<string, number[]>): Row => ({
      ...r,
      key: `${r.key}${suffix}`,
      name: `${r.name}, PyTorch ${label}`,
      genlab: median(ours[r.key]),
      pytorch: median(theirsOf[r.key]),
      ratio: pairedRatio(ours[r.key], theirsOf[r.key]),
    });
    const out = [against('', 'stock', theirsStock), against('Tuned', 'tuned', theirs)];
    if (malloc) out.push(against('Malloc', 'same malloc', theirsMalloc));
    return out;
  });
  const rows = allRows.filter((r) => only.includes(r.key.replace(/(Tuned|Malloc)$/, '')));
  const when = new Date().toISOString().slice(0, 10);
  const pinned = process.env.GENLAB_BENCH_PINNED ? ', pinned to core 0, single-threaded BLAS' : '';
  const head = `genlab vs PyTorch 1.13, ${threads} thread(s)${pinned}. (a): ${rounds} alternating rounds, each side's best of 15 repetitions of 20,000 adds; the ratio is the median of the per-round ratios. (b), (c): ${interleaveMethod(rounds, blocks, 4)} genlab runs as its command line does, with ${malloc ?? "glibc's malloc"} preloaded (bin/genlab; \`GENLAB_MALLOC=system\` turns it off). ${PEER_MALLOC_NOTE}`;
  console.log(`${head}\n\n${ratioTable(rows)}\n\n${notes.join('\n')}`);
  if (rows.length !== allRows.length) return;
  const text = `# Engine benchmark\n\n\`npm run bench:engine\`, ${when}: ${head}\n\n${ratioTable(rows)}\n\n${notes.join('\n')}\n`;
  mkdirSync('results', { recursive: true });
  // The parity section is written by test/parity/report.ts; a benchmark run keeps it.
  const old = existsSync('results/engine.md') ? readFileSync('results/engine.md', 'utf8') : '';
  const parity = old.indexOf(PARITY_HEADING);
  writeFileSync('results/engine.md', parity >= 0 ? `${text}\n${old.slice(parity)}` : text);
}
