// npx tsx bench/distill.ts — one stage-2 step of guided distillation (the w-conditioned U-Net of the
// digits student, two DDIM steps of the frozen previous student, the target, the truncated-SNR loss,
// clipping and Adam) in genlab and in PyTorch (bench/distill.py), side by side, pinned to one core:
// the median over alternating rounds of the per-round ratio genlab/PyTorch. Prints a Markdown table.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImageDataset } from '../src/data/dataset.js';
import { loadDataset } from '../src/data/registry.js';
import { STUDENT_DEFAULTS, studentConfig, teacherConfig } from '../src/diffusion/distill/config.js';
import { buildModel, buildNet, stage2Loss } from '../src/diffusion/distill/experiment.js';
import { Adam } from '../src/optim/adam.js';
import { clipGradNorm } from '../src/optim/clip.js';
import * as torch from '../src/torch/index.js';
import { argValue, median, medianTime, pairedRatio, pinToOneCore, type Row, ratioTable, runPython } from './common.js';

pinToOneCore(import.meta.url);
const rounds = Number(argValue('rounds', '5'));
const n = Number(argValue('n', '8'));
const threads = Number(argValue('threads', '1'));
torch.setNumThreads(threads);
const t = teacherConfig('digits');
const s = studentConfig('unused', {});
const train = loadDataset('digits', { split: 'train' }) as ImageDataset;
const dir = mkdtempSync(join(tmpdir(), 'genlab-distill-bench-'));
const images = join(dir, 'digits-train.u8');
writeFileSync(images, train.raw.contiguous().toTypedArray() as Uint8Array);
const labels = Array.from(train.y.toTypedArray() as BigInt64Array, Number);

/** The genlab side: student and frozen previous student as in trainStudentRun; returns a step. */
function genlabTrainer(seed: number) {
  torch.manualSeed(seed);
  const student = buildNet(t, [1, 8, 8], 10, true);
  const prev = buildNet(t, [1, 8, 8], 10, true);
  prev.loadStateDict(student.stateDict());
  prev.requiresGrad_(false);
  const sm = buildModel(t, student);
  const pm = buildModel(t, prev);
  const params = student.parameters();
  const opt = new Adam(params, { lr: s.lr });
  const size = train.length;
  const step = () =>
    torch.tidy(() => {
      const batch = train.batch(torch.randint(0, size, [s.batchSize]));
      opt.zeroGrad();
      const loss = stage2Loss(pm, sm, batch, s, n);
      loss.backward();
      clipGradNorm(params, 1);
      opt.step();
    });
  return {
    step,
    params: student.numParameters(),
    dispose: () => {
      student.dispose();
      prev.dispose();
    },
  };
}

const script = fileURLToPath(new URL('./distill.py', import.meta.url));
const settings = {
  threads,
  images,
  labels,
  width: t.width,
  depth: t.depth,
  gammaMin: t.gammaMin,
  gammaMax: t.gammaMax,
  lr: s.lr,
  batchSize: s.batchSize,
  wMin: STUDENT_DEFAULTS.wMin,
  wMax: STUDENT_DEFAULTS.wMax,
  n,
  warmup: 5,
  reps: 30,
};
const python = (seed: number) => {
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ ...settings, seed }));
  return runPython(script, [file]);
};

const ours: number[] = [];
const theirs: number[] = [];
let version = '';
let params = 0;
const load = loadavg()[0];
for (let r = 0; r < rounds; r++) {
  const g = genlabTrainer(r);
  params = g.params;
  ours.push(medianTime(g.step, 5, 30));
  g.dispose();
  const py = python(r);
  version = String(py.torch);
  if (Number(py.params) !== params) throw new Error(`parameter counts differ: genlab ${params}, PyTorch ${py.params}`);
  theirs.push(Number(py.step));
  process.stderr.write(
    `round ${r + 1}/${rounds}: genlab ${(ours[r] * 1e3).toFixed(2)} ms, PyTorch ${(theirs[r] * 1e3).toFixed(2)} ms\n`,
  );
}
rmSync(dir, { recursive: true, force: true });
const row: Row = {
  key: 'distill',
  name: `stage-2 distillation step (${n}-step round; w-conditioned U-Net width ${t.width}, ${params} parameters; 2 teacher + 1 student evaluations), digits batch ${s.batchSize}`,
  genlab: median(ours),
  pytorch: median(theirs),
  ratio: pairedRatio(ours, theirs),
  target: 1.05,
  unit: 'ms',
};
const pinned = process.env.GENLAB_BENCH_PINNED ? ', pinned to core 0' : '';
process.stdout.write(
  `genlab vs PyTorch ${version}, ${threads} thread(s)${pinned}, ${rounds} alternating rounds of 30 steps (median each), load average ${load.toFixed(1)} at the start; ratio: median of the per-round ratios\n\n${ratioTable([row])}\n`,
);
