// `genlab launch`: starts N local ranks of a genlab command, the way `torchrun --standalone` (one
// machine) or `torchrun --nnodes --node-rank --master-addr` (several) starts PyTorch scripts, with
// PyTorch's environment (MASTER_ADDR, MASTER_PORT, RANK, LOCAL_RANK, WORLD_SIZE). Rank 0's output
// is shown; the other ranks show only their errors. A rank that fails makes the launch fail.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { DEFAULT_TIMEOUT_MS, destroyProcessGroup, initProcessGroup } from '../torch/distributed.js';
import { UsageError } from './args.js';
import { mallocPreloadEnv } from './malloc.js';
import type { Verb } from './verb.js';

export const launchHelp = `Usage: genlab launch [options] <family> <verb> [verb options]

Starts --nproc ranks of a genlab command on this machine, as torchrun does, and joins them into one
process group (Gloo over TCP). Each rank trains on its shard of the data with batch --batch-size;
gradients are averaged, so N ranks train as one process with an N times larger batch. Only rank 0
writes the run folder and prints progress.

Options:
  --nproc <n>          ranks on this machine (default 1; torchrun's --nproc-per-node)
  --nnodes <n>         machines (default 1, or PET_NNODES / SLURM_NNODES)
  --node-rank <i>      this machine's index (default 0, or PET_NODE_RANK / SLURM_NODEID)
  --master-addr <h>    where rank 0 listens (default 127.0.0.1, or PET_MASTER_ADDR / MASTER_ADDR)
  --master-port <p>    its port (default: a free port on one machine, else 29500, or PET_MASTER_PORT / MASTER_PORT)
  --timeout <s>        seconds before a dead or hung rank makes the others fail (default 1800)
`;

/** For the command overview; main.ts dispatches `launch` to launchMain itself. */
export const launchVerb = {
  summary: 'start N ranks of a genlab command for distributed training (like torchrun)',
} as Verb;

interface LaunchOptions {
  nproc: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string;
  masterPort?: number;
  timeoutS: number;
}

