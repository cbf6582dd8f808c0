// The classifier family: the small convolutional classifier behind FID/IS, as an experiment.
export * from './experiment.js';
