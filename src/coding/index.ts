// Entropy coding below the families: rANS, exact integer CDFs and the container format.

export * from './cdf.js';
export * from './container.js';
export * from './rans.js';
