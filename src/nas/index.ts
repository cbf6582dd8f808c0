// The nas family: DARTS search over DARTS or pseudo-inverted-bottleneck operations, genotypes, evaluation networks.
export * from './architect.js';
export * from './experiment.js';
export * from './genotype.js';
export * from './model.js';
export * from './ops.js';
export * from './search.js';
