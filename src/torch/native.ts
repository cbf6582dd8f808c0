// Loads the libtorch addon and checks it against the libtorch it runs on.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The raw addon surface. Tensors cross as integer handles; -1 marks a disposed tensor. */
export interface NativeAddon {
  call(op: number, ...args: unknown[]): any;
  lookup(name: string, overload: string): number;
  listSchemas(): NativeSchema[];
  free(h: number): void;
  freeMany(hs: Int32Array, count: number): void;
  /** The handle escaped every scope: the garbage collector owns it and its storage is reported to V8. */
  escape(h: number): void;
  /** A one-element Int32Array the addon reads on every new tensor: the number of open tidy() scopes. */
  scopeDepthCell(): Int32Array;
  memory(): {
    tensors: number;
    bytes: number;
    peakBytes: number;
    storages: number;
    gcTensors: number;
    gcBytes: number;
    v8ExternalBytes: number;
  };
  resetPeak(): void;
  /** The caching CPU allocator's counters (native/src/allocator.cc), or null when it is turned off. */
  allocatorStats(): AllocatorStats | null;
  /** Unmaps cached blocks unused for a while, or all of them; returns the bytes released. */
  allocatorTrim(all: boolean): number;
  sameStorage(a: number, b: number): boolean;
  fromBuffer(data: ArrayBufferView, shape: number[], dtype: number): number;
  /** index_select along dim 0 and true division in one pass, for contiguous uint8 x on the CPU. */
  gatherDivided(x: number, index: number, divisor: number): number;
  /** relu((x + shift) · scale) per channel as one autograd node, for contiguous float32 CPU tensors. */
  shiftScaleRelu(x: number, shift: number, scale: number): number;
  groupNormChannelsLast(x: number, weight: number | null, bias: number | null, groups: number, eps: number): number;
  globalAvgPool(x: number): number;
  groupNormSilu(x: number, weight: number | null, bias: number | null, groups: number, eps: number): number;
  toBuffer(h: number): ArrayBuffer;
  item(h: number): number | boolean;
  shape(h: number): number[];
  strides(h: number): number[];
  dtype(h: number): number;
  device(h: number): string;
  numel(h: number): number;
  dim(h: number): number;
  isContiguous(h: number, memoryFormat?: number): boolean;
  describe(h: number): string;
  alias(h: number): number;
  setData(dst: number, src: number): void;
  backward(
    h: number,
    grad: number | null,
    retainGraph: boolean | undefined,
    createGraph: boolean,
    inputs?: number[],
  ): void;
  grad(
    outputs: number[],
    inputs: number[],
    gradOutputs: (number | null)[] | null,
    retainGraph: boolean | undefined,
    createGraph: boolean,
    allowUnused: boolean,
  ): (number | null)[];
  requiresGrad(h: number): boolean;
  setRequiresGrad(h: number, value: boolean): void;
  getGrad(h: number): number | null;
  setGrad(h: number, g: number | null): void;
  isLeaf(h: number): boolean;
  retainGrad(h: number): void;
  gradFn(h: number): string | null;
  setGradEnabled(enabled: boolean): boolean;
  isGradEnabled(): boolean;
  enterInferenceMode(enabled: boolean): number;
  exitInferenceMode(): number;
  isInferenceMode(): boolean;
  isInference(h: number): boolean;
  manualSeed(seed: number): void;
  newGenerator(seed: number): number;
  freeGenerator(id: number): void;
  generatorSeed(id: number): number;
  generatorSetSeed(id: number, seed: number): void;
  generatorGetState(id: number): number;
  generatorSetState(id: number, state: number): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  cudaDeviceCount(): number;
  runtimeInfo(): {
    builtAgainst: string;
    config: string;
    library?: string;
    parallel: string;
    /** OpenBLAS's thread count, kept equal to libtorch's; 0 when libtorch uses another BLAS. */
    blasThreads: number;
  };
}

export interface AllocatorStats {
  cachedBytes: number;
  cachedBlocks: number;
  largeBytes: number;
  largeBlocks: number;
  hits: number;
  misses: number;
  released: number;
  limitBytes: number;
  maxAgeSeconds: number;
  minBlockBytes: number;
}

export interface NativeArg {
  name: string;
  type: string;
  kind: string;
  optional: boolean;
  n: number;
  kwargOnly: boolean;
  isWrite: boolean;
  default?: unknown;
}

export interface NativeSchema {
  name: string;
  overload: string;
  schema: string;
  args: NativeArg[];
  returns: { name: string; type: string; kind: string; isWrite: boolean }[];
  returnsWrittenAlias: boolean;
  supported: boolean;
}

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('genlab: cannot find the package root');
    dir = up;
  }
  return dir;
}

