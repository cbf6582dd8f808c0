// cos and pow for the schedules, against Python's math.cos and ** (C's libm) on Debian's python3.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { cCos, cPow } from '../../src/optim/libm.js';

const PYTHON = process.env.GENLAB_PYTHON ?? '/usr/bin/python3';

function pythonMissing(): string | false {
  const r = spawnSync(PYTHON, ['-c', 'import math'], { encoding: 'utf8' });
  return r.error || r.status !== 0 ? `${PYTHON} not found; comparison skipped` : false;
}

/** Distance in units in the last place between two doubles of the same sign. */
function ulps(a: number, b: number): number {
  const f = new Float64Array([a, b]);
  const i = new BigInt64Array(f.buffer);
  const d = i[0] - i[1];
  return Number(d < 0n ? -d : d);
}

test('cCos and cPow equal C’s cos and pow (Python’s) but for rare last-bit cases', { skip: pythonMissing() }, (t) => {
  // Arguments as schedules make them: π·t/T for whole t and T, π·pct, and plain fractions.
  const cosArgs: number[] = [];
  for (let T = 1; T <= 60; T++) for (let s = 0; s <= 3 * T; s++) cosArgs.push((Math.PI * s) / T);
  for (let i = 0; i <= 2000; i++) cosArgs.push(Math.PI * (i / 2000));
  const powArgs: [number, number][] = [];
  for (const base of [0.9, 0.93, 0.97, 0.1, 0.3, 0.999, 0.5, 0.75, 0.123]) {
    for (let e = 0; e <= 60; e++) powArgs.push([base, e], [base, e * 0.37 + 0.5]);
  }
  const script = `
import json, math, sys
d = json.load(sys.stdin)
print(json.dumps({'cos': [math.cos(x) for x in d['cos']], 'pow': [a ** b for a, b in d['pow']]}))
`;
  const r = spawnSync(PYTHON, ['-c', script], {
    input: JSON.stringify({ cos: cosArgs, pow: powArgs }),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const want = JSON.parse(r.stdout) as { cos: number[]; pow: number[] };
  let cosSame = 0;
  let mathSame = 0;
  cosArgs.forEach((x, i) => {
    const got = cCos(x);
    if (Object.is(got, want.cos[i]) || got === want.cos[i]) cosSame++;
    else assert.ok(Math.abs(got - want.cos[i]) <= Number.EPSILON * 1e-3 || ulps(got, want.cos[i]) <= 1, `cos(${x})`);
    if (Math.cos(x) === want.cos[i]) mathSame++;
  });
  powArgs.forEach(([a, b], i) => {
    assert.equal(cPow(a, b), want.pow[i], `${a} ** ${b}`);
  });
  t.diagnostic(
    `cos: ${cosSame} of ${cosArgs.length} equal (Math.cos: ${mathSame}); pow: ${powArgs.length} of ${powArgs.length}`,
  );
  assert.ok(cosSame >= 0.995 * cosArgs.length, `only ${cosSame} of ${cosArgs.length} cosines equal`);
  assert.equal(cCos(0), 1);
  assert.equal(cCos(Math.PI), -1);
});
