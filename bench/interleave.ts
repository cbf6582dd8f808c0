// Interleaved timing of training steps: genlab and PyTorch each run in a long-lived worker process,
// and the parent asks them in turn for short blocks of steps, so every genlab block has a PyTorch
// block beside it in time.
//
// Why: on this shared 2-core host the speed of any process drifts by up to ±40% over seconds to
// minutes (other tenants, memory management), and a round of one framework followed by a round of the
// other can fall into different spells. Blocks of a second or less, alternated between warm
// processes, meet the same spell; the ratio is then the median over block pairs. Both workers also
// run past their warm-up first (V8 tiers its compiled code up over the first steps; Python does not),
// so the ratio is of the steady state a training run spends its time in; the warm-up is reported apart.
//
// Protocol (one JSON line each way): the worker prints {"ready": true} once its model is built, then,
// for each line "N" it reads, runs N steps and prints {"wall": [...], "cpu": [...]} in seconds per step;
// it exits at end of input. serveSteps() below is the genlab side; bench/stepserver.py the Python one.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { cliMalloc, median, type PeerMalloc, PYTHON, pythonEnv, timeEach } from './common.js';

/** Worker side (genlab): answers the parent's requests with `step`, timed per call. */
export function serveSteps(step: () => unknown): void {
  const lines = createInterface({ input: process.stdin });
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  lines.on('line', (line) => {
    process.stdout.write(`${JSON.stringify(timeEach(step, Number(line.trim())))}\n`);
  });
}

export interface Side {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

/** A genlab worker: this Node (with its loader flags) running `script` with `args`, on the command line's malloc. */
export function nodeSide(name: string, script: string, args: string[]): Side {
  const malloc = cliMalloc();
  const env = { ...process.env, ...(malloc ? { LD_PRELOAD: malloc } : {}) };
  return { name, command: process.execPath, args: [...process.execArgv, script, ...args], env };
}

/** A PyTorch worker (see pythonEnv), optionally with a malloc library preloaded. */
export function pythonSide(
  name: string,
  script: string,
  args: string[],
  preload: string | null = null,
  glibc: PeerMalloc = 'tuned',
): Side {
  return { name, command: PYTHON, args: [script, ...args], env: pythonEnv(preload, glibc) };
}

/**
 * The same PyTorch worker as a user starts it ("stock"), with genlab's glibc thresholds ("pytorch",
 * the side of the spread notes) and, where the command line preloads one, under the same malloc
 * ("tcmalloc"). PEER_MALLOC_NOTE describes them.
 */
export function pytorchSides(script: string, args: string[]): Side[] {
  const malloc = cliMalloc();
  const sides = [pythonSide('stock', script, args, null, 'stock'), pythonSide('pytorch', script, args)];
  if (malloc) sides.push(pythonSide('tcmalloc', script, args, malloc));
  return sides;
}

class Worker {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: Interface;
  private readonly pending: ((line: string) => void)[] = [];
  private readonly arrived: string[] = [];
  private stderr = '';

  constructor(readonly side: Side) {
    this.proc = spawn(side.command, side.args, { env: side.env ?? process.env });
    this.proc.stderr.on('data', (d) => {
      this.stderr = (this.stderr + String(d)).slice(-4000);
    });
    this.lines = createInterface({ input: this.proc.stdout });
    // A line nobody waits for yet (the ready line, while an earlier worker is awaited) is kept.
    const deliver = (line: string) => {
      const waiter = this.pending.shift();
      if (waiter) waiter(line);
      else this.arrived.push(line);
    };
    this.lines.on('line', deliver);
    this.proc.on('exit', (code) => {
      this.lines.close();
      deliver(JSON.stringify({ exit: code }));
      for (const resolve of this.pending.splice(0)) resolve(JSON.stringify({ exit: code }));
    });
  }

