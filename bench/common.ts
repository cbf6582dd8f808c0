// Shared pieces of the side-by-side benchmarks: timing, the PyTorch peer, and the ratio table.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PYTHON = '/usr/bin/python3';

/**
 * The malloc that bin/genlab preloads, found the same way (GENLAB_MALLOC: system or a path; else
 * the first tcmalloc of its list), or null for glibc's. genlab's side of every benchmark runs under
 * it, as the command line does; PyTorch's runs as `python3` does, and again under the same library
 * where a benchmark says so.
 */
export function cliMalloc(): string | null {
  const chosen = process.env.GENLAB_MALLOC;
  if (chosen === 'system') return null;
  if (chosen) return chosen;
  const candidates = ['x86_64-linux-gnu/', 'aarch64-linux-gnu/', '../lib64/', ''].map(
    (d) => `/usr/lib/${d}libtcmalloc_minimal.so.4`,
  );
  return candidates.find((f) => existsSync(f)) ?? null;
}

/**
 * How a PyTorch peer's glibc malloc is set up:
 * - 'stock': as `python3` starts for a user, glibc's defaults untouched;
 * - 'tuned': with the thresholds genlab's addon sets for itself when it runs on glibc
 *   (tuneAllocator in native/src/addon.cc), so the comparison shows the frameworks rather than
 *   glibc's page faults. Every table before 2026-12-02 called this side plain "PyTorch".
 */
export type PeerMalloc = 'stock' | 'tuned';

/** The sentence that says how each PyTorch peer ran, for results files. */
export const PEER_MALLOC_NOTE =
  'PyTorch runs as `python3` starts for a user ("stock": glibc\'s malloc with its defaults); again with the glibc thresholds genlab\'s addon sets for itself when it runs on glibc ("tuned": `MALLOC_MMAP_THRESHOLD_` 32 MiB, `MALLOC_TRIM_THRESHOLD_` 256 MiB; the side earlier tables called plain PyTorch); and under the same tcmalloc genlab preloads ("same malloc").';

/** The environment of a PyTorch peer: glibc set up as `glibc` says, and malloc as asked. */
export function pythonEnv(preload: string | null = null, glibc: PeerMalloc = 'tuned'): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('MALLOC_') || k === 'GLIBC_TUNABLES') delete env[k];
  if (glibc === 'tuned') {
    env.MALLOC_MMAP_THRESHOLD_ = String(32 << 20);
    env.MALLOC_TRIM_THRESHOLD_ = String(256 << 20);
  }
  if (preload) env.LD_PRELOAD = preload;
  else delete env.LD_PRELOAD;
  return env;
}

/** The section of results/engine.md that test/parity/report.ts writes and bench/engine.ts keeps. */
export const PARITY_HEADING = '## PyTorch parity';

/** Seconds per call of `step`, sorted, after warm-up. */
export function sampleTimes(step: () => void, warmup: number, reps: number): number[] {
  for (let i = 0; i < warmup; i++) step();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    step();
    times.push((performance.now() - t0) / 1000);
  }
  return times.sort((a, b) => a - b);
}

export function medianTime(step: () => void, warmup: number, reps: number): number {
  const times = sampleTimes(step, warmup, reps);
  return times[Math.floor(times.length / 2)];
}

/** The least disturbed repetition: for per-op overheads, where machine noise only ever adds. */
export function bestTime(step: () => void, warmup: number, reps: number): number {
  return sampleTimes(step, warmup, reps)[0];
}

/** Wall-clock and process CPU seconds of each of `reps` calls (CPU time is immune to being descheduled). */
export function timeEach(step: () => unknown, reps: number): { wall: number[]; cpu: number[] } {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    step();
    wall.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
  }
  return { wall, cpu };
}

