// DistributedDataParallel, as PyTorch's: every rank holds a replica, rank 0's parameters are
// broadcast at the start, and gradients are averaged across ranks during backward.
//
// The averaging is the addon's reducer (native/src/distributed.cc): a post-hook on each parameter's
// gradient accumulator marks it ready; a full bucket (about `bucketCapMb`, filled in reverse
// parameter order) is flattened and its Gloo all-reduce launched at once, so communication runs on
// Gloo's threads while backward goes on. At the end of backward a callback on the autograd engine
// waits for the buckets and writes the averages into `.grad`. So a training step is unchanged:
// `loss.backward()` returns with averaged gradients, and `optimizer.step()` follows.

import { tensor } from '../../torch/creation.js';
import { defaultProcessGroup, type ProcessGroup } from '../../torch/distributed.js';
import { GenlabError } from '../../torch/errors.js';
import { tidy } from '../../torch/scope.js';
import type { Tensor } from '../../torch/tensor.js';
import { Module } from '../module.js';

export interface DistributedDataParallelOptions {
  /** The group to average over (the default process group when unset). */
  processGroup?: ProcessGroup;
  /** Bucket size in MiB (PyTorch's default: 25). */
  bucketCapMb?: number;
  /** Broadcast rank 0's buffers (e.g. batch-norm statistics) before every forward, as PyTorch (default true). */
  broadcastBuffers?: boolean;
}

// A parameter's shape signature for the start-up check: its rank, then up to MAX_DIMS sizes.
const MAX_DIMS = 8;

/**
 * Wraps a module for data-parallel training. Create it with `await DistributedDataParallel.create(m)`
 * on every rank: that checks that all ranks hold the same parameter shapes and copies rank 0's
 * parameters and buffers to the others.
 */
export class DistributedDataParallel<M extends Module = Module> extends Module<
  Parameters<M['forward']>,
  ReturnType<M['forward']>
> {
  /** The wrapped module (its names gain the prefix `module.` in this wrapper's stateDict, as in PyTorch). */
  readonly module: M;
  /** The group gradients are averaged over. */
  readonly processGroup: ProcessGroup;
  /** Whether syncBuffers() copies rank 0's buffers. */
  readonly broadcastBuffers: boolean;
  private readonly reducer: ReturnType<ProcessGroup['reducer']>;
  private syncing = true;

  private constructor(module: M, group: ProcessGroup, opts: DistributedDataParallelOptions) {
    super();
    this.module = this.registerModule('module', module);
    this.processGroup = group;
    this.broadcastBuffers = opts.broadcastBuffers ?? true;
    const params = module.parameters().filter((p) => p.requiresGrad);
    if (params.length === 0)
      throw new GenlabError('usage', 'DistributedDataParallel: the module has no parameter that requires grad');
    const capMb = opts.bucketCapMb ?? 25;
    if (!(capMb > 0))
      throw new GenlabError('usage', `DistributedDataParallel: {bucketCapMb} must be positive, not ${capMb}`);
    this.reducer = group.reducer(params, Math.round(capMb * 1024 * 1024));
  }

  /** Checks shapes across ranks, broadcasts rank 0's state, and installs the gradient hooks. */
  static async create<M extends Module>(
    module: M,
    opts: DistributedDataParallelOptions = {},
  ): Promise<DistributedDataParallel<M>> {
    const group = opts.processGroup ?? defaultProcessGroup();
    await checkShapes(module, group);
    await broadcastState(module, group, true);
    return new DistributedDataParallel(module, group, opts);
  }

  /** Runs the wrapped module. Buffers are not broadcast here (that is async): see syncBuffers(). */
  forward(...args: Parameters<M['forward']>): ReturnType<M['forward']> {
    return this.module.forward(...args);
  }

  /** Copies rank 0's buffers to every rank (PyTorch does it before each forward when broadcastBuffers). */
  async syncBuffers(): Promise<void> {
    if (this.broadcastBuffers) await broadcastState(this.module, this.processGroup, false);
  }

  /**
   * Runs `fn` (forward and backward of micro-batches) without averaging gradients: they accumulate
   * locally, and the next backward outside noSync averages the accumulated sum, as PyTorch's no_sync().
   */
  noSync<T>(fn: () => T): T {
    const before = this.syncing;
    this.setSync(false);
    try {
      return fn();
    } finally {
      this.setSync(before);
    }
  }

  /** noSync for an async `fn`. */
  async noSyncAsync<T>(fn: () => Promise<T>): Promise<T> {
    const before = this.syncing;
    this.setSync(false);
    try {
      return await fn();
    } finally {
      this.setSync(before);
    }
  }

  private setSync(sync: boolean): void {
    this.syncing = sync;
    this.reducer.setSync(sync);
  }

  /**
   * The buckets (indices into the module's trainable parameters), the number of averaged backward
   * passes, and how many bucket all-reduces a gradient hook launched while backward was still running.
   */
  reducerInfo(): { buckets: number[][]; reductions: number; launchedInBackward: number } {
    return this.reducer.info();
  }

  /** Removes the gradient averaging; the wrapped module stays (dispose it separately). */
  release(): void {
    this.reducer.release();
  }
}

