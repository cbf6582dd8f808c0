// All-reduce over Gloo: genlab's c10d binding against PyTorch's, same tensors, same group size, in
// one run (rounds alternate; the paired per-round ratio is reported), and the 1 → 2 rank step-time
// scaling of data-parallel training (DistributedDataParallel on an MLP, one thread per rank).
//   npx tsx bench/allreduce.ts [--rounds 3] [--reps 20] [--steps 60]
// This machine has 2 cores: 2 ranks of 1 thread each is its limit.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { torch } from '../src/index.js';
import { F, Linear, ReLU, Sequential } from '../src/nn/index.js';
import { DistributedDataParallel } from '../src/nn/parallel/distributed.js';
import { SGD } from '../src/optim/sgd.js';
import * as dist from '../src/torch/distributed.js';
import { argValue, median, PYTHON } from './common.js';

const SIZES = [1 << 10, 1 << 16, 1 << 20, 1 << 22];
const SELF = fileURLToPath(import.meta.url);
const PEER = fileURLToPath(new URL('./allreduce.py', import.meta.url));

/** As one rank (RANK set): the measurements, printed by rank 0. */
async function asRank(mode: string, reps: number, arg: string): Promise<void> {
  torch.setNumThreads(1);
  const worldSize = Number(process.env.WORLD_SIZE);
  const g = worldSize > 1 ? await dist.initProcessGroup({ timeout: 120_000 }) : null;
  const out: Record<string, number> = {};
  if (mode === 'allreduce' && g) {
    for (const n of arg.split(',').map(Number)) {
      const t = torch.ones([n]);
      for (let i = 0; i < 3; i++) await g.allReduce(t);
      const times: number[] = [];
      for (let i = 0; i < reps; i++) {
        await g.barrier();
        const t0 = performance.now();
        await g.allReduce(t);
        times.push((performance.now() - t0) / 1000);
      }
      out[String(n)] = median(times);
      t.dispose();
    }
  } else if (mode === 'scaling') {
    // Global batch 256: 256 on one rank, or 128 on each of two.
    const batch = 256 / worldSize;
    torch.manualSeed(0);
    const model = new Sequential(
      new Linear(64, 512),
      new ReLU(),
      new Linear(512, 512),
      new ReLU(),
      new Linear(512, 10),
    );
    if (g) await DistributedDataParallel.create(model);
    const opt = new SGD(model.parameters(), { lr: 0.01 });
    const x = torch.randn([batch, 64]).keep();
    const y = torch.randn([batch, 10]).keep();
    const times: number[] = [];
    for (let s = 0; s < reps; s++) {
      const t0 = performance.now();
      torch.tidy(() => {
        opt.zeroGrad();
        F.mseLoss(model.forward(x), y).backward();
        opt.step();
      });
      if (s >= 5) times.push((performance.now() - t0) / 1000);
    }
    out.step = median(times);
  }
  if (!g || g.rank === 0) process.stdout.write(`${JSON.stringify(out)}\n`);
  await dist.destroyProcessGroup();
}

function group(n: number, cmd: (rank: number) => string[], port: number): Promise<Record<string, number>> {
  const procs = Array.from({ length: n }, (_, rank) => {
    const [exe, ...args] = cmd(rank);
    const child = spawn(exe, args, {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        MASTER_ADDR: '127.0.0.1',
        MASTER_PORT: String(port),
        RANK: String(rank),
        WORLD_SIZE: String(n),
        OMP_NUM_THREADS: '1',
      },
    });
    let text = '';
    child.stdout.on('data', (d) => {
      text += d;
    });
    return new Promise<string>((resolve, reject) =>
      child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`rank ${rank} exited with ${code}`)))),
    );
  });
  return Promise.all(procs).then((texts) => JSON.parse(texts[0].trim().split('\n').pop() as string));
}

async function driver(): Promise<void> {
  const rounds = Number(argValue('rounds', '3'));
  const reps = Number(argValue('reps', '20'));
  const steps = Number(argValue('steps', '60'));
  const sizes = SIZES.join(',');
  let port = 29600 + Math.floor(Math.random() * 1000);
  const ours: Record<string, number[]> = Object.fromEntries(SIZES.map((n) => [n, []]));
  const theirs: Record<string, number[]> = Object.fromEntries(SIZES.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    const g = await group(
      2,
      () => [process.execPath, ...process.execArgv, SELF, 'allreduce', String(reps), sizes],
      port++,
    );
    const p = await group(2, () => [PYTHON, PEER, 'allreduce', String(reps), sizes], port++);
    for (const n of SIZES) {
      ours[n].push(g[n]);
      theirs[n].push(p[n]);
    }
  }
  const lines = [
    '| floats | bytes | genlab | PyTorch | PyTorch/genlab (paired median, ≥ 0.95 wanted) |',
    '|---|---|---|---|---|',
  ];
  for (const n of SIZES) {
    const ratio = median(ours[n].map((x, i) => theirs[n][i] / x));
    lines.push(
      `| ${n} | ${(n * 4) / 1024} KiB | ${(median(ours[n]) * 1e3).toFixed(3)} ms | ${(median(theirs[n]) * 1e3).toFixed(3)} ms | **${ratio.toFixed(3)}** |`,
    );
  }
  process.stdout.write(
    `All-reduce (sum, float32), 2 ranks on loopback, ${rounds} rounds × ${reps} reps\n${lines.join('\n')}\n\n`,
  );
  const one: number[] = [];
  const two: number[] = [];
  for (let r = 0; r < rounds; r++) {
    one.push(
      (await group(1, () => [process.execPath, ...process.execArgv, SELF, 'scaling', String(steps), ''], port++)).step,
    );
    two.push(
      (await group(2, () => [process.execPath, ...process.execArgv, SELF, 'scaling', String(steps), ''], port++)).step,
    );
  }
  const speedup = median(one.map((t, i) => t / two[i]));
  process.stdout.write(
    `DDP step time, MLP 64-512-512-10, global batch 256, 1 thread per rank (2 cores: 2 ranks is the limit)\n` +
      `| ranks | step | speed-up |\n|---|---|---|\n| 1 | ${(median(one) * 1e3).toFixed(2)} ms | 1 |\n| 2 | ${(median(two) * 1e3).toFixed(2)} ms | **${speedup.toFixed(2)}** |\n`,
  );
}

const [mode, reps, arg] = process.argv.slice(2);
if (process.env.RANK !== undefined) await asRank(mode, Number(reps), arg);
else await driver();
