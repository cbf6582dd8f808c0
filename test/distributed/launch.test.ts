// `genlab launch`: 2 ranks of `diffusion train` on loopback. They train as 1 process with twice the
// batch (the same parameters after 50 steps); only rank 0 writes the run folder and prints; the
// checkpoint resumes with one process (another world size). A killed rank ends the launch.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { UsageError } from '../../src/cli/args.js';
import { parseLaunch } from '../../src/cli/launch.js';
import { loadVdmRun, trainVdmRun } from '../../src/diffusion/experiment.js';
import { linspace } from '../../src/torch/creation.js';
import { setNumThreads } from '../../src/torch/runtime.js';
import { isInterrupted } from '../../src/train/session.js';
import { BIN, type Exit, finish } from './helpers.js';

const genlab = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  finish(spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } }), 180_000);

// A tiny VDM on the digits with the digits' defaults otherwise: the learned monotone-network schedule
// trained for low variance, whose gradient is scaled by the batch's mean loss (all-reduced across
// ranks). The learning rate is an eighth of the default: Adam turns rounding differences into
// parameter differences in proportion to it (see the equivalence test).
const TINY = ['--data', 'digits', '--width', '8', '--depth', '1', '--threads', '1', '--lr', '5e-4'];
const FINISH = ['--time-samples', '1', '--sample-steps', '4', '--eval-every', '1000'];
const STEPS = 50;
const B = 8;

const dir = mkdtempSync(join(tmpdir(), 'genlab-launch-'));
const scratch = mkdtempSync(join(tmpdir(), 'genlab-launch-tmp-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});
const two = join(dir, 'two');
const one = join(dir, 'one');

// Both runs start together (3 processes: 2 ranks and the single one) and serve several tests.
let runs: Promise<{ two: Exit; one: Exit }> | undefined;
function trained() {
  runs ??= (async () => {
    const steps = ['--steps', String(STEPS)];
    const [t, o] = await Promise.all([
      genlab(
        [
          'launch',
          '--nproc',
          '2',
          '--timeout',
          '60',
          'diffusion',
          'train',
          ...TINY,
          ...FINISH,
          ...steps,
          '--batch-size',
          String(B),
          '--out',
          two,
        ],
        { TMPDIR: scratch },
      ),
      genlab(['diffusion', 'train', ...TINY, ...FINISH, ...steps, '--batch-size', String(2 * B), '--out', one]),
    ]);
    assert.equal(t.code, 0, t.stderr);
    assert.equal(o.code, 0, o.stderr);
    return { two: t, one: o };
  })();
  return runs;
}

const logged = (run: string) =>
  readFileSync(join(run, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => r.loss !== undefined);

// The schedule's inner weights: γ(t) = b + |w|·(f(t) − f(0))/(f(1) − f(0)) does not change when l1 and
// l3 are scaled together, so their gradient along that direction is rounding noise, which Adam
// follows with steps of the learning rate's size. One process with batch 2B and 2 threads instead
// of 1 ends 4.9e-2 away from itself there (default lr). They are compared through γ(t) instead.
const INNER = /^schedule\.(l1|l2Weight|l2Bias|l3)$/;

test(`genlab launch --nproc 2 diffusion train: 2 ranks × batch ${B} end where 1 process × batch ${2 * B} ends after ${STEPS} steps`, async () => {
  await trained();
  const a = loadVdmRun(two, { raw: true }).model;
  const b = loadVdmRun(one, { raw: true }).model;
  const theirs = new Map(b.namedParameters());
  let worst = { diff: 0, name: '' };
  let compared = 0;
  for (const [name, p] of a.namedParameters()) {
    if (INNER.test(name)) continue;
    const x = p.toTypedArray() as Float32Array;
    const y = theirs.get(name)?.toTypedArray() as Float32Array;
    for (let i = 0; i < x.length; i++) {
      const d = Math.abs(x[i] - y[i]);
      if (d > worst.diff) worst = { diff: d, name };
    }
    compared += x.length;
  }
  assert.ok(compared > 10_000, `${compared} parameters compared`);
  assert.ok(worst.diff <= 1e-6, `parameter ${worst.name} differs by ${worst.diff}`);
  // The schedule as a function: γ on a grid of t, to 1e-6 of its scale (γ = b + |w|·h sums terms of
  // about |γ(0)| = 7.8, whose float32 spacing is 4.8e-7, so near γ = 0 a relative measure would not do).
  const t = linspace(0, 1, 1001);
  const ga = a.schedule.gamma(t).toTypedArray() as Float32Array;
  const gb = b.schedule.gamma(t).toTypedArray() as Float32Array;
  const scale = Math.max(...Array.from(gb, Math.abs));
  let gammaDiff = 0;
  for (let i = 0; i < ga.length; i++) gammaDiff = Math.max(gammaDiff, Math.abs(ga[i] - gb[i]) / scale);
  assert.ok(gammaDiff <= 1e-6, `γ(t) differs by ${gammaDiff} of its scale ${scale}`);
  // Rank 0 logs the global batch's loss: the one process's, step by step, and it fell.
  const [la, lb] = [logged(two), logged(one)];
  assert.equal(la.length, lb.length);
  for (const [i, r] of la.entries())
    assert.ok(Math.abs(r.loss - lb[i].loss) < 1e-5 * lb[i].loss, `step ${r.step}: loss ${r.loss} vs ${lb[i].loss}`);
  const mean = (rows: { loss: number }[]) => rows.reduce((x, r) => x + r.loss, 0) / rows.length;
  const [first, last] = [mean(lb.slice(0, 10)), mean(lb.slice(-10))];
  assert.ok(last < 0.95 * first, `mean loss of the first 10 steps ${first}, of the last 10 ${last}`);
  console.log(`largest parameter difference ${worst.diff} (${worst.name}); γ(t): ${gammaDiff} of ${scale}`);
});

test('genlab launch --nproc 2 diffusion train: rank 0 alone writes and prints; resumable with 1 process', async () => {
  const { two: t } = await trained();
  // One result line (rank 0's), and no note of rank 1.
  assert.equal(t.stdout.match(/test bits\/dim/g)?.length, 1, t.stdout);
  assert.doesNotMatch(t.stderr, /\[rank 1\]/);
  for (const f of ['config.json', 'checkpoint.safetensors', 'state.json', 'results.json'])
    assert.ok(existsSync(join(two, f)), f);
  assert.deepEqual(readdirSync(dir).sort(), ['one', 'two']);
  // Rank 1's scratch folder is gone.
  assert.deepEqual(
    readdirSync(scratch).filter((f) => f.startsWith('genlab-rank')),
    [],
  );
  const state = JSON.parse(readFileSync(join(two, 'state.json'), 'utf8'));
  assert.equal(state.step, STEPS);
  assert.equal(state.loaders.train.worldSize, 2);
  // A copy continues 2 more steps in one process: this one (no process group, world size 1).
  const more = join(dir, 'resumed');
  cpSync(two, more, { recursive: true });
  const cfgFile = join(more, 'config.json');
  const cfg = { ...JSON.parse(readFileSync(cfgFile, 'utf8')), steps: STEPS + 2 };
  writeFileSync(cfgFile, JSON.stringify(cfg));
  setNumThreads(1);
  const notes: string[] = [];
  const r = await trainVdmRun(cfg, more, { resume: true, quiet: true, log: (m) => notes.push(m) });
  assert.ok(!isInterrupted(r));
  assert.ok(notes.includes(`resuming from step ${STEPS}`), notes.join('\n'));
  assert.equal(r.steps, STEPS + 2);
  assert.equal(JSON.parse(readFileSync(join(more, 'state.json'), 'utf8')).step, STEPS + 2);
});

test('genlab launch: a bad option or a missing command is a usage error', () => {
  // The parser itself: main() prints a UsageError as one line and exits with 2, as for every command.
  assert.throws(
    () => parseLaunch(['--nproc', '0', 'diffusion', 'train']),
    (e: Error) => e instanceof UsageError && e.message === "--nproc must be an integer in [1, 1024], not '0'",
  );
  assert.throws(
    () => parseLaunch(['--nproc', '2']),
    (e: Error) => e instanceof UsageError && /^missing the command to launch/.test(e.message),
  );
});

/** The pid of the launched rank `rank` among the children of `parent`. */
function rankPid(parent: number, rank: number): number | undefined {
  const ps = spawnSync('ps', ['-o', 'pid=', '--ppid', String(parent)], { encoding: 'utf8' });
  for (const pid of ps.stdout
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => n > 0)) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`RANK=${rank}`)) return pid;
    } catch {
      // exited meanwhile
    }
  }
  return undefined;
}

