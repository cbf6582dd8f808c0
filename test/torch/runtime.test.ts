// Threads: libtorch's count, OpenBLAS's kept equal to it (its pthread workers otherwise spin on a
// second core while libtorch runs on one), and OpenMP's waiting policy.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { torch } from '../../src/index.js';

test('setNumThreads sets libtorch and OpenBLAS threads alike', (t) => {
  const before = torch.getNumThreads();
  try {
    for (const n of [1, 2, 1]) {
      torch.setNumThreads(n);
      const info = torch.runtimeInfo();
      assert.equal(info.threads, n);
      if (info.blasThreads === 0) {
        t.skip('libtorch does not use OpenBLAS here');
        return;
      }
      assert.equal(info.blasThreads, n);
    }
  } finally {
    torch.setNumThreads(before);
  }
  assert.throws(() => torch.setNumThreads(0), /at least 1/);
  // 2^32 + 1 used to wrap to 1 thread silently; huge counts aborted in libgomp (see hardening.test.ts).
  assert.throws(() => torch.setNumThreads(2 ** 32 + 1), /thread count 4294967297 is above genlab's ceiling of 1024/);
  assert.throws(() => torch.setNumThreads(2.5), /must be an integer of at least 1, got 2\.5/);
  assert.equal(torch.getNumThreads(), before);
});

// libgomp prints the settings it read at start-up when OMP_DISPLAY_ENV is set. Its policy line reads
// PASSIVE when the variable is unset too; the spin count tells them apart (300000 unset, 0 passive).
function ompSettingsOfChild(waitPolicy: string | undefined): { spinCount?: string; envAfterLoad: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_DISPLAY_ENV: 'VERBOSE' };
  if (waitPolicy === undefined) delete env.OMP_WAIT_POLICY;
  else env.OMP_WAIT_POLICY = waitPolicy;
  const script = "import { torch } from 'genlab'; torch.zeros([1]); console.log(String(process.env.OMP_WAIT_POLICY));";
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env,
  });
  assert.equal(r.status, 0, r.stderr);
  return { spinCount: /GOMP_SPINCOUNT = '(\d+)'/.exec(r.stderr)?.[1], envAfterLoad: r.stdout.trim() };
}

test('OpenMP waits passively unless OMP_WAIT_POLICY says otherwise; the environment is left as found', () => {
  assert.deepEqual(ompSettingsOfChild(undefined), { spinCount: '0', envAfterLoad: 'undefined' });
  assert.deepEqual(ompSettingsOfChild('ACTIVE'), { spinCount: '30000000000', envAfterLoad: 'ACTIVE' });
});