/**
 * All ranks must hold the same parameters: every rank gathers every rank's count of parameters and
 * their shapes, and a difference fails on all ranks with the first parameter that differs.
 */
async function checkShapes(module: Module, group: ProcessGroup): Promise<void> {
  const named = module.namedParameters().filter(([, p]) => p.requiresGrad);
  const counts = await gathered(group, [named.length]);
  const mine = named.length;
  const other = counts.findIndex((c) => c[0] !== mine);
  if (other >= 0) {
    throw new GenlabError(
      'usage',
      `DistributedDataParallel: rank ${other} has ${counts[other][0]} trainable parameters, rank ${group.rank} has ${mine}`,
      'every rank must build the same model',
    );
  }
  const sig: number[] = [];
  for (const [name, p] of named) {
    const shape = p.shape;
    if (shape.length > MAX_DIMS)
      throw new GenlabError('usage', `DistributedDataParallel: ${name} has more than ${MAX_DIMS} dimensions`);
    sig.push(shape.length, ...shape, ...new Array(MAX_DIMS - shape.length).fill(0));
  }
  const all = await gathered(group, sig);
  const width = MAX_DIMS + 1;
  for (let r = 0; r < all.length; r++) {
    for (let i = 0; i < named.length; i++) {
      const theirs = all[r].slice(i * width, (i + 1) * width);
      const ours = sig.slice(i * width, (i + 1) * width);
      if (theirs.some((v, k) => v !== ours[k])) {
        const shape = (s: number[]) => `[${s.slice(1, 1 + s[0]).join(', ')}]`;
        throw new GenlabError(
          'usage',
          `DistributedDataParallel: parameter ${named[i][0]} has shape ${shape(theirs)} on rank ${r} but ${shape(ours)} on rank ${group.rank}`,
          'every rank must build the same model',
        );
      }
    }
  }
}

async function gathered(group: ProcessGroup, values: number[]): Promise<number[][]> {
  const t = tidy(() => tensor(values, { dtype: 'int64' }).keep());
  try {
    const parts = await group.allGather(t);
    const out = parts.map((p) => (p.toArray() as number[]).map(Number));
    for (const p of parts) p.dispose();
    return out;
  } finally {
    t.dispose();
  }
}

/** Copies rank 0's parameters (and buffers) into every rank's, in place. */
async function broadcastState(module: Module, group: ProcessGroup, withParams: boolean): Promise<void> {
  const tensors: Tensor[] = [...(withParams ? module.parameters() : []), ...module.buffers()];
  for (const t of tensors) {
    const data = t.data;
    try {
      await group.broadcast(data, 0);
    } finally {
      data.dispose();
    }
  }
}
