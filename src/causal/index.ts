// The causal family: treatment-effect estimators side by side, their uncertainty, balance, refuters and sensitivity.
export * from './balance.js';
export * from './bootstrap.js';
export * from './data.js';
export * from './estimators.js';
export * from './evalue.js';
export * from './experiment.js';
export * from './matching.js';
export * from './mlp-propensity.js';
export * from './propensity.js';
export * from './refute.js';
export * from './sandwich.js';
export * from './simulate.js';
export * from './tarnet.js';
