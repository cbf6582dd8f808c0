// What the addon reports to V8 as external memory: only storages the garbage collector is
// responsible for (tensors made outside every scope, returned from the outermost tidy(), or kept),
// counted once per storage, and un-reported exactly when they are freed or change in place.
// Its own file: the first test counts major garbage collections, which other tests' garbage would disturb.
import assert from 'node:assert/strict';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { test } from 'node:test';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { nn, torch } from '../../src/index.js';
import type { Tensor } from '../../src/torch/index.js';
import { N } from '../../src/torch/native.js';
import { handle } from '../../src/torch/tensor.js';

const MiB = 2 ** 20;

/** Counts V8's major (mark-compact) collections while fn runs; entries arrive asynchronously. */
async function majorGcs(fn: () => void): Promise<number> {
  let major = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  fn();
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  return major;
}

test('200 tidy() steps holding 256 MiB of temporaries each: no major GC, reported memory flat', async () => {
  // 32 × 8 MiB held at once per step. Reported to V8 (as before this rule), the same loop ran 79 major
  // collections here, one every two or three steps; V8 starts one once external memory grows 64 MiB.
  const kept = torch.zeros([1024]).keep();
  const start = torch.memory();
  let maxGcBytes = start.gcBytes;
  let maxV8 = start.v8ExternalBytes;
  let stepBytes = 0;
  const major = await majorGcs(() => {
    for (let i = 0; i < 200; i++) {
      torch.tidy(() => {
        let acc = kept.narrow(0, 0, 1); // a view of a GC-owned storage: not counted again
        for (let k = 0; k < 32; k++) {
          const a = torch.empty([2 * MiB]); // 8 MiB, untouched: the test costs no page faults
          acc = acc.add(a.narrow(0, 0, 1).fill_(1));
        }
        const m = torch.memory();
        stepBytes = m.bytes - start.bytes;
        maxGcBytes = Math.max(maxGcBytes, m.gcBytes);
        maxV8 = Math.max(maxV8, m.v8ExternalBytes);
        return acc.item();
      });
    }
  });
  const end = torch.memory();
  assert.ok(stepBytes >= 256 * MiB, `a step holds ${(stepBytes / MiB).toFixed(0)} MiB`);
  assert.equal(major, 0, 'major GCs during the loop');
  assert.equal(maxGcBytes, start.gcBytes, 'scope temporaries are never reported');
  assert.equal(maxV8, start.v8ExternalBytes);
  assert.equal(end.gcBytes, start.gcBytes);
  assert.equal(end.v8ExternalBytes, start.v8ExternalBytes);
  assert.equal(end.tensors, start.tensors);
  kept.dispose();
});

test('escaping tensors are reported once per storage; the V8 count returns exactly to its start', () => {
  const start = torch.memory();
  assert.equal(start.gcTensors, 0, 'the previous test left GC-owned tensors');
  assert.equal(start.v8ExternalBytes, 0);
  const n = 3 * 256 * 1024; // 3 MiB of float32: more than one batch of reports
  const outside = torch.zeros([n]); // made outside every scope: GC-owned from birth
  const view = outside.view(3, -1);
  let m = torch.memory();
  assert.equal(m.gcTensors - start.gcTensors, 2);
  assert.equal(m.gcBytes - start.gcBytes, 3 * MiB, 'a view shares its storage: counted once');

  let kept: Tensor | undefined;
  const returned = torch.tidy(() => {
    const a = torch.ones([n]);
    const inner = torch.tidy(() => a.mul(2));
    // A nested scope's result moves to the enclosing scope: still freed deterministically, not reported.
    assert.equal(torch.memory().gcBytes - start.gcBytes, 3 * MiB);
    assert.equal(torch.memory().bytes - start.bytes, 9 * MiB);
    kept = a.add(1).keep(); // kept: the GC owns it at once
    assert.equal(torch.memory().gcBytes - start.gcBytes, 6 * MiB);
    outside.narrow(0, 0, 10).add_(1); // a temporary view of a reported storage adds nothing
    return inner;
  });
  m = torch.memory();
  assert.equal(m.gcBytes - start.gcBytes, 9 * MiB, 'returned from the outermost scope: reported');
  assert.equal(m.gcTensors - start.gcTensors, 4);
  assert.equal(m.bytes - start.bytes, 9 * MiB);
  assert.ok(Math.abs(m.v8ExternalBytes - m.gcBytes) < MiB, 'reports are batched by under 1 MiB');

  torch.dispose([outside, kept]);
  assert.equal(torch.memory().gcBytes - start.gcBytes, 6 * MiB, 'the view still holds the storage');
  torch.dispose([view, returned]);
  const end = torch.memory();
  assert.equal(end.gcTensors, start.gcTensors);
  assert.equal(end.gcBytes, start.gcBytes);
  assert.equal(end.bytes, start.bytes);
  assert.equal(end.v8ExternalBytes, start.v8ExternalBytes, 'what V8 was told returns exactly to the start');
});

