// torch.distributed over libtorch's c10d: process groups on a TCPStore or FileStore with the Gloo
// backend, and collectives whose waiting happens off the JavaScript thread. The env:// variables and
// the store layout are PyTorch's, so genlab ranks and Python ranks can share a group.
import { GenlabError } from './errors.js';
import { N } from './native.js';
import { handle, type Tensor, wrap } from './tensor.js';

/** The addon's distributed functions (native/src/distributed.cc). */
interface DistributedAddon {
  distInit(
    kind: 'tcp' | 'file',
    where: string,
    port: number,
    rank: number,
    worldSize: number,
    timeoutMs: number,
  ): Promise<number>;
  distInfo(group: number): { rank: number; worldSize: number; timeoutMs: number; backend: string };
  distAllReduce(group: number, t: number, op: string): Promise<void>;
  distBroadcast(group: number, t: number, src: number): Promise<void>;
  distAllGather(group: number, t: number): Promise<number[]>;
  distReduceScatter(group: number, out: number, inputs: number[], op: string): Promise<void>;
  distBarrier(group: number): Promise<void>;
  distDestroy(group: number): Promise<void>;
  ddpCreate(group: number, params: number[], bucketBytes: number): number;
  ddpSetSync(reducer: number, sync: boolean): void;
  ddpInfo(reducer: number): { buckets: number[][]; reductions: number; launchedInBackward: number };
  ddpRelease(reducer: number): void;
}

const D = N as unknown as DistributedAddon;

/** How tensors are combined by allReduce and reduceScatter. Gloo has no `avg`: it is a sum divided by the world size. */
export type ReduceOp = 'sum' | 'avg' | 'min' | 'max' | 'product';

/** Where and how ranks meet; unset fields come from PyTorch's environment variables. */
export interface ProcessGroupOptions {
  /** Only `'gloo'` (CPU) in this build; NCCL needs a CUDA libtorch (see docs/distributed.md). */
  backend?: 'gloo';
  /** `'env://'` (default: MASTER_ADDR, MASTER_PORT), `'tcp://host:port'` or `'file:///path'`. */
  initMethod?: string;
  /** This process's rank, in [0, worldSize); default RANK. */
  rank?: number;
  /** The number of ranks; default WORLD_SIZE. */
  worldSize?: number;
  /** Milliseconds before a rank that does not join or answer makes the others fail (default 30 min, as PyTorch). */
  timeout?: number;
}

/** The default timeout of PyTorch's process groups: 30 minutes. */
export const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000;

function envInt(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new GenlabError('usage', `${name}=${v} is not a non-negative integer`);
  return n;
}

function required(v: number | undefined, what: string, env: string): number {
  if (v === undefined) throw new GenlabError('usage', `initProcessGroup: no ${what}`, `pass {${what}} or set ${env}`);
  return v;
}

/** Where the ranks meet, from an init method and the environment. */
export function rendezvous(initMethod: string): { kind: 'tcp' | 'file'; where: string; port: number } {
  if (initMethod === 'env://') {
    const addr = process.env.MASTER_ADDR;
    if (!addr)
      throw new GenlabError('usage', 'initProcessGroup: env:// needs MASTER_ADDR', 'set MASTER_ADDR and MASTER_PORT');
    const port = required(envInt('MASTER_PORT'), 'port', 'MASTER_PORT');
    return { kind: 'tcp', where: addr, port };
  }
  const tcp = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(initMethod);
  if (tcp) return { kind: 'tcp', where: tcp[1].replace(/^\[|\]$/g, ''), port: Number(tcp[2]) };
  if (initMethod.startsWith('file://') && initMethod.length > 'file://'.length) {
    return { kind: 'file', where: initMethod.slice('file://'.length), port: 0 };
  }
  throw new GenlabError(
    'usage',
    `initProcessGroup: init method '${initMethod}' is not env://, tcp://host:port or file:///path`,
  );
}

/** A group of ranks with Gloo collectives. Collectives are in place, like torch.distributed's. */
export class ProcessGroup {
  /** This process's rank in the group. */
  readonly rank: number;
  /** The number of ranks. */
  readonly worldSize: number;
  /** Milliseconds after which a collective or the rendezvous fails. */
  readonly timeout: number;
  private destroyed = false;

  /** @internal */
  constructor(readonly id: number) {
    const info = D.distInfo(id);
    this.rank = info.rank;
    this.worldSize = info.worldSize;
    this.timeout = info.timeoutMs;
  }

  private live(what: string): number {
    if (this.destroyed) throw new GenlabError('usage', `${what}: the process group was destroyed`);
    return this.id;
  }

  /** Reduces `t` across ranks in place (default `'sum'`). */
  allReduce(t: Tensor, op: ReduceOp = 'sum'): Promise<void> {
    return settle(() => D.distAllReduce(this.live('allReduce'), handle(t), op));
  }

  /** Copies `t` of rank `src` into `t` of every other rank. */
  broadcast(t: Tensor, src = 0): Promise<void> {
    return settle(() => D.distBroadcast(this.live('broadcast'), handle(t), src));
  }

  /** Every rank's `t`, in rank order (same shape and dtype on every rank). */
  async allGather(t: Tensor): Promise<Tensor[]> {
    const hs = await settle(() => D.distAllGather(this.live('allGather'), handle(t)));
    return hs.map(wrap);
  }