/** Median wall-clock and process CPU seconds per call, after warm-up. */
export function medianWallCpu(step: () => void, warmup: number, reps: number): { wall: number; cpu: number } {
  for (let i = 0; i < warmup; i++) step();
  const { wall, cpu } = timeEach(step, reps);
  return { wall: median(wall), cpu: median(cpu) };
}

/** Runs a Python benchmark script with Debian's torch and returns its JSON line. */
export function runPython(
  script: string,
  args: string[],
  preload: string | null = null,
  glibc: PeerMalloc = 'tuned',
): Record<string, number | string> {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run bash scripts/setup.sh --test (python3-torch)`);
  const env = pythonEnv(preload, glibc);
  const r = spawnSync(PYTHON, [script, ...args], { encoding: 'utf8', maxBuffer: 1 << 24, env });
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr.trim().split('\n').pop()}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

/** The middle value (the upper one of an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * The median over rounds of genlab's time / PyTorch's time in the same round. Rounds alternate, so
 * each pair ran under about the same load on this shared host; the ratio of the two sides' medians
 * can pair a genlab round from a slow spell with a PyTorch round from a fast one.
 */
export function pairedRatio(ours: number[], theirs: number[]): number {
  return median(ours.map((x, r) => x / theirs[r]));
}

const BIN = fileURLToPath(new URL('../bin/genlab.js', import.meta.url));

/**
 * Runs `genlab <args> --json` as a user would, in a child process (progress goes to this stderr),
 * and returns the JSON result it printed.
 */
export function genlabJson(args: string[]): Record<string, any> {
  const r = spawnSync(process.execPath, [BIN, ...args, '--json'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`genlab ${args.join(' ')} failed with exit code ${r.status}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string);
}

export interface Row {
  key: string;
  name: string;
  genlab: number;
  pytorch: number;
  target: number;
  unit: 'µs' | 'ms';
  /** When given, the ratio shown instead of genlab / pytorch (e.g. the median of paired per-round ratios). */
  ratio?: number;
}

export function ratioTable(rows: Row[]): string {
  const scale = (r: Row, v: number) => (r.unit === 'µs' ? v * 1e6 : v * 1e3).toFixed(r.unit === 'µs' ? 2 : 1);
  const lines = [
    '| workload | genlab | PyTorch | ratio genlab/PyTorch | target |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${scale(r, r.genlab)} ${r.unit} | ${scale(r, r.pytorch)} ${r.unit} | **${(r.ratio ?? r.genlab / r.pytorch).toFixed(3)}** | ≤ ${r.target.toFixed(2)} |`,
    ),
  ];
  return lines.join('\n');
}

export function argValue(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/**
 * Re-runs this benchmark pinned to one core with single-threaded BLAS, unless --no-pin. On this
 * shared machine an unpinned process lands in a fast or a slow state for its whole life (seen as
 * 1.1 µs versus 1.6 µs per tiny op in either framework), which swamps the differences measured.
 * The Python peer inherits the pinning and the environment (but not the malloc: see pythonEnv).
 * Returns true when it re-ran.
 */
export function pinToOneCore(scriptUrl: string): boolean {
  if (process.env.GENLAB_BENCH_PINNED || process.argv.includes('--no-pin')) return false;
  const malloc = cliMalloc();
  const r = spawnSync(
    'taskset',
    ['-c', '0', process.execPath, ...process.execArgv, fileURLToPath(scriptUrl), ...process.argv.slice(2)],
    {
      stdio: 'inherit',
      env: {
        ...process.env,
        GENLAB_BENCH_PINNED: '1',
        OPENBLAS_NUM_THREADS: '1',
        OMP_NUM_THREADS: '1',
        // genlab's side runs in this process: under the command line's malloc (see cliMalloc).
        ...(malloc ? { LD_PRELOAD: malloc } : {}),
      },
    },
  );
  if (r.error) {
    process.stderr.write(`taskset unavailable (${r.error.message}); running unpinned\n`);
    return false;
  }
  process.exit(r.status ?? 1);
}
