// Kill injection: a training is SIGKILLed at a system call of a checkpoint commit (strace stops the
// process on entering the call, so the call never happens), then continued with --resume. It must
// end with the same checkpoint, state and log as a run that was never interrupted, bit for bit.
//
// The commit's calls are found in a reference run traced with `strace -f -y`: strace counts calls
// per syscall and per thread, so "the 23rd fsync of the main thread" names one call in every run of
// the same command. Each kill run checks, from its own trace, that the call it stopped is the one
// meant. Only calls whose count does not vary between runs are targeted: fsync, rename and the
// positional writes (pwrite64) of state.json. The checkpoint file's own writes are plain `write`s,
// which Node's main thread also makes to wake its module-loader thread, a number that varies from
// run to run; the fsync of the same temporary file stands for them (the folder is in the same state:
// a temporary file that is never renamed).
//
// By default the suite kills at each of those calls of one commit that has a predecessor, at the
// checkpoint rename of the first commit and at the state.json rename of the last. GENLAB_CHAOS=full
// kills at each of them in every commit. GENLAB_CHAOS_JOBS sets how many cases run at once (2).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/genlab.js', import.meta.url));
const STEPS = 40;
const EVERY = 4; // the loop's default: a checkpoint every ceil(steps / 10) steps
const ARGS = [
  'classifier',
  'train',
  '--data',
  'digits',
  '--steps',
  String(STEPS),
  '--batch-size',
  '32',
  '--threads',
  '1',
];
const FULL = process.env.GENLAB_CHAOS === 'full';
const JOBS = Math.max(1, Number(process.env.GENLAB_CHAOS_JOBS ?? 2));
const TRACED = 'write,pwrite64,fsync,rename';

// strace must be installed (bash scripts/setup.sh --test) and allowed to trace (ptrace).
const canTrace = spawnSync('strace', ['-f', '-qq', '-e', 'trace=none', 'true']).status === 0;
const skip = canTrace ? false : 'strace is missing or cannot trace here (bash scripts/setup.sh --test installs it)';

