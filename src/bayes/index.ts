// The bayes family: weight normalisation and variational dropout experiments.
export * from './convergence.js';
export * from './experiment.js';
export * from './models.js';
export * from './sparse.js';
export * from './variance.js';
