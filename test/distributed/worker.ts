// One rank of a distributed test, started by the tests with PyTorch's environment (MASTER_ADDR,
// MASTER_PORT, RANK, WORLD_SIZE). `node --import tsx test/distributed/worker.ts <scenario> …`;
// prints its result as one JSON line, or its error on stderr with exit code 1.
import { writeFileSync } from 'node:fs';
import { TensorDataset } from '../../src/data/dataset.js';
import { DistributedLoader } from '../../src/data/distributed.js';
import { torch } from '../../src/index.js';
import { F, Linear, Sequential, Tanh } from '../../src/nn/index.js';
import { DistributedDataParallel } from '../../src/nn/parallel/distributed.js';
import { SGD } from '../../src/optim/sgd.js';
import * as dist from '../../src/torch/distributed.js';
import type { Tensor } from '../../src/torch/tensor.js';

const [scenario, ...args] = process.argv.slice(2);
const timeout = Number(process.env.TEST_TIMEOUT_MS ?? 20_000);
torch.setNumThreads(1);

const list = (t: Tensor) => t.toArray();

/** The collectives of peer.py, in the same order, so genlab and PyTorch ranks can mix. */
async function collectives() {
  const g = await dist.initProcessGroup({ backend: 'gloo', timeout, initMethod: process.env.INIT_METHOD });
  const { rank, worldSize } = g;
  const out: Record<string, unknown> = { rank, worldSize };
  const t = torch.tensor([rank + 1, 10 * (rank + 1)], { dtype: 'float32' });
  await dist.allReduce(t, 'sum');
  out.sum = list(t);
  const m = torch.tensor([rank * 3 - 1], { dtype: 'int64' });
  await dist.allReduce(m, 'max');
  out.max = list(m);
  const src = worldSize - 1;
  const b =
    rank === src ? torch.arange(0, 5, 1, { dtype: 'float64' }).mul(src + 1) : torch.zeros([5], { dtype: 'float64' });
  await dist.broadcast(b, src);
  out.broadcast = list(b);
  const gathered = await dist.allGather(torch.tensor([rank, rank * rank], { dtype: 'float32' }));
  out.gather = gathered.map(list);
  await dist.barrier();
  await dist.destroyProcessGroup();
  return out;
}

/** avg and min, and that the event loop keeps turning while a collective waits for a slow rank. */
async function slowPeer() {
  const g = await dist.initProcessGroup({ timeout });
  if (g.rank === 1) await new Promise((r) => setTimeout(r, 800));
  let ticks = 0;
  const timer = setInterval(() => ticks++, 20);
  const t = torch.tensor([g.rank * 2 + 1, -g.rank], { dtype: 'float32' });
  await dist.allReduce(t, 'avg');
  clearInterval(timer);
  const mn = torch.tensor([5 - g.rank], { dtype: 'float64' });
  await dist.allReduce(mn, 'min');
  let reduceScatter = 'ok';
  try {
    await dist.reduceScatter(torch.zeros([1]), [torch.ones([1]), torch.ones([1])]);
  } catch (e) {
    reduceScatter = (e as Error).message;
  }
  await dist.destroyProcessGroup();
  return { rank: g.rank, avg: list(t), min: list(mn), ticks, reduceScatter };
}

/** The regression data of the MLP scenario: the same on every rank. */
function regression(n: number) {
  torch.manualSeed(1234);
  const x = torch.randn([n, 8]);
  const y = x
    .narrow(1, 0, 1)
    .mul(x.narrow(1, 1, 1))
    .add(x.narrow(1, 2, 1).sin())
    .keep();
  return new TensorDataset(x.keep(), y);
}

/**
 * `mlp <steps> <batch> <accum> <out.json>`: SGD with momentum on an MLP, each rank on its shard with
 * `batch` examples per step (in `accum` micro-batches, all but the last under noSync). Without a
 * process group (one process) it is the reference run.
 */
