// Differential suite: genlab against PyTorch 1.13 (Debian's python3-torch, the same libtorch) on the
// seeded case table of cases.ts. genlab runs in a child process (runner.ts) that is restarted after a
// crashing case; PyTorch runs every case in one batched Python process. Documented differences
// (known.ts) must still show exactly as documented, so a fix makes this fail until the table is
// updated. `npx tsx test/parity/report.ts` writes the same run to results/parity.md.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { PYTHON, type Run, runParity } from './harness.js';
import { KNOWN } from './known.js';

function torchMissing(): string | false {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return `${PYTHON} cannot import torch (install python3-torch); parity suite skipped`;
  return false;
}

const skip = torchMissing();
if (skip) console.log(`# ${skip}`);
const run: Run | null = skip ? null : await runParity();
const verdicts = run?.verdicts ?? [];
if (run) {
  const n = (s: string) => verdicts.filter((v) => v.status === s).length;
  console.log(
    `# parity: ${verdicts.length} cases in ${run.seconds.toFixed(1)} s: ${n('exact')} bit for bit, ${n('tol')} within tolerance, ` +
      `${n('documented')} documented differences, ${n('known-changed') + n('undocumented')} failing`,
  );
}

test('the table has at least 400 cases over every category', { skip }, () => {
  assert.ok(verdicts.length >= 400, `${verdicts.length} cases`);
  const categories = new Set(verdicts.map((v) => v.c.category));
  for (const c of ['unary', 'binary', 'reduce', 'shape', 'create', 'nn.F', 'loss', 'nn', 'autograd', 'optim']) {
    assert.ok(categories.has(c), `no ${c} cases`);
  }
});

test('a case that crashes the genlab process is recorded and the cases after it still run', { skip }, () => {
  const crash = verdicts.filter((v) => v.c.mustCrash);
  assert.ok(crash.length > 0);
  for (const v of crash) assert.equal(v.status, 'crash-check', `${v.c.id}: ${v.why}`);
  assert.ok(run!.jsRestarts >= crash.length);
  const after = verdicts.slice(verdicts.indexOf(crash[0]) + 1);
  assert.ok(after.length > 0 && after.every((v) => v.js.out.k !== 'crash' || v.c.known || v.c.mustCrash));
});

for (const category of [...new Set(verdicts.filter((v) => !v.c.mustCrash).map((v) => v.c.category))]) {
  test(`${category}: genlab agrees with PyTorch 1.13 where no difference is documented`, { skip }, () => {
    const failing = verdicts
      .filter((v) => v.c.category === category && v.status === 'undocumented')
      .map((v) => `${v.c.id}: ${v.why}`);
    assert.deepEqual(failing, []);
  });
}

for (const [key, known] of Object.entries(KNOWN)) {
  const cases = verdicts.filter((v) => v.c.known === key);
  const what = known.fixed ? 'fixed: agrees with PyTorch' : 'still differs as documented';
  test(`documented difference, ${what}: ${known.title}`, { skip }, () => {
    assert.ok(cases.length > 0, `no case exercises documented difference '${key}'`);
    for (const v of cases) {
      if (known.fixed) {
        assert.notEqual(v.status, 'undocumented', `${v.c.id} differs again: ${v.why}`);
      } else {
        assert.equal(
          v.status,
          'documented',
          `${v.c.id} no longer shows '${known.title}' (${v.level === 'diff' ? `it differs otherwise: ${v.why}` : 'it agrees now'}): update test/parity/known.ts`,
        );
      }
    }
  });
}
