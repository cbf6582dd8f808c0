// The dashboard in a real browser: Debian's chromium, headless, driven by playwright-core. One
// browser for all tests. Screenshots go to a folder under the OS temp dir, printed as a diagnostic.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { Dashboard } from '../../src/dashboard/server.js';
import { type Fixture, lossAt, makeFixture } from './fixture.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const skip = CHROMIUM ? false : 'chromium is not installed (/usr/bin/chromium): apt-get install chromium';

let fx: Fixture;
let dash: Dashboard;
let url: string;
let browser: Browser;
let page: Page;
let shots: string;

before(async () => {
  if (!CHROMIUM) return;
  fx = makeFixture();
  shots = mkdtempSync(join(tmpdir(), 'genlab-dashboard-screenshots-'));
  dash = new Dashboard({ folder: fx.runs, results: fx.results, allowedHosts: [], pollMs: 100 });
  url = await dash.listen(0, '127.0.0.1');
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector('#runs tbody tr');
  assert.deepEqual(errors, []);
});
after(async () => {
  await browser?.close();
  await dash?.close();
  if (fx) rmSync(fx.base, { recursive: true, force: true });
});

const shot = async (name: string) => {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
};

test('the table lists the runs of the folder, with status, and filters', { skip }, async (t) => {
  t.diagnostic(`screenshots in ${shots}`);
  const ids = await page.$$eval('#runs tbody tr', (trs) => trs.map((tr) => (tr as any).dataset.id));
  assert.deepEqual([...ids].sort(), ['a', 'broken', 'dead', 'group/sub/b', 'live', 'nan', 'noconfig']);
  const status = async (id: string) => page.textContent(`#runs tr[data-id="${id}"] .status`);
  assert.equal(await status('a'), 'finished');
  assert.equal(await status('live'), 'running');
  assert.equal(await status('broken'), 'damaged');
  assert.match((await page.textContent('#runs tr[data-id="a"]')) ?? '', /testBitsPerDim 2\.5/);
  await shot('table');
  await page.fill('#filter', 'damaged');
  assert.deepEqual(await page.$$eval('#runs tbody tr', (trs) => trs.map((tr) => (tr as any).dataset.id).sort()), [
    'broken',
    'noconfig',
  ]);
  await page.fill('#filter', '');
  await page.click('#runs th[data-sort="id"]'); // descending now
  assert.equal(await page.getAttribute('#runs tbody tr:first-child', 'data-id'), 'noconfig');
});

test('a chart shows the logged points', { skip }, async () => {
  await page.click('#runs tr[data-id="a"] td:nth-child(2)');
  await page.waitForFunction(
    () => (globalThis as any).dashboard.chart.plot && (globalThis as any).dashboard.chart.ids[0] === 'a',
  );
  const drawn = await page.evaluate(() => {
    const p = (globalThis as any).dashboard.chart.plot;
    return { x: Array.from(p.data[0]), y: Array.from(p.data[1]), series: p.series.length };
  });
  const steps = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
  assert.deepEqual(drawn.x, steps);
  assert.deepEqual(drawn.y, steps.map(lossAt));
  assert.equal(drawn.series, 2);
  // the canvas holds a drawn line: some pixels differ from the background
  const inked = await page.evaluate(() => {
    const c = (globalThis as any).document.querySelector('#chart canvas');
    const d = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? new Uint8ClampedArray();
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  });
  assert.ok(inked > 100, `${inked} inked pixels`);
  assert.match((await page.textContent('#chart-note')) ?? '', /loss: 10 points/);
  // the gallery's step slider moves through the step series
  const img = '.gallery-item[data-group="1"] img';
  assert.match((await page.getAttribute(img, 'src')) ?? '', /step-100\.png$/);
  await page.fill('.gallery-item[data-group="1"] input[type=range]', '0');
  assert.match((await page.getAttribute(img, 'src')) ?? '', /step-50\.png$/);
  await shot('chart');
});

test('a line appended to a running run appears on the chart within 2 s, without a reload', { skip }, async (t) => {
  await page.click('#runs tr[data-id="live"] td:nth-child(2)');
  await page.waitForFunction(
    () => (globalThis as any).dashboard.chart.ids[0] === 'live' && (globalThis as any).dashboard.chart.plot,
  );
  await page.waitForFunction(() => (globalThis as any).dashboard.chart.live);
  const navigations: string[] = [];
  page.on('framenavigated', (f) => navigations.push(f.url()));
  const t0 = performance.now();
  appendFileSync(join(fx.runs, 'live', 'log.jsonl'), `${JSON.stringify({ step: 3, loss: 1.234 })}\n`);
  await page.waitForFunction(
    () => {
      const p = (globalThis as any).dashboard.chart.plot;
      return p && Array.from(p.data[0]).includes(3);
    },
    undefined,
    { timeout: 2000, polling: 50 },
  );
  const ms = performance.now() - t0;
  const drawn = await page.evaluate(() => Array.from((globalThis as any).dashboard.chart.plot.data[1]));
  assert.deepEqual(drawn, [2.3, 2.2, 1.234]);
  assert.deepEqual(navigations, [], 'no reload');
  assert.ok(ms < 2000, `${ms.toFixed(0)} ms`);
  t.diagnostic(`the appended line was drawn after ${ms.toFixed(0)} ms`);
  await shot('live');
});

test('the config diff highlights the changed field', { skip }, async () => {
  await page.check('#runs tr[data-id="a"] input[type=checkbox]');
  await page.check('#runs tr[data-id="group/sub/b"] input[type=checkbox]');
  await page.click('#compare');
  await page.waitForSelector('#diff table');
  const rows = await page.$$eval('#diff tbody tr', (trs) =>
    trs.map((tr) => ({ key: (tr as any).dataset.key, differs: tr.classList.contains('differs') })),
  );
  assert.deepEqual(
    rows.filter((r) => r.differs).map((r) => r.key),
    ['lr'],
  );
  assert.ok(rows.some((r) => r.key === 'data' && !r.differs));
  // highlighted as people see it: the changed cells' background differs from an unchanged row's
  const bg = (sel: string) => page.$eval(sel, (el) => (globalThis as any).getComputedStyle(el).backgroundColor);
  const changed = await bg('#diff tr[data-key="lr"] td');
  assert.notEqual(changed, await bg('#diff tr[data-key="data"] td'));
  assert.equal(changed, 'rgb(255, 241, 184)');
  assert.deepEqual(await page.$$eval('#diff tr[data-key="lr"] td', (tds) => tds.map((td) => td.textContent)), [
    '0.001',
    '0.003',
  ]);
  await shot('diff');
});

test('a traversal URL gets 403 or 404, and results render', { skip }, async () => {
  for (const path of [
    'files/../secret.txt',
    'files/%2e%2e/secret.txt',
    'files/escape/secret.txt',
    'files/a/secret-link.txt',
  ]) {
    const r = await page.goto(url + path);
    assert.ok([403, 404].includes(r?.status() ?? 0), `${path}: ${r?.status()}`);
    assert.ok(!((await page.content()) ?? '').includes('not for the dashboard'), path);
  }
  const r = await page.goto(`${url}files/a/log.jsonl`);
  assert.equal(r?.status(), 200);
  await page.goto(url);
  await page.click('nav button[data-tab="results"]');
  await page.click('#results-list a[data-name="demo.md"]');
  await page.waitForSelector('#results-view table');
  assert.equal(await page.textContent('#results-view td strong'), '2.27');
  await page.waitForFunction(() => (globalThis as any).document.querySelector('#results-view img')?.naturalWidth === 2);
  await shot('results');
});
