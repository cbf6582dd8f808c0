// The runs behind results/nas.md, one piece per call so that pieces can run side by side:
//   npx tsx bench/nas-results.ts search <data> <darts|pib> <seed>     → runs/nas-results/<data>-search-<ops>-<seed>
//   npx tsx bench/nas-results.ts train <data> <darts|pib> <layers>   → …/<data>-train-<ops>-L<layers> (genotype of seed 0)
//   npx tsx bench/nas-results.ts gradcam <data> <layers>             → Grad-CAM of both trained networks on the same images
//   npx tsx bench/nas-results.ts report                              → the tables of results/nas.md, plots and maps copied
// Budgets are stated in BUDGET below and in results/nas.md; every run is at one thread.
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  gradcamNasRun,
  type NasSearchResult,
  nasSearchSettings,
  nasTrainSettings,
  plotAlphas,
  searchNasRun,
  trainNasRun,
} from '../src/nas/experiment.js';
import { setNumThreads } from '../src/torch/runtime.js';

setNumThreads(1);
const ROOT = 'runs/nas-results';
type Data = 'digits' | 'fashion-mnist';
export const BUDGET = {
  digits: {
    search: { steps: 30, c: 4, layers: 3, batchSize: 16 },
    train: { steps: 200, c: 8, batchSize: 32 },
  },
  'fashion-mnist': {
    search: { steps: 40, c: 4, layers: 3, batchSize: 16, trainSize: 2000, size: 14 },
    train: { steps: 100, c: 8, batchSize: 32, trainSize: 20000, size: 14 },
  },
} as const;

const [what, data, a, b] = process.argv.slice(2) as [string, Data, string, string];
const log = (m: string) => console.error(m);
const resume = (dir: string) => existsSync(join(dir, 'config.json'));

if (what === 'search') {
  const dir = join(ROOT, `${data}-search-${a}-${b}`);
  const cfg = nasSearchSettings(data, { ...BUDGET[data].search, ops: a as 'darts', seed: Number(b) });
  console.log(JSON.stringify(await searchNasRun(cfg, dir, { quiet: true, log, resume: resume(dir) })));
} else if (what === 'train') {
  const search = JSON.parse(
    readFileSync(join(ROOT, `${data}-search-${a}-0`, 'results.json'), 'utf8'),
  ) as NasSearchResult;
  const dir = join(ROOT, `${data}-train-${a}-L${b}`);
  const cfg = nasTrainSettings(data, search.genotype, { ...BUDGET[data].train, layers: Number(b) });
  // Test accuracy once, at the end: evaluations during training would cost as much as the training.
  console.log(JSON.stringify(await trainNasRun(cfg, dir, { quiet: true, log, resume: resume(dir), evalEvery: 1e9 })));
} else if (what === 'gradcam') {
  for (const ops of ['darts', 'pib']) {
    const dir = join(ROOT, `${data}-train-${ops}-L${a}`);
    console.log(JSON.stringify(gradcamNasRun(dir, { n: 10, out: join(ROOT, `${data}-gradcam-${ops}-L${a}.png`) })));
  }
} else if (what === 'report') {
  writeReport();
} else {
  throw new Error('usage: nas-results.ts search|train|gradcam|report …');
}

function readJson(file: string): Record<string, any> | null {
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
}

/** Rewrites the generated part of results/nas.md (between its markers) from the run folders. */
function writeReport(): void {
  const cellText = (c: { nodes: [string, number][][] }) =>
    c.nodes.map((n, i) => `${i + 2} ← ${n.map(([op, from]) => `${op}(${from})`).join(' + ')}`).join('; ');
  const out: string[] = [];
  out.push(
    '### Searches (seed 0)',
    '',
    "| data | ops | steps | accuracy of the search net on α's half | skips normal / reduce | normal cell | reduction cell |",
    '|---|---|---|---|---|---|---|',
  );
  for (const data of ['fashion-mnist', 'digits'] as const) {
    for (const ops of ['darts', 'pib']) {
      const dir = join(ROOT, `${data}-search-${ops}-0`);
      const r = readJson(join(dir, 'results.json'));
      if (!r) continue;
      out.push(
        `| ${data} | ${ops} | ${r.steps} | ${(r.valAccuracy * 100).toFixed(1)}% | ${r.skips.normal} / ${r.skips.reduce} | ${cellText(r.genotype.normal)} | ${cellText(r.genotype.reduce)} |`,
      );
      plotAlphas(dir, ops as 'darts');
      for (const cell of ['normal', 'reduce']) {
        const svg = join(dir, `alpha-${cell}.svg`);
        if (existsSync(svg)) copyFileSync(svg, `results/nas-${data}-${ops}-alpha-${cell}.svg`);
      }
      const g = join(dir, 'genotype.json');
      if (existsSync(g)) copyFileSync(g, `results/nas-${data}-${ops}-genotype.json`);
    }
  }
  out.push(
    '',
    '### Evaluation networks (Fashion-MNIST)',
    '',
    '| cells | ops | test accuracy | parameters | MACs per image |',
    '|---|---|---|---|---|',
  );
  for (const layers of [2, 3, 5, 8]) {
    for (const ops of ['darts', 'pib']) {
      const r = readJson(join(ROOT, `fashion-mnist-train-${ops}-L${layers}`, 'results.json'));
      if (r)
        out.push(
          `| ${layers} | ${ops} | ${(r.testAccuracy * 100).toFixed(2)}% | ${r.params} | ${(r.macs / 1e6).toFixed(3)} M |`,
        );
    }
  }
  out.push(
    '',
    '### Skip connections kept over seeds (digits)',
    '',
    "| ops | seed | skips normal / reduce (of 8 each) | accuracy on α's half |",
    '|---|---|---|---|',
  );
  for (const ops of ['darts', 'pib']) {
    for (const seed of [0, 1, 2]) {
      const r = readJson(join(ROOT, `digits-search-${ops}-${seed}`, 'results.json'));
      if (r)
        out.push(`| ${ops} | ${seed} | ${r.skips.normal} / ${r.skips.reduce} | ${(r.valAccuracy * 100).toFixed(1)}% |`);
    }
  }
  for (const f of readdirSync(ROOT).filter((f) => f.endsWith('.png')))
    copyFileSync(join(ROOT, f), `results/nas-${f.replace(/^fashion-mnist-/, 'fashion-')}`);
  const file = 'results/nas.md';
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '<!-- generated:start -->\n<!-- generated:end -->\n';
  const body = `<!-- generated:start -->\n${out.join('\n')}\n<!-- generated:end -->`;
  writeFileSync(file, old.replace(/<!-- generated:start -->[\s\S]*<!-- generated:end -->/, body));
}
