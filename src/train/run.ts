// A run folder: config.json, log.jsonl, checkpoint.safetensors + state.json, train.lock, and pictures.
//
// How a checkpoint is committed. The whole checkpoint state (step, optimizer meta, loader positions,
// RNG states) is stored as JSON inside the safetensors metadata of checkpoint.safetensors, so one
// rename of one file commits tensors and state together: after a crash at any point the folder holds
// the old checkpoint or the new one, never half of each. state.json is a readable copy written after
// that rename; on load it is checked against the copy inside the checkpoint and rewritten when a
// crash left it behind (missing, or an older step). We chose this over step-numbered files behind a
// pointer file because it keeps one file per run that Python tools open as it is
// (`safetensors.torch.load_file`), the same file names as before, and no old checkpoints to collect.
// Folders written before the state moved inside (no state in the metadata) still resume from
// state.json, which must then carry the checkpoint's step.
import {
  appendFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Json } from '../optim/state.js';
import { GenlabError } from '../torch/errors.js';
import { loadSafetensors, saveSafetensors } from '../torch/safetensors.js';
import type { Tensor } from '../torch/tensor.js';
import { checkWritableFolder, removeTemporaryFiles, writeFileAtomic } from './files.js';

export type { Json };
export type JsonObject = { [key: string]: Json };

/** What a checkpoint holds: named tensors (model, optimizer, EMA…) and JSON state (step, RNG, loader…). */
export interface Checkpoint {
  tensors: Record<string, Tensor>;
  state: { step: number; [key: string]: Json };
  /** The file it was read from, for messages; set by Run.loadCheckpoint. */
  source?: string;
}

/**
 * Validates a run's config.json as read (`raw`) and returns it typed; `file` is its path, for
 * messages. Families pass their schema's parser, which throws a GenlabError of kind 'config' naming
 * the field.
 */
export type ConfigParser<C> = (raw: unknown, file: string) => C;

export interface OpenOptions<C> {
  /** Continue the run in the folder (its config.json is then authoritative) instead of starting one. */
  resume?: boolean;
  /** Validates the saved config.json under `resume`. */
  parse?: ConfigParser<C>;
  /** Where notices go (a recovered checkpoint, a restart from step 0…); stderr by default. */
  notify?: (message: string) => void;
}

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
export const STATE_FILE = 'state.json';
export const LOCK_FILE = 'train.lock';
/** The safetensors metadata key that holds the checkpoint state as JSON. */
export const STATE_METADATA_KEY = 'genlab.state';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  const s = JSON.stringify(v);
  return s.length > 40 ? `a ${typeof v}` : s;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new GenlabError('config', `${file} is not valid JSON (${(e as Error).message})`);
  }
}

function readConfig(dir: string): { raw: unknown; file: string } {
  const file = join(dir, 'config.json');
  const text = readText(file);
  if (text === undefined) throw new GenlabError('run', `${dir} is not a run folder (config.json is missing)`);
  return { raw: parseJson(text, file), file };
}

