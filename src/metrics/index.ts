// Metrics: likelihood units, sample quality on a pluggable feature network, and classifier scores.
export * from './bits.js';
export * from './classification.js';
export * from './extractor.js';
export * from './fid.js';
export * from './gradcam.js';
export * from './hungarian.js';
export * from './inception.js';
export * from './instrument.js';
export * from './macs.js';
export * from './mcc.js';
export * from './precisionRecall.js';