  private next(): Promise<Record<string, unknown>> {
    const line = this.arrived.shift();
    if (line !== undefined) return Promise.resolve(JSON.parse(line));
    return new Promise((resolve) => this.pending.push((l) => resolve(JSON.parse(l))));
  }

  private check(reply: Record<string, unknown>): Record<string, unknown> {
    if ('exit' in reply) {
      const why = this.stderr.trim().split('\n').pop() ?? '';
      throw new Error(`${this.side.name} worker exited (${reply.exit}): ${why}`);
    }
    return reply;
  }

  async ready(): Promise<void> {
    this.check(await this.next());
  }

  async run(steps: number): Promise<{ wall: number[]; cpu: number[] }> {
    const reply = this.next();
    this.proc.stdin.write(`${steps}\n`);
    return this.check(await reply) as { wall: number[]; cpu: number[] };
  }

  stop(): void {
    this.proc.stdin.end();
  }
}

export interface Interleaved {
  /** Per side: the median step of each timed block, wall-clock and CPU seconds. */
  wall: Record<string, number[]>;
  cpu: Record<string, number[]>;
  /** Per side: the median step of each warm-up block, in order (the warm-up curve). */
  warmup: Record<string, number[]>;
}

/**
 * Starts every side, runs `warmupBlocks` untimed blocks on each, then `blocks` timed rounds in which
 * every side runs one block of `steps` steps; the order of the sides rotates from block to block.
 */
export async function interleave(
  sides: Side[],
  opts: { blocks: number; steps: number; warmupBlocks: number },
): Promise<Interleaved> {
  const workers = sides.map((s) => new Worker(s));
  const out: Interleaved = { wall: {}, cpu: {}, warmup: {} };
  for (const s of sides) {
    out.wall[s.name] = [];
    out.cpu[s.name] = [];
    out.warmup[s.name] = [];
  }
  try {
    // One at a time: building a model is timed by nobody, but two builds at once would share the core.
    for (const w of workers) await w.ready();
    for (let b = 0; b < opts.warmupBlocks; b++) {
      for (const w of workers) out.warmup[w.side.name].push(median((await w.run(opts.steps)).wall));
    }
    for (let b = 0; b < opts.blocks; b++) {
      for (let k = 0; k < workers.length; k++) {
        const w = workers[(b + k) % workers.length];
        const t = await w.run(opts.steps);
        out.wall[w.side.name].push(median(t.wall));
        out.cpu[w.side.name].push(median(t.cpu));
      }
    }
  } finally {
    for (const w of workers) w.stop();
  }
  return out;
}

/** The sentence that says how an interleaved figure was measured, for results files. */
export function interleaveMethod(rounds: number, blocks: number, warmupBlocks: number): string {
  return `Interleaved timing (bench/interleave.ts): ${rounds} round(s), each with fresh worker processes for every side, which first run ${warmupBlocks} untimed warm-up blocks and then take turns over ${blocks} timed blocks of steps; a side's time is the median over all its blocks of the block's median step, and the ratio is the median over block pairs (the same block index of the same round) of genlab's block over PyTorch's.`;
}

/** One line on the spread of the block-pair ratios and on the warm-up, for results files. */
export function spreadNote(name: string, ours: number[], theirs: number[], rounds: Interleaved[]): string {
  const ratios = ours.map((g, i) => g / theirs[i]).sort((a, b) => a - b);
  const q = (p: number) => ratios[Math.round(p * (ratios.length - 1))].toFixed(3);
  const first = (k: string) => (median(rounds.map((t) => t.warmup[k][0] ?? Number.NaN)) * 1e3).toFixed(1);
  const stock = rounds[0]?.warmup.stock ? `, PyTorch stock ${first('stock')} ms` : '';
  return `${name}: ${ratios.length} block-pair ratios against PyTorch tuned, 10th–90th percentile ${q(0.1)}–${q(0.9)}; the first warm-up block's median step (median over rounds): genlab ${first('genlab')} ms, PyTorch tuned ${first('pytorch')} ms${stock}.`;
}
