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
