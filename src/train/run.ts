// A run folder: config.json, log.jsonl, checkpoint.safetensors + state.json, and pictures.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSafetensors, saveSafetensors } from '../torch/safetensors.js';
import type { Tensor } from '../torch/tensor.js';
import { writeFileAtomic } from './files.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** What a checkpoint holds: named tensors (model, optimizer, EMA…) and JSON state (step, RNG, loader…). */
export interface Checkpoint {
  tensors: Record<string, Tensor>;
  state: { step: number; [key: string]: Json };
}

function readJson(path: string, what: string): Json {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new Error(`${path}: ${what} is missing`);
  }
  try {
    return JSON.parse(text) as Json;
  } catch (e) {
    throw new Error(`${path}: ${what} is not valid JSON (${(e as Error).message})`);
  }
}

export class Run {
  private constructor(
    readonly dir: string,
    readonly config: { [key: string]: Json },
  ) {}

  /** Opens a new run folder, or an existing one with `resume` (its config is then authoritative). */
  static open(dir: string, config: { [key: string]: Json }, opts: { resume?: boolean } = {}): Run {
    if (opts.resume) {
      if (!existsSync(join(dir, 'config.json'))) throw new Error(`${dir}: no run to resume (config.json is missing)`);
      const saved = readJson(join(dir, 'config.json'), 'config.json') as { [key: string]: Json };
      return new Run(dir, saved);
    }
    if (existsSync(join(dir, 'checkpoint.safetensors'))) {
      throw new Error(`${dir} already holds a run; pass --resume to continue it or choose another --out`);
    }
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    writeFileSync(join(dir, 'log.jsonl'), '');
    return new Run(dir, config);
  }

  /** Opens a finished or interrupted run for evaluation or sampling. */
  static load(dir: string): Run {
    const config = readJson(join(dir, 'config.json'), 'config.json') as { [key: string]: Json };
    return new Run(dir, config);
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  log(entry: { step: number; [key: string]: Json }): void {
    appendFileSync(this.path('log.jsonl'), `${JSON.stringify(entry)}\n`);
  }

  /** Rewrites log.jsonl up to `step`, so a resumed run does not repeat lines written after its checkpoint. */
  truncateLog(step: number): void {
    const lines = readFileSync(this.path('log.jsonl'), 'utf8').split('\n').filter(Boolean);
    const kept = lines.filter((l) => (JSON.parse(l) as { step: number }).step <= step);
    writeFileAtomic(this.path('log.jsonl'), kept.length ? `${kept.join('\n')}\n` : '');
  }

  readLog(): { step: number; [key: string]: Json }[] {
    if (!existsSync(this.path('log.jsonl'))) return [];
    return readFileSync(this.path('log.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  }

  /**
   * Saves tensors then state, each atomically. The step is stored in both, so a crash between the
   * two renames is detected on load rather than silently mixing two checkpoints.
   */
  saveCheckpoint(ckpt: Checkpoint): void {
    saveSafetensors(this.path('checkpoint.safetensors'), ckpt.tensors, { step: String(ckpt.state.step) });
    writeFileAtomic(this.path('state.json'), `${JSON.stringify(ckpt.state)}\n`);
  }

  hasCheckpoint(): boolean {
    return existsSync(this.path('checkpoint.safetensors')) && existsSync(this.path('state.json'));
  }

  loadCheckpoint(): Checkpoint {
    const file = this.path('checkpoint.safetensors');
    if (!existsSync(file)) throw new Error(`${file}: no checkpoint in this run`);
    const { tensors, metadata } = loadSafetensors(file);
    const state = readJson(this.path('state.json'), 'state.json') as Checkpoint['state'];
    if (metadata.step !== undefined && Number(metadata.step) !== state.step) {
      throw new Error(`${this.dir}: checkpoint (step ${metadata.step}) and state.json (step ${state.step}) disagree`);
    }
    return { tensors, state };
  }
}
