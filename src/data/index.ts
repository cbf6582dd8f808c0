// Data sets and the DataLoader.
export { CIFAR10_CLASSES, CIFAR10_RECORDS_PER_FILE, type CifarOptions, loadCifar10, parseCifarBatch } from './cifar.js';
export { type CsvOptions, parseCsv, readCsv, TableDataset } from './csv.js';
export {
  type Batch,
  type BatchedDataset,
  collate,
  type Dataset,
  ImageDataset,
  type ImageDatasetOptions,
  type Item,
  isBatched,
  TensorDataset,
  type TensorDatasetOptions,
} from './dataset.js';
export {
  DIGITS_COUNT,
  DIGITS_FILE,
  DIGITS_LEVELS,
  DIGITS_SPLIT_SEED,
  DIGITS_TEST_COUNT,
  digitsArrays,
  digitsSplit,
  loadDigits,
} from './digits.js';
export {
  DistributedLoader,
  type DistributedLoaderState,
  DistributedSampler,
  type DistributedSamplerOptions,
} from './distributed.js';
export { DataError } from './errors.js';
export { type IcaActivation, type IcaData, type IcaOptions, type IcaSource, makeNonlinearIca } from './ica.js';
export {
  FASHION_CLASSES,
  FASHION_MNIST_ROOT,
  type FolderOptions,
  type IdxArray,
  loadFashionMnist,
  loadIdxPair,
  loadMnist,
  parseIdx,
  readIdx,
  type Split,
} from './idx.js';
export {
  type BatchTransform,
  DataLoader,
  type LoaderOptions,
  type LoaderState,
  type TransformContext,
} from './loader.js';
export { parseNpy, parseNpz, readNpy, readNpz } from './npy.js';
export { DATASET_NAMES, type LoadOptions, loadDataset } from './registry.js';
export { deriveSeed, Rng } from './rng.js';
export {
  checkerboard,
  eightGaussians,
  makeToy,
  swirl,
  TOY_NAMES,
  type ToyName,
  type ToyOptions,
  type ToySample,
  twoMoons,
} from './toy.js';
export { dequantize, flatten, randomHorizontalFlip, rescale } from './transforms.js';
