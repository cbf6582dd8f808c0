// genlab: probabilistic deep learning on Node.js, on libtorch.

export * as classifier from './classifier/index.js';
export * as data from './data/index.js';
export * as diffusion from './diffusion/index.js';
export * as flows from './flows/index.js';
export * as metrics from './metrics/index.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as torch from './torch/index.js';
export * as train from './train/index.js';
export * as vae from './vae/index.js';
