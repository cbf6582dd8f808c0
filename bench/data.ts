// DataLoader throughput on Fashion-MNIST (batch 128, shuffled), next to the same gather written in
// PyTorch (/usr/bin/python3) when it is installed. Rounds alternate the two sides (each PyTorch round
// a fresh process, timing after its warm-up), and the ratio is the median of the per-round ratios,
// so both sides of a round ran under about the same load. Prints one line.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataLoader, FASHION_MNIST_ROOT, loadFashionMnist } from '../src/data/index.js';
import { torch } from '../src/index.js';
import { median, pairedRatio, pinToOneCore, pythonEnv } from './common.js';

pinToOneCore(import.meta.url);

const BATCH = 128;
const EPOCHS = Number(process.env.BENCH_EPOCHS ?? 2);
// Alternating rounds; within a round each side reports the best of SUBROUNDS timed passes.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SUBROUNDS = 3;

const ds = loadFashionMnist();
const loader = new DataLoader(ds, { batchSize: BATCH, shuffle: true, seed: 0 });
for (let i = 0; i < 20; i++) {
  torch.tidy(() => {
    loader.next();
  });
}

function genlabRate(): number {
  const batches = EPOCHS * loader.length;
  let best = 0;
  for (let r = 0; r < SUBROUNDS; r++) {
    const t0 = performance.now();
    // A block body: returning the batch from tidy() would let it escape to the GC backstop.
    for (let i = 0; i < batches; i++) {
      torch.tidy(() => {
        loader.next();
      });
    }
    best = Math.max(best, batches / ((performance.now() - t0) / 1000));
  }
  return best;
}

// The fair peer: the same uint8 tensor, a randperm per epoch, index_select and a true division per batch.
const PYTHON = `
import gzip, sys, time, numpy as np, torch
root, batch, epochs, threads, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads)
def idx(name, offset):
    with gzip.open(f"{root}/{name}", "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)
x = torch.from_numpy(idx("train-images-idx3-ubyte.gz", 16).copy()).view(-1, 1, 28, 28)
y = torch.from_numpy(idx("train-labels-idx1-ubyte.gz", 8).astype(np.int64))
g = torch.Generator().manual_seed(0)
n = x.shape[0]
def run(count):
    done, perm, at = 0, torch.randperm(n, generator=g), 0
    while done < count:
        if at >= n:
            perm, at = torch.randperm(n, generator=g), 0
        i = perm[at:at + batch]
        xb = x.index_select(0, i).div(255)
        yb = y.index_select(0, i)
        at += batch
        done += 1
run(20)
count = epochs * ((n + batch - 1) // batch)
best = 0
for _ in range(rounds):
    t0 = time.perf_counter()
    run(count)
    best = max(best, count / (time.perf_counter() - t0))
print(best)
`;

function torchRate(): number | null {
  const py = '/usr/bin/python3';
  if (!existsSync(py) || !existsSync(join(FASHION_MNIST_ROOT, 'train-images-idx3-ubyte.gz'))) return null;
  const args = [
    '-c',
    PYTHON,
    FASHION_MNIST_ROOT,
    String(BATCH),
    String(EPOCHS),
    String(torch.getNumThreads()),
    String(SUBROUNDS),
  ];
  const r = spawnSync(py, args, { encoding: 'utf8', env: pythonEnv() });
  if (r.status !== 0) return null;
  const v = Number(r.stdout.trim());
  return Number.isFinite(v) ? v : null;
}

const oursAll: number[] = [];
const peerAll: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  oursAll.push(genlabRate());
  const p = torchRate();
  if (p !== null) peerAll.push(p);
}
ds.dispose();
const ours = median(oursAll);
const parts = [
  `data: fashion-mnist DataLoader batch ${BATCH} shuffled, ${torch.getNumThreads()} thread(s), ${ROUNDS} alternating rounds:`,
  `genlab ${ours.toFixed(0)} batches/s (${((ours * BATCH) / 1000).toFixed(0)}k images/s)`,
];
if (peerAll.length === oursAll.length) {
  // Throughputs: genlab time / PyTorch time is PyTorch's rate / genlab's rate, per round.
  const timeRatio = pairedRatio(peerAll, oursAll);
  parts.push(
    `| PyTorch same gather ${median(peerAll).toFixed(0)} batches/s | time ratio genlab/PyTorch ${timeRatio.toFixed(2)} (median of per-round ratios; ≤ 1 is genlab faster)`,
  );
} else parts.push('| PyTorch peer not available');
console.log(parts.join(' '));
