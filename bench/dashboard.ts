// Scale of `genlab runs serve`: a generated folder of 1,000 runs, one of them with a 1,000,000-line
// log.jsonl. Measures, with headless chromium: the page's first contentful paint and the time until
// the runs table is drawn (cold: the server reads every log for the first time; warm: again), the
// server's memory (resident and peak, read from /proc for the server's own process), and the bytes
// sent for one chart of the long log against the size of the log itself.
//
//   npx tsx bench/dashboard.ts [--runs 1000] [--lines 1000000] [--keep]
// The server runs in a child process (this file with --serve) so that its memory is its own.
import { type ChildProcess, spawn } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argValue } from './common.js';

const FAMILIES = [
  { family: 'flows', data: 'digits', metric: 'testBitsPerDim' },
  { family: 'vae', data: 'digits', model: 'lidvae', metric: 'mcc' },
  { family: 'classifier', data: 'fashion-mnist', metric: 'testAccuracy' },
  { family: 'diffusion', data: 'digits', metric: 'bitsPerDim' },
];

async function writeLog(file: string, lines: number): Promise<void> {
  const out = createWriteStream(file);
  let chunk = '';
  for (let s = 1; s <= lines; s++) {
    const loss = 3 / (1 + s / 5000) + 0.05 * Math.sin(s / 37);
    chunk += `{"step":${s},"loss":${loss},"gradNorm":${1 + Math.cos(s / 91)},"lr":0.001}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise((r) => out.once('drain', () => r(undefined)));
      chunk = '';
    }
  }
  out.end(chunk);
  await new Promise((r) => out.on('finish', () => r(undefined)));
}

async function generate(dir: string, runs: number, lines: number): Promise<void> {
  for (let i = 0; i < runs; i++) {
    const f = FAMILIES[i % FAMILIES.length];
    const run = join(dir, f.family, `sweep-${Math.floor(i / 100)}`, `run-${String(i).padStart(4, '0')}`);
    mkdirSync(run, { recursive: true });
    const steps = 200;
    writeFileSync(join(run, 'config.json'), JSON.stringify({ ...f, steps, lr: 1e-3 * (1 + (i % 7)), seed: i }));
    if (i === 0) {
      await writeLog(join(run, 'log.jsonl'), lines);
      continue; // the long run is still going (no results.json)
    }
    let log = '';
    for (let s = 1; s <= steps; s++) log += `{"step":${s},"loss":${(3 / (1 + s / 50)).toFixed(5)}}\n`;
    writeFileSync(join(run, 'log.jsonl'), log);
    if (i % 10 !== 3) writeFileSync(join(run, 'results.json'), JSON.stringify({ [f.metric]: 0.5 + (i % 50) / 100 }));
  }
}

/** Resident and peak resident memory of a process, in MB. */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN) / 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

async function startServer(folder: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', folder], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
      const m = /(http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (c) => reject(new Error(`server exited with ${c}`)));
  });
  return { child, url };
}

async function serve(folder: string): Promise<void> {
  const { Dashboard } = await import('../src/dashboard/server.js');
  const dash = new Dashboard({ folder, allowedHosts: [] });
  process.stdout.write(`${await dash.listen(0, '127.0.0.1')}\n`);
}

async function main(): Promise<void> {
  const runs = Number(argValue('runs', '1000'));
  const lines = Number(argValue('lines', '1000000'));
  const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  if (!chromiumPath) throw new Error('needs /usr/bin/chromium');
  const dir = mkdtempSync(join(tmpdir(), 'genlab-dashboard-bench-'));
  let t = performance.now();
  await generate(dir, runs, lines);
  const bigId = `${FAMILIES[0].family}/sweep-0/run-0000`;
  const logBytes = statSync(join(dir, bigId, 'log.jsonl')).size;
  console.log(
    `generated ${runs} runs in ${((performance.now() - t) / 1000).toFixed(1)} s; long log ${lines} lines, ${(logBytes / 1e6).toFixed(1)} MB`,
  );
  const load0 = loadavg()[0];
  const { child, url } = await startServer(dir);
  const pid = child.pid as number;
  const idle = memory(pid);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
  const rows: string[][] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const load = async () => {
      await page.goto(url);
      await page.waitForFunction(
        (n) => (globalThis as any).document.querySelectorAll('#runs tbody tr').length === n,
        runs,
        {
          timeout: 600_000,
          polling: 100,
        },
      );
      // both measured by the page itself, from the start of navigation
      return page.evaluate(() => ({
        fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN,
        table: performance.getEntriesByName('runs-table')[0]?.startTime ?? Number.NaN,
      }));
    };
    const fetchRuns = async () => {
      t = performance.now();
      const body = await (await fetch(`${url}api/runs`)).arrayBuffer();
      return { ms: performance.now() - t, bytes: body.byteLength };
    };
    const coldApi = await fetchRuns();
    const warmApi = await fetchRuns();
    rows.push([
      `/api/runs answered, cold (${runs} runs, every log's first 4 MB read)`,
      `${coldApi.ms.toFixed(0)} ms, ${(coldApi.bytes / 1024).toFixed(0)} KB`,
    ]);
    rows.push(['/api/runs answered, warm (only what changed is read)', `${warmApi.ms.toFixed(0)} ms`]);
    const first = await load();
    const afterTable = memory(pid);
    const second = await load();
    rows.push(['page: first contentful paint (first visit)', `${first.fcp.toFixed(0)} ms`]);
    rows.push([`page: runs table drawn, ${runs} rows (first visit)`, `${first.table.toFixed(0)} ms`]);
    rows.push(['page: first contentful paint (second visit)', `${second.fcp.toFixed(0)} ms`]);
    rows.push(['page: runs table drawn (second visit)', `${second.table.toFixed(0)} ms`]);
    // one chart of the long log, as the page asks for it (width = the chart's width in pixels)
    const width = 1240;
    const series = async () => {
      t = performance.now();
      const r = await fetch(`${url}api/series?id=${encodeURIComponent(bigId)}&keys=loss&width=${width}&axis=step`);
      const body = await r.arrayBuffer();
      return { ms: performance.now() - t, bytes: body.byteLength, json: JSON.parse(new TextDecoder().decode(body)) };
    };
    const chart = await series();
    const again = await series();
    const afterChart = memory(pid);
    const points = chart.json.series.loss.x.length;
    rows.push([
      `one chart of the ${lines}-line log (loss, ${width} px), cold: index built`,
      `${chart.ms.toFixed(0)} ms`,
    ]);
    rows.push(['the same chart again', `${again.ms.toFixed(0)} ms`]);
    rows.push([
      'bytes sent for that chart',
      `${(chart.bytes / 1024).toFixed(1)} KB (${points} points) vs ${(logBytes / 1e6).toFixed(1)} MB of log`,
    ]);
    // the same chart in the page, drawn by uPlot
    await page.click(`#runs tr[data-id="${bigId}"] td:nth-child(2)`);
    t = performance.now();
    await page.waitForFunction(
      (id) => (globalThis as any).dashboard.chart.plot && (globalThis as any).dashboard.chart.ids[0] === id,
      bigId,
      {
        timeout: 600_000,
      },
    );
    rows.push(['click on the long run until its chart is drawn', `${(performance.now() - t).toFixed(0)} ms`]);
    if (process.argv.includes('--screenshot')) await page.screenshot({ path: join(dir, 'bench.png'), fullPage: false });
    const end = memory(pid);
    rows.push(['server memory idle (resident)', `${idle.rss.toFixed(0)} MB`]);
    rows.push(['server memory after the table', `${afterTable.rss.toFixed(0)} MB`]);
    rows.push(['server memory after the chart', `${afterChart.rss.toFixed(0)} MB`]);
    rows.push(['server peak resident memory (VmHWM)', `${end.peak.toFixed(0)} MB`]);
  } finally {
    await browser.close();
    child.kill();
    if (!process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  }
  rows.push([
    'load average (1 min) at the start, at the end',
    `${load0.toFixed(1)}, ${loadavg()[0].toFixed(1)} (2 cores)`,
  ]);
  console.log(`\n| measure | value |\n|---|---|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}`);
}

if (process.argv[2] === '--serve') await serve(process.argv[3]);
else await main();