function intValue(flag: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} must be an integer in [${min}, ${max}], not '${v ?? ''}'`);
  }
  return n;
}

const env = (...names: string[]): string | undefined =>
  names.map((n) => process.env[n]).find((v) => v !== undefined && v !== '');

/** Splits `launch` options from the command to run. */
export function parseLaunch(argv: string[]): { opts: LaunchOptions; command: string[] } | 'help' {
  const nnodes = env('PET_NNODES', 'SLURM_NNODES');
  const nodeRank = env('PET_NODE_RANK', 'SLURM_NODEID');
  const port = env('PET_MASTER_PORT', 'MASTER_PORT');
  const opts: LaunchOptions = {
    nproc: intValue('PET_NPROC_PER_NODE', env('PET_NPROC_PER_NODE') ?? '1', 1, 1024),
    nnodes: nnodes ? intValue('nnodes', nnodes, 1, 65536) : 1,
    nodeRank: nodeRank ? intValue('node rank', nodeRank, 0, 65535) : 0,
    masterAddr: env('PET_MASTER_ADDR', 'MASTER_ADDR') ?? '127.0.0.1',
    masterPort: port ? intValue('master port', port, 1, 65535) : undefined,
    timeoutS: 1800,
  };
  let i = 0;
  for (; i < argv.length && argv[i].startsWith('--'); i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    if (flag === '--help') return 'help';
    const value = inline ?? argv[++i];
    if (flag === '--nproc' || flag === '--nproc-per-node') opts.nproc = intValue(flag, value, 1, 1024);
    else if (flag === '--nnodes') opts.nnodes = intValue(flag, value, 1, 65536);
    else if (flag === '--node-rank') opts.nodeRank = intValue(flag, value, 0, 65535);
    else if (flag === '--master-addr') opts.masterAddr = value ?? '';
    else if (flag === '--master-port') opts.masterPort = intValue(flag, value, 1, 65535);
    else if (flag === '--timeout') opts.timeoutS = intValue(flag, value, 1, 7 * 24 * 3600);
    else throw new UsageError(`unknown launch option '${flag}' (see genlab launch --help)`);
  }
  if (opts.nodeRank >= opts.nnodes)
    throw new UsageError(`--node-rank ${opts.nodeRank} is not below --nnodes ${opts.nnodes}`);
  const command = argv.slice(i);
  if (command.length < 2)
    throw new UsageError('missing the command to launch, e.g. genlab launch --nproc 2 diffusion train');
  if (command[0] === 'launch') throw new UsageError('genlab launch cannot launch itself');
  return { opts, command };
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Runs `genlab launch …`; resolves with the exit code (the first failing rank's, else 0). */
export async function launchMain(argv: string[]): Promise<number> {
  const parsed = parseLaunch(argv);
  if (parsed === 'help') {
    process.stdout.write(launchHelp);
    return 0;
  }
  const { opts, command } = parsed;
  const port = opts.masterPort ?? (opts.nnodes === 1 ? await freePort(opts.masterAddr) : 29500);
  const worldSize = opts.nnodes * opts.nproc;
  const children: ChildProcess[] = [];
  let firstFailure: { rank: number; code: number } | null = null;
  let backstop: NodeJS.Timeout | undefined;
  const exits: Promise<void>[] = [];
  for (let local = 0; local < opts.nproc; local++) {
    const rank = opts.nodeRank * opts.nproc + local;
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...command], {
      stdio: ['ignore', rank === 0 ? 'inherit' : 'ignore', rank === 0 ? 'inherit' : 'pipe'],
      env: {
        ...process.env,
        MASTER_ADDR: opts.masterAddr,
        MASTER_PORT: String(port),
        RANK: String(rank),
        LOCAL_RANK: String(local),
        WORLD_SIZE: String(worldSize),
        LOCAL_WORLD_SIZE: String(opts.nproc),
        GROUP_RANK: String(opts.nodeRank),
        // torchrun's default: one thread per rank unless the user says otherwise.
        OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? (opts.nproc > 1 ? '1' : undefined),
        GENLAB_LAUNCH_TIMEOUT_MS: String(opts.timeoutS * 1000),
        ...mallocPreloadEnv(),
      },
    });
    if (child.stderr) {
      // The other ranks' notes would repeat rank 0's; their errors are shown, marked with the rank.
      createInterface({ input: child.stderr }).on('line', (line) => {
        if (line.startsWith('genlab')) process.stderr.write(`[rank ${rank}] ${line}\n`);
      });
    }
    children.push(child);
    exits.push(
      new Promise((resolve) => {
        child.on('exit', (code, signal) => {
          const status = code ?? (signal ? 128 : 1);
          if (status !== 0 && firstFailure === null) {
            firstFailure = { rank, code: status };
            process.stderr.write(
              `genlab launch: rank ${rank} exited with ${signal ? `signal ${signal}` : `code ${code}`}\n`,
            );
            // The others notice through their collectives within the timeout; this backstop ends
            // any rank that still runs well after it.
            backstop = setTimeout(
              () => {
                for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
              },
              opts.timeoutS * 1000 + 15_000,
            );
            backstop.unref();
          }
          resolve();
        });
      }),
    );
  }
  const forward = (sig: NodeJS.Signals) => () => {
    for (const c of children) if (c.exitCode === null) c.kill(sig);
  };
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    await Promise.all(exits);
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    if (backstop) clearTimeout(backstop);
  }
  return (firstFailure as { code: number } | null)?.code ?? 0;
}

/** Whether this process is a rank started by `genlab launch` (or by torchrun-like launchers that set GENLAB_LAUNCH_TIMEOUT_MS). */
export function isLaunchedRank(): boolean {
  return process.env.GENLAB_LAUNCH_TIMEOUT_MS !== undefined && process.env.WORLD_SIZE !== undefined;
}

/** Runs a command as one rank: joins the default process group from the environment, runs, leaves. */
export async function asLaunchedRank<T>(run: () => Promise<T>): Promise<T> {
  const timeout = Number(process.env.GENLAB_LAUNCH_TIMEOUT_MS ?? DEFAULT_TIMEOUT_MS);
  await initProcessGroup({ backend: 'gloo', initMethod: 'env://', timeout });
  // After a failure the process exits without waiting for the group's threads.
  const result = await run();
  await destroyProcessGroup();
  return result;
}
