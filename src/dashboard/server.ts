// The dashboard's HTTP server, on Node's own http module: a static page, a small JSON API over the
// runs folder, server-sent events for live charts, and the folder's files. It only reads: GET and
// HEAD are the only methods, and nothing it does writes to disk.
import { createReadStream, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configDiff, runImages } from './detail.js';
import type { LogIndex, Point } from './logs.js';
import { renderMarkdown } from './markdown.js';
import { SafeRoot } from './paths.js';
import { type RunSummary, RunsFolder } from './runs.js';

export interface DashboardOptions {
  /** The runs folder. */
  folder: string;
  /** A folder of results/*.md to render (optional). */
  results?: string;
  /** Milliseconds between looks at the logs of live charts. */
  pollMs?: number;
  /** Host names the Host header may carry besides localhost (the bound host); any when undefined. */
  allowedHosts?: string[];
}

const PAGE = fileURLToPath(new URL('./page/', import.meta.url));
const UPLOT = dirname(createRequire(import.meta.url).resolve('uplot'));
/** The page's own files and the chart library, served from where they are installed. */
const STATIC: Record<string, string> = {
  '/': join(PAGE, 'index.html'),
  '/app.js': join(PAGE, 'app.js'),
  '/style.css': join(PAGE, 'style.css'),
  '/vendor/uPlot.iife.min.js': join(UPLOT, 'uPlot.iife.min.js'),
  '/vendor/uPlot.min.css': join(UPLOT, 'uPlot.min.css'),
};
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
};
const PAGE_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'";
/** Files of the runs folder are shown as documents, never run: an SVG or HTML there cannot script. */
const FILE_CSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'";
/** Charts whose series are kept in memory; the least recently used beyond this are dropped. */
const CHART_CACHE = 16;
const MAX_WIDTH = 4096;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class Dashboard {
  readonly root: SafeRoot;
  readonly results: SafeRoot | undefined;
  readonly runs: RunsFolder;
  readonly server: Server;
  private readonly charts = new Map<string, LogIndex>();
  private readonly timer: NodeJS.Timeout;
  private readonly streams = new Set<ServerResponse>();
  private polling = false;
  private tick = 0;
  private readonly watchers = new Map<string, { last?: string; send: (s: RunSummary) => void }[]>();

  constructor(readonly opts: DashboardOptions) {
    checkPageFiles();
    this.root = new SafeRoot(opts.folder);
    this.results = opts.results ? new SafeRoot(opts.results) : undefined;
    this.runs = new RunsFolder(this.root);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e) => this.fail(res, e));
    });
    this.timer = setInterval(() => void this.poll(), opts.pollMs ?? 250);
    this.timer.unref();
  }

  /** Starts listening; resolves with the page's URL. */
  listen(port: number, host: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const a = this.server.address() as AddressInfo;
        const h = a.family === 'IPv6' ? `[${a.address}]` : a.address;
        resolve(`http://${h}:${a.port}/`);
      });
    });
  }

  close(): Promise<void> {
    clearInterval(this.timer);
    for (const s of this.streams) s.end();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private fail(res: ServerResponse, e: unknown): void {
    const status = e instanceof HttpError ? e.status : 500;
    if (res.headersSent) {
      res.end();
      return;
    }
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
    res.end(`${status === 500 ? 'internal error: ' : ''}${(e as Error).message}\n`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
      res.end('the dashboard is read-only\n');
      return;
    }
    this.checkHost(req);
    refuseTraversal(req.url ?? '/');
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const path = url.pathname;
    if (STATIC[path]) return this.sendFile(res, STATIC[path], PAGE_CSP, req.method === 'HEAD');
    if (path.startsWith('/files/')) return this.sendUnder(this.root, path.slice(7), req, res);
    if (path.startsWith('/results-files/') && this.results) {
      return this.sendUnder(this.results, path.slice(15), req, res);
    }
    const q = url.searchParams;
    switch (path) {
      case '/api/runs':
        return this.json(res, { root: this.opts.folder, runs: await this.runs.list() });
      case '/api/run':
        return this.json(res, await this.runDetail(this.runDir(q.get('id'))));
      case '/api/series':
        return this.json(res, await this.series(q));
      case '/api/diff':
        return this.json(res, await this.diff(q.getAll('id')));
      case '/api/results':
        return this.json(res, await this.resultsList());
      case '/api/results/render':
        return this.json(res, await this.renderResults(q.get('name') ?? ''));
      case '/api/events':
        return this.events(q.getAll('id'), req, res);
    }
    throw new HttpError(404, 'not found');
  }

  /** A page from another site that a DNS name pointed here must not read the runs (DNS rebinding). */
  private checkHost(req: IncomingMessage): void {
    const allowed = this.opts.allowedHosts;
    if (!allowed) return;
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    if (!['localhost', '127.0.0.1', '::1', ...allowed].includes(host)) throw new HttpError(403, 'unexpected Host');
  }

  private json(res: ServerResponse, value: unknown): void {
    const body = JSON.stringify(value);
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    res.end(body);
  }

  private sendFile(res: ServerResponse, file: string, csp: string, head = false): void {
    const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    const stream = createReadStream(file);
    stream.on('error', (e) => this.fail(res, new HttpError(404, (e as Error).message)));
    stream.on('open', () => {
      res.writeHead(200, {
        'content-type': type,
        'content-security-policy': csp,
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-cache',
      });
      if (head) {
        stream.destroy();
        res.end();
      } else {
        stream.pipe(res);
      }
    });
  }

  /** A file under `root`, named by the raw (still URL-encoded) rest of the path. */
  private sendUnder(root: SafeRoot, encoded: string, req: IncomingMessage, res: ServerResponse): void {
    let rel: string;
    try {
      rel = decodeURIComponent(encoded);
    } catch {
      throw new HttpError(400, 'bad path');
    }
    const r = root.resolve(rel, 'file');
    if ('refused' in r)
      throw new HttpError(r.refused === 'outside' ? 403 : 404, r.refused === 'outside' ? 'forbidden' : 'not found');
    this.sendFile(res, r.path, FILE_CSP, req.method === 'HEAD');
  }

  /** The folder of a run id, checked like any path, and holding a run. */
  private runDir(id: string | null): string {
    if (id === null) throw new HttpError(400, 'which run? (id)');
    const r = this.root.resolve(id === '.' ? '' : id, 'dir');
    if ('refused' in r) throw new HttpError(r.refused === 'outside' ? 403 : 404, `no run ${id}`);
    return r.path;
  }

  private async runDetail(dir: string) {
    const files = await this.runs.runFiles(dir);
    const value = (f: typeof files.config) => ('value' in f ? f.value : undefined);
    return {
      summary: await this.runs.summary(dir),
      config: value(files.config),
      results: value(files.results),
      images: await runImages(dir),
    };
  }

  /** The chart index of a run, kept for the CHART_CACHE most recently charted runs. */
  private async chart(id: string, dir: string): Promise<LogIndex> {
    const index = this.runs.chartIndex(id, dir);
    this.charts.delete(id); // (re)inserted at the back: most recently used
    this.charts.set(id, index);
    await index.update();
    for (const [old, idx] of this.charts) {
      if (this.charts.size <= CHART_CACHE) break;
      if (!idx.listening && old !== id) {
        this.charts.delete(old);
        idx.dropSeries();
      }
    }
    return index;
  }

  private async series(q: URLSearchParams) {
    const id = q.get('id') ?? '';
    const dir = this.runDir(id);
    const axis = q.get('axis') === 'time' ? 'time' : 'step';
    const width = Math.min(MAX_WIDTH, Math.max(16, Number(q.get('width')) || 800));
    const index = await this.chart(id, dir);
    const keys = (q.get('keys') ?? '').split(',').filter(Boolean);
    const series: Record<string, { x: number[]; y: number[]; total: number; exact: boolean }> = {};
    for (const key of keys.length ? keys : [...index.keys]) {
      const s = index.series.get(key);
      series[key] = s ? { ...s.points(width, axis), total: s.total } : { x: [], y: [], total: 0, exact: true };
    }
    return {
      id,
      axis,
      width,
      lines: index.lines,
      keys: [...index.keys],
      hasTime: index.hasTime,
      raw: `/files/${id === '.' ? '' : `${id.split('/').map(encodeURIComponent).join('/')}/`}log.jsonl`,
      series,
    };
  }

  private async diff(ids: string[]) {
    if (ids.length < 2) throw new HttpError(400, 'a diff needs two or more runs (id=…&id=…)');
    const configs = await Promise.all(
      ids.map(async (id) => {
        const f = await this.runs.runFiles(this.runDir(id));
        return 'value' in f.config ? f.config.value : undefined;
      }),
    );
    return { ids, rows: configDiff(configs) };
  }

  private async resultsList(): Promise<string[]> {
    if (!this.results) return [];
    const names = await readdir(this.results.real).catch(() => [] as string[]);
    return names.filter((n) => n.endsWith('.md')).sort();
  }

  private async renderResults(name: string) {
    if (!this.results) throw new HttpError(404, 'no results folder');
    if (!name.endsWith('.md') || name.includes('/')) throw new HttpError(403, 'forbidden');
    const r = this.results.resolve(name, 'file');
    if ('refused' in r) throw new HttpError(r.refused === 'outside' ? 403 : 404, 'not found');
    const md = await readFile(r.path, 'utf8');
    const html = renderMarkdown(md, (src) => `/results-files/${src.split('/').map(encodeURIComponent).join('/')}`);
    return { name, html };
  }

  /**
   * Server-sent events for the runs a page charts: 'points' with each line appended to their logs,
   * 'reset' when a log was rewritten (a resumed run cuts it back), 'status' when a run's status changes.
   */
  private async events(ids: string[], req: IncomingMessage, res: ServerResponse): Promise<void> {
    const dirs = ids.map((id) => [id, this.runDir(id)] as const);
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const stops: (() => void)[] = [];
    const lines: Record<string, number> = {};
    // Listen first, then tell the page how many lines each log had: it refetches if it drew fewer,
    // so a line written between its chart request and this stream is not lost.
    for (const [id, dir] of dirs) {
      const index = await this.chart(id, dir);
      stops.push(index.listen((points: Record<string, Point[]>) => send('points', { id, points })));
      lines[id] = index.lines;
      const list = this.watchers.get(id) ?? [];
      const w = { send: (s: RunSummary) => send('status', s) };
      list.push(w);
      this.watchers.set(id, list);
      stops.push(() => list.splice(list.indexOf(w), 1));
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
    });
    res.write('retry: 1000\n\n');
    this.streams.add(res);
    req.on('close', () => {
      for (const stop of stops) stop();
      this.streams.delete(res);
    });
    send('ready', { ids, lines });
  }

  /** Reads what live charts' logs gained; every 8th tick, looks whether a watched run's status changed. */
  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      this.tick++;
      for (const [id, index] of this.charts) {
        if (!index.listening) continue;
        const r = await index.update();
        if (r === 'reset')
          for (const res of this.streams) res.write(`event: reset\ndata: ${JSON.stringify({ id })}\n\n`);
      }
      if (this.tick % 8 === 0) {
        for (const [id, list] of this.watchers) {
          if (!list.length) continue;
          const s = await this.runs.summary(this.runDir(id));
          const key = `${s.status}|${s.note ?? ''}|${s.metric?.value ?? ''}`;
          for (const w of list) {
            if (w.last !== key) w.send(s);
            w.last = key;
          }
        }
      }
    } catch {
      // a run folder removed meanwhile: its page shows the error on the next request
    } finally {
      this.polling = false;
    }
  }
}

/**
 * URL parsing would quietly resolve `..` (also spelled %2e%2e) and send a traversal to some other
 * route; it is refused as what it is, on the path as the client sent it.
 */
function refuseTraversal(raw: string): void {
  const path = raw.split('?')[0];
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    throw new HttpError(400, 'bad path');
  }
  if (decoded.includes('\0') || decoded.split(/[/\\]/).some((part) => part === '..')) {
    throw new HttpError(403, 'forbidden');
  }
}

/** Reads the page's files and uPlot's now, so a broken install fails at start rather than on first visit. */
function checkPageFiles(): void {
  for (const f of Object.values(STATIC)) readFileSync(f);
}
