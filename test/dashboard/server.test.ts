// The dashboard server without a browser: run discovery and status, the files it refuses to serve,
// read-only behaviour, damaged runs, downsampling and the incremental log reader.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { configDiff } from '../../src/dashboard/detail.js';
import { BUCKETS, Downsampler, LogIndex, LogReader } from '../../src/dashboard/logs.js';
import { renderMarkdown } from '../../src/dashboard/markdown.js';
import { isPlainRelative, SafeRoot } from '../../src/dashboard/paths.js';
import * as dashboardRuns from '../../src/dashboard/runs.js';
import { RunsFolder } from '../../src/dashboard/runs.js';
import { Dashboard } from '../../src/dashboard/server.js';
import * as run from '../../src/train/run.js';
import { type Fixture, lossAt, makeFixture, snapshot } from './fixture.js';

let fx: Fixture;
let dash: Dashboard;
let url: string;
let before0: Map<string, string>;

before(async () => {
  fx = makeFixture();
  before0 = snapshot(fx.base);
  dash = new Dashboard({ folder: fx.runs, results: fx.results, allowedHosts: [] });
  url = await dash.listen(0, '127.0.0.1');
});
after(async () => {
  await dash.close();
  rmSync(fx.base, { recursive: true, force: true });
});

/** A request with the path exactly as given (fetch would normalise `..` away), and optional method/Host. */
function raw(path: string, opts: { method?: string; host?: string } = {}): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path,
        method: opts.method ?? 'GET',
        headers: opts.host ? { host: opts.host } : {},
      },
      (res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
const getJson = async (path: string) => JSON.parse((await raw(path)).body);

test('runs at any depth, each with its status; damaged runs do not break the list', async () => {
  const { runs } = await getJson('/api/runs');
  const byId = Object.fromEntries(runs.map((r: { id: string }) => [r.id, r]));
  // the symlinked folder 'escape' is not followed
  assert.deepEqual(Object.keys(byId).sort(), ['a', 'broken', 'dead', 'group/sub/b', 'live', 'nan', 'noconfig']);
  assert.equal(byId.a.status, 'finished');
  assert.deepEqual(byId.a.metric, { name: 'testBitsPerDim', value: 2.5 });
  assert.equal(byId.a.seconds, 12.5);
  assert.equal(byId.a.step, 100);
  assert.equal(byId.a.lines, 11);
  assert.equal(byId['group/sub/b'].status, 'interrupted');
  assert.match(byId['group/sub/b'].note, /checkpoint/);
  assert.equal(byId.live.status, 'running');
  assert.equal(byId.live.note, `pid ${process.pid}`);
  assert.equal(byId.dead.status, 'failed');
  assert.match(byId.dead.note, /ended without finishing/);
  assert.equal(byId.dead.model, 'lidvae');
  assert.equal(byId.nan.status, 'failed');
  assert.equal(byId.nan.note, 'loss was not finite at step 2');
  assert.equal(byId.broken.status, 'damaged');
  assert.match(byId.broken.note, /^log\.jsonl line 2 is not a JSON object/);
  assert.equal(byId.broken.step, 3, 'the lines around the broken one still count');
  assert.equal(byId.noconfig.status, 'damaged');
  assert.equal(byId.noconfig.note, 'config.json is missing');
  // the damaged run's detail is served too
  const detail = await getJson('/api/run?id=noconfig');
  assert.equal(detail.config, undefined);
  assert.equal(detail.summary.status, 'damaged');
});

test('the dashboard names run files as src/train/run.ts does, without loading libtorch itself', () => {
  assert.equal(dashboardRuns.CHECKPOINT_FILE, run.CHECKPOINT_FILE);
  assert.equal(dashboardRuns.STATE_FILE, run.STATE_FILE);
  assert.equal(dashboardRuns.LOCK_FILE, run.LOCK_FILE);
});

test('path traversal, absolute paths and symlinks out of the folder are refused', async () => {
  const refused: [string, number][] = [
    ['/files/../secret.txt', 403],
    ['/files/a/../../secret.txt', 403],
    ['/files/%2e%2e/secret.txt', 403],
    ['/files/a/%2E%2E%2F%2E%2E%2Fsecret.txt', 403],
    ['/files/..%5csecret.txt', 403],
    ['/files//etc/passwd', 403],
    ['/files/%2Fetc%2Fpasswd', 403],
    ['/files/a/secret-link.txt', 403], // a file symlink out of the folder
    ['/files/escape/secret.txt', 403], // a folder symlink out of the folder
    ['/files/a/config.json%00.png', 403],
    ['/api/run?id=..', 403],
    ['/api/run?id=%2Fetc', 403],
    ['/api/series?id=escape', 403],
    ['/api/results/render?name=..%2Fsecret.md', 403],
    ['/results-files/../secret.txt', 403],
    ['/files/a/nothing.png', 404],
    ['/files/a', 404], // a folder is not a file
  ];
  for (const [path, status] of refused) {
    const r = await raw(path);
    assert.equal(r.status, status, path);
    assert.ok(!r.body.includes('not for the dashboard'), path);
  }
  // what is under the folder is served, including a symlink that stays inside it
  assert.equal((await raw('/files/a/config.json')).status, 200);
  assert.equal((await raw('/files/a/inside-link.png')).status, 200);
  assert.equal((await raw('/files/group/sub/b/log.jsonl')).status, 200);
  assert.equal((await raw('/results-files/grid.png')).status, 200);
  assert.equal(isPlainRelative('a/b.png'), true);
  for (const bad of ['/etc/passwd', 'a/../b', 'a//b', 'C:/x', 'a\\b', './a', 'a/\0'])
    assert.equal(isPlainRelative(bad), false, bad);
});

test('read-only: other methods are refused and serving changes nothing on disk', async () => {
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    assert.equal((await raw('/api/runs', { method })).status, 405, method);
    assert.equal((await raw('/files/a/config.json', { method })).status, 405, method);
  }
  // a foreign Host header (DNS rebinding) is refused on the loopback
  assert.equal((await raw('/api/runs', { host: 'evil.example:6006' })).status, 403);
  assert.equal((await raw('/api/runs', { host: 'localhost:6006' })).status, 200);
  for (const id of ['a', 'broken', 'noconfig', 'live', 'dead', 'group/sub/b']) {
    await getJson(`/api/run?id=${encodeURIComponent(id)}`);
    await getJson(`/api/series?id=${encodeURIComponent(id)}&width=50`);
  }
  await getJson('/api/diff?id=a&id=group%2Fsub%2Fb');
  await getJson('/api/results/render?name=demo.md');
  // the live run's lock and the dead run's stale lock are left where they are
  assert.deepEqual(snapshot(fx.base), before0);
});

