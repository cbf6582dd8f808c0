// npm run bench:engine — genlab against PyTorch (same libtorch) on three workloads, in one run:
//   (a) per-operator overhead of a tiny add, (b) an Adam step of an MLP 784-512-512-10 at batch 128,
//   (c) an Adam step of a small conv net (3 × conv + GroupNorm + SiLU) on 28×28 at batch 64.
// Rounds alternate genlab and PyTorch so drift on the machine hits both. The table shows medians over
// rounds of: the best repetition for (a), where noise only adds, and the median step for (b) and (c).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { nn, optim, torch } from '../src/index.js';
import type { Tensor } from '../src/torch/index.js';
import {
  argValue,
  bestTime,
  median,
  medianTime,
  PARITY_HEADING,
  pairedRatio,
  pinToOneCore,
  type Row,
  ratioTable,
  runPython,
} from './common.js';
import { smallConvNet } from './models.js';

pinToOneCore(import.meta.url);
const threads = Number(argValue('threads', '1'));
const rounds = Number(argValue('rounds', '5'));
const only = argValue('only', 'add,mlp,conv').split(',');
torch.setNumThreads(threads);

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

function mlpAdam(): number {
  torch.manualSeed(0);
  const model = new nn.Sequential(
    new nn.Linear(784, 512),
    new nn.ReLU(),
    new nn.Linear(512, 512),
    new nn.ReLU(),
    new nn.Linear(512, 10),
  );
  const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const x = torch.randn([128, 784]).keep();
  const y = torch.randint(0, 10, [128]).keep();
  const t = medianTime(trainStep(model, x, y, opt), 5, 40);
  torch.dispose([x, y]);
  model.dispose();
  return t;
}

function convNet(): number {
  torch.manualSeed(0);
  const model = smallConvNet();
  const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const x = torch.randn([64, 1, 28, 28]).keep();
  const y = torch.randint(0, 10, [64]).keep();
  const t = medianTime(trainStep(model, x, y, opt), 3, 15);
  torch.dispose([x, y]);
  model.dispose();
  return t;
}

const script = fileURLToPath(new URL('./engine.py', import.meta.url));
const ours: Record<string, number[]> = { add: [], mlp: [], conv: [] };
const theirs: Record<string, number[]> = { add: [], mlp: [], conv: [] };
let torchVersion = '';
for (let r = 0; r < rounds; r++) {
  if (only.includes('add')) ours.add.push(tinyAdd(20000));
  if (only.includes('mlp')) ours.mlp.push(mlpAdam());
  if (only.includes('conv')) ours.conv.push(convNet());
  const py = runPython(script, [String(threads), only.join(',')]);
  torchVersion = String(py.torch);
  for (const k of only) theirs[k].push(Number(py[k]));
  process.stderr.write(`round ${r + 1}/${rounds} done\n`);
}

const allRows: Row[] = [
  {
    key: 'add',
    name: '(a) tiny add, per op',
    genlab: median(ours.add),
    pytorch: median(theirs.add),
    ratio: pairedRatio(ours.add, theirs.add),
    target: 0.9,
    unit: 'µs',
  },
  {
    key: 'mlp',
    name: '(b) MLP 784-512-512-10, Adam step, batch 128',
    genlab: median(ours.mlp),
    pytorch: median(theirs.mlp),
    ratio: pairedRatio(ours.mlp, theirs.mlp),
    target: 1.05,
    unit: 'ms',
  },
  {
    key: 'conv',
    name: '(c) conv net 3×(conv+GroupNorm+SiLU), 28×28, batch 64',
    genlab: median(ours.conv),
    pytorch: median(theirs.conv),
    ratio: pairedRatio(ours.conv, theirs.conv),
    target: 0.95,
    unit: 'ms',
  },
];
const rows = allRows.filter((r) => ours[r.key].length > 0);
const when = new Date().toISOString().slice(0, 10);
const pinned = process.env.GENLAB_BENCH_PINNED ? ', pinned to core 0, single-threaded BLAS' : '';
console.log(
  `genlab vs PyTorch ${torchVersion}, ${threads} thread(s)${pinned}, median of ${rounds} alternating rounds; ratio: median of the per-round ratios\n`,
);
console.log(ratioTable(rows));
if (rows.length === allRows.length) {
  const text = `# Engine benchmark\n\n\`npm run bench:engine\`, ${when}: genlab vs PyTorch ${torchVersion}, ${threads} thread(s)${pinned}, median of ${rounds} alternating rounds; the ratio is the median of the per-round ratios.\n\n${ratioTable(rows)}\n`;
  mkdirSync('results', { recursive: true });
  // The parity section is written by test/parity/report.ts; a benchmark run keeps it.
  const old = existsSync('results/engine.md') ? readFileSync('results/engine.md', 'utf8') : '';
  const parity = old.indexOf(PARITY_HEADING);
  writeFileSync('results/engine.md', parity >= 0 ? `${text}\n${old.slice(parity)}` : text);
}
