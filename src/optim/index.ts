// Optimizers, learning-rate schedules, gradient clipping and parameter averaging.
export { Adadelta, type AdadeltaOptions, type AdadeltaState } from './adadelta.js';
export { Adagrad, type AdagradOptions, type AdagradState } from './adagrad.js';
export { Adam, type AdamOptions, type AdamState, AdamW } from './adam.js';
export { Adamax, type AdamaxOptions, type AdamaxState } from './adamax.js';
export { ASGD, type ASGDOptions, type ASGDState } from './asgd.js';
export { clipGradNorm, clipGradValue } from './clip.js';
export { EMA, type EMAOptions, type EMAWarmup } from './ema.js';
export { LBFGS, type LBFGSOptions, type LBFGSState } from './lbfgs.js';
export {
  ChainedScheduler,
  ConstantLR,
  CosineAnnealingLR,
  CosineAnnealingWarmRestarts,
  CyclicLR,
  type CyclicLROptions,
  ExponentialLR,
  LambdaLR,
  LinearLR,
  LRScheduler,
  type LrFunction,
  type LrGroups,
  MultiplicativeLR,
  MultiStepLR,
  OneCycleLR,
  type OneCycleLROptions,
  PolynomialLR,
  SequentialLR,
  StepLR,
  warmupCosine,
} from './lr-scheduler.js';
export { NAdam, type NAdamOptions, type NAdamState } from './nadam.js';
export {
  type GroupOptions,
  Optimizer,
  type ParamGroup,
  type ParamState,
  type Params,
  withDefaults,
} from './optimizer.js';
export { type PlateauOptions, ReduceLROnPlateau } from './plateau.js';
export { RAdam, type RAdamOptions, type RAdamState } from './radam.js';
export { RMSprop, type RMSpropOptions, type RMSpropState } from './rmsprop.js';
export { Rprop, type RpropOptions, type RpropState } from './rprop.js';
export { SGD, type SGDOptions, type SGDState } from './sgd.js';
export type { Json, StateDict } from './state.js';