test('series: the logged points exactly, the raw log one link away, the page and uPlot served locally', async () => {
  const s = await getJson('/api/series?id=a&keys=loss,testBitsPerDim&width=800');
  assert.deepEqual(s.series.loss.x, [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  assert.deepEqual(s.series.loss.y, [10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map(lossAt));
  assert.deepEqual(s.series.testBitsPerDim, { x: [100], y: [2.5], total: 1, exact: true });
  const t = await getJson('/api/series?id=a&keys=loss&axis=time');
  assert.deepEqual(t.series.loss.x, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(s.raw, '/files/a/log.jsonl');
  assert.equal((await raw(s.raw)).body.split('\n').length, 12);
  for (const p of ['/', '/app.js', '/style.css', '/vendor/uPlot.iife.min.js', '/vendor/uPlot.min.css']) {
    assert.equal((await raw(p)).status, 200, p);
  }
  const diff = await getJson('/api/diff?id=a&id=group%2Fsub%2Fb');
  assert.deepEqual(
    diff.rows.filter((r: { differs: boolean }) => r.differs),
    [{ key: 'lr', values: ['0.001', '0.003'], differs: true }],
  );
  const images = (await getJson('/api/run?id=a')).images;
  // symlinks are served when they stay inside, but the gallery lists only the run's own files
  assert.deepEqual(images, [
    { name: 'curves.png', items: [{ file: 'curves.png' }] },
    {
      name: 'samples/step-#.png',
      items: [
        { file: 'samples/step-50.png', step: 50 },
        { file: 'samples/step-100.png', step: 100 },
      ],
    },
  ]);
});

test('downsampling keeps min, max, ends and order in bounded memory', () => {
  const d = new Downsampler();
  const n = 1_000_003;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const y = i === 654_321 ? 1e6 : i === 12_345 ? -7 : Math.sin(i / 5000);
    sum += y;
    d.add(i, i / 10, y);
  }
  assert.ok(Number.isFinite(sum));
  const { x, y, exact } = d.points(500, 'step');
  assert.equal(exact, false);
  assert.ok(y.length <= 1000 && y.length >= 500, `${y.length} points`);
  assert.equal(Math.max(...y), 1e6);
  assert.equal(Math.min(...y), -7);
  assert.equal(x[0], 0);
  assert.equal(x[x.length - 1], n - 1);
  for (let i = 1; i < x.length; i++) assert.ok(x[i] >= x[i - 1], 'x in order');
  // the spike sits at an x within one group of where it was logged
  const at = x[y.indexOf(1e6)];
  assert.ok(Math.abs(at - 654_321) <= (2 * n) / 500, `spike at ${at}`);
  const t = d.points(500, 'time');
  assert.equal(t.x[t.x.length - 1], (n - 1) / 10);
  // few points come back raw
  const e = new Downsampler();
  for (let i = 0; i < 7; i++) e.add(i, Number.NaN, i * i);
  assert.deepEqual(e.points(100, 'step'), { x: [0, 1, 2, 3, 4, 5, 6], y: [0, 1, 4, 9, 16, 25, 36], exact: true });
  assert.deepEqual(e.points(100, 'time').x, [], 'no wall time in this log');
  assert.ok(BUCKETS <= 4096);
});

test('the log reader reads only what was appended, waits for a line to end, and starts over on a rewrite', async () => {
  const file = join(fx.base, 'grow.jsonl');
  writeFileSync(file, '{"step":1,"loss":1}\n{"step":2,');
  const index = new LogIndex(file, true);
  const seen: number[] = [];
  index.listen((p) => {
    for (const [step] of p.loss ?? []) seen.push(step);
  });
  await index.update();
  assert.deepEqual(seen, [1]);
  assert.equal(index.pending, '{"step":2,');
  appendFileSync(file, '"loss":0.5}\n{"step":3,"loss":0.25}\n');
  await index.update();
  assert.deepEqual(seen, [1, 2, 3]);
  assert.equal(index.broken, undefined);
  assert.equal(index.lines, 3);
  writeFileSync(file, '{"step":1,"loss":9}\n'); // shorter: a resumed run cut its log back
  assert.equal(await index.update(), 'reset');
  assert.equal(index.lines, 1);
  assert.deepEqual(index.series.get('loss')?.points(10, 'step').y, [9]);
  // a multi-byte character split across reads is decoded whole
  const reader = new LogReader(join(fx.base, 'utf8.jsonl'));
  writeFileSync(reader.file, Buffer.from('{"step":1,"note":"é'));
  const texts: string[] = [];
  await reader.update((t) => texts.push(t));
  appendFileSync(reader.file, '"}\n');
  await reader.update((t) => texts.push(t));
  assert.deepEqual(texts, ['{"step":1,"note":"é"}']);
});

test('a long log answers the table at once and is read on in the background', async () => {
  const dir = join(fx.base, 'long', 'run');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), '{"family":"flows","steps":60000}');
  const n = 60_000;
  const rows = Array.from(
    { length: n },
    (_, i) => `{"step":${i + 1},"loss":${1 / (i + 1)},"pad":"${'x'.repeat(70)}"}\n`,
  );
  rows[n - 10] = '{"step": oops\n'; // a broken line near the end, beyond the first read
  writeFileSync(join(dir, 'log.jsonl'), rows.join(''));
  const folder = new RunsFolder(new SafeRoot(join(fx.base, 'long')));
  const [first] = await folder.list();
  assert.ok(first.scanned !== undefined && first.scanned < 1, `read ${first.scanned}`);
  assert.equal(first.step, n, 'the last step comes from the tail meanwhile');
  assert.notEqual(first.status, 'damaged');
  let s = first;
  for (let i = 0; i < 200 && s.scanned !== undefined; i++) {
    await new Promise((r) => setTimeout(r, 50));
    [s] = await folder.list();
  }
  assert.equal(s.scanned, undefined);
  assert.equal(s.lines, n);
  assert.equal(s.status, 'damaged');
  assert.match(s.note ?? '', new RegExp(`^log\\.jsonl line ${n - 9} `));
  // a chart's index, read whole once, then serves the table too
  const chart = folder.chartIndex('run', dir);
  assert.equal(folder.chartIndex('run', dir), chart);
  await chart.update();
  assert.equal(chart.series.get('loss')?.total, n - 1);
  assert.equal((await folder.list())[0].lines, n);
  chart.dropSeries();
  assert.notEqual(folder.chartIndex('run', dir), chart, 'series dropped: a new chart reads the log again');
});

test('config diff and the Markdown of results files', () => {
  assert.deepEqual(
    configDiff([
      { a: 1, b: { c: 2 }, l: [1, 2] },
      { a: 1, b: { c: 3 }, l: [1, 2], d: 'x' },
    ]),
    [
      { key: 'a', values: ['1', '1'], differs: false },
      { key: 'b.c', values: ['2', '3'], differs: true },
      { key: 'l', values: ['[1,2]', '[1,2]'], differs: false },
      { key: 'd', values: [undefined, '"x"'], differs: true },
    ],
  );
  const html = renderMarkdown(
    '# T <b>\n\ntext with `code <i>` and **bold** [x](javascript:alert(1)) [ok](other.md)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n![p](pic.png)\n\n- one\n- two\n<!-- hidden -->\n<script>alert(1)</script>',
    (src) => `/r/${src}`,
  );
  assert.equal(
    html,
    [
      '<h1>T &lt;b&gt;</h1>',
      '<p>text with <code>code &lt;i&gt;</code> and <strong>bold</strong> [x](javascript:alert(1)) <a href="other.md">ok</a></p>',
      '<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr></tbody></table>',
      '<p><img alt="p" src="/r/pic.png"></p>',
      '<ul><li>one</li><li>two</li></ul>',
      '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>',
    ].join('\n'),
  );
});

test('genlab runs serve: serves the folder, warns when bound beyond the loopback, stops on Ctrl-C', async () => {
  const bin = fileURLToPath(new URL('../../bin/genlab.js', import.meta.url));
  const child = spawn(process.execPath, [bin, 'runs', 'serve', fx.runs, '--port', '0', '--host', '0.0.0.0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  const port = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      const m = /dashboard on http:\/\/0\.0\.0\.0:(\d+)\//.exec(stderr);
      if (m) resolve(m[1]);
    });
    child.on('exit', () => reject(new Error(`exited early: ${stderr}`)));
  });
  assert.match(stderr, /^warning: serving on 0\.0\.0\.0: anyone who can reach this address can read the files under /);
  const { runs } = (await (await fetch(`http://127.0.0.1:${port}/api/runs`)).json()) as { runs: unknown[] };
  assert.equal(runs.length, 7);
  const code = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGINT');
  assert.equal(await code, 0);
  assert.equal(stdout, `stopped the dashboard on http://0.0.0.0:${port}/\n`);
});
