// genlab: probabilistic deep learning on Node.js, on libtorch.
export * as torch from './torch/index.js';
