import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { torch } from '../../src/index.js';
import type { Tensor } from '../../src/torch/index.js';

// A two-layer MLP trained by plain SGD on a fixed regression problem, without nn or optim,
// so this test exercises only the engine's memory handling.
function makeProblem(seed: number) {
  const g = new torch.Generator(seed);
  const x = torch.randn([64, 8], { generator: g }).keep();
  const y = x
    .narrow(1, 0, 1)
    .mul(2)
    .sub(x.narrow(1, 1, 1))
    .keep();
  const w1 = torch.randn([8, 32], { generator: g }).mul_(0.3).requiresGrad_().keep();
  const w2 = torch.randn([32, 1], { generator: g }).mul_(0.3).requiresGrad_().keep();
  return { x, y, params: [w1, w2] };
}

function step(p: ReturnType<typeof makeProblem>): number {
  const [w1, w2] = p.params;
  const loss = p.x.matmul(w1).tanh().matmul(w2).sub(p.y).square().mean();
  const grads = torch.grad(loss, p.params);
  torch.noGrad(() => {
    for (let i = 0; i < 2; i++) p.params[i].sub_(grads[i] as Tensor, { alpha: 0.05 });
  });
  return loss.item();
}

test('5,000 training steps inside tidy keep live tensors and bytes flat', () => {
  const p = makeProblem(0);
  torch.tidy(() => step(p)); // warm-up: lazily created state settles
  const before = torch.memory();
  let first = 0;
  let last = 0;
  for (let i = 0; i < 5000; i++) {
    last = torch.tidy(() => step(p));
    if (i === 0) first = last;
  }
  const after = torch.memory();
  assert.ok(last < first * 0.2, `the loop must actually train: loss ${first} -> ${last}`);
  assert.ok(Math.abs(after.tensors - before.tensors) <= 2, `tensors ${before.tensors} -> ${after.tensors}`);
  assert.ok(Math.abs(after.bytes - before.bytes) <= 1024, `bytes ${before.bytes} -> ${after.bytes}`);
  torch.dispose([p.x, p.y, p.params]);
});

test('without tidy, the finalizer backstop bounds memory in an async loop', async () => {
  // Each step leaves 1.5 MB of garbage; 2,000 steps make 3 GB in all. The backstop frees tensors
  // between event-loop turns (finalizers never run inside a synchronous loop), so memory stays bounded.
  const x = torch.randn([128 * 1024]).keep();
  torch.resetPeakMemory();
  const boundBytes = 512 * 1024 * 1024;
  let acc = 0;
  for (let i = 0; i < 2000; i++) {
    acc += x.mul(1.5).add(1).tanh().narrow(0, 0, 1).item();
    if (i % 20 === 0) await yieldToEventLoop();
  }
  const m = torch.memory();
  assert.ok(Number.isFinite(acc));
  assert.ok(
    m.peakBytes < boundBytes,
    `peak ${(m.peakBytes / 2 ** 20).toFixed(0)} MiB exceeds the stated 512 MiB bound`,
  );
  x.dispose();
});

test('tidy returns nested results, frees the rest, and keep() survives', () => {
  const before = torch.memory().tensors;
  let kept: Tensor | undefined;
  const out = torch.tidy(() => {
    const a = torch.ones([3]);
    const b = a.mul(2);
    kept = a.add(5).keep();
    b.add(1);
    return { pair: [b, a.sub(1)], n: 3 };
  });
  assert.equal(torch.memory().tensors, before + 3);
  assert.deepEqual(out.pair[0].toArray(), [2, 2, 2]);
  assert.deepEqual(out.pair[1].toArray(), [0, 0, 0]);
  assert.deepEqual(kept!.toArray(), [6, 6, 6]);
  torch.dispose([out.pair, kept]);
  assert.equal(torch.memory().tensors, before);
});

test('nested tidy moves returned tensors to the outer scope', () => {
  const before = torch.memory().tensors;
  torch.tidy(() => {
    const inner = torch.tidy(() => torch.zeros([2]).add(1));
    assert.equal(torch.memory().tensors, before + 1);
    assert.deepEqual(inner.toArray(), [1, 1]);
  });
  assert.equal(torch.memory().tensors, before);
});

test('tidy frees everything when fn throws, and rejects async functions', () => {
  const before = torch.memory().tensors;
  assert.throws(() =>
    torch.tidy(() => {
      torch.zeros([4]);
      throw new Error('boom');
    }),
  );
  assert.equal(torch.memory().tensors, before);
  assert.throws(() => torch.tidy(async () => torch.zeros([1])), /synchronous/);
  assert.equal(torch.memory().tensors, before);
});

test('bytes are counted once per storage, not per view', () => {
  const base = torch.memory();
  const t = torch.zeros([1000]); // 4,000 bytes
  const v1 = t.view(10, 100);
  const v2 = t.narrow(0, 0, 10);
  const m = torch.memory();
  assert.equal(m.tensors - base.tensors, 3);
  assert.equal(m.bytes - base.bytes, 4000);
  torch.dispose([t, v1]);
  assert.equal(torch.memory().bytes - base.bytes, 4000, 'a view still holds the storage');
  v2.dispose();
  assert.equal(torch.memory().bytes, base.bytes);
});

test('using declarations dispose at block end', () => {
  const before = torch.memory().tensors;
  {
    using t = torch.ones([2, 2]);
    assert.equal(t.sum().item(), 4);
  }
  // t.sum() escaped (no scope) and stays until collected; t itself is gone.
  assert.ok(torch.memory().tensors <= before + 1);
});
