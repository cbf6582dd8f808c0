// torch.nn.parallel for genlab: data-parallel training over a process group.
export { DistributedDataParallel, type DistributedDataParallelOptions } from './distributed.js';
