import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { torch } from '../../src/index.js';
import type { Tensor } from '../../src/torch/index.js';

const live = () => torch.memory().tensors;

test('tidy keeps a tensor returned 8 levels deep, through arrays, objects, Maps and Sets', () => {
  const before = live();
  const out = torch.tidy(() => {
    const x = torch.arange(4).mul(3);
    x.add(1); // a temporary
    return { a: [{ b: new Map([['c', [{ d: { e: new Set([{ f: [x] }]) } }]]]) }] };
  });
  const [inner] = [...out.a[0].b.get('c')![0].d.e][0].f;
  assert.equal(live(), before + 1, 'the temporary is freed, the returned tensor is not');
  assert.deepEqual(inner.toArray(), [0, 3, 6, 9]);
  assert.deepEqual(inner.add(1).toArray(), [1, 4, 7, 10]);
  torch.dispose(out);
  assert.equal(live(), before + 1, 'inner.add(1) escaped to the garbage collector');
});

test('tidy finds tensors in cyclic results and class instances, and frees the rest', () => {
  class Holder {
    constructor(
      public t: Tensor,
      public self: Holder | null = null,
    ) {}
  }
  const before = live();
  const out = torch.tidy(() => {
    const cyc: { t?: Tensor; me?: unknown; list: unknown[] } = { list: [] };
    cyc.me = cyc;
    cyc.list.push(cyc, cyc.list);
    cyc.t = torch.ones([2]).mul(5);
    const h = new Holder(torch.zeros([1]).add(2));
    h.self = h;
    torch.ones([3]).mul(7); // temporaries: ones, ones(2), zeros, mul results
    return { cyc, h };
  });
  assert.equal(live(), before + 2);
  assert.deepEqual(out.cyc.t!.toArray(), [5, 5]);
  assert.deepEqual(out.h.t.toArray(), [2]);
  torch.dispose([out.cyc.t, out.h.t]);
  assert.equal(live(), before);
});

test('tidyAsync frees its temporaries across awaits and returns what it returns', async () => {
  const before = live();
  const out = await torch.tidyAsync(async () => {
    const a = torch.ones([4]).mul(2); // two tensors before the first await
    await yieldToEventLoop();
    const b = a.add(1); // made after an await: still this scope's
    await new Promise((r) => setTimeout(r, 5));
    const nested = await torch.tidyAsync(async () => {
      await yieldToEventLoop();
      return b.mul(b).sub(1); // 3*3-1; the mul is freed by the inner scope
    });
    assert.equal(live(), before + 4, 'ones, mul, add, and the nested result, moved to this scope');
    return { sum: nested.sum(), n: 4 };
  });
  assert.equal(out.n, 4);
  assert.equal(out.sum.item(), 32);
  assert.equal(live(), before + 1, 'only the returned tensor is left');
  out.sum.dispose();
  assert.equal(live(), before);
});

test('tidyAsync frees everything when fn rejects, and keep() survives', async () => {
  const before = live();
  let kept: Tensor | undefined;
  await assert.rejects(
    torch.tidyAsync(async () => {
      kept = torch.full([2], 9).keep();
      torch.zeros([4]);
      await yieldToEventLoop();
      torch.zeros([4]);
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal(live(), before + 1);
  assert.deepEqual(kept!.toArray(), [9, 9]);
  kept!.dispose();
});

test('tensors made by concurrent code while a tidyAsync awaits are not freed by it', async () => {
  const before = live();
  let releaseScope!: () => void;
  const gate = new Promise<void>((r) => {
    releaseScope = r;
  });
  const scoped = torch.tidyAsync(async () => {
    torch.ones([8]).mul(2);
    await gate; // the scope is open and waiting
    return torch.ones([1]).mul(3).item();
  });
  // Unrelated code, running while the scope awaits: made outside every scope, so the GC owns it.
  await yieldToEventLoop();
  const outsider = torch.arange(3).add(10);
  // And a second scope running at the same time frees only its own tensors.
  const other = await torch.tidyAsync(async () => {
    await yieldToEventLoop();
    return torch.ones([2]).mul(4);
  });
  releaseScope();
  assert.equal(await scoped, 3);
  assert.deepEqual(outsider.toArray(), [10, 11, 12], 'not freed by the scope that was open when it was made');
  assert.deepEqual(other.toArray(), [4, 4]);
  assert.equal(live(), before + 3, 'arange (garbage, not freed yet), outsider and other');
  torch.dispose([outsider, other]);
});

test('a tidyAsync started inside a synchronous tidy owns what its first stretch makes', async () => {
  const before = live();
  let pending: Promise<number[]> | undefined;
  torch.tidy(() => {
    pending = torch.tidyAsync(async () => {
      const x = torch.arange(3).float(); // made while the tidy() is open, but not the tidy()'s
      await yieldToEventLoop();
      return x.add(1).toArray() as number[];
    });
    return 0;
  });
  assert.deepEqual(await pending, [1, 2, 3]);
  assert.equal(live(), before);
});

test('using scopes free at block end, escape() moves a result out, and an await inside is refused', async () => {
  const before = live();
  let y: Tensor;
  {
    using s = torch.scope();
    const h = torch.ones([3]).mul(2);
    h.add(1);
    y = s.escape(h.sum());
    assert.equal(torch.memory().scopeDepth, 1);
  }
  assert.equal(torch.memory().scopeDepth, 0);
  assert.equal(y.item(), 6);
  assert.equal(live(), before + 1);
  y.dispose();

  const spanning = async () => {
    using s = torch.scope();
    torch.ones([2]);
    await yieldToEventLoop();
    assert.equal(torch.memory().scopeDepth, 0, 'the scope stopped collecting at the await');
    void s;
  };
  await assert.rejects(spanning(), /stayed open across an await/);
});

test('a synchronous loop leaving tensors to the garbage collector warns once, with the fix', () => {
  const script = `
    import { torch } from './src/index.js';
    const x = torch.randn([64 * 1024]).keep();
    let acc = 0;
    for (let i = 0; i < 400; i++) acc += x.mul(2).narrow(0, 0, 1).item(); // 256 KiB of garbage per step
    console.log('done', Number.isFinite(acc));
  `;
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, GENLAB_GC_WARN_BYTES: String(16 * 2 ** 20) },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /done true/);
  const warnings = r.stderr.split('\n').filter((l) => l.includes('genlab warning'));
  assert.equal(warnings.length, 1, r.stderr);
  assert.match(warnings[0], /without an event-loop turn/);
  assert.match(warnings[0], /torch\.tidy/);
  assert.match(warnings[0], /await between steps/);

  // The same loop with a tidy per step, or an await per step, does not warn.
  const quiet = script.replace('acc += x.mul(2)', 'acc += torch.tidy(() => x.mul(2)').replace('.item();', '.item());');
  const q = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', quiet], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, GENLAB_GC_WARN_BYTES: String(16 * 2 ** 20) },
  });
  assert.equal(q.status, 0, q.stderr);
  assert.doesNotMatch(q.stderr, /genlab warning/);
});
