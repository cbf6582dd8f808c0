// genlab's iVAE beside the authors' code (ilkhem/iVAE in ../shared/data/ivae-reference), on the same
// .npz data sets and seeds:
//   npx tsx bench/ivae-reference.ts [--draws 1,2,3] [--seeds 0,1,2] [--epochs 8] [--reference <dir>] [--report-only]
// For each data draw s the reference runner (main.py with configs/ivae.yaml, s and epochs changed)
// generates or loads tcl_1000_40_5_5_3_<s>_gauss_xtanh.npz and trains; genlab then trains
// `--preset reference` on that very file. Reported: MCC of the posterior means and of one sampled z
// (the reference's own measure), the ELBO per point, and seconds per epoch. Runs are cached under
// runs/ivae-reference/, so the bench can be stopped and continued. Writes its section of results/ivae.md.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { torch } from '../src/index.js';
import { vaeConfig } from '../src/vae/experiment.js';
import { argValue, PYTHON } from './common.js';
import { f3, genlabRun, mean, writeSection } from './ivae-common.js';

torch.setNumThreads(1);
const list = (name: string, dflt: string) => argValue(name, dflt).split(',').map(Number);
const draws = list('draws', '1,2,3');
const seeds = list('seeds', '0,1,2');
const epochs = Number(argValue('epochs', '8'));
const source = resolve(
  argValue('reference', join(import.meta.dirname, '..', '..', 'shared', 'data', 'ivae-reference')),
);
const work = resolve('runs/ivae-reference');
const copy = join(work, 'ref');

interface ReferenceRun {
  mccSample: number;
  mccMean: number;
  elbo: number;
  seconds: number;
}

/** The reference's result for draw s and a seed, running it unless its output is already there. */
function referenceRun(s: number, seed: number): ReferenceRun {
  if (!existsSync(copy)) cpSync(source, copy, { recursive: true });
  const config = `ivae-s${s}-e${epochs}.yaml`;
  const text = readFileSync(join(copy, 'configs', 'ivae.yaml'), 'utf8')
    .replace(/^s: .*$/m, `s: ${s}`)
    .replace(/^epochs: .*$/m, `epochs: ${epochs}`);
  writeFileSync(join(copy, 'configs', config), text);
  const out = join(work, epochs === 8 ? `s${s}-seed${seed}` : `s${s}-seed${seed}-e${epochs}`);
  mkdirSync(join(out, 'datasets'), { recursive: true });
  const data = dataFile(s, out);
  // Draw 1 is the file the reference ships (data-s1), which its default config generates.
  if (s === 1 && !existsSync(data)) cpSync(join(copy, 'data-s1', 'tcl_1000_40_5_5_3_1_gauss_xtanh.npz'), data);
  const log = join(out, 'stdout.txt');
  if (!existsSync(log) || !/FINAL|invalid numeric entries/.test(readFileSync(log, 'utf8'))) {
    const r = spawnSync(PYTHON, ['main.py', '--config', config, '--run', out, '--seed', String(seed)], {
      cwd: copy,
      encoding: 'utf8',
      env: { ...process.env, NTHREADS: '1' },
    });
    writeFileSync(log, r.stdout + r.stderr);
  }
  const stdout = readFileSync(log, 'utf8');
  const fin = /FINAL seed \d+ steps \d+ mcc_sample (\S+) mcc_mean (\S+) plain_elbo_per_point (\S+)/.exec(stdout);
  const runtime = /total runtime: (\S+)/.exec(stdout);
  // A run that diverged ends in the MCC's "invalid numeric entries" (NaN latents): recorded as NaN.
  if (!fin && /invalid numeric entries|nan/i.test(stdout)) {
    return {
      mccSample: Number.NaN,
      mccMean: Number.NaN,
      elbo: Number.NaN,
      seconds: Number(runtime?.[1] ?? Number.NaN),
    };
  }
  if (!fin || !runtime) throw new Error(`reference run in ${out} did not finish; see ${log}`);
  return { mccSample: Number(fin[1]), mccMean: Number(fin[2]), elbo: Number(fin[3]), seconds: Number(runtime[1]) };
}

function dataFile(s: number, out: string): string {
  return join(out, 'datasets', `tcl_1000_40_5_5_3_${s}_gauss_xtanh.npz`);
}

