// The bootstrap's replicates in worker threads. The estimators are pure JS (no libtorch), so the
// workers load only them. Each worker takes replicate indices from a shared counter and writes its
// estimates into a shared table at the replicate's row; replicate b is seeded by (seed, b) alone, so
// the table is the same for any number of workers.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { GenlabError } from '../torch/errors.js';
import type { CausalData } from './data.js';
import { ESTIMATORS, type Estimator, type EstimatorOptions } from './estimators.js';

/** Workers can run these: the registry's estimators on the logistic propensity model (no libtorch). */
export function poolable(ests: readonly Estimator[], o: EstimatorOptions): boolean {
  return (o.propensity ?? 'logistic') === 'logistic' && ests.every((e) => ESTIMATORS.includes(e));
}

/** The worker's entry: the compiled .js, or from the sources the .ts behind tsx (which workers do not inherit). */
function startWorker(workerData: WorkerJob): Worker {
  const js = new URL('./bootstrap-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return new Worker(js, { workerData });
  const ts = new URL('./bootstrap-worker.ts', import.meta.url).href;
  // require.resolve finds tsx's CommonJS build of the API; the worker imports its ES module beside it.
  const api = pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(ts)}); })`;
  return new Worker(code, { eval: true, workerData });
}

export interface WorkerJob {
  data: CausalData;
  names: string[];
  o: EstimatorOptions;
  seed: number;
  replicates: number;
  results: Float64Array;
  /** [0]: the next replicate to take. */
  ctrl: Int32Array;
}

/** Runs replicates 0..B−1 in `workers` threads; resolves to the B × estimators table (NaN: failed). */
export async function bootstrapInWorkers(
  d: CausalData,
  names: string[],
  o: EstimatorOptions,
  replicates: number,
  seed: number,
  workers: number,
): Promise<Float64Array> {
  const results = new Float64Array(new SharedArrayBuffer(replicates * names.length * 8)).fill(Number.NaN);
  const ctrl = new Int32Array(new SharedArrayBuffer(16));
  // The truth and the source lines are not needed by the estimators.
  const data: CausalData = { ...d, truth: undefined, lines: undefined };
  const job: WorkerJob = { data, names, o, seed, replicates, results, ctrl };
  const pool = Array.from({ length: workers }, () => startWorker(job));
  try {
    await Promise.all(
      pool.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            w.once('error', (e) =>
              reject(new GenlabError('usage', `a bootstrap worker failed: ${e.message}`, 'run with {workers} 1')),
            );
            w.once('exit', (code) =>
              code === 0
                ? resolve()
                : reject(
                    new GenlabError('usage', `a bootstrap worker exited with code ${code}`, 'run with {workers} 1'),
                  ),
            );
          }),
      ),
    );
  } finally {
    for (const w of pool) void w.terminate();
  }
  return results;
}