interface Done {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function exec(cmd: string, args: string[]): Promise<Done> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** `genlab ARGS --out dir` under strace, optionally with a SIGKILL injected at the n-th `syscall`. */
function traced(dir: string, traceFile: string, kill?: { syscall: string; n: number }): Promise<Done> {
  const inject = kill ? ['-e', `inject=${kill.syscall}:error=EIO:signal=SIGKILL:when=${kill.n}`] : [];
  return exec('strace', [
    '-f',
    '-qq',
    '-y',
    '-e',
    `trace=${TRACED}`,
    ...inject,
    '-o',
    traceFile,
    process.execPath,
    BIN,
    ...ARGS,
    '--out',
    dir,
    '--quiet',
  ]);
}

type Role =
  | 'checkpoint write'
  | 'checkpoint fsync'
  | 'checkpoint rename'
  | 'folder fsync'
  | 'state write'
  | 'state fsync'
  | 'state rename';

interface Call {
  syscall: string;
  /** Which call of this syscall in the main thread, from 1: strace's `when`. */
  n: number;
  role?: Role;
  line: string;
}

const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function roleOf(line: string, dir: string): Role | undefined {
  const d = reEscape(dir);
  const tmp = `${d}/checkpoint\\.safetensors\\.\\d+\\.[0-9a-f]+\\.tmp`;
  const stateTmp = `${d}/state\\.json\\.tmp-\\d+`;
  const patterns: [Role, RegExp][] = [
    ['checkpoint write', new RegExp(`^pwrite64\\(\\d+<${tmp}>`)],
    ['checkpoint fsync', new RegExp(`^fsync\\(\\d+<${tmp}>`)],
    ['checkpoint rename', new RegExp(`^rename\\("${tmp}", "${d}/checkpoint\\.safetensors"`)],
    ['folder fsync', new RegExp(`^fsync\\(\\d+<${d}>`)],
    ['state write', new RegExp(`^pwrite64\\(\\d+<${stateTmp}>`)],
    ['state fsync', new RegExp(`^fsync\\(\\d+<${stateTmp}>`)],
    ['state rename', new RegExp(`^rename\\("${stateTmp}", "${d}/state\\.json"`)],
  ];
  return patterns.find(([, re]) => re.test(line))?.[0];
}

/** The main thread's traced calls, numbered per syscall as strace's `when` counts them. */
function mainThreadCalls(trace: string, dir: string): Call[] {
  const lines = trace.split('\n');
  // The main thread is the one that writes config.json: every file call of a run is synchronous.
  const first = lines.find((l) => l.includes(`${dir}/config.json`));
  assert.ok(first, 'the trace shows config.json being written');
  const tid = first.split(' ')[0];
  const counts = new Map<string, number>();
  const calls: Call[] = [];
  for (const l of lines) {
    const m = /^(\d+)\s+(\w+)\((.*)$/.exec(l);
    if (!m || m[1] !== tid || !TRACED.split(',').includes(m[2])) continue;
    const n = (counts.get(m[2]) ?? 0) + 1;
    counts.set(m[2], n);
    const line = `${m[2]}(${m[3]}`;
    calls.push({ syscall: m[2], n, role: roleOf(line, dir), line });
  }
  return calls;
}

/** The checkpoint commits of a run, each checked to be the calls of one atomic commit, in order. */
function commits(calls: Call[]): Call[][] {
  const out: Call[][] = [];
  for (let i = 0; i < calls.length; i++) {
    if (calls[i].role !== 'checkpoint write') continue;
    let j = i;
    while (calls[j].role === 'checkpoint write') j++;
    const commit = calls.slice(i, j + 7);
    assert.deepEqual(
      commit.slice(j - i).map((c) => c.role),
      [
        'checkpoint fsync',
        'checkpoint rename',
        'folder fsync',
        'state write',
        'state fsync',
        'state rename',
        'folder fsync',
      ],
      'a commit flushes the checkpoint, renames it, flushes the folder, then writes state.json the same way',
    );
    out.push(commit);
    i = j + 6;
  }
  return out;
}

/** The step of a folder's checkpoint.safetensors (undefined without one), and of the state inside it. */
function checkpointStep(dir: string): { step?: number; inside?: number } {
  const file = join(dir, 'checkpoint.safetensors');
  if (!existsSync(file)) return {};
  const fd = openSync(file, 'r');
  try {
    const len = Buffer.alloc(8);
    readSync(fd, len, 0, 8, 0);
    const header = Buffer.alloc(Number(len.readBigUInt64LE(0)));
    readSync(fd, header, 0, header.length, 8);
    const meta = JSON.parse(header.toString('utf8')).__metadata__;
    return { step: Number(meta.step), inside: JSON.parse(meta['genlab.state']).step };
  } finally {
    closeSync(fd);
  }
}

function stateStep(dir: string): number | undefined {
  const file = join(dir, 'state.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).step : undefined;
}

interface KillPoint {
  name: string;
  call: Call;
  /** Checkpoint steps on disk after the kill: of checkpoint.safetensors and of state.json. */
  expect: { checkpoint?: number; state?: number };
}

function killPoints(all: Call[][]): KillPoint[] {
  const points: KillPoint[] = [];
  all.forEach((commit, index) => {
    const step = (index + 1) * EVERY;
    const before = index === 0 ? undefined : step - EVERY;
    const renamed = commit.findIndex((c) => c.role === 'checkpoint rename');
    commit.forEach((call, at) => {
      // The first of the checkpoint's writes stands for them all: each leaves only the temporary file.
      if (call.role === 'checkpoint write' && at > 0) return;
      const folder =
        call.role === 'folder fsync' ? (at === commit.length - 1 ? ' (after state)' : ' (after checkpoint)') : '';
      points.push({
        name: `step ${step} commit: ${call.role}${folder}`,
        call,
        expect: {
          checkpoint: at <= renamed ? before : step,
          state: at === commit.length - 1 ? step : before,
        },
      });
    });
  });
  if (FULL) return points;
  const middle = `step ${STEPS / 2} commit:`;
  return points.filter(
    (p) =>
      p.name.startsWith(middle) ||
      p.name === `step ${EVERY} commit: checkpoint rename` ||
      p.name === `step ${STEPS} commit: state rename`,
  );
}

const files = (dir: string) => readdirSync(dir).sort();

/** A log's lines without their wall-clock times, which differ between any two runs. */
function history(log: string): object[] {
  return readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const { time: _time, ...rest } = JSON.parse(l);
      return rest;
    });
}

test('SIGKILL at each call of a checkpoint commit, then --resume, ends bit-identical to an uninterrupted run', {
  skip,
  concurrency: JOBS,
  timeout: 900_000,
}, async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'genlab-chaos-'));
  const ref = join(tmp, 'reference');
  const whole = await traced(ref, join(tmp, 'reference.trace'));
  assert.equal(whole.code, 0, whole.stderr);
  const all = commits(mainThreadCalls(readFileSync(join(tmp, 'reference.trace'), 'utf8'), ref));
  assert.equal(all.length, STEPS / EVERY, 'one commit per checkpoint');
  const reference = {
    checkpoint: readFileSync(join(ref, 'checkpoint.safetensors')),
    state: readFileSync(join(ref, 'state.json'), 'utf8'),
    log: history(join(ref, 'log.jsonl')),
    files: files(ref),
  };
  const points = killPoints(all);
  let resumedIdentical = 0;

  await Promise.all(
    points.map((p, i) =>
      t.test(p.name, async () => {
        const dir = join(tmp, `kill${i}`);
        const traceFile = join(tmp, `kill${i}.trace`);
        const killed = await traced(dir, traceFile, p.call);
        assert.ok(killed.signal === 'SIGKILL' || killed.code === 137, `killed (${killed.code}): ${killed.stderr}`);

        // The call it stopped is the one meant, and it did not happen.
        const calls = mainThreadCalls(readFileSync(traceFile, 'utf8'), dir);
        const last = calls[calls.length - 1];
        assert.equal(`${last.syscall} ${last.n} ${last.role}`, `${p.call.syscall} ${p.call.n} ${p.call.role}`);
        assert.match(last.line, /(<unfinished \.\.\.>|= \?)$/, 'the call did not return');

        // On disk: a consistent checkpoint (the state inside it at its own step), old or new.
        const on = checkpointStep(dir);
        assert.equal(on.step, p.expect.checkpoint, 'checkpoint.safetensors step after the kill');
        assert.equal(on.inside, on.step, 'the state inside the checkpoint is its own');
        assert.equal(stateStep(dir), p.expect.state, 'state.json step after the kill');
        assert.ok(existsSync(join(dir, 'train.lock')), 'the killed run left its lock');

        const resumed = await exec(process.execPath, [BIN, ...ARGS, '--out', dir, '--resume']);
        assert.equal(resumed.code, 0, resumed.stderr);
        if (p.expect.checkpoint === undefined) assert.match(resumed.stderr, /starts again from step 0/);
        if (p.call.role?.startsWith('checkpoint'))
          assert.match(resumed.stderr, /removed checkpoint\.safetensors\.\d+\.[0-9a-f]+\.tmp/);
        if (p.call.role?.startsWith('state')) assert.match(resumed.stderr, /removed state\.json\.tmp-\d+/);
        if (p.expect.checkpoint !== undefined && p.expect.state === undefined) {
          assert.match(resumed.stderr, /state\.json was missing; rewrote it/);
        } else if (p.expect.checkpoint !== p.expect.state) {
          assert.match(resumed.stderr, new RegExp(`state\\.json was left at step ${p.expect.state} .*rewrote it`));
        }
        assert.ok(
          readFileSync(join(dir, 'checkpoint.safetensors')).equals(reference.checkpoint),
          'same checkpoint bytes',
        );
        assert.equal(readFileSync(join(dir, 'state.json'), 'utf8'), reference.state);
        assert.deepEqual(history(join(dir, 'log.jsonl')), reference.log, 'one history in log.jsonl');
        assert.deepEqual(files(dir), reference.files, 'no temporary file and no lock is left');
        resumedIdentical++;
      }),
    ),
  );
  t.diagnostic(`${points.length} kills tried, ${resumedIdentical} resumed to identical weights`);
  assert.equal(resumedIdentical, points.length);
});
