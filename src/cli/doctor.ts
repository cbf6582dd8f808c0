// genlab doctor: what this installation runs on, for bug reports and for checking a set-up.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { DIGITS_FILE } from '../data/digits.js';
import { FASHION_MNIST_ROOT } from '../data/idx.js';
import { addonOrigin, N } from '../torch/native.js';
import { getNumThreads } from '../torch/runtime.js';
import { flag } from './args.js';
import { mallocLibrary } from './malloc.js';
import { verb } from './verb.js';

const PYTHON = '/usr/bin/python3';

export interface Diagnosis {
  node: string;
  platform: string;
  libtorch: { version: string; library?: string; libtorchEnv?: string };
  addon: { path: string; loadedAs: string };
  blas: { library?: string; threads: number };
  threads: number;
  /** The malloc library preloaded into this process (bin/genlab), or glibc's. */
  malloc: string;
  ompWaitPolicy: string;
  dataSets: Record<string, string>;
  pythonPeer: { python: string; torch?: string; error?: string; skipped?: boolean };
}

/** The shared libraries of this process whose names mention BLAS: the one libtorch's GEMMs run on. */
function blasLibrary(): string | undefined {
  const maps = readFileSync('/proc/self/maps', 'utf8').split('\n');
  const libs = new Set(maps.map((l) => l.split(/\s+/)[5]).filter((p) => p && /blas/i.test(p)));
  return [...libs].join(', ') || undefined;
}

function pythonPeer(): Diagnosis['pythonPeer'] {
  const r = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
  if (r.status === 0) return { python: PYTHON, torch: r.stdout.trim() };
  const why = r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`);
  return { python: PYTHON, error: why };
}

export function diagnose(opts: { peer?: boolean } = {}): Diagnosis {
  const info = N.runtimeInfo();
  const fashion = ['train-images-idx3-ubyte', 'train-images-idx3-ubyte.gz'].some((f) =>
    existsSync(`${FASHION_MNIST_ROOT}/${f}`),
  );
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    libtorch: { version: info.builtAgainst, library: info.library, libtorchEnv: process.env.LIBTORCH },
    addon: { path: addonOrigin.path, loadedAs: addonOrigin.kind },
    blas: { library: blasLibrary(), threads: info.blasThreads },
    threads: getNumThreads(),
    malloc: mallocLibrary() ?? 'glibc (GENLAB_MALLOC=system, or no tcmalloc found; see README)',
    // The addon sets PASSIVE while libgomp loads unless the user chose a policy.
    ompWaitPolicy: process.env.OMP_WAIT_POLICY ?? 'PASSIVE (genlab default)',
    dataSets: {
      digits: existsSync(DIGITS_FILE) ? `embedded (${DIGITS_FILE})` : 'missing',
      'fashion-mnist': fashion ? FASHION_MNIST_ROOT : "not found (Debian's dataset-fashion-mnist, or --root)",
      mnist: 'given by --root',
      cifar10: 'given by --root',
    },
    // Importing torch in Python takes seconds; --no-peer leaves it out.
    pythonPeer: opts.peer === false ? { python: PYTHON, skipped: true } : pythonPeer(),
  };
}

export const doctor = verb({
  summary: 'print versions: Node, libtorch, the addon, BLAS, threads, malloc, data sets, the Python peer',
  usage: '[--no-peer] [--json]',
  description: 'Reports what this installation of genlab runs on. Attach its --json output to bug reports.',
  options: { noPeer: flag('skip the Python peer check (it imports torch, which takes seconds)') },
  run: (o) => diagnose({ peer: !o.noPeer }),
  show: (d: Diagnosis) => [
    `node          ${d.node} (${d.platform})`,
    `libtorch      ${d.libtorch.version}${d.libtorch.library ? ` from ${d.libtorch.library}` : ''}${d.libtorch.libtorchEnv ? ` (LIBTORCH=${d.libtorch.libtorchEnv})` : ''}`,
    `addon         ${d.addon.loadedAs}: ${d.addon.path}`,
    `blas          ${d.blas.library ?? 'built into libtorch'}, ${d.blas.threads} threads`,
    `threads       ${d.threads} (intra-op)`,
    `malloc        ${d.malloc}`,
    `omp policy    ${d.ompWaitPolicy}`,
    ...Object.entries(d.dataSets).map(([name, where]) => `data          ${name}: ${where}`),
    `python peer   ${d.pythonPeer.skipped ? 'not checked (--no-peer)' : d.pythonPeer.torch ? `${d.pythonPeer.python}, torch ${d.pythonPeer.torch}` : `absent (${d.pythonPeer.error})`}`,
  ],
});
