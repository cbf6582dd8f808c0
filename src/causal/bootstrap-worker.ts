// A bootstrap worker thread (see bootstrap-pool.ts): takes replicate indices from the shared counter
// until none are left and writes each replicate's estimates into the shared table. An error ends the
// thread with it, and the pool reports it.
import { workerData } from 'node:worker_threads';
import { replicateEstimates } from './bootstrap.js';
import type { WorkerJob } from './bootstrap-pool.js';
import { estimatorByName } from './estimators.js';

const job = workerData as WorkerJob;
const ests = job.names.map(estimatorByName);
for (;;) {
  const b = Atomics.add(job.ctrl, 0, 1);
  if (b >= job.replicates) break;
  job.results.set(replicateEstimates(job.data, ests, job.o, job.seed, b), b * ests.length);
}
