// Two "hosts" short of real machines: two ranks in separate Linux network namespaces, joined by a
// veth pair (10.77.0.1 ↔ 10.77.0.2). Rank 0 hosts the store on its side; Gloo uses each side's
// veth (GLOO_SOCKET_IFNAME). Needs root or CAP_NET_ADMIN; skips with the reason elsewhere.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { finish, json, WORKER } from './helpers.js';

const ip = (...args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });

test('two ranks in two network namespaces over a veth pair run the collectives', async (t) => {
  const tag = `gl${process.pid % 100000}`;
  const [nsA, nsB, ifA, ifB] = [`${tag}a`, `${tag}b`, `${tag}x`, `${tag}y`];
  const first = ip('netns', 'add', nsA);
  if (first.error || first.status !== 0) {
    return t.skip(`network namespaces are not available here (${(first.stderr || String(first.error)).trim()})`);
  }
  try {
    const steps = [
      ['netns', 'add', nsB],
      ['link', 'add', ifA, 'netns', nsA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB],
      ['-n', nsA, 'addr', 'add', '10.77.0.1/24', 'dev', ifA],
      ['-n', nsB, 'addr', 'add', '10.77.0.2/24', 'dev', ifB],
      ['-n', nsA, 'link', 'set', ifA, 'up'],
      ['-n', nsB, 'link', 'set', ifB, 'up'],
      ['-n', nsA, 'link', 'set', 'lo', 'up'],
      ['-n', nsB, 'link', 'set', 'lo', 'up'],
    ];
    for (const s of steps) {
      const r = ip(...s);
      if (r.status !== 0) return t.skip(`cannot set up the veth pair: ip ${s.join(' ')}: ${r.stderr.trim()}`);
    }
    const rank = (r: number, ns: string, iface: string) =>
      finish(
        spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', WORKER, 'collectives'], {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            ...process.env,
            MASTER_ADDR: '10.77.0.1',
            MASTER_PORT: '29531',
            RANK: String(r),
            WORLD_SIZE: '2',
            GLOO_SOCKET_IFNAME: iface,
            OMP_NUM_THREADS: '1',
          },
        }),
      );
    const [a, b] = await Promise.all([rank(0, nsA, ifA), rank(1, nsB, ifB)]);
    const outs = [json(a)[0], json(b)[0]];
    for (const [r, o] of outs.entries()) {
      assert.equal(o.rank, r);
      assert.deepEqual(o.sum, [3, 30]);
      assert.deepEqual(o.broadcast, [0, 2, 4, 6, 8]);
      assert.deepEqual(o.gather, [
        [0, 0],
        [1, 1],
      ]);
    }
  } finally {
    ip('netns', 'del', nsA);
    ip('netns', 'del', nsB);
  }
});
