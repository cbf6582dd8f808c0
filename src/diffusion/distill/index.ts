// Guided-diffusion distillation (Meng et al. 2023): teacher, w-conditioned student, progressive rounds, samplers, the latent autoencoder.
export * from './autoencoder.js';
export * from './config.js';
export * from './experiment.js';
export * from './guidance.js';
export * from './net.js';
export * from './quality.js';
export * from './samplers.js';
export * from './space.js';
export * from './use.js';
