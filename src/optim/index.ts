// Optimizers, learning-rate schedules, gradient clipping and parameter averaging.
export { Adam, type AdamOptions, type AdamState, AdamW } from './adam.js';
export { Adamax, type AdamaxOptions, type AdamaxState } from './adamax.js';
export { clipGradNorm, clipGradValue } from './clip.js';
export { EMA, type EMAOptions, type EMAWarmup } from './ema.js';
export {
  CosineAnnealingLR,
  ExponentialLR,
  LambdaLR,
  LinearLR,
  LRScheduler,
  type LrFunction,
  type LrGroups,
  MultiStepLR,
  SequentialLR,
  StepLR,
  warmupCosine,
} from './lr-scheduler.js';
export { type GroupOptions, Optimizer, type ParamGroup, type ParamState, type Params } from './optimizer.js';
export { type PlateauOptions, ReduceLROnPlateau } from './plateau.js';
export { RMSprop, type RMSpropOptions, type RMSpropState } from './rmsprop.js';
export { SGD, type SGDOptions, type SGDState } from './sgd.js';
export type { Json, StateDict } from './state.js';