test('in-place storage changes (resize_, set_, setData, out= arguments) move the counts with them', () => {
  const start = torch.memory();
  const kib4 = 4000;

  // resize_ grows the storage under the same handle; the view sees the same storage.
  const t = torch.zeros([1000]);
  const tv = t.view(10, 100);
  torch.ops.resize_(t, [3000]);
  let m = torch.memory();
  assert.equal(m.bytes - start.bytes, 3 * kib4);
  assert.equal(m.gcBytes - start.gcBytes, 3 * kib4);
  torch.dispose([t, tv]);
  assert.equal(torch.memory().gcBytes, start.gcBytes);
  assert.equal(torch.memory().bytes, start.bytes);

  // set_ points a at b's storage: a's old storage is freed and must be un-reported now.
  const a = torch.zeros([1000]);
  const b = torch.zeros([500]);
  torch.ops.set__source_Tensor(a, b);
  m = torch.memory();
  assert.equal(m.bytes - start.bytes, kib4 / 2);
  assert.equal(m.gcBytes - start.gcBytes, kib4 / 2);
  assert.equal(m.storages - start.storages, 1);
  a.dispose();
  assert.equal(torch.memory().gcBytes - start.gcBytes, kib4 / 2, 'b still holds it');
  b.dispose();
  assert.equal(torch.memory().gcBytes, start.gcBytes);

  // Inside a scope the same change is counted but never reported.
  torch.tidy(() => {
    const s = torch.zeros([1000]);
    torch.ops.resize_(s, [2000]);
    assert.equal(torch.memory().bytes - start.bytes, 2 * kib4);
    assert.equal(torch.memory().gcBytes, start.gcBytes);
  });

  // setData (Module.to): parameters change dtype under their handles; a second handle to the same
  // tensor (alias) is re-counted with it.
  const lin = torch.tidy(() => new nn.Linear(100, 10)); // 1,010 float32 parameters, kept; init temporaries freed
  const alias = N.alias(handle(lin.weight));
  const before = torch.memory();
  lin.to('float64');
  m = torch.memory();
  assert.equal(m.bytes - before.bytes, 1010 * 4);
  assert.equal(m.gcBytes - before.gcBytes, 1010 * 4);
  N.free(alias);
  lin.dispose();
  assert.equal(torch.memory().bytes, start.bytes);
  assert.equal(torch.memory().gcBytes, start.gcBytes);

  // out= arguments of the wrong size are resized by the operator, single tensors and lists alike.
  const x = torch.ones([1000]);
  const out = torch.empty([0]);
  N.call(N.lookup('aten::add', 'out'), handle(x), handle(x), 1, handle(out));
  assert.deepEqual(out.shape, [1000]);
  assert.equal(torch.memory().gcBytes - start.gcBytes, 2 * kib4);
  const base = torch.ones([4, 250]);
  const rows = base.unbind(0); // four views of one 4,000-byte storage
  const parts = [torch.empty([0]), torch.empty([0]), torch.empty([0]), torch.empty([0])];
  N.call(
    N.lookup('aten::_foreach_exp', 'out'),
    rows.map((r) => handle(r)),
    parts.map((p) => handle(p)),
  );
  assert.deepEqual(parts[3].shape, [250]);
  assert.equal(torch.memory().gcBytes - start.gcBytes, 4 * kib4);
  torch.dispose([x, out, base, rows, parts]);

  const end = torch.memory();
  assert.equal(end.tensors, start.tensors);
  assert.equal(end.bytes, start.bytes);
  assert.equal(end.gcBytes, start.gcBytes);
  assert.equal(end.storages, start.storages);
});

test('garbage made outside scopes is reported and freed by the backstop', async () => {
  const start = torch.memory();
  let peakGc = 0;
  for (let i = 0; i < 300; i++) {
    torch.zeros([1024 * 1024]).add(1); // 2 × 4 MiB of garbage per iteration, 2.4 GB in all
    peakGc = Math.max(peakGc, torch.memory().gcBytes);
    if (i % 10 === 0) await yieldToEventLoop();
  }
  assert.ok(peakGc - start.gcBytes >= 8 * MiB, 'garbage outside scopes is reported');
  assert.ok(peakGc < 512 * MiB, `reported garbage peaked at ${(peakGc / MiB).toFixed(0)} MiB`);
});
