// torch.nn.utils for genlab: reparameterisations of a module's parameters.
export {
  type DataDependentInitOptions,
  dataDependentInit,
  hasWeightNorm,
  normExceptDim,
  removeWeightNorm,
  type WeightNormOptions,
  weightNorm,
  weightNormDim,
  weightNormLayers,
  weightNormValue,
} from './weight-norm.js';
