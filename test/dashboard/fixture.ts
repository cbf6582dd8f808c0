// A folder of runs in every state the dashboard distinguishes, nested at several depths, with
// symlinks that lead out of it and a secret file beside it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePng } from '../../src/train/png.js';

export interface Fixture {
  /** The temporary folder: `runs/` (served), `secret.txt` beside it, `results/`. */
  base: string;
  runs: string;
  results: string;
}

const write = (file: string, text: string) => {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text);
};
const jsonl = (rows: object[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');

/** The loss of the finished run at step s (s = 10, 20, …, 100): values the chart tests look for. */
export const lossAt = (s: number) => 3 / (1 + s / 25);

export function pid0(): number {
  // A pid that is gone: a child that has exited.
  return spawnSync(process.execPath, ['-e', '0']).pid as number;
}

/** Our own start time, as the lock file records it, so that the lock naming this process is live. */
function ownStart(): string {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

export function makeFixture(): Fixture {
  const base = mkdtempSync(join(tmpdir(), 'genlab-dashboard-'));
  const runs = join(base, 'runs');
  const results = join(base, 'results');
  const flows = { family: 'flows', data: 'digits', coupling: 'affine', steps: 100, batchSize: 64, lr: 0.001, seed: 0 };
  // finished, with pictures (a step series of two and a single one)
  const a = join(runs, 'a');
  write(join(a, 'config.json'), JSON.stringify(flows, null, 2));
  const rows = [];
  for (let s = 10; s <= 100; s += 10) rows.push({ step: s, loss: lossAt(s), time: s / 10 });
  write(join(a, 'log.jsonl'), jsonl([...rows, { step: 100, testBitsPerDim: 2.5 }]));
  write(join(a, 'results.json'), JSON.stringify({ testBitsPerDim: 2.5, trainSeconds: 12.5 }));
  const png = (v: number) => encodePng({ width: 2, height: 2, channels: 1, data: Uint8Array.from([v, v, v, v]) });
  write(join(a, 'samples', 'step-50.png'), '');
  writeFileSync(join(a, 'samples', 'step-50.png'), png(60));
  writeFileSync(join(a, 'samples', 'step-100.png'), png(200));
  writeFileSync(join(a, 'curves.png'), png(120));
  // interrupted after a checkpoint, two folders deeper, one setting changed
  const b = join(runs, 'group', 'sub', 'b');
  write(join(b, 'config.json'), JSON.stringify({ ...flows, lr: 0.003 }, null, 2));
  write(
    join(b, 'log.jsonl'),
    jsonl([
      { step: 10, loss: 2.9 },
      { step: 20, loss: 2.7 },
    ]),
  );
  write(join(b, 'state.json'), JSON.stringify({ step: 20 }));
  // running: the lock names this process
  const live = join(runs, 'live');
  write(join(live, 'config.json'), JSON.stringify({ family: 'classifier', data: 'digits', steps: 1000 }));
  write(
    join(live, 'log.jsonl'),
    jsonl([
      { step: 1, loss: 2.3 },
      { step: 2, loss: 2.2 },
    ]),
  );
  write(
    join(live, 'train.lock'),
    JSON.stringify({ pid: process.pid, host: hostname(), since: 'now', start: ownStart() }),
  );
  // failed: the lock names a process that is gone
  const dead = join(runs, 'dead');
  write(join(dead, 'config.json'), JSON.stringify({ family: 'vae', model: 'lidvae', data: 'digits', steps: 50 }));
  write(join(dead, 'log.jsonl'), jsonl([{ step: 5, loss: 40 }]));
  write(join(dead, 'train.lock'), JSON.stringify({ pid: pid0(), host: hostname(), since: 'then' }));
  // damaged: a broken line in the middle of the log, and a run without config.json
  const broken = join(runs, 'broken');
  write(join(broken, 'config.json'), JSON.stringify(flows));
  write(
    join(broken, 'log.jsonl'),
    `${JSON.stringify({ step: 1, loss: 1 })}\n{"step": 2, "loss": \n${JSON.stringify({ step: 3, loss: 0.5 })}\n`,
  );
  write(join(runs, 'noconfig', 'log.jsonl'), jsonl([{ step: 1, loss: 1 }]));
  // diverged: the loop logged null for a NaN loss and stopped
  const nan = join(runs, 'nan');
  write(join(nan, 'config.json'), JSON.stringify(flows));
  write(join(nan, 'log.jsonl'), `${JSON.stringify({ step: 1, loss: 1 })}\n{"step":2,"loss":null}\n`);
  // outside the served folder, and links to it
  write(join(base, 'secret.txt'), 'not for the dashboard\n');
  symlinkSync(join(base, 'secret.txt'), join(a, 'secret-link.txt'));
  symlinkSync(base, join(runs, 'escape'));
  symlinkSync(join(a, 'curves.png'), join(a, 'inside-link.png'));
  write(
    join(results, 'demo.md'),
    '# Demo\n\n| model | bits/dim |\n|---|---|\n| glow | **2.27** |\n\n![grid](grid.png)\n',
  );
  writeFileSync(join(results, 'grid.png'), png(90));
  return { base, runs, results };
}

/** Every file under `dir` with its size, mtime and bytes: to show that serving changed nothing. */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const st = statSync(p);
        out.set(p, `${st.size}:${st.mtimeMs}:${readFileSync(p).toString('base64')}`);
      }
    }
    out.set(d, String(statSync(d).mtimeMs));
  };
  walk(dir);
  return out;
}
