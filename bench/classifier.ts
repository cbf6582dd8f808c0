// npm run bench:classifier — trains the feature-network classifier on digits and Fashion-MNIST with
// the CLI defaults, times it, and writes results/classifier.md. With --export it also installs the
// trained weights as the shipped feature networks (assets/feature-nets/).
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/genlab.js', import.meta.url));
const exportNets = process.argv.includes('--export');
const threads = '2';

function genlab(args: string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`genlab ${args.join(' ')} failed`);
  return JSON.parse(r.stdout);
}

const rows: string[] = [];
for (const [data, target] of [
  ['digits', 0.97],
  ['fashion-mnist', 0.89],
] as const) {
  const out = join('runs', `bench-classifier-${data}`);
  rmSync(out, { recursive: true, force: true });
  const t0 = performance.now();
  const r = genlab(['classifier', 'train', '--data', data, '--out', out, '--threads', threads, '--json']);
  const seconds = (performance.now() - t0) / 1000;
  const acc = Number(r.testAccuracy);
  rows.push(
    `| ${data} | ${r.steps} | ${(acc * 100).toFixed(2)}% | ≥ ${(target * 100).toFixed(0)}% | ${seconds.toFixed(0)} s | ${acc >= target ? 'yes' : 'NO'} |`,
  );
  if (exportNets) genlab(['classifier', 'export', out, '--json']);
}

const text = [
  '# Classifier (feature network) benchmark',
  '',
  `\`npm run bench:classifier\`, ${new Date().toISOString().slice(0, 10)}: \`genlab classifier train --data <set>\` with its defaults, ${threads} threads, wall time including start-up and data loading.`,
  '',
  '| data | steps | test accuracy | target | wall time | met |',
  '|---|---|---|---|---|---|',
  ...rows,
  '',
].join('\n');
mkdirSync('results', { recursive: true });
writeFileSync('results/classifier.md', text);
console.log(text);
