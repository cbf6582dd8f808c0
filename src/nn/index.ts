// torch.nn for genlab: modules, layers, initialisation and the functional API.
/** Stateless layers, activations and losses on tensors, as torch.nn.functional. */
export * as F from './functional.js';
/** The same functions as {@link F}, under PyTorch's longer name. */
export * as functional from './functional.js';
/** Weight initialisation in place (uniform, normal, Xavier, Kaiming, orthogonal...), as torch.nn.init. */
export * as init from './init.js';
export { ELU, GELU, LeakyReLU, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh } from './layers/activation.js';
export { SelfAttention2d } from './layers/attention.js';
export type { FactoryOptions } from './layers/common.js';
export { ModuleList, Sequential } from './layers/container.js';
export {
  Conv2d,
  type Conv2dLayerOptions,
  ConvTranspose2d,
  type ConvTranspose2dLayerOptions,
  type PaddingMode,
} from './layers/conv.js';
export { Dropout } from './layers/dropout.js';
export { Embedding, Flatten, Identity, Linear } from './layers/linear.js';
export { MeanOnlyBatchNorm } from './layers/mean-only-bn.js';
export { BatchNorm1d, BatchNorm2d, type BatchNormOptions, GroupNorm, LayerNorm } from './layers/norm.js';
export { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d, Upsample } from './layers/pooling.js';
export {
  GaussianDropoutConv2d,
  type GaussianDropoutConv2dOptions,
  GaussianDropoutLayer,
  GaussianDropoutLinear,
  type GaussianDropoutOptions,
  KINGMA2015_C,
  type KlApproximation,
  klDivergence,
  klKingma2015,
  klMolchanov2017,
  MOLCHANOV2017_K,
  pruneVariational,
  type SparsityRow,
  sparsityReport,
  VariationalConv2d,
  type VariationalConv2dOptions,
  VariationalLayer,
  VariationalLinear,
  type VariationalOptions,
  type WeightSampling,
} from './layers/variational.js';
export { type LoadResult, Module, type StateDict, type ToTarget } from './module.js';
/** Data parallelism: DistributedDataParallel, as torch.nn.parallel. */
export * as parallel from './parallel/index.js';
export { Parameter } from './parameter.js';
/** Weight normalisation and its data-dependent initialisation. */
export * as utils from './utils/index.js';
