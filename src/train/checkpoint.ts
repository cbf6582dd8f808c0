// Capturing and restoring everything a run needs to continue bit-for-bit: model, optimizer,
// schedule, EMA, data-loader position and random-generator states.
import type { Module } from '../nn/module.js';
import { GenlabError } from '../torch/errors.js';
import type { Generator } from '../torch/random.js';
import { defaultGenerator } from '../torch/random.js';
import type { Tensor } from '../torch/tensor.js';
import type { Checkpoint, Json } from './run.js';

/** Anything with tensor + JSON state: optimizers, schedulers, EMA. */
export interface Stateful {
  stateDict(): { tensors: Record<string, Tensor>; meta: { [key: string]: Json } };
  loadStateDict(sd: { tensors: Record<string, Tensor>; meta: { [key: string]: Json } }): void;
}

/** A data loader's position, as JSON. */
export interface Positioned {
  state(): object;
  setState(s: never): void;
}

export interface TrainingParts {
  model: Module;
  /** Optimizer, scheduler, EMA…, saved under their names. */
  stateful?: Record<string, Stateful>;
  loaders?: Record<string, Positioned>;
  /** Explicit generators besides the global one. */
  generators?: Record<string, Generator>;
}

function prefixed(prefix: string, tensors: Record<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(tensors)) out[`${prefix}${k}`] = v;
  return out;
}

/** The tensors of one part of a checkpoint (e.g. prefix 'model.'), with the prefix removed. */
export function checkpointPart(tensors: Record<string, Tensor>, prefix: string): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(tensors)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}

export function captureCheckpoint(step: number, parts: TrainingParts, extra: { [key: string]: Json } = {}): Checkpoint {
  let tensors = prefixed('model.', parts.model.stateDict());
  const meta: { [key: string]: Json } = {};
  for (const [name, s] of Object.entries(parts.stateful ?? {})) {
    const sd = s.stateDict();
    tensors = { ...tensors, ...prefixed(`${name}.`, sd.tensors) };
    meta[name] = sd.meta;
  }
  const loaders: { [key: string]: Json } = {};
  for (const [name, l] of Object.entries(parts.loaders ?? {})) loaders[name] = l.state() as Json;
  const rng: { [key: string]: Json } = { default: Buffer.from(defaultGenerator.getState()).toString('base64') };
  for (const [name, g] of Object.entries(parts.generators ?? {}))
    rng[name] = Buffer.from(g.getState()).toString('base64');
  return { tensors, state: { step, stateful: meta, loaders, rng, ...extra } };
}

function describeShape(t: Tensor): string {
  return `${t.dtype} [${t.shape.join(', ')}]`;
}

/**
 * Checks, before anything is restored, that the checkpoint holds what `parts` need: a tensor of
 * the model's dtype and shape for each model key, state for each stateful part and loader, and an
 * RNG state of the right size for each generator. Each failure is a one-line GenlabError naming
 * the key or field.
 */
