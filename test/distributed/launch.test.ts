// `genlab launch`: 2 ranks of `diffusion train` on loopback. Only rank 0 writes the run folder and
// prints; the checkpoint then resumes with one process (another world size).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN, finish } from './helpers.js';

const genlab = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 180_000, env: { ...process.env, ...env } });

// A tiny VDM on the digits: the point is the launch, not the model.
const TINY = ['--data', 'digits', '--batch-size', '8', '--width', '8', '--depth', '1', '--threads', '1'];
const FINISH = ['--time-samples', '1', '--sample-steps', '4', '--eval-every', '1000'];

test('genlab launch --nproc 2 diffusion train: rank 0 alone writes and prints; resumable with 1 process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'genlab-launch-'));
  const scratch = mkdtempSync(join(tmpdir(), 'genlab-launch-tmp-'));
  try {
    const out = join(dir, 'vdm');
    const two = genlab(
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
        '--steps',
        '4',
        '--out',
        out,
      ],
      {
        TMPDIR: scratch,
      },
    );
    assert.equal(two.status, 0, two.stderr);
    // One result line (rank 0's), and no note of rank 1.
    assert.equal(two.stdout.match(/test bits\/dim/g)?.length, 1, two.stdout);
    assert.doesNotMatch(two.stderr, /\[rank 1\]/);
    for (const f of ['config.json', 'checkpoint.safetensors', 'state.json', 'results.json'])
      assert.ok(existsSync(join(out, f)), f);
    assert.deepEqual(readdirSync(dir), ['vdm']);
    // Rank 1's scratch folder is gone.
    assert.deepEqual(
      readdirSync(scratch).filter((f) => f.startsWith('genlab-rank')),
      [],
    );
    const state = JSON.parse(readFileSync(join(out, 'state.json'), 'utf8'));
    assert.equal(state.step, 4);
    assert.equal(state.loaders.train.worldSize, 2);
    // Continue to step 6 with one process.
    const cfgFile = join(out, 'config.json');
    writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(readFileSync(cfgFile, 'utf8')), steps: 6 }));
    const one = genlab(['diffusion', 'train', '--out', out, '--resume']);
    assert.equal(one.status, 0, one.stderr);
    assert.match(one.stderr, /resuming from step 4/);
    assert.equal(JSON.parse(readFileSync(join(out, 'state.json'), 'utf8')).step, 6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  }
});

test('genlab launch: a bad option or a missing command is a one-line usage error', () => {
  const r = genlab(['launch', '--nproc', '0', 'diffusion', 'train']);
  assert.equal(r.status, 2);
  assert.equal(r.stderr, "genlab: --nproc must be an integer in [1, 1024], not '0'\n");
  const m = genlab(['launch', '--nproc', '2']);
  assert.equal(m.status, 2);
  assert.match(m.stderr, /^genlab: missing the command to launch/);
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
  const dir = mkdtempSync(join(tmpdir(), 'genlab-launch-kill-'));
  try {
    const out = join(dir, 'vdm');
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
    await new Promise((r) => setTimeout(r, 2000));
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
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
