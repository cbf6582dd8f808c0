// npx tsx bench/reparam.ts — one training step of LeNet-300-100 with sparse variational dropout
// through the local reparameterisation trick (genlab's VariationalLinear, the 2017 KL, Adam), against
// the same written in PyTorch (bench/reparam.py), pinned to one core, in alternating rounds; prints
// the median of the per-round ratios genlab/PyTorch. `--rounds N`, `--steps N` (timed steps per round).
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
import { argValue, median, pairedRatio, pinToOneCore, runPython, sampleTimes } from './common.js';

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
  const ours: number[] = [];
  const theirs: number[] = [];
  let version = '';
  for (let r = 0; r < rounds; r++) {
    const times = sampleTimes(step, settings.warmup, steps);
    ours.push(times[Math.floor(times.length / 2)]);
    const py = runPython(script, [file]);
    theirs.push(py.step as number);
    version = String(py.torch);
    process.stderr.write(
      `round ${r + 1}/${rounds}: genlab ${(ours[r] * 1e3).toFixed(3)} ms, PyTorch ${(theirs[r] * 1e3).toFixed(3)} ms\n`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
  const ratio = pairedRatio(ours, theirs);
  console.log(
    [
      `LRT-MLP step (LeNet-300-100, sparse VD, batch ${settings.batch}, Adam), 1 thread, pinned to one core,`,
      `${rounds} alternating rounds of ${steps} timed steps, PyTorch ${version}, load ${loadavg()[0].toFixed(1)}:`,
      `genlab ${(median(ours) * 1e3).toFixed(3)} ms, PyTorch ${(median(theirs) * 1e3).toFixed(3)} ms, ratio genlab/PyTorch ${ratio.toFixed(3)} (median of per-round ratios)`,
    ].join('\n'),
  );
}
