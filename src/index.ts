// genlab: probabilistic deep learning on Node.js, on libtorch.

/** Weight normalisation and variational-dropout experiments: convergence, gradient variance, sparse VD. */
export * as bayes from './bayes/index.js';
/** Treatment effects from observational data: estimators, bootstrap, balance, refuters, E-values, simulator. */
export * as causal from './causal/index.js';
/** The feature-network classifier, trained and evaluated as an experiment. */
export * as classifier from './classifier/index.js';
/** Entropy coding: rANS, exact integer CDFs and the compressed-file container. */
export * as coding from './coding/index.js';
/** Data sets (embedded digits, Fashion-MNIST, MNIST, CIFAR-10, toys, CSV, IDX) and the loader. */
export * as data from './data/index.js';
/** Variational diffusion models: schedules, the U-Net, the VLB, sampling and experiments. */
export * as diffusion from './diffusion/index.js';
/** Glow: actnorm, invertible 1×1 convolutions, affine couplings, multi-scale flows and experiments. */
export * as flows from './flows/index.js';
/** Bits per dimension, FID, IS, precision/recall, MCC and classification metrics. */
export * as metrics from './metrics/index.js';
/** DARTS with DARTS or pseudo-inverted-bottleneck operations: search, genotypes, evaluation networks. */
export * as nas from './nas/index.js';
/** Modules, parameters, layers, initialisers and the functional API `nn.F`. */
export * as nn from './nn/index.js';
/** Optimizers, gradient clipping, learning-rate schedules and EMA. */
export * as optim from './optim/index.js';
/** 3T protein–ligand conformation generation over a differentiable CHARMM force field. */
export * as poses from './poses/index.js';
/** Tensors on libtorch: creation, operators, autograd, memory scopes, random numbers and safetensors. */
export * as torch from './torch/index.js';
/** The training loop, run folders and checkpoints, progress, images and plots. */
export * as train from './train/index.js';
/** VAE, β-VAE, iVAE and the latent-identifiable VAE, with the nonlinear-ICA benchmark. */
export * as vae from './vae/index.js';
