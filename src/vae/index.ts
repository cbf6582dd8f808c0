// The VAE family: VAE, β-VAE, iVAE, the latent-identifiable VAE (LIDVAE) and collapse diagnostics.
export { BrenierDecoder, type BrenierDecoderOptions } from './brenier.js';
export { loadVaeData, oneHot, prepareBatch, VAE_DATA, type VaeData, type VaeDataSpec } from './data.js';
export {
  activeUnits,
  type CollapseReport,
  collapseDiagnostics,
  iwaeChunked,
  mutualInformation,
} from './diagnostics.js';
export { bernoulliLogProb, discretizedLogisticLogProb, klNormal, normalLogProb } from './distributions.js';
export * from './experiment.js';
export { BrenierMap, ICNN, type IcnnOptions } from './icnn.js';
export {
  BernoulliLikelihood,
  DiscretizedLogisticLikelihood,
  GaussianLikelihood,
  LIKELIHOODS,
  Likelihood,
  type LikelihoodKind,
  makeLikelihood,
} from './likelihoods.js';
export {
  type AnnealWeights,
  annealWeights,
  ConditionalPrior,
  type ElboTerms,
  MODEL_KINDS,
  type ModelKind,
  type Posterior,
  VAE,
  type VaeConfig,
} from './model.js';
export { ACTIVATIONS, type Activation, activate, MLP, type MlpOptions } from './nets.js';
export { makePpca, type PpcaData, type PpcaOptions } from './synthetic.js';