interface Row {
  draw: number;
  seed: number;
  ref: ReferenceRun;
  ours: { mccMean: number; mccSample: number; elbo: number; seconds: number; activeUnits: number };
}

/** --report-only: the table of the finished pairs, running nothing. */
const reportOnly = process.argv.includes('--report-only');
const finished = (s: number, seed: number) => {
  const log = join(work, epochs === 8 ? `s${s}-seed${seed}` : `s${s}-seed${seed}-e${epochs}`, 'stdout.txt');
  return (
    existsSync(join(work, `genlab-s${s}-seed${seed}-e${epochs}`, 'results.json')) &&
    existsSync(log) &&
    /FINAL|invalid numeric entries/.test(readFileSync(log, 'utf8'))
  );
};

const rows: Row[] = [];
for (const seed of seeds) {
  for (const s of draws) {
    if (reportOnly && !finished(s, seed)) continue;
    const ref = referenceRun(s, seed);
    // genlab reads the data set the reference saved (the first seed's copy).
    const file = dataFile(s, join(work, epochs === 8 ? `s${s}-seed${seeds[0]}` : `s${s}-seed${seeds[0]}-e${epochs}`));
    const cfg = vaeConfig('ivae', 'ica', { preset: 'reference', icaFile: file, epochs, seed });
    const { result, seconds } = await genlabRun(cfg, join(work, `genlab-s${s}-seed${seed}-e${epochs}`));
    const ours = {
      mccMean: result.mcc ?? Number.NaN,
      mccSample: result.mccSample ?? Number.NaN,
      elbo: result.collapse.elbo,
      seconds,
      activeUnits: result.collapse.activeUnits,
    };
    rows.push({ draw: s, seed, ref, ours });
    console.log(JSON.stringify({ draw: s, seed, ref, ours }));
  }
}

const steps = epochs * 625;
const lines = [
  "## Side by side with the authors' code",
  '',
  `Command: \`npx tsx bench/ivae-reference.ts --draws ${draws.join(',')} --seeds ${seeds.join(',')} --epochs ${epochs}\` (1 thread each; the machine was shared with other jobs, so times are noisy).`,
  '',
  `Both train the iVAE on the same \`.npz\` file per data draw s (the reference runner's generator with \`s: <draw>\`; draw 1 is the shipped \`data-s1\`), for ${epochs} epochs of batch 64 (${steps.toLocaleString('en')} steps), with the same seed number (the two codes' random streams differ). genlab runs \`genlab vae train --model ivae --data ica:<file> --preset reference --epochs ${epochs}\`. MCC of the posterior means (mean) and of one sampled z per point (sample, the reference's printed measure), on all 40,000 points. ELBO per point: the reference's one-sample estimate (its patched runner), genlab's with the analytic KL — the same quantity up to Monte Carlo noise. Seconds per epoch: the reference's total runtime (including loading or generating the data) over ${epochs}; genlab's wall time of training and evaluation over ${epochs}.`,
  '',
  '| draw | seed | MCC mean (reference) | MCC mean (genlab) | MCC sample (reference) | MCC sample (genlab) | ELBO (reference) | ELBO (genlab) | s/epoch (reference) | s/epoch (genlab) |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.draw} | ${r.seed} | ${f3(r.ref.mccMean)} | ${f3(r.ours.mccMean)} | ${f3(r.ref.mccSample)} | ${f3(r.ours.mccSample)} | ${f3(r.ref.elbo)} | ${f3(r.ours.elbo)} | ${(r.ref.seconds / epochs).toFixed(1)} | ${(r.ours.seconds / epochs).toFixed(1)} |`,
  ),
  '',
];
for (const s of draws) {
  const rs = rows.filter((r) => r.draw === s);
  const m = (f: (r: Row) => number) => mean(rs.map(f).filter((x) => !Number.isNaN(x)));
  lines.push(
    `- Draw ${s}: mean MCC (posterior means, NaN runs left out) ${f3(m((r) => r.ref.mccMean))} for the reference, ${f3(m((r) => r.ours.mccMean))} for genlab, over seeds ${rs.map((r) => r.seed).join(', ')}.`,
  );
}
writeSection('results/ivae.md', 'ivae-reference', lines.join('\n'));