  /**
   * Reduces `inputs[r]` of all ranks into `output` of rank r. Gloo in libtorch 1.13 does not have
   * it, so on this backend it fails with a message saying so (PyTorch's Gloo fails the same way).
   */
  reduceScatter(output: Tensor, inputs: Tensor[], op: ReduceOp = 'sum'): Promise<void> {
    return settle(() => D.distReduceScatter(this.live('reduceScatter'), handle(output), inputs.map(handle), op)).catch(
      (e: Error) => {
        if (/does not support reduce_scatter/.test(e.message)) {
          throw new GenlabError(
            'usage',
            'reduceScatter is not supported by the Gloo backend of libtorch 1.13',
            'use allReduce and keep your slice',
          );
        }
        throw e;
      },
    );
  }

  /** Waits until every rank reaches this barrier. */
  barrier(): Promise<void> {
    return settle(() => D.distBarrier(this.live('barrier')));
  }

  /** Leaves the group and joins its threads; collectives fail afterwards. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    if (defaultGroup === this) defaultGroup = null;
    await D.distDestroy(this.id);
  }

  /** @internal For DistributedDataParallel. */
  reducer(params: Tensor[], bucketBytes: number) {
    const id = D.ddpCreate(this.live('DistributedDataParallel'), params.map(handle), bucketBytes);
    return {
      setSync: (sync: boolean) => D.ddpSetSync(id, sync),
      info: () => D.ddpInfo(id),
      release: () => D.ddpRelease(id),
    };
  }
}

/**
 * Native failures, thrown at once or when the collective completes, become rejected GenlabErrors:
 * one line, naming the collective and the rank(s).
 */
function settle<T>(start: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve) => resolve(start())).catch((e: unknown) => {
    if (e instanceof GenlabError) throw e;
    throw new GenlabError('run', e instanceof Error ? e.message : String(e));
  });
}

let defaultGroup: ProcessGroup | null = null;

/**
 * Joins (or, on rank 0 with env:// or tcp://, hosts) the rendezvous and builds the default process
 * group, as torch.distributed.init_process_group. Resolves once every rank has joined; fails after
 * `timeout` when one does not.
 */
export async function initProcessGroup(opts: ProcessGroupOptions = {}): Promise<ProcessGroup> {
  if (defaultGroup)
    throw new GenlabError('usage', 'initProcessGroup: the default process group is already initialised');
  if ((opts.backend ?? 'gloo') !== 'gloo') {
    throw new GenlabError(
      'usage',
      `initProcessGroup: backend '${opts.backend}' is not available; this build has 'gloo'`,
    );
  }
  const worldSize = opts.worldSize ?? required(envInt('WORLD_SIZE'), 'worldSize', 'WORLD_SIZE');
  const rank = opts.rank ?? required(envInt('RANK'), 'rank', 'RANK');
  if (worldSize < 1 || rank >= worldSize) {
    throw new GenlabError('usage', `initProcessGroup: rank ${rank} is not in [0, ${worldSize})`);
  }
  const timeout = opts.timeout ?? DEFAULT_TIMEOUT_MS;
  const r = rendezvous(opts.initMethod ?? 'env://');
  const id = await settle(() => D.distInit(r.kind, r.where, r.port, rank, worldSize, timeout));
  defaultGroup = new ProcessGroup(id);
  return defaultGroup;
}

/** Whether the default process group exists. */
export function isInitialized(): boolean {
  return defaultGroup !== null;
}

/** The default process group; fails when initProcessGroup has not run. */
export function defaultProcessGroup(): ProcessGroup {
  if (!defaultGroup) throw new GenlabError('usage', 'no default process group', 'call initProcessGroup first');
  return defaultGroup;
}

/** This process's rank in the default group (0 when there is none, as one process). */
export function getRank(): number {
  return defaultGroup?.rank ?? 0;
}

/** The default group's size (1 when there is none). */
export function getWorldSize(): number {
  return defaultGroup?.worldSize ?? 1;
}

/** The rank on this machine, from LOCAL_RANK (0 when unset). */
export function getLocalRank(): number {
  return envInt('LOCAL_RANK') ?? 0;
}

/** allReduce on the default group. */
export function allReduce(t: Tensor, op: ReduceOp = 'sum'): Promise<void> {
  return defaultProcessGroup().allReduce(t, op);
}

/** broadcast on the default group. */
export function broadcast(t: Tensor, src = 0): Promise<void> {
  return defaultProcessGroup().broadcast(t, src);
}

/** allGather on the default group. */
export function allGather(t: Tensor): Promise<Tensor[]> {
  return defaultProcessGroup().allGather(t);
}

/** reduceScatter on the default group (not supported by Gloo in libtorch 1.13). */
export function reduceScatter(output: Tensor, inputs: Tensor[], op: ReduceOp = 'sum'): Promise<void> {
  return defaultProcessGroup().reduceScatter(output, inputs, op);
}

/** barrier on the default group. */
export function barrier(): Promise<void> {
  return defaultProcessGroup().barrier();
}

/** Destroys the default process group (a no-op when there is none). */
export async function destroyProcessGroup(): Promise<void> {
  await defaultGroup?.destroy();
}
