// The MLP of the DDP equivalence test: SGD with momentum on a small regression, each rank on its
// shard (DistributedLoader) with `batch` examples per step in `accum` micro-batches, all but the last
// under noSync. Without a process group (one process) it is the reference run; the test process
// runs that itself, the ranks run it in worker.ts.
import { TensorDataset } from '../../src/data/dataset.js';
import { DistributedLoader } from '../../src/data/distributed.js';
import { F, Linear, Sequential, Tanh } from '../../src/nn/index.js';
import { DistributedDataParallel } from '../../src/nn/parallel/distributed.js';
import { SGD } from '../../src/optim/sgd.js';
import * as torch from '../../src/torch/index.js';

const dist = torch.distributed;

export interface MlpRun {
  rank: number;
  /** The final parameters, flattened per tensor. */
  params: number[][];
  /** This rank's loss of each step (its shard's mean). */
  losses: number[];
  buckets: number;
  reductions: number;
  launchedInBackward: number;
}

/** The regression data: the same on every rank. */
function regression(n: number): TensorDataset {
  torch.manualSeed(1234);
  const x = torch.randn([n, 8]);
  const y = x
    .narrow(1, 0, 1)
    .mul(x.narrow(1, 1, 1))
    .add(x.narrow(1, 2, 1).sin())
    .keep();
  return new TensorDataset(x.keep(), y);
}

export async function trainMlp(steps: number, batch: number, accum: number): Promise<MlpRun> {
  const distributed = dist.isInitialized();
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
  const info = ddp?.reducerInfo();
  ddp?.release();
  return {
    rank: dist.getRank(),
    params: model.parameters().map((p) => Array.from(p.toTypedArray() as Float32Array)),
    losses,
    buckets: info?.buckets.length ?? 0,
    reductions: info?.reductions ?? 0,
    launchedInBackward: info?.launchedInBackward ?? 0,
  };
}
