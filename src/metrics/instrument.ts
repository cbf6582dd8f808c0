// Watching a module's real calls: its forward is wrapped on the instance for the length of `fn`.
import type { Module } from '../nn/module.js';
import type { Tensor } from '../torch/tensor.js';

export type ForwardWatcher = (module: Module, input: Tensor, output: unknown) => void;

/** Runs `fn` with `watch` called after every forward of each module in `modules`; unwraps them after. */
export function withForwardWatch<T>(modules: Module[], watch: ForwardWatcher, fn: () => T): T {
  const undo: (() => void)[] = [];
  for (const m of modules) {
    const holder = m as unknown as { forward: (...args: unknown[]) => unknown };
    const own = Object.hasOwn(holder, 'forward');
    const original = holder.forward;
    holder.forward = (...args: unknown[]) => {
      const out = original.apply(m, args);
      watch(m, args[0] as Tensor, out);
      return out;
    };
    undo.push(() => {
      if (own) holder.forward = original;
      else delete (holder as { forward?: unknown }).forward;
    });
  }
  try {
    return fn();
  } finally {
    for (const u of undo) u();
  }
}

/** Runs `fn` with the module (and all below it) in eval or train mode, then restores each one's mode. */
export function inMode<T>(model: Module, training: boolean, fn: () => T): T {
  const modes = model.modules().map((m) => [m, m.training] as const);
  model.train(training);
  try {
    return fn();
  } finally {
    for (const [m, t] of modes) m.training = t;
  }
}
