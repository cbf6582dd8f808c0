// Running the genlab command as a user would (in a child process), and the check that Ctrl-C then
// --resume (or a family's train function with resume) ends where an uninterrupted run ends.
import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSafetensors } from '../../src/torch/safetensors.js';

export const BIN = fileURLToPath(new URL('../../bin/genlab.js', import.meta.url));

export function genlab(args: string[], opts: { cwd?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: opts.cwd, timeout: 120_000 });
}

export function genlabAsync(args: string[]) {
  return spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The step of the checkpoint in a run folder. */
function checkpointStep(dir: string): number {
  return JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).step;
}

/** A run folder's results.json. */
export function results(dir: string): Record<string, any> {
  return JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
}

/** Asserts that two run folders' checkpoints hold the same tensors, bit for bit. */
function assertSameCheckpoint(whole: string, resumed: string, what = ''): void {
  const a = loadSafetensors(join(whole, 'checkpoint.safetensors')).tensors;
  const b = loadSafetensors(join(resumed, 'checkpoint.safetensors')).tensors;
  assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
  for (const k of Object.keys(a)) assert.ok(a[k].equal(b[k]), `${what}${k} differs after resume`);
}

/**
 * Starts `genlab args` and sends it SIGINT, as Ctrl-C would, once its first checkpoint is in
 * `dir`; resolves with its exit code and stderr. Rejects if the run ends before it is interrupted.
 */
async function interruptAtCheckpoint(args: string[], dir: string): Promise<{ code: number | null; stderr: string }> {
  const child = genlabAsync(args);
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (existsSync(join(dir, 'state.json'))) {
        clearInterval(timer);
        child.kill('SIGINT');
        resolve();
      }
    }, 5);
    child.on('exit', () => {
      clearInterval(timer);
      reject(new Error(`finished before it could be interrupted:\n${stderr}`));
    });
  });
  return { code: await exited, stderr };
}

/**
 * The Ctrl-C check, with genlab in a child process: trains `args` into `whole` without a break,
 * and into `cut` stopped by SIGINT at its first checkpoint (exit code 130), then resumed; asserts
 * that both end with the same checkpoint. Returns the interrupted run's stderr.
 */
export async function assertResumeMatches(args: string[], whole: string, cut: string): Promise<string> {
  const full = genlab([...args, '--out', whole, '--quiet']);
  assert.equal(full.status, 0, full.stderr);
  const { code, stderr } = await interruptAtCheckpoint([...args, '--out', cut], cut);
  assert.equal(code, 130, stderr);
  const stoppedAt = checkpointStep(cut);
  assert.ok(stoppedAt < checkpointStep(whole), `stopped at ${stoppedAt}`);
  const resumed = genlab([...args, '--out', cut, '--resume', '--quiet']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assertSameCheckpoint(whole, cut);
  return stderr;
}

/**
 * The same with a family's train function run in this process: `train(dir, resume)` trains into
 * `dir`; SIGINT is emitted once a checkpoint is in `cut`. Returns what the interrupted call returned.
 */
export async function assertResumeMatchesInProcess<T>(
  train: (dir: string, resume: boolean) => Promise<T>,
  whole: string,
  cut: string,
): Promise<T> {
  await train(whole, false);
  const timer = setInterval(() => {
    if (existsSync(join(cut, 'state.json'))) {
      clearInterval(timer);
      process.emit('SIGINT');
    }
  }, 1);
  const stopped = await train(cut, false).finally(() => clearInterval(timer));
  const stoppedAt = checkpointStep(cut);
  assert.ok(stoppedAt < checkpointStep(whole), `stopped at ${stoppedAt}`);
  await train(cut, true);
  assertSameCheckpoint(whole, cut, `${basename(cut)}: `);
  return stopped;
}
