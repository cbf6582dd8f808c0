// One rank of a distributed test, started by the tests with PyTorch's environment (MASTER_ADDR,
// MASTER_PORT, RANK, WORLD_SIZE). `node --import tsx test/distributed/worker.ts <scenario> …`;
// prints its result as one JSON line (`three` prints it before the part that fails), and its error on
// stderr with exit code 1. It imports only the layers it needs, so that a rank starts quickly.
import { F, Linear, Sequential, Tanh } from '../../src/nn/index.js';
import { DistributedDataParallel } from '../../src/nn/parallel/distributed.js';
import { SGD } from '../../src/optim/sgd.js';
import * as torch from '../../src/torch/index.js';
import type { Tensor } from '../../src/torch/tensor.js';
import { trainMlp } from './mlp.js';

const dist = torch.distributed;
const [scenario, ...args] = process.argv.slice(2);
const timeout = Number(process.env.TEST_TIMEOUT_MS ?? 20_000);
torch.setNumThreads(1);

const list = (t: Tensor) => t.toArray();

/** The collectives of peer.py in group `g`, in the same order, so genlab and PyTorch ranks can mix; then `more`. */
async function collectivesIn(
  g: torch.distributed.ProcessGroup,
  more?: (g: torch.distributed.ProcessGroup) => Promise<Record<string, unknown>>,
) {
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
  Object.assign(out, await more?.(g));
  return out;
}

/** One group from `init`, the collectives, and the group destroyed. */
async function round(init: { initMethod?: string; rank?: number; worldSize?: number; timeout?: number }) {
  const out = await collectivesIn(await dist.initProcessGroup({ backend: 'gloo', timeout, ...init }));
  await dist.destroyProcessGroup();
  return out;
}

/**
 * `collectives [<initMethod> <rank> <worldSize>]…`: one round of the collectives per triple, each in
 * a new group (so a genlab rank can meet a PyTorch rank once as the store's host and once as its
 * client); without triples one round over env:// (or INIT_METHOD).
 */
async function collectives() {
  if (args.length === 0) return [await round({ initMethod: process.env.INIT_METHOD })];
  const rounds = [];
  for (let i = 0; i < args.length; i += 3)
    rounds.push(await round({ initMethod: args[i], rank: Number(args[i + 1]), worldSize: Number(args[i + 2]) }));
  return rounds;
}

/** avg and min, and that the event loop keeps turning while a collective waits for a slow rank (rank 1). */
async function slowPeer(g: torch.distributed.ProcessGroup) {
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
    await dist.reduceScatter(
      torch.zeros([1]),
      Array.from({ length: g.worldSize }, () => torch.ones([1])),
    );
  } catch (e) {
    reduceScatter = (e as Error).message;
  }
  return { avg: list(t), min: list(mn), ticks, reduceScatter };
}

/**
 * `mlp <steps> <batch>`: the DDP runs of mlp.ts with 1 and with 2 micro-batches (noSync), then a
 * model whose hidden width differs on rank 1, which DistributedDataParallel must refuse at start.
 * Rank 0 reports the parameters.
 */
async function mlp() {
  const [steps, batch] = args.map(Number);
  await dist.initProcessGroup({ timeout });
  const runs = [];
  for (const accum of [1, 2]) {
    const r = await trainMlp(steps, batch, accum);
    runs.push({ ...r, params: r.rank === 0 ? r.params : [] });
  }
  const hidden = dist.getRank() === 1 ? 5 : 4;
  let shapeError = 'accepted';
  try {
    await DistributedDataParallel.create(new Sequential(new Linear(3, hidden), new Tanh(), new Linear(hidden, 1)));
  } catch (e) {
    shapeError = (e as Error).message;
  }
  await dist.destroyProcessGroup();
  return { runs, shapeError };
}

/**
 * `three <store file> <victim> <at>`, for 3 ranks: the collectives in a group met through
 * file://<store file> (a FileStore); then, in a group over env://, the collectives again and
 * slowPeer, whose results are printed (one JSON line); then DDP training of a small MLP in which
 * rank `victim` dies (SIGKILL) at step `at`, so the others fail in backward's all-reduce.
 */
async function three() {
  const [store, victim, at] = [args[0], Number(args[1]), Number(args[2])];
  // The rendezvous waits for the slowest start (a loaded machine); the kill's timeout applies after it.
  const file = await round({ initMethod: `file://${store}`, timeout: Math.max(timeout, 20_000) });
  const g = await dist.initProcessGroup({ backend: 'gloo', timeout });
  const env = await collectivesIn(g, slowPeer);
  process.stdout.write(`${JSON.stringify({ file, env })}\n`);
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
  throw new Error(`rank ${victim} did not die`);
}

const scenarios: Record<string, () => Promise<unknown>> = { collectives, mlp, three };

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