async function mlp() {
  const [steps, batch, accum] = args.slice(0, 3).map(Number);
  const outFile = args[3];
  const distributed = process.env.WORLD_SIZE !== undefined;
  if (distributed) await dist.initProcessGroup({ timeout });
  const data = regression(512);
  torch.manualSeed(7 + dist.getRank()); // different initial weights per rank: DDP must broadcast rank 0's
  const model = new Sequential(new Linear(8, 32), new Tanh(), new Linear(32, 32), new Tanh(), new Linear(32, 1));
  // Tiny buckets, so that several all-reduces are in flight during one backward.
  const ddp = distributed ? await DistributedDataParallel.create(model, { bucketCapMb: 0.002 }) : null;
  const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const loader = new DistributedLoader(data, {
    batchSize: batch,
    shuffle: true,
    dropLast: true,
    seed: 3,
    numReplicas: dist.getWorldSize(),
    rank: dist.getRank(),
  });
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    torch.tidy(() => {
      opt.zeroGrad();
      const { x, y } = loader.next();
      const micro = batch / accum;
      let total = 0;
      for (let k = 0; k < accum; k++) {
        const pass = () => {
          const loss = F.mseLoss(model.forward(x.narrow(0, k * micro, micro)), y.narrow(0, k * micro, micro)).div(
            accum,
          );
          loss.backward();
          total += loss.item();
        };
        if (ddp && k < accum - 1) ddp.noSync(pass);
        else pass();
      }
      losses.push(total);
      opt.step();
    });
  }
  const params = model.parameters().map((p) => Array.from(p.toTypedArray() as Float32Array));
  const result = {
    rank: dist.getRank(),
    losses,
    buckets: ddp?.reducerInfo().buckets.length ?? 0,
    reductions: ddp?.reducerInfo().reductions ?? 0,
    launchedInBackward: ddp?.reducerInfo().launchedInBackward ?? 0,
  };
  if (dist.getRank() === 0) writeFileSync(outFile, JSON.stringify({ params, ...result }));
  await dist.destroyProcessGroup();
  return result;
}

/**
 * `kill <victim> <at> [plain]`: DDP training of a small MLP; rank `victim` dies (SIGKILL) at step
 * `at`. With `plain`, a loop of awaited allReduces instead.
 */
async function kill() {
  const [victim, at] = args.map(Number);
  const g = await dist.initProcessGroup({ timeout });
  if (args[2] === 'plain') {
    for (let step = 1; step < 100_000; step++) {
      if (g.rank === victim && step === at) process.kill(process.pid, 'SIGKILL');
      await dist.allReduce(torch.ones([1000]), 'sum');
    }
  }
  torch.manualSeed(0);
  const model = new Sequential(new Linear(8, 64), new Tanh(), new Linear(64, 1));
  await DistributedDataParallel.create(model, { bucketCapMb: 0.01 });
  const opt = new SGD(model.parameters(), { lr: 0.01 });
  for (let step = 1; step < 100_000; step++) {
    if (g.rank === victim && step === at) process.kill(process.pid, 'SIGKILL');
    torch.tidy(() => {
      opt.zeroGrad();
      F.mseLoss(model.forward(torch.randn([32, 8])), torch.zeros([32, 1])).backward();
      opt.step();
    });
    await new Promise((r) => setTimeout(r, 2));
  }
  return { rank: g.rank };
}

/** `shape`: rank 1 builds a wider hidden layer than the others; DDP must refuse at start. */
async function shape() {
  const g = await dist.initProcessGroup({ timeout });
  const hidden = g.rank === 1 ? 5 : 4;
  const model = new Sequential(new Linear(3, hidden), new Tanh(), new Linear(hidden, 1));
  await DistributedDataParallel.create(model);
  return { rank: g.rank };
}

const scenarios: Record<string, () => Promise<unknown>> = { collectives, slowPeer, mlp, kill, shape };

try {
  const run = scenarios[scenario];
  if (!run) throw new Error(`unknown scenario ${scenario}`);
  const result = await run();
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
} catch (e) {
  process.stderr.write(`genlab: ${(e as Error).message}\n`);
  process.exit(1);
}
