// The runs under a folder, at any depth, and what the table shows of each: family, model, data,
// status, steps, wall time and the headline metric. Everything here only reads; nothing is written.
//
// Status, from the files a training leaves (src/train/run.ts and session.ts):
//   damaged     config.json missing or unreadable, results.json unreadable, or a complete log.jsonl
//               line that is not a JSON object with a step;
//   running     train.lock names a live process (on another host we cannot tell, so we believe it);
//   finished    results.json is there (finishRun writes it last);
//   failed      train.lock names a process that is gone (killed, so its exit hook never ran), or the
//               log's last metrics are null (JSON for NaN: the loop's non-finite guard stopped it);
//   interrupted otherwise: stopped by a signal (with a checkpoint to resume) or before its first one.
// The files are small and many, so they are read with synchronous calls: on a loaded machine each
// asynchronous call waits for a thread-pool thread and a wake-up, which made a 1,000-run table take
// seconds longer.
import { type Dirent, readdirSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative, sep } from 'node:path';
import { LogIndex, tailStep } from './logs.js';
import type { SafeRoot } from './paths.js';

// The names src/train/run.ts gives these files (a test checks they agree). Not imported from there:
// run.ts loads libtorch, a few hundred MB the dashboard has no use for.
export const CHECKPOINT_FILE = 'checkpoint.safetensors';
export const STATE_FILE = 'state.json';
export const LOCK_FILE = 'train.lock';

export type Status = 'running' | 'finished' | 'interrupted' | 'failed' | 'damaged';

export interface RunSummary {
  /** The run folder relative to the served folder, slash-separated ('.' for the folder itself). */
  id: string;
  family?: string;
  model?: string;
  data?: string;
  status: Status;
  /** Why it is damaged or failed, or how it stopped. */
  note?: string;
  /** The last step in log.jsonl. */
  step?: number;
  /** The steps config.json asks for. */
  steps?: number;
  /** Seconds of training: results.json's trainSeconds, else from the folder's file times (approx). */
  seconds?: number;
  secondsApprox?: boolean;
  metric?: { name: string; value: number };
  lines: number;
  keys: string[];
  hasTime: boolean;
  updated?: number;
  /** The part of log.jsonl read so far, while a long log is still being read in the background. */
  scanned?: number;
}

/** Bytes of one log read while the table waits; a longer log is read on in the background. */
const TABLE_BUDGET = 4 << 20;

/** Headline metrics, best first: the first one a run reports is its column in the table. */
export const HEADLINE = [
  'testBitsPerDim',
  'bitsPerDim',
  'testAccuracy',
  'accuracy',
  'mcc',
  'fid',
  'testNll',
  'nll',
  'testElbo',
  'elbo',
  'testLoss',
  'loss',
] as const;

const SKIP_DIRS = new Set(['node_modules', '.git']);
/** Deeper than this, a folder is not searched (a guard against pathological trees, not a limit in practice). */
const MAX_DEPTH = 32;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A run folder and the names of the files in it. */
export interface FoundRun {
  dir: string;
  files: Set<string>;
}

/** Folders under `root` holding config.json or log.jsonl, searched at any depth, not into runs or symlinks. */
export function findRuns(root: string): FoundRun[] {
  const out: FoundRun[] = [];
  const walk = (dir: string, depth: number): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    const files = new Set(entries.filter((e) => e.isFile()).map((e) => e.name));
    if (files.has('config.json') || files.has('log.jsonl')) {
      out.push({ dir, files });
      return;
    }
    if (depth >= MAX_DEPTH) return;
    for (const e of entries) {
      if (e.isDirectory() && !e.name.startsWith('.') && !SKIP_DIRS.has(e.name)) walk(join(dir, e.name), depth + 1);
    }
  };
  walk(root, 0);
  return out.sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
}

export function runId(root: string, dir: string): string {
  const rel = relative(root, dir);
  return rel === '' ? '.' : rel.split(sep).join('/');
}

interface LockInfo {
  pid: number;
  host: string;
  since?: string;
  start?: string;
}

