// genlab: probabilistic deep learning on Node.js, on libtorch.

export * as nn from './nn/index.js';
export * as torch from './torch/index.js';
