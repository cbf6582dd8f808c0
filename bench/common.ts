// Shared pieces of the side-by-side benchmarks: timing, the PyTorch peer, and the ratio table.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const PYTHON = '/usr/bin/python3';

export function medianTime(step: () => void, warmup: number, reps: number): number {
  for (let i = 0; i < warmup; i++) step();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    step();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Runs a Python benchmark script with Debian's torch and returns its JSON line. */
export function runPython(script: string, args: string[]): Record<string, number | string> {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run bash scripts/setup.sh --test (python3-torch)`);
  const r = spawnSync(PYTHON, [script, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr.trim().split('\n').pop()}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

export interface Row {
  name: string;
  genlab: number;
  pytorch: number;
  target: number;
  unit: 'µs' | 'ms';
}

export function ratioTable(rows: Row[]): string {
  const scale = (r: Row, v: number) => (r.unit === 'µs' ? v * 1e6 : v * 1e3).toFixed(r.unit === 'µs' ? 2 : 1);
  const lines = [
    '| workload | genlab | PyTorch | ratio genlab/PyTorch | target |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${scale(r, r.genlab)} ${r.unit} | ${scale(r, r.pytorch)} ${r.unit} | **${(r.genlab / r.pytorch).toFixed(3)}** | ≤ ${r.target.toFixed(2)} |`,
    ),
  ];
  return lines.join('\n');
}

export function argValue(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
