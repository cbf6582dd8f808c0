// Variational diffusion models (Kingma, Salimans, Poole, Ho 2021): schedules, the VLB, networks,
// samplers and evaluation.

export * from './bits-back.js';
export * from './compress.js';
export { buildModel, type DataInfo, dataInfo, defaultConfig, gammaMinFor, type VdmConfig } from './config.js';
export * as distill from './distill/index.js';
export { type BitsPerDim, hasFeatureNet, type SampleQuality, sampleQuality, testBitsPerDim } from './evaluate.js';
export * from './experiment.js';
export { type ScheduleObjective, type StepStats, VDM, type VDMOptions } from './model.js';
export { gammaGrid, type SampleOptions, type SamplerKind, sampleLatent } from './sampling.js';
export {
  alpha2,
  alphaSigma,
  CosineSchedule,
  FixedLinearSchedule,
  type GammaAndSlope,
  LearnedScalarSchedule,
  MonotoneNetSchedule,
  makeSchedule,
  NoiseSchedule,
  SCHEDULE_KINDS,
  type ScheduleKind,
  type ScheduleOptions,
  sigma2,
  snr,
} from './schedules.js';
export {
  defaultFourierExponents,
  type EpsNet,
  fourierFeatures,
  groupsFor,
  type MLPConfig,
  MLPDenoiser,
  ResAttn,
  ResBlock,
  timestepEmbedding,
  UNet,
  type UNetConfig,
} from './unet.js';
export {
  decoderLogits,
  discreteReconstruction,
  type EpsFn,
  levelsToCentres,
  nearestLevel,
  type ScheduleValues,
  sampleTimes,
  scheduleValues,
  type VLBInputs,
  type VLBTerms,
  vlbTerms,
} from './vlb.js';