/** Where the loaded addon came from: GENLAB_ADDON, a build from source (native/build), or the shipped prebuild. */
export interface AddonOrigin {
  path: string;
  kind: 'GENLAB_ADDON' | 'source build' | 'prebuild';
}

const BUILD_HINT = 'build it from source with: npx genlab build-native';

function locate(root: string): AddonOrigin {
  if (process.env.GENLAB_ADDON) return { path: process.env.GENLAB_ADDON, kind: 'GENLAB_ADDON' };
  const native = join(root, 'native');
  let path: string;
  try {
    // A source build (native/build/Release) wins over the prebuild for this platform and ABI.
    path = (createRequire(import.meta.url)('node-gyp-build') as { path(dir: string): string }).path(native);
  } catch {
    throw new Error(
      `genlab: no native addon for ${process.platform}-${process.arch} (no prebuild, and none built from source); ${BUILD_HINT}`,
    );
  }
  return { path, kind: path.startsWith(join(native, 'build')) ? 'source build' : 'prebuild' };
}

/** LIBTORCH must name an unpacked libtorch, and a prebuild (made for Debian's) cannot serve it. */
function checkLibtorchFolder(origin: AddonOrigin): void {
  const lt = process.env.LIBTORCH;
  if (!lt) return;
  if (!existsSync(join(lt, 'lib', 'libtorch.so')) && !existsSync(join(lt, 'lib', 'libtorch_cpu.so'))) {
    throw new Error(
      `genlab: LIBTORCH=${lt} holds no libtorch (no lib/libtorch.so); point it at an unpacked libtorch, or unset it to use Debian's libtorch-dev`,
    );
  }
  if (origin.kind === 'prebuild') {
    throw new Error(`genlab: the shipped addon is built for Debian's libtorch, not LIBTORCH=${lt}; ${BUILD_HINT}`);
  }
}

function load(): { addon: NativeAddon; origin: AddonOrigin } {
  const origin = locate(packageRoot());
  checkLibtorchFolder(origin);
  if (!existsSync(origin.path)) {
    throw new Error(`genlab: the native addon ${origin.path} does not exist; ${BUILD_HINT}`);
  }
  let addon: NativeAddon;
  const waitPolicy = process.env.OMP_WAIT_POLICY;
  try {
    // OpenMP workers that spin while waiting for work stall every parallel region when another
    // process holds a core: 150 VDM steps with 2 threads took 116 s instead of 13 s (passive) on
    // this 2-core machine with one core busy. libgomp reads this once, as libtorch loads it.
    process.env.OMP_WAIT_POLICY = waitPolicy ?? 'PASSIVE';
    addon = createRequire(import.meta.url)(origin.path) as NativeAddon;
  } catch (e) {
    const where = process.env.LIBTORCH ? `LIBTORCH=${process.env.LIBTORCH}` : "Debian's libtorch-dev";
    throw new Error(
      `genlab: the native addon (${origin.kind}) failed to load against ${where}: ${(e as Error).message.split('\n')[0]}; ${BUILD_HINT}`,
    );
  } finally {
    // Child processes (a Python peer in a benchmark, say) get the environment as it was.
    if (waitPolicy === undefined) delete process.env.OMP_WAIT_POLICY;
  }
  checkVersion(addon);
  return { addon, origin };
}

/** The addon must run on the libtorch it was compiled against: ATen's ABI changes between minor versions. */
function checkVersion(addon: NativeAddon): void {
  const info = addon.runtimeInfo();
  const running = /TORCH_VERSION=([0-9.]+)/.exec(info.config)?.[1] ?? versionFile();
  if (running && majorMinor(running) !== majorMinor(info.builtAgainst)) {
    throw new Error(
      `genlab: the addon was built against libtorch ${info.builtAgainst} but libtorch ${running} is loaded` +
        `${info.library ? ` (${info.library})` : ''}; ${BUILD_HINT}`,
    );
  }
}

function versionFile(): string | undefined {
  const lt = process.env.LIBTORCH;
  if (!lt || !existsSync(join(lt, 'build-version'))) return undefined;
  return readFileSync(join(lt, 'build-version'), 'utf8').trim();
}

function majorMinor(v: string): string {
  return v.split('.').slice(0, 2).join('.');
}

const loaded = load();
export const N: NativeAddon = loaded.addon;
/** How the addon was found, for `genlab doctor`. */
export const addonOrigin: AddonOrigin = loaded.origin;
