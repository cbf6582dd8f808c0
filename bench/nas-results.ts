// The runs behind results/nas.md, as one queue in one process (pieces already finished are skipped,
// an interrupted one resumes):
//   npx tsx bench/nas-results.ts queue      → every search, training and Grad-CAM below, then the report
//   npx tsx bench/nas-results.ts report     → the tables of results/nas.md, plots and maps copied
// The budget is BUDGET below, stated in results/nas.md; every run is at one thread.
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
import { OP_SETS } from '../src/nas/ops.js';
import { setNumThreads } from '../src/torch/runtime.js';
import { isInterrupted } from '../src/train/session.js';

setNumThreads(1);
const ROOT = 'runs/nas-budget';
const DATA = 'fashion-mnist';
const OPS = ['darts', 'pib'] as const;
const SEEDS = [0, 1, 2];
const LAYERS = [2, 3, 5, 8];
/** Grad-CAM of both networks at these cell counts, on the same test images. */
const GRADCAM_LAYERS = [5, 8];
/** A normal cell counts as collapsed when at least half of its 8 kept edges are skip connections. */
const COLLAPSE = 4;
export const BUDGET = {
  // Searched at 8 × 8 (Fashion-MNIST average-pooled), α's learning rate 1e-2 (DARTS: 3e-4) so that
  // α moves within 160 steps; the networks are trained at 14 × 14.
  search: { steps: 160, c: 4, layers: 3, batchSize: 16, trainSize: 2000, size: 8, archLr: 1e-2 },
  train: { steps: 300, c: 8, batchSize: 32, trainSize: 20000, size: 14, testSize: 2000 },
} as const;

const searchDir = (ops: string, seed: number) => join(ROOT, `${DATA}-search-${ops}-${seed}`);
const trainDir = (ops: string, layers: number) => join(ROOT, `${DATA}-train-${ops}-L${layers}`);
const log = (m: string) => console.error(m);
const resume = (dir: string) => existsSync(join(dir, 'config.json'));
const done = (dir: string) => existsSync(join(dir, 'results.json'));

async function search(ops: (typeof OPS)[number], seed: number) {
  const dir = searchDir(ops, seed);
  const cfg = nasSearchSettings(DATA, { ...BUDGET.search, ops, seed });
  return searchNasRun(cfg, dir, { quiet: true, log, resume: resume(dir) });
}

async function train(ops: string, layers: number) {
  const search = readJson(join(searchDir(ops, 0), 'results.json')) as NasSearchResult;
  const dir = trainDir(ops, layers);
  const cfg = nasTrainSettings(DATA, search.genotype, { ...BUDGET.train, layers });
  // Test accuracy once, at the end: evaluations during training would cost as much as the training.
  return trainNasRun(cfg, dir, { quiet: true, log, resume: resume(dir), evalEvery: 1e9 });
}

/** Runs a piece unless it is done; one line per piece with its CPU and wall seconds. */
async function piece(name: string, isDone: boolean, fn: () => Promise<unknown> | unknown): Promise<boolean> {
  if (isDone) return true;
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const r = await fn();
  const c = process.cpuUsage(cpu);
  log(
    `${new Date().toISOString()} ${name}: ${((c.user + c.system) / 1e6).toFixed(0)} CPU-s, ${((performance.now() - t0) / 1e3).toFixed(0)} s wall`,
  );
  writeReport();
  return !isInterrupted(r);
}

async function queue(): Promise<void> {
  for (const ops of OPS) if (!(await piece(`search ${ops} 0`, done(searchDir(ops, 0)), () => search(ops, 0)))) return;
  for (const layers of [8, 5, 3, 2])
    for (const ops of OPS)
      if (!(await piece(`train ${ops} L${layers}`, done(trainDir(ops, layers)), () => train(ops, layers)))) return;
  for (const layers of GRADCAM_LAYERS)
    for (const ops of OPS) {
      const out = join(ROOT, `${DATA}-gradcam-${ops}-L${layers}.png`);
      await piece(`gradcam ${ops} L${layers}`, existsSync(out), () =>
        gradcamNasRun(trainDir(ops, layers), { n: 10, out }),
      );
    }
  for (const seed of SEEDS.slice(1))
    for (const ops of OPS)
      if (!(await piece(`search ${ops} ${seed}`, done(searchDir(ops, seed)), () => search(ops, seed)))) return;
}

