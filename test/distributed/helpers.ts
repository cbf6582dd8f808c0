// Starting the ranks of a distributed test: genlab ranks (worker.ts) and PyTorch ranks (peer.py),
// each a child process with PyTorch's environment.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
export const PEER = fileURLToPath(new URL('./peer.py', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/genlab.js', import.meta.url));
export const PYTHON = process.env.GENLAB_PYTHON ?? '/usr/bin/python3';

/** `n` distinct ports nobody listens on right now. */
export async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from start to exit. */
  ms: number;
}

/** Runs a child to its end (killing it after `limitMs`, which a passing test never reaches). */
export function finish(child: ChildProcess, limitMs = 60_000): Promise<Exit> {
  const t0 = Date.now();
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      // Let the pipes drain.
      setImmediate(() => resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 }));
    });
  });
}

export function rankEnv(port: number, rank: number, worldSize: number, extra: Record<string, string> = {}) {
  return {
    ...process.env,
    MASTER_ADDR: '127.0.0.1',
    MASTER_PORT: String(port),
    RANK: String(rank),
    WORLD_SIZE: String(worldSize),
    LOCAL_RANK: String(rank),
    OMP_NUM_THREADS: '1',
    ...extra,
  };
}

/** A genlab rank running `scenario` of worker.ts. */
export function genlabRank(scenario: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', WORKER, scenario, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** A PyTorch rank running peer.py (`rounds`: its init method, rank, world size triples). */
export function pythonRank(env: NodeJS.ProcessEnv, timeoutS: number, rounds: string[] = []): ChildProcess {
  return spawn(PYTHON, [PEER, String(timeoutS), ...rounds], { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs the ranks of one scenario together; resolves with their exits in rank order. */
export async function ranks(
  n: number,
  scenario: string,
  args: string[] = [],
  extra: Record<string, string> = {},
): Promise<Exit[]> {
  const port = await freePort();
  return Promise.all(
    Array.from({ length: n }, (_, r) => finish(genlabRank(scenario, args, rankEnv(port, r, n, extra)))),
  );
}

export function json(e: Exit): any {
  const line = e.stdout.trim().split('\n').pop();
  if (e.code !== 0 || !line) throw new Error(`rank failed (code ${e.code}): ${e.stderr.trim()}`);
  return JSON.parse(line);
}

export function torchMissing(): string | false {
  const r = spawnSync(PYTHON, ['-c', 'import torch.distributed as d; assert d.is_gloo_available()'], {
    encoding: 'utf8',
  });
  return r.error || r.status !== 0 ? `${PYTHON} cannot import torch with Gloo (install python3-torch); skipped` : false;
}
