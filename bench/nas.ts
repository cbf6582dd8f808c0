// npx tsx bench/nas.ts — one first-order DARTS search step (α: Adam on ∇α L_val; w: clipped SGD on
// L_train) on the same search network in genlab and in PyTorch (bench/nas.py), pinned to one core,
// alternating rounds; prints the median of the per-round ratios genlab/PyTorch (target ≤ 1.05).
// Options: --c 4 --layers 3 --batch 16 --size 8 --rounds 5 --reps 5.
import { fileURLToPath } from 'node:url';
import { Architect } from '../src/nas/architect.js';
import { SearchNetwork } from '../src/nas/search.js';
import { clipGradNorm } from '../src/optim/clip.js';
import { SGD } from '../src/optim/sgd.js';
import { randint, randn } from '../src/torch/creation.js';
import { manualSeed } from '../src/torch/random.js';
import { setNumThreads } from '../src/torch/runtime.js';
import { tidy } from '../src/torch/scope.js';
import { argValue, medianTime, pairedRatio, pinToOneCore, runPython } from './common.js';

pinToOneCore(import.meta.url);
setNumThreads(1);
const c = Number(argValue('c', '4'));
const layers = Number(argValue('layers', '3'));
const batch = Number(argValue('batch', '16'));
const size = Number(argValue('size', '8'));
const rounds = Number(argValue('rounds', '5'));
const reps = Number(argValue('reps', '5'));
const nodes = 4;

manualSeed(0);
const net = new SearchNetwork({ c, layers, classes: 10, inChannels: 1, ops: 'darts', steps: nodes });
const weights = net.weightParameters();
const optimizer = new SGD(weights, { lr: 0.025, momentum: 0.9, weightDecay: 3e-4 });
const architect = new Architect(net, { lr: 3e-4, weightDecay: 1e-3, order: 1 });
const train = { x: randn([batch, 1, size, size]).keep(), y: randint(0, 10, [batch]).keep() };
const val = { x: randn([batch, 1, size, size]).keep(), y: randint(0, 10, [batch]).keep() };
const step = () =>
  tidy(() => {
    architect.step(train, val, { optimizer, momentum: 0.9, weightDecay: 3e-4 });
    optimizer.zeroGrad();
    const loss = net.loss(train.x, train.y);
    loss.backward();
    clipGradNorm(weights, 5);
    optimizer.step();
    return loss.item();
  });

const script = fileURLToPath(new URL('./nas.py', import.meta.url));
const args = [c, layers, batch, size, 2, reps, nodes].map(String);
const ours: number[] = [];
const theirs: number[] = [];
for (let r = 0; r < rounds; r++) {
  ours.push(medianTime(step, r === 0 ? 2 : 1, reps));
  theirs.push(Number(runPython(script, args).step));
  process.stderr.write(
    `round ${r + 1}: genlab ${(ours[r] * 1e3).toFixed(1)} ms, PyTorch ${(theirs[r] * 1e3).toFixed(1)} ms\n`,
  );
}
const ratio = pairedRatio(ours, theirs);
console.log(
  JSON.stringify({
    workload: `first-order DARTS search step, c=${c}, ${layers} cells, batch ${batch}, ${size}×${size}`,
    genlabMs: (ours.reduce((a, b) => a + b, 0) / rounds) * 1e3,
    pytorchMs: (theirs.reduce((a, b) => a + b, 0) / rounds) * 1e3,
    ratio,
    target: 1.05,
  }),
);