const [what] = process.argv.slice(2);
if (what === 'queue') await queue();
else if (what === 'report') writeReport();
else throw new Error('usage: nas-results.ts queue|report');

function readJson(file: string): Record<string, any> | null {
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
}

/** The last logged row of a search: softmax(α) per op, averaged over the edges of each cell type. */
function lastAlphas(dir: string): Record<string, number> | null {
  const file = join(dir, 'log.jsonl');
  if (!existsSync(file)) return null;
  const rows = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"n.'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, number>];
      } catch {
        return [];
      }
    });
  return rows.at(-1) ?? null;
}

/** Rewrites the generated part of results/nas.md (between its markers) from the run folders. */
function writeReport(): void {
  const cellText = (c: { nodes: [string, number][][] }) =>
    c.nodes.map((n, i) => `${i + 2} ← ${n.map(([op, from]) => `${op}(${from})`).join(' + ')}`).join('; ');
  const pct = (x: number, d = 1) => `${(x * 100).toFixed(d)}%`;
  const out: string[] = [];
  out.push(
    `### Searches (${DATA}, ${BUDGET.search.steps} steps each)`,
    '',
    "| ops | seed | steps | search net's accuracy on α's half | skips normal / reduce (of 8) | collapsed | mean softmax(α) of skip, normal cell | largest mean softmax(α), normal cell |",
    '|---|---|---|---|---|---|---|---|',
  );
  const genotypes: string[] = [];
  for (const ops of OPS) {
    for (const seed of SEEDS) {
      const dir = searchDir(ops, seed);
      const r = readJson(join(dir, 'results.json'));
      if (!r) continue;
      const a = lastAlphas(dir) ?? {};
      const top = OP_SETS[ops].map((o) => [o, a[`n.${o}`] ?? 0] as const).reduce((m, x) => (x[1] > m[1] ? x : m));
      out.push(
        `| ${ops} | ${seed} | ${r.steps} | ${pct(r.valAccuracy)} | ${r.skips.normal} / ${r.skips.reduce} | ${r.skips.normal >= COLLAPSE ? 'yes' : 'no'} | ${(a['n.skip_connect'] ?? 0).toFixed(3)} | ${top[0]} ${top[1].toFixed(3)} |`,
      );
      if (seed === 0) {
        genotypes.push(`| ${ops} | ${cellText(r.genotype.normal)} | ${cellText(r.genotype.reduce)} |`);
        plotAlphas(dir, ops);
        for (const cell of ['normal', 'reduce']) {
          const svg = join(dir, `alpha-${cell}.svg`);
          if (existsSync(svg)) copyFileSync(svg, `results/nas-${DATA}-${ops}-alpha-${cell}.svg`);
        }
        copyFileSync(join(dir, 'genotype.json'), `results/nas-${DATA}-${ops}-genotype.json`);
      }
    }
  }
  out.push(
    '',
    '### Genotypes of seed 0 (the ones trained below)',
    '',
    '| ops | normal cell | reduction cell |',
    '|---|---|---|',
    ...genotypes,
    '',
    `### Evaluation networks (${DATA})`,
    '',
    '| cells | ops | steps | test accuracy | parameters | MACs per image |',
    '|---|---|---|---|---|---|',
  );
  for (const layers of LAYERS) {
    for (const ops of OPS) {
      const r = readJson(join(trainDir(ops, layers), 'results.json'));
      if (r)
        out.push(
          `| ${layers} | ${ops} | ${r.steps} | ${pct(r.testAccuracy, 2)} | ${r.params} | ${(r.macs / 1e6).toFixed(3)} M |`,
        );
    }
  }
  if (existsSync(ROOT))
    for (const f of readdirSync(ROOT).filter((f) => f.endsWith('.png')))
      copyFileSync(join(ROOT, f), `results/nas-${f.replace(/^fashion-mnist-/, 'fashion-')}`);
  const file = 'results/nas.md';
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '<!-- generated:start -->\n<!-- generated:end -->\n';
  const body = `<!-- generated:start -->\n${out.join('\n')}\n<!-- generated:end -->`;
  writeFileSync(file, old.replace(/<!-- generated:start -->[\s\S]*<!-- generated:end -->/, body));
}