function plainConfig(raw: unknown, file: string): JsonObject {
  if (!isObject(raw)) throw new GenlabError('config', `${file} holds ${describe(raw)}, not an object`);
  return raw as JsonObject;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Checks the shape of a checkpoint state: `step` a non-negative integer; `stateful`, `loaders` and
 * `rng`, when present, objects; each RNG state base64. Whether the parts a training needs are all
 * there is checked by restoreCheckpoint, which knows the parts.
 */
export function parseCheckpointState(raw: unknown, file: string): Checkpoint['state'] {
  const bad = (field: string, value: unknown, want: string) =>
    new GenlabError('config', `${file}: '${field}' is ${describe(value)}, not ${want}`);
  if (!isObject(raw))
    throw new GenlabError('config', `${file}: the checkpoint state is ${describe(raw)}, not an object`);
  if (!Number.isSafeInteger(raw.step) || (raw.step as number) < 0)
    throw bad('step', raw.step, 'a non-negative integer');
  for (const field of ['stateful', 'loaders', 'rng']) {
    if (field in raw && !isObject(raw[field])) throw bad(field, raw[field], 'an object');
  }
  for (const [name, meta] of Object.entries((raw.stateful ?? {}) as Record<string, unknown>)) {
    if (!isObject(meta)) throw bad(`stateful.${name}`, meta, 'an object');
  }
  for (const [name, s] of Object.entries((raw.rng ?? {}) as Record<string, unknown>)) {
    if (typeof s !== 'string' || !BASE64.test(s)) throw bad(`rng.${name}`, s, 'a base64 generator state');
  }
  return raw as Checkpoint['state'];
}

// ---- the lock: one training per folder

interface LockInfo {
  pid: number;
  host: string;
  since: string;
  /** The process's start time in clock ticks since boot (/proc/<pid>/stat), so a reused pid is not taken for it. */
  start?: string;
}

function processStart(pid: number): string | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // Fields after the command name, which is in parentheses and may hold spaces: state is field 3, start time 22.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

function parseLock(text: string | undefined): LockInfo | undefined {
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as LockInfo;
    return Number.isSafeInteger(v.pid) && typeof v.host === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the lock's owner may still run: always on another host, where we cannot tell. */
function ownerAlive(info: LockInfo): boolean {
  if (info.host !== hostname()) return true;
  try {
    process.kill(info.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  return info.start === undefined || processStart(info.pid) === undefined || processStart(info.pid) === info.start;
}

/** Lock files this process holds, with the Run holding each; released when the process exits. */
const held = new Map<string, Run<unknown>>();
let exitHookInstalled = false;

function removeOwnLock(path: string): void {
  const info = parseLock(readText(path));
  if (info && info.pid === process.pid && info.host === hostname()) rmSync(path, { force: true });
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' also follows process.exit() (a second Ctrl-C) and an uncaught error; only SIGKILL and the
  // like leave a lock behind, and the next run takes a lock whose process is gone over.
  process.on('exit', () => {
    for (const path of held.keys()) {
      try {
        removeOwnLock(path);
      } catch {
        // exiting anyway
      }
    }
  });
}

/** Creates `path` holding `text`, all at once, or throws EEXIST. */
function createExclusive(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.new`;
  writeFileSync(tmp, text);
  try {
    linkSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}

function acquireLock(dir: string, run: Run<unknown>): void {
  const path = join(dir, LOCK_FILE);
  const mine: LockInfo = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  const start = processStart(process.pid);
  if (start !== undefined) mine.start = start;
  const text = `${JSON.stringify(mine)}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      createExclusive(path, text);
      held.set(path, run);
      installExitHook();
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const found = readText(path);
    if (found === undefined) continue; // released meanwhile
    const info = parseLock(found);
    if (info && info.pid === process.pid && info.host === mine.host) {
      // Opened again by this process: allowed once the earlier Run is not inside a training loop.
      const holder = held.get(path);
      if (holder?.training) {
        throw new GenlabError('run', `${dir} is in use by a training in this process`, 'choose another {out}');
      }
      held.set(path, run);
      installExitHook();
      return;
    }
    if (info && ownerAlive(info)) {
      const where = info.host === mine.host ? `pid ${info.pid}` : `pid ${info.pid} on ${info.host}`;
      throw new GenlabError(
        'run',
        `${dir} is in use by another training (${where}, since ${info.since})`,
        `wait for it to end, or choose another {out}; if no training runs there, delete ${path}`,
      );
    }
    // A stale lock (its process is gone, or the file is unreadable): take it over, unless another
    // process replaced it in the meantime, which the content check below notices.
    const aside = `${path}.${process.pid}.stale`;
    try {
      renameSync(path, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    const moved = readText(aside);
    if (moved !== found && moved !== undefined) {
      // Not the stale lock we judged: a live one that just replaced it. Put it back.
      try {
        createExclusive(path, moved);
      } finally {
        rmSync(aside, { force: true });
      }
      continue;
    }
    rmSync(aside, { force: true });
  }
  throw new GenlabError(
    'run',
    `${dir}: could not take ${LOCK_FILE}; other trainings keep taking it`,
    'choose another {out}',
  );
}

const stderrNotice = (message: string) => {
  process.stderr.write(`${message}\n`);
};

export class Run<C = JsonObject> {
  /** Notices given while opening and loading (also passed to `notify`). */
  readonly notices: string[] = [];
  /** Set by trainLoop while it runs, so that this process does not open the folder for a second training. */
  training = false;
  private locked = false;

  private constructor(
    readonly dir: string,
    readonly config: C,
    private readonly notify: (message: string) => void = stderrNotice,
  ) {}

  /**
   * Opens a run folder for training: a new one, or with `resume` an existing one, whose config.json
   * is then authoritative (validated by `parse`). Checks the path before creating anything, takes
   * the folder's lock (a second training into it is refused) and removes temporary files an
   * interrupted write left. Release the lock with close(), or let the process exit.
   */
  static open<C = JsonObject>(dir: string, config: C, opts: OpenOptions<C> = {}): Run<C> {
    checkWritableFolder(dir);
    mkdirSync(dir, { recursive: true });
    let run: Run<C>;
    if (opts.resume) {
      const { raw, file } = readConfig(dir);
      const parse = opts.parse ?? (plainConfig as unknown as ConfigParser<C>);
      run = new Run(dir, parse(raw, file), opts.notify);
    } else {
      run = new Run(dir, config, opts.notify);
    }
    acquireLock(dir, run as Run<unknown>);
    run.locked = true;
    try {
      const removed = removeTemporaryFiles(dir);
      if (removed.length) run.notice(`${dir}: removed ${removed.join(', ')}, left by an interrupted write`);
      if (opts.resume) {
        if (!run.hasCheckpoint()) {
          const lines = run.readLog().length;
          run.truncateLog(0);
          run.notice(
            `${dir}: no checkpoint was written yet, so the run starts again from step 0${lines ? ` (${lines} log lines dropped)` : ''}`,
          );
        }
      } else {
        if (run.hasCheckpoint()) {
          throw new GenlabError(
            'run',
            `${dir} already holds a run`,
            'pass {resume} to continue it, or choose another {out}',
          );
        }
        writeFileAtomic(run.path('config.json'), `${JSON.stringify(config, null, 2)}\n`);
        writeFileAtomic(run.path('log.jsonl'), '');
      }
    } catch (e) {
      run.close();
      throw e;
    }
    return run;
  }

  /** Opens a finished or interrupted run for evaluation or sampling, with config.json validated by `parse`. */
  static load<C = JsonObject>(dir: string, parse?: ConfigParser<C>): Run<C> {
    const { raw, file } = readConfig(dir);
    const config = parse ? parse(raw, file) : (plainConfig(raw, file) as unknown as C);
    return new Run(dir, config);
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** Whether this Run holds the folder's lock. */
  get isLocked(): boolean {
    return this.locked && held.get(join(this.dir, LOCK_FILE)) === (this as Run<unknown>);
  }

  /** Releases the folder's lock (when this Run holds it). Safe to call twice. */
  close(): void {
    if (!this.locked) return;
    this.locked = false;
    const path = join(this.dir, LOCK_FILE);
    if (held.get(path) !== (this as Run<unknown>)) return; // opened again since, by this process
    held.delete(path);
    removeOwnLock(path);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  private notice(message: string): void {
    this.notices.push(message);
    this.notify(message);
  }

  log(entry: { step: number; [key: string]: Json }): void {
    appendFileSync(this.path('log.jsonl'), `${JSON.stringify(entry)}\n`);
  }

  /** The log's lines; a line a crash cut short is left out. */
  private logLines(): { text: string; entry: { step: number; [key: string]: Json } }[] {
    const text = readText(this.path('log.jsonl')) ?? '';
    const out: { text: string; entry: { step: number; [key: string]: Json } }[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        out.push({ text: line, entry: JSON.parse(line) });
      } catch {
        // an interrupted append
      }
    }
    return out;
  }

  /** Rewrites log.jsonl up to `step`, so a resumed run does not repeat lines written after its checkpoint. */
  truncateLog(step: number): void {
    const kept = this.logLines()
      .filter((l) => l.entry.step <= step)
      .map((l) => l.text);
    writeFileAtomic(this.path('log.jsonl'), kept.length ? `${kept.join('\n')}\n` : '');
  }

  readLog(): { step: number; [key: string]: Json }[] {
    return this.logLines().map((l) => l.entry);
  }

  /**
   * Commits a checkpoint with one rename: tensors and state in checkpoint.safetensors (the state
   * as JSON in its metadata; saveSafetensors flushes the file and the folder), then state.json is
   * written as a readable copy.
   */
  saveCheckpoint(ckpt: Checkpoint): void {
    const state = JSON.stringify(ckpt.state);
    saveSafetensors(this.path(CHECKPOINT_FILE), ckpt.tensors, {
      step: String(ckpt.state.step),
      [STATE_METADATA_KEY]: state,
    });
    writeFileAtomic(this.path(STATE_FILE), `${state}\n`);
  }

  /** Whether the folder holds a checkpoint, or what is left of one (loadCheckpoint then says what is wrong). */
  hasCheckpoint(): boolean {
    return existsSync(this.path(CHECKPOINT_FILE)) || existsSync(this.path(STATE_FILE));
  }

  /**
   * Reads the checkpoint and checks its state. A state.json that a crash left missing or behind is
   * rewritten from the checkpoint when this Run holds the lock (with a notice); one that disagrees
   * otherwise is refused, as is a checkpoint without a state to continue from.
   */
  loadCheckpoint(): Checkpoint {
    const file = this.path(CHECKPOINT_FILE);
    const mirror = this.path(STATE_FILE);
    const mirrorText = readText(mirror);
    if (!existsSync(file)) {
      if (mirrorText === undefined) throw new GenlabError('run', `${this.dir}: no checkpoint in this run`);
      throw new GenlabError(
        'run',
        `${file} is missing, though state.json says a checkpoint was written`,
        'the run cannot continue; start a new one with another {out}',
      );
    }
    const { tensors, metadata } = loadSafetensors(file);
    try {
      const inside = metadata[STATE_METADATA_KEY];
      const state =
        inside !== undefined
          ? this.stateInside(inside, file, metadata.step, mirrorText)
          : this.stateBeside(metadata.step, mirrorText);
      return { tensors, state, source: inside !== undefined ? file : mirror };
    } catch (e) {
      for (const t of Object.values(tensors)) t.dispose();
      throw e;
    }
  }

  private stateInside(
    inside: string,
    file: string,
    step: string | undefined,
    mirrorText: string | undefined,
  ): Checkpoint['state'] {
    const state = parseCheckpointState(parseJson(inside, `${file} (metadata '${STATE_METADATA_KEY}')`), file);
    if (step !== undefined && step !== String(state.step)) {
      throw new GenlabError('config', `${file}: metadata 'step' is ${step} but its state is at step ${state.step}`);
    }
    const repair = (why: string) => {
      if (!this.isLocked) return; // a read-only look leaves the folder as it is
      writeFileAtomic(this.path(STATE_FILE), `${inside}\n`);
      this.notice(`${this.dir}: ${why}; rewrote it from ${CHECKPOINT_FILE} (step ${state.step})`);
    };
    if (mirrorText === undefined) {
      repair('state.json was missing');
      return state;
    }
    let copy: unknown;
    try {
      copy = JSON.parse(mirrorText);
    } catch {
      repair('state.json was not valid JSON');
      return state;
    }
    const copyStep = isObject(copy) ? copy.step : undefined;
    if (typeof copyStep === 'number' && copyStep < state.step) {
      repair(`state.json was left at step ${copyStep} by an interrupted checkpoint`);
    } else if (JSON.stringify(copy) !== JSON.stringify(state)) {
      throw new GenlabError(
        'run',
        `${this.path(STATE_FILE)} (step ${describe(copyStep)}) does not match the state saved in ${CHECKPOINT_FILE} (step ${state.step})`,
        `state.json is only a readable copy: delete it to continue from ${CHECKPOINT_FILE}`,
      );
    }
    return state;
  }

  /** A checkpoint written before the state moved inside it: the state is state.json, at the same step. */
  private stateBeside(step: string | undefined, mirrorText: string | undefined): Checkpoint['state'] {
    const mirror = this.path(STATE_FILE);
    if (mirrorText === undefined) {
      throw new GenlabError(
        'run',
        `${mirror} is missing and ${CHECKPOINT_FILE} (from an older genlab) holds no state to continue from`,
        'the run cannot continue bit for bit; start a new one with another {out}',
      );
    }
    const state = parseCheckpointState(parseJson(mirrorText, mirror), mirror);
    if (step !== undefined && Number(step) !== state.step) {
      throw new GenlabError(
        'run',
        `${this.dir}: checkpoint (step ${step}) and state.json (step ${state.step}) disagree`,
        'a crash between writing the two left no consistent checkpoint; start a new run with another {out}',
      );
    }
    return state;
  }
}
