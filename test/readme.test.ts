import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The first ```ts block after a heading of the README. */
function codeAfter(heading: string): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const at = readme.indexOf(`## ${heading}`);
  assert.ok(at >= 0, `README has no section '${heading}'`);
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(block, `no ts block under '${heading}'`);
  return block[1];
}

test('the README first example runs exactly as written', () => {
  // Inside the package root, so that `import … from 'genlab'` resolves to this checkout.
  const file = join(root, `.readme-example-${process.pid}.ts`);
  writeFileSync(file, codeAfter('A first example'));
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /tensor\(\[\[2\., 4\.\],\n\s+\[6\., 8\.\]\]\)/);
    const losses = [...r.stdout.matchAll(/step (\d+): loss ([\d.]+)/g)].map((m) => Number(m[2]));
    assert.equal(losses.length, 3);
    assert.ok(losses[2] < losses[0] && losses[2] < 0.01, `loss should fall below 0.01: ${losses}`);
  } finally {
    rmSync(file, { force: true });
  }
});

test("the README's family example trains, loads and evaluates a Glow as written", () => {
  const file = join(root, `.readme-family-${process.pid}.ts`);
  const code = codeAfter('The genlab command');
  writeFileSync(file, code);
  const dir = join(root, 'runs', 'glow-200');
  rmSync(dir, { recursive: true, force: true });
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const [trained, evaluated] = r.stdout.trim().split('\n').map(Number);
    // 200 steps of the digits Glow: well below a uniform model's log2(17) = 4.09 bits/dim.
    assert.ok(trained > 1 && trained < 3.5, `test bits/dim ${trained}`);
    assert.ok(evaluated > 1 && evaluated < 3.5, `bits/dim of 100 images ${evaluated}`);
    assert.match(r.stderr, /glow on digits: \{/, 'the config note goes to the log function');
  } finally {
    rmSync(file, { force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});