/** Whether the process a lock names may still run, as Run's own lock check judges it. */
function lockAlive(info: LockInfo): boolean {
  if (info.host !== hostname()) return true;
  try {
    process.kill(info.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  if (info.start === undefined) return true;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${info.pid}/stat`, 'utf8');
  } catch {
    return true;
  }
  // Start time is field 22; the command name before it is in parentheses and may hold spaces.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] === info.start;
}

function mtime(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/** A JSON file: its value, 'missing', or the parse error. */
type JsonFile = { value: unknown } | { missing: true } | { error: string };

function readJson(file: string): JsonFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { missing: true };
    return { error: (e as Error).message };
  }
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

function headline(results: Record<string, unknown> | undefined, last: Record<string, number>) {
  for (const name of HEADLINE) {
    const v = results?.[name];
    if (typeof v === 'number') return { name, value: v };
  }
  for (const name of HEADLINE) if (typeof last[name] === 'number') return { name, value: last[name] };
  return undefined;
}

const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);

/** A run's config.json and results.json, read when they change. */
interface RunFiles {
  configStamp?: number;
  config: JsonFile;
  resultsStamp?: number;
  results: JsonFile;
}

/** The runs of one folder, with what was read of each kept so that a refresh reads only what changed. */
export class RunsFolder {
  private readonly files = new Map<string, RunFiles>();
  private readonly logs = new Map<string, LogIndex>();
  /** Long logs still being read after the table was answered, one at a time. */
  private readonly backlog = new Set<string>();
  private draining = false;

  constructor(readonly root: SafeRoot) {}

  async list(): Promise<RunSummary[]> {
    const found = findRuns(this.root.real);
    const ids = new Set(found.map((f) => runId(this.root.real, f.dir)));
    for (const id of this.logs.keys()) {
      if (!ids.has(id)) {
        this.logs.delete(id);
        this.files.delete(id);
      }
    }
    // Without yielding between runs: a background read of a long log would get a turn at every
    // yield, and the table would wait for all those turns.
    const out: RunSummary[] = [];
    for (const f of found) out.push(await this.summary(f.dir, f.files));
    return out;
  }

  /** The config and results of a run folder, re-read only when their mtime changed. */
  runFiles(dir: string, files?: Set<string>): RunFiles {
    const id = runId(this.root.real, dir);
    const f = this.files.get(id) ?? { config: { missing: true }, results: { missing: true } };
    const stamp = (name: string) => (files && !files.has(name) ? undefined : mtime(join(dir, name)));
    const configStamp = stamp('config.json');
    const resultsStamp = stamp('results.json');
    if (configStamp !== f.configStamp || configStamp === undefined) {
      f.config = configStamp === undefined ? { missing: true } : readJson(join(dir, 'config.json'));
      f.configStamp = configStamp;
    }
    if (resultsStamp !== f.resultsStamp || resultsStamp === undefined) {
      f.results = resultsStamp === undefined ? { missing: true } : readJson(join(dir, 'results.json'));
      f.resultsStamp = resultsStamp;
    }
    this.files.set(id, f);
    return f;
  }

  /**
   * The log index of a run for a chart: the table's own one when it already keeps series, else a
   * new one that keeps them and from now on serves the table too, so that a long log is parsed once.
   */
  chartIndex(id: string, dir: string): LogIndex {
    const index = this.logs.get(id);
    if (index?.withSeries) return index;
    const fresh = new LogIndex(join(dir, 'log.jsonl'), true);
    this.logs.set(id, fresh); // a background read of the old one stops when it sees this
    this.backlog.delete(id);
    return fresh;
  }

  /** Reads long logs to their end in the background, so that the next table has them whole. */
  private readOn(id: string): void {
    this.backlog.add(id);
    if (this.draining) return;
    this.draining = true;
    void (async () => {
      try {
        for (const next of this.backlog) {
          const log = this.logs.get(next);
          while (log && this.logs.get(next) === log && log.fraction < 1) {
            await log.update(TABLE_BUDGET);
            await new Promise((r) => setImmediate(r)); // let requests in between
          }
          this.backlog.delete(next);
        }
      } finally {
        this.draining = false;
      }
    })();
  }

  /** A run's row; `names`, the files in its folder when the caller has just listed it, saves looking for absent ones. */
  async summary(dir: string, names?: Set<string>): Promise<RunSummary> {
    const id = runId(this.root.real, dir);
    const files = this.runFiles(dir, names);
    const has = (name: string) => !names || names.has(name);
    let log = this.logs.get(id);
    if (!log) {
      log = new LogIndex(join(dir, 'log.jsonl'), false);
      this.logs.set(id, log);
    }
    // A log being read in the background is shown as far as it got, rather than waiting for its turn.
    const logState = this.backlog.has(id) ? 'ok' : await log.update(TABLE_BUDGET);
    const scanning = log.fraction < 1;
    if (scanning) this.readOn(id);
    const lock: JsonFile = has(LOCK_FILE) ? readJson(join(dir, LOCK_FILE)) : { missing: true };
    const logTime = mtime(join(dir, 'log.jsonl'));
    const checkpointed =
      (has(CHECKPOINT_FILE) || has(STATE_FILE)) &&
      (mtime(join(dir, CHECKPOINT_FILE)) ?? mtime(join(dir, STATE_FILE))) !== undefined;
    const config = 'value' in files.config && isObject(files.config.value) ? files.config.value : undefined;
    const results = 'value' in files.results && isObject(files.results.value) ? files.results.value : undefined;
    const s: RunSummary = {
      id,
      family: str(config?.family),
      model: str(config?.model ?? config?.arch ?? config?.coupling ?? config?.prior),
      data: str(config?.data),
      status: 'interrupted',
      step: scanning ? (tailStep(join(dir, 'log.jsonl')) ?? log.lastStep) : log.lastStep,
      steps: typeof config?.steps === 'number' ? config.steps : undefined,
      metric: headline(results, log.lastValues),
      lines: log.lines,
      keys: [...log.keys],
      hasTime: log.hasTime,
      updated: logTime,
    };
    if (scanning) s.scanned = log.fraction;
    const damage = damaged(files, log, logState);
    const info = 'value' in lock && isObject(lock.value) ? (lock.value as unknown as LockInfo) : undefined;
    const lockValid = info !== undefined && Number.isSafeInteger(info.pid) && typeof info.host === 'string';
    if (damage) {
      s.status = 'damaged';
      s.note = damage;
    } else if (lockValid && lockAlive(info)) {
      s.status = 'running';
      s.note = `pid ${info.pid}${info.host !== hostname() ? ` on ${info.host}` : ''}`;
    } else if (results) {
      s.status = 'finished';
    } else if (lockValid || 'error' in lock) {
      s.status = 'failed';
      s.note = lockValid
        ? `its process (pid ${info.pid}) ended without finishing or releasing ${LOCK_FILE}`
        : `${LOCK_FILE} is unreadable and no results were written`;
    } else if (log.nonFinite) {
      s.status = 'failed';
      s.note = `${log.nonFinite.key} was not finite at step ${log.nonFinite.step}`;
    } else {
      s.note = checkpointed ? 'stopped after a checkpoint; resume continues it' : 'stopped before its first checkpoint';
    }
    if (typeof results?.trainSeconds === 'number') {
      s.seconds = results.trainSeconds;
    } else if (files.configStamp !== undefined && logTime !== undefined) {
      s.seconds = Math.max(0, (logTime - files.configStamp) / 1000);
      s.secondsApprox = true;
    }
    return s;
  }
}

/** Why a run cannot be read as it is, or undefined. */
function damaged(files: RunFiles, log: LogIndex, logState: string): string | undefined {
  if ('missing' in files.config) return 'config.json is missing';
  if ('error' in files.config) return `config.json is not valid JSON (${files.config.error})`;
  if (!isObject(files.config.value)) return 'config.json does not hold an object';
  if ('error' in files.results) return `results.json is not valid JSON (${files.results.error})`;
  if (log.broken) {
    const more = log.brokenCount > 1 ? ` (and ${log.brokenCount - 1} more)` : '';
    return `log.jsonl line ${log.broken.line} is not a JSON object with a step${more}: ${log.broken.text}`;
  }
  if (logState === 'missing') return 'log.jsonl is missing';
  return undefined;
}
