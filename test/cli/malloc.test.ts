// The genlab command's malloc (bin/genlab): tcmalloc preloaded for genlab's own process and its
// `launch` ranks, never for the programs it starts; GENLAB_MALLOC chooses otherwise.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../bin/genlab', import.meta.url));

function genlab(args: string[], env: NodeJS.ProcessEnv = {}) {
  const e = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete e[k];
  return spawnSync(SCRIPT, args, { encoding: 'utf8', env: e, timeout: 120_000 });
}

function doctorMalloc(env: NodeJS.ProcessEnv = {}): string {
  const r = genlab(['doctor', '--no-peer', '--json'], { GENLAB_MALLOC: undefined, ...env });
  assert.equal(r.status, 0, r.stderr);
  const d = JSON.parse(r.stdout);
  assert.equal(d.pythonPeer.skipped, true, '--no-peer leaves the Python check out');
  return d.malloc;
}

test('GENLAB_MALLOC=system keeps glibc; a bad path is a one-line error', () => {
  assert.match(doctorMalloc({ GENLAB_MALLOC: 'system' }), /^glibc/);
  const bad = genlab(['doctor'], { GENLAB_MALLOC: '/nonexistent/libfoo.so' });
  assert.equal(bad.status, 1);
  assert.equal(
    bad.stderr,
    'genlab: GENLAB_MALLOC=/nonexistent/libfoo.so is not a readable library; give a path to one (libtcmalloc_minimal.so.4), or system\n',
  );
});

test('genlab runs on tcmalloc (set-up installs it); programs it starts do not inherit the preload', () => {
  // A module Node loads before bin/genlab.js reports, at exit, the environment children would get.
  const dir = mkdtempSync(join(tmpdir(), 'genlab-malloc-'));
  const probe = join(dir, 'probe.mjs');
  writeFileSync(
    probe,
    "process.on('exit', () => process.stderr.write('LD_PRELOAD=' + (process.env.LD_PRELOAD ?? '(unset)') + '\\n'));\n",
  );
  const unset = genlab(['doctor', '--no-peer', '--json'], {
    NODE_OPTIONS: `--import ${probe}`,
    LD_PRELOAD: undefined,
    GENLAB_MALLOC: undefined,
  });
  assert.equal(unset.status, 0, unset.stderr);
  const malloc = JSON.parse(unset.stdout).malloc;
  assert.match(malloc, /libtcmalloc_minimal\.so/, 'is libtcmalloc-minimal4 installed? bash scripts/setup.sh');
  assert.match(unset.stderr, /^LD_PRELOAD=\(unset\)$/m);
  // An empty library path is skipped by the loader, so it stands for "the user's own preload" here.
  const own = genlab(['doctor', '--no-peer', '--json'], {
    NODE_OPTIONS: `--import ${probe}`,
    LD_PRELOAD: ' ',
    GENLAB_MALLOC: undefined,
  });
  assert.equal(own.status, 0, own.stderr);
  assert.match(own.stderr, /^LD_PRELOAD= $/m);
  assert.equal(JSON.parse(own.stdout).malloc, malloc);
});

test('genlab launch hands the malloc on to its ranks', () => {
  const r = genlab(['launch', '--nproc', '1', 'doctor', '--no-peer', '--json'], { GENLAB_MALLOC: undefined });
  assert.equal(r.status, 0, r.stderr);
  assert.match(JSON.parse(r.stdout.trim().split('\n').pop() as string).malloc, /tcmalloc/);
});
