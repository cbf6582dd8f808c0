// Run folders under misuse, driven through the command as a user would: two trainings into one
// folder, and an output path the kernel owns.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/genlab.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'genlab-folder-'));

function train(out: string): { child: ChildProcess; done: Promise<{ code: number | null; stderr: string }> } {
  const args = [
    'classifier',
    'train',
    '--data',
    'digits',
    '--steps',
    '60',
    '--batch-size',
    '32',
    '--out',
    out,
    '--quiet',
  ];
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  return { child, done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr }))) };
}

test('a second training into a folder whose training is under way (started half a second or more later) is refused in one line', async () => {
  const out = join(tmp, 'shared');
  const lock = join(out, 'train.lock');
  const first = train(out);
  const started = Date.now();
  // The first must hold the folder when the second opens it, however fast this machine trains:
  // once it has the lock, pause it until the second has been refused, then let it finish.
  while (!existsSync(lock)) {
    assert.equal(first.child.exitCode, null, 'the first training ended before taking the lock');
    await new Promise((r) => setTimeout(r, 20));
  }
  first.child.kill('SIGSTOP');
  await new Promise((r) => setTimeout(r, Math.max(0, 500 - (Date.now() - started))));
  const second = await train(out).done;
  first.child.kill('SIGCONT');
  const results = [await first.done, second];
  const ok = results.filter((r) => r.code === 0);
  const refused = results.filter((r) => r.code !== 0);
  assert.equal(ok.length, 1, results.map((r) => r.stderr).join('\n'));
  assert.equal(refused.length, 1);
  const lines = refused[0].stderr.trim().split('\n');
  assert.equal(lines.length, 1, refused[0].stderr);
  assert.match(
    lines[0],
    /^genlab: .*shared is in use by another training \(pid \d+, since [^)]+\); wait for it to end/,
  );
  // One history in the log: the training steps 1..60, each once, in order.
  const steps = readFileSync(join(out, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((e) => e.loss !== undefined)
    .map((e) => e.step);
  assert.deepEqual(
    steps,
    Array.from({ length: 60 }, (_, i) => i + 1),
  );
  assert.ok(!existsSync(join(out, 'train.lock')), 'the lock is released at the end');
});

test("--out under /proc is refused at once with one line (Node's own mkdir spins there)", () => {
  const r = spawnSync(
    process.execPath,
    [BIN, 'classifier', 'train', '--data', 'digits', '--steps', '2', '--out', '/proc/x', '--quiet'],
    { encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(r.signal, null, 'it ended by itself');
  assert.notEqual(r.status, 0);
  assert.match(
    r.stderr,
    /^genlab: cannot write a run into \/proc\/x: \/proc is a virtual file system of the kernel; choose another/,
  );
  assert.equal(r.stderr.trim().split('\n').length, 1);
});