test('genlab launch: killing rank 1 makes rank 0 and the launch exit non-zero with one-line messages', async () => {
  const out = join(dir, 'killed');
  const args = [
    'launch',
    '--nproc',
    '2',
    '--timeout',
    '20',
    'diffusion',
    'train',
    ...TINY,
    ...FINISH,
    '--batch-size',
    String(B),
    '--steps',
    '100000',
    '--out',
    out,
  ];
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exit = finish(child, 170_000);
  // Once rank 0 has opened the run folder, rank 1 is killed (during start-up checks or training).
  let victim: number | undefined;
  while (victim === undefined) {
    await new Promise((r) => setTimeout(r, 200));
    if (existsSync(join(out, 'config.json'))) victim = rankPid(child.pid as number, 1);
  }
  await new Promise((r) => setTimeout(r, 500));
  const killedAt = Date.now();
  process.kill(victim, 'SIGKILL');
  const e = await exit;
  assert.notEqual(e.code, 0);
  const lines = e.stderr
    .trim()
    .split('\n')
    .filter((l) => /^genlab/.test(l));
  assert.ok(lines.includes('genlab launch: rank 1 exited with signal SIGKILL'), e.stderr);
  assert.ok(
    lines.some((l) => /^genlab: .*failed on rank 0 of 2: rank 1 is gone or hung \(.+\)$/.test(l)),
    e.stderr,
  );
  assert.ok(Date.now() - killedAt < 20_000, `the launch ended ${Date.now() - killedAt} ms after the kill`);
});
