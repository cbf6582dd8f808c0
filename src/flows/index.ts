// Normalising flows: Glow and its layers, exact likelihoods, sampling and latent-space tools.
export { ActNorm, type ActNormOptions } from './actnorm.js';
export { Coupling, type CouplingKind, CouplingNet, ZeroConv2d } from './coupling.js';
export { binCentres, bitsPerDim, dequantize, type Quantization, quantization, toBins, toImage } from './dequant.js';
export { type EvalOptions, type EvalResult, evaluateBitsPerDim } from './evaluate.js';
export * from './experiment.js';
export { Flow } from './flow.js';
export { fromEps, gaussianLogp, standardLogp } from './gaussian.js';
export {
  type Encoding,
  FlowStep,
  Glow,
  type GlowConfig,
  GlowLevel,
  type Permutation,
  type SampleOptions,
} from './glow.js';
export { InvConv2d, InvConv2dLU, randomOrthogonal } from './invconv.js';
export { jacobian, logAbsDetJacobian } from './jacobian.js';
export { classDirection, interpolate, manipulate, meanLatents, mixLatents, temperatureGrid } from './latents.js';
export { Split, TopPrior, type TopPriorOptions } from './prior.js';
export { squeeze2d, unsqueeze2d } from './squeeze.js';
