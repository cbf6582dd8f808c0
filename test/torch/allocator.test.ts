// The caching CPU allocator (native/src/allocator.cc): reuse, its bound, and giving memory back.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { torch } from '../../src/index.js';

const MB = 1 << 20;
const INDEX = new URL('../../src/index.ts', import.meta.url).href;

/** Runs `body` (an async function body with `torch`, `nn` and `readFileSync` in scope) in a fresh Node; returns its JSON output. */
function child(body: string, env: Record<string, string>): any {
  const script = `import { readFileSync } from 'node:fs';\nimport { nn, torch } from ${JSON.stringify(INDEX)};\nconst out = await (async () => {${body}})();\nconsole.log(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string);
}

test('a freed large block is cached, reused for the same size class, and released by emptyCache()', (t) => {
  if (torch.memory().cachedBytes === undefined) return t.skip('no allocator statistics');
  torch.emptyCache();
  const start = torch.memory();
  assert.equal(start.cachedBytes, 0);
  torch.tidy(() => {
    torch.zeros([16 * MB]); // 64 MiB of float32
  });
  const cached = torch.memory();
  assert.ok(cached.cachedBytes >= 64 * MB, `cached ${cached.cachedBytes}`);
  assert.equal(cached.cachedBlocks, 1);
  // The same class again (a little smaller): the cached block serves it, and its old contents are overwritten.
  const sum = torch.tidy(() =>
    torch
      .ones([16 * MB - 1000])
      .sum()
      .item(),
  );
  assert.equal(sum, 16 * MB - 1000);
  assert.equal(torch.memory().cachedBlocks, 1);
  const released = torch.emptyCache();
  assert.ok(released >= 64 * MB, `released ${released}`);
  assert.equal(torch.memory().cachedBytes, 0);
});

test('the cache never holds more than GENLAB_ALLOC_CACHE_MB', () => {
  const out = child(
    `const sizes = [40, 50, 60, 70].map((m) => m * 262144);
     const held = sizes.map((n) => torch.zeros([n]).keep());
     torch.dispose(held);
     return torch.memory();`,
    { GENLAB_ALLOC_CACHE_MB: '100' },
  );
  // 220 MiB were freed; the oldest went back to the system to keep the cache under 100 MiB.
  assert.ok(out.cachedBytes > 0 && out.cachedBytes <= 100 * MB, `cached ${out.cachedBytes}`);
});

test('after a large evaluation the resident memory returns to within 10% of its level before', () => {
  const out = child(
    `const rss = () => Number(readFileSync('/proc/self/statm', 'utf8').split(' ')[1]) * 4096;
     torch.setNumThreads(1);
     const model = new nn.Sequential(new nn.Conv2d(1, 32, 3, { padding: 1 }), new nn.SiLU(), new nn.Conv2d(32, 32, 3, { padding: 1 }));
     const small = torch.randn([8, 1, 28, 28]).keep();
     torch.tidy(() => torch.inferenceMode(() => model.forward(small).sum().item()));
     await new Promise((r) => setTimeout(r, 100));
     const before = rss();
     const x = torch.randn([512, 1, 28, 28]).keep();
     let peak = 0;
     for (let i = 0; i < 3; i++) {
       torch.tidy(() => torch.inferenceMode(() => {
         model.forward(x).sum().item();
         peak = Math.max(peak, rss());
       }));
     }
     x.dispose();
     const cachedAfterEval = torch.memory().cachedBytes;
     await new Promise((r) => setTimeout(r, 2500));
     return { before, peak, after: rss(), cachedAfterEval, cachedLater: torch.memory().cachedBytes };`,
    { GENLAB_ALLOC_CACHE_SECONDS: '0.5' },
  );
  const what = `before ${(out.before / MB).toFixed(0)} MiB, peak ${(out.peak / MB).toFixed(0)} MiB, after ${(out.after / MB).toFixed(0)} MiB`;
  assert.ok(out.peak - out.before > 100 * MB, `the evaluation did not grow the process: ${what}`);
  assert.ok(out.cachedAfterEval > 50 * MB, `nothing was cached: ${out.cachedAfterEval}`);
  assert.equal(out.cachedLater, 0);
  assert.ok(out.after <= out.before * 1.1, what);
});
