// npx tsx bench/reparam.ts — one training step of LeNet-300-100 with sparse variational dropout
// through the local reparameterisation trick (genlab's VariationalLinear, the 2017 KL, Adam), against
// the same written in PyTorch (bench/reparam.py), pinned to one core, in alternating rounds; prints
// the median of the per-round ratios genlab/PyTorch, of wall time and of the process's CPU time per
// step (on a crowded machine the CPU time is the steadier of the two: a step's wall time there is
// mostly waiting for a core). `--rounds N`, `--steps N` (timed steps per round).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sparseLeNet } from '../src/bayes/models.js';
import { crossEntropy } from '../src/nn/functional.js';
import { klDivergence } from '../src/nn/index.js';
import { Adam } from '../src/optim/adam.js';
import * as torch from '../src/torch/index.js';
import { trainStep } from '../src/train/step.js';
import { argValue, median, pairedRatio, pinToOneCore, runPython } from './common.js';

if (!pinToOneCore(import.meta.url)) {
  const rounds = Number(argValue('rounds', '5'));
  const steps = Number(argValue('steps', '50'));
  const settings = { threads: 1, seed: 0, widths: [784, 300, 100, 10], batch: 100, n: 60000, warmup: 10, steps };
  torch.setNumThreads(1);
  torch.manualSeed(0);
  const net = sparseLeNet(784, 10);
  const optimizer = new Adam(net.parameters(), { lr: 1e-3 });
  const x = torch.rand([settings.batch, 784]).keep();
  const y = torch.randint(0, 10, [settings.batch]).keep();
  const step = () =>
    trainStep({ optimizer }, () => ({
      loss: crossEntropy(net.forward(x), y).add(klDivergence(net).div(settings.n)),
    }));

  const dir = mkdtempSync(join(tmpdir(), 'genlab-reparam-'));
  const file = join(dir, 'settings.json');
  writeFileSync(file, JSON.stringify(settings));
  const script = fileURLToPath(new URL('./reparam.py', import.meta.url));
  /** Median wall and CPU seconds per step, after warm-up. */
  const timeSteps = (): { wall: number; cpu: number } => {
    for (let i = 0; i < settings.warmup; i++) step();
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < steps; i++) {
      const [t0, c0] = [performance.now(), process.cpuUsage()];
      step();
      const c = process.cpuUsage(c0);
      wall.push((performance.now() - t0) / 1e3);
      cpu.push((c.user + c.system) / 1e6);
    }
    return { wall: median(wall), cpu: median(cpu) };
  };
  const ours: number[] = [];
  const theirs: number[] = [];
  const oursCpu: number[] = [];
  const theirsCpu: number[] = [];
  let version = '';
  for (let r = 0; r < rounds; r++) {
    const t = timeSteps();
    ours.push(t.wall);
    oursCpu.push(t.cpu);
    const py = runPython(script, [file]);
    theirs.push(py.step as number);
    theirsCpu.push(py.cpu as number);
    version = String(py.torch);
    const ms = (x: number) => `${(x * 1e3).toFixed(3)} ms`;
    process.stderr.write(
      `round ${r + 1}/${rounds}: wall genlab ${ms(ours[r])}, PyTorch ${ms(theirs[r])}; CPU genlab ${ms(oursCpu[r])}, PyTorch ${ms(theirsCpu[r])}\n`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
  const ms = (x: number) => `${(x * 1e3).toFixed(3)} ms`;
  const pinned = process.env.GENLAB_BENCH_PINNED ? 'pinned to one core' : 'unpinned';
  console.log(
    [
      `LRT-MLP step (LeNet-300-100, sparse VD, batch ${settings.batch}, Adam), 1 thread, ${pinned},`,
      `${rounds} alternating rounds of ${steps} timed steps, PyTorch ${version}, load ${loadavg()[0].toFixed(1)}:`,
      `wall: genlab ${ms(median(ours))}, PyTorch ${ms(median(theirs))}, ratio genlab/PyTorch ${pairedRatio(ours, theirs).toFixed(3)}`,
      `CPU:  genlab ${ms(median(oursCpu))}, PyTorch ${ms(median(theirsCpu))}, ratio genlab/PyTorch ${pairedRatio(oursCpu, theirsCpu).toFixed(3)}`,
      '(ratios: medians of the per-round ratios)',
    ].join('\n'),
  );
}