function checkFits(ckpt: Checkpoint, parts: TrainingParts): void {
  const where = ckpt.source ?? 'checkpoint';
  const field = (name: string, problem: string) => new GenlabError('config', `${where}: '${name}' ${problem}`);
  const step = ckpt.state.step;
  if (!Number.isSafeInteger(step) || step < 0)
    throw field('step', `is ${JSON.stringify(step)}, not a non-negative integer`);

  const own = parts.model.stateDict({ keepVars: true });
  const saved = checkpointPart(ckpt.tensors, 'model.');
  const missing = Object.keys(own).filter((k) => !(k in saved));
  const unexpected = Object.keys(saved).filter((k) => !(k in own));
  const list = (keys: string[]) =>
    `${keys
      .slice(0, 3)
      .map((k) => `'model.${k}'`)
      .join(', ')}${keys.length > 3 ? ` and ${keys.length - 3} more` : ''}`;
  if (missing.length) throw new GenlabError('run', `${where} has no tensor ${list(missing)} that the model needs`);
  if (unexpected.length)
    throw new GenlabError('run', `${where} holds ${list(unexpected)}, which the model does not have`);
  for (const [key, mine] of Object.entries(own)) {
    const theirs = saved[key];
    const sameShape = theirs.shape.length === mine.shape.length && theirs.shape.every((d, i) => d === mine.shape[i]);
    if (theirs.dtype !== mine.dtype || !sameShape) {
      throw new GenlabError(
        'run',
        `${where}: tensor 'model.${key}' is ${describeShape(theirs)} in the checkpoint but ${describeShape(mine)} in the model`,
      );
    }
  }

  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  const needObject = (name: string, v: Json | undefined) => {
    if (!isObject(v))
      throw field(name, v === undefined ? 'is missing' : `is ${v === null ? 'null' : typeof v}, not an object`);
    return v;
  };
  if (Object.keys(parts.stateful ?? {}).length) {
    const meta = needObject('stateful', ckpt.state.stateful);
    for (const name of Object.keys(parts.stateful ?? {}))
      needObject(`stateful.${name}`, meta[name] as Json | undefined);
  }
  if (Object.keys(parts.loaders ?? {}).length) {
    const pos = needObject('loaders', ckpt.state.loaders);
    for (const name of Object.keys(parts.loaders ?? {})) needObject(`loaders.${name}`, pos[name] as Json | undefined);
  }
  const rng = needObject('rng', ckpt.state.rng);
  const generators: [string, Generator][] = [['default', defaultGenerator], ...Object.entries(parts.generators ?? {})];
  for (const [name, g] of generators) {
    const s = rng[name];
    if (typeof s !== 'string') throw field(`rng.${name}`, s === undefined ? 'is missing' : 'is not a string');
    const bytes = Buffer.from(s, 'base64');
    const want = g.getState().length;
    if (!BASE64.test(s) || bytes.length !== want) {
      throw field(`rng.${name}`, `is not a generator state (${bytes.length} bytes of base64, expected ${want})`);
    }
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Restores what captureCheckpoint saved; returns the step to continue after. The model's tensors,
 * the presence of each part's state and the RNG states are checked first (see checkFits), so such a
 * checkpoint leaves the parts as they were; each part then checks the contents of its own state.
 */
export function restoreCheckpoint(ckpt: Checkpoint, parts: TrainingParts): number {
  checkFits(ckpt, parts);
  parts.model.loadStateDict(checkpointPart(ckpt.tensors, 'model.'));
  const meta = ckpt.state.stateful as { [key: string]: { [key: string]: Json } };
  // Each part checks its own state as it loads it; its refusal names the part. A checkpoint that
  // fails here is not resumed, so the parts already loaded do not matter.
  const where = ckpt.source ?? 'checkpoint';
  const load = (field: string, fn: () => void) => {
    try {
      fn();
    } catch (e) {
      throw new GenlabError('config', `${where}: '${field}': ${(e as Error).message.split('\n')[0]}`);
    }
  };
  for (const [name, s] of Object.entries(parts.stateful ?? {})) {
    load(`stateful.${name}`, () =>
      s.loadStateDict({ tensors: checkpointPart(ckpt.tensors, `${name}.`), meta: meta[name] }),
    );
  }
  const loaders = ckpt.state.loaders as { [key: string]: Json };
  for (const [name, l] of Object.entries(parts.loaders ?? {}))
    load(`loaders.${name}`, () => l.setState(loaders[name] as never));
  const rng = ckpt.state.rng as { [key: string]: string };
  defaultGenerator.setState(new Uint8Array(Buffer.from(rng.default, 'base64')));
  for (const [name, g] of Object.entries(parts.generators ?? {})) {
    g.setState(new Uint8Array(Buffer.from(rng[name], 'base64')));
  }
  return ckpt.state.step;
}
