// Capturing and restoring everything a run needs to continue bit-for-bit: model, optimizer,
// schedule, EMA, data-loader position and random-generator states.
import type { Module } from '../nn/module.js';
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

/** Restores what captureCheckpoint saved; returns the step to continue after. */
export function restoreCheckpoint(ckpt: Checkpoint, parts: TrainingParts): number {
  parts.model.loadStateDict(checkpointPart(ckpt.tensors, 'model.'));
  const meta = (ckpt.state.stateful ?? {}) as { [key: string]: { [key: string]: Json } };
  for (const [name, s] of Object.entries(parts.stateful ?? {})) {
    if (!meta[name]) throw new Error(`checkpoint has no state for '${name}'`);
    s.loadStateDict({ tensors: checkpointPart(ckpt.tensors, `${name}.`), meta: meta[name] });
  }
  const loaders = (ckpt.state.loaders ?? {}) as { [key: string]: Json };
  for (const [name, l] of Object.entries(parts.loaders ?? {})) {
    if (!loaders[name]) throw new Error(`checkpoint has no position for loader '${name}'`);
    l.setState(loaders[name] as never);
  }
  const rng = (ckpt.state.rng ?? {}) as { [key: string]: string };
  if (rng.default) defaultGenerator.setState(new Uint8Array(Buffer.from(rng.default, 'base64')));
  for (const [name, g] of Object.entries(parts.generators ?? {})) {
    if (rng[name]) g.setState(new Uint8Array(Buffer.from(rng[name], 'base64')));
  }
  return ckpt.state.step;
}
