// Glow evaluation per image at batch 100 and batch 500, alternated in one process, with the time of
// each kind of layer: where a larger batch costs more per image (results/engine.md, issue 20).
//   npx tsx bench/glow-eval.ts [--pairs 4] [--images 1000]
// Prints only. genlab runs as its command does (tcmalloc preloaded, pinned to one core).
import { TensorDataset } from '../src/data/index.js';
import { ActNorm } from '../src/flows/actnorm.js';
import { Coupling, ZeroConv2d } from '../src/flows/coupling.js';
import { quantization } from '../src/flows/dequant.js';
import { evaluateBitsPerDim } from '../src/flows/evaluate.js';
import { FLOWS_MEMORY_FORMAT } from '../src/flows/experiment.js';
import { Glow } from '../src/flows/glow.js';
import { InvConv2dLU } from '../src/flows/invconv.js';
import { torch } from '../src/index.js';
import { Conv2d } from '../src/nn/layers/conv.js';
import { argValue, median, pinToOneCore } from './common.js';

pinToOneCore(import.meta.url);
torch.setNumThreads(1);
const pairs = Number(argValue('pairs', '4'));
const images = Number(argValue('images', '1000'));
const BATCHES = [100, 500];

// Milliseconds spent in each timed method, by label. Nested timings overlap (a coupling's time
// includes its convolutions), so the labels are read as parts, not as a sum.
const spent: Record<string, number> = {};
function timeMethod(proto: Record<string, any>, method: string, label: string): void {
  const inner = proto[method] as (...a: unknown[]) => unknown;
  proto[method] = function (this: unknown, ...a: unknown[]) {
    const t0 = performance.now();
    try {
      return inner.apply(this, a);
    } finally {
      spent[label] = (spent[label] ?? 0) + performance.now() - t0;
    }
  };
}
timeMethod(Conv2d.prototype, 'forward', 'convolutions (oneDNN)');
timeMethod(ZeroConv2d.prototype, 'forward', 'zero convolutions, with their scale');
timeMethod(ActNorm.prototype, 'normalizeRelu', 'ActNorm + ReLU in coupling networks');
timeMethod(Coupling.prototype, 'forward', 'couplings, all told');
timeMethod(ActNorm.prototype, 'forward', 'flow ActNorms');
timeMethod(InvConv2dLU.prototype, 'forward', 'invertible 1×1 convolutions');

torch.manualSeed(0);
const glow = new Glow({ shape: [1, 28, 28], levels: 2, depth: 8, hidden: 96, memoryFormat: FLOWS_MEMORY_FORMAT });
const q = quantization(256);
const x = torch.randint(0, 256, [images, 1, 28, 28]).float().div(255).keep();
const data = new TensorDataset(x, torch.zeros([images], { dtype: 'int64' }));
// One batch of each size first: the steady state, where the allocator's cache holds the blocks.
for (const b of BATCHES) evaluateBitsPerDim(glow, data, q, { batchSize: b, limit: b });

const perImage: Record<number, number[]> = { 100: [], 500: [] };
const parts: Record<number, Record<string, number>[]> = { 100: [], 500: [] };
for (let p = 0; p < pairs; p++) {
  for (const b of p % 2 === 0 ? BATCHES : [...BATCHES].reverse()) {
    for (const k of Object.keys(spent)) spent[k] = 0;
    const t0 = performance.now();
    evaluateBitsPerDim(glow, data, q, { batchSize: b });
    perImage[b].push((performance.now() - t0) / images);
    parts[b].push({ ...spent });
  }
}
const ms = (v: number) => v.toFixed(3);
console.log(`Glow evaluation (fashion-MNIST size, L=2 K=8 hidden 96), ${images} images, ${pairs} alternating pairs`);
console.log(`| | batch 100, ms per image | batch 500, ms per image | 500 / 100 |`);
console.log('|---|---|---|---|');
const whole = BATCHES.map((b) => median(perImage[b]));
console.log(`| whole evaluation | ${ms(whole[0])} | ${ms(whole[1])} | **${(whole[1] / whole[0]).toFixed(3)}** |`);
for (const label of Object.keys(parts[100][0])) {
  const v = BATCHES.map((b) => median(parts[b].map((s) => s[label])) / images);
  console.log(`| ${label} | ${ms(v[0])} | ${ms(v[1])} | ${(v[1] / v[0]).toFixed(3)} |`);
}
const ratios = perImage[500].map((t, i) => (t / perImage[100][i]).toFixed(3));
console.log(`pair ratios (500 / 100): ${ratios.join(', ')}`);
glow.dispose();
x.dispose();
