// Threads: libtorch's count, and OpenBLAS's kept equal to it (its pthread workers otherwise spin on
// a second core while libtorch runs on one).
import assert from 'node:assert/strict';
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
});
