// Training runs: the loop, run folders, checkpoints, progress and pictures.
export {
  captureCheckpoint,
  type Positioned,
  restoreCheckpoint,
  type Stateful,
  type TrainingParts,
} from './checkpoint.js';
export { checkSettings, familyConfig, parseWith } from './config.js';
export { type GridOptions, imageGrid, saveImageGrid } from './images.js';
export { type LoopResult, type LoopSpec, NonFiniteLossError, trainLoop } from './loop.js';
export { plotRunLog, plotSvg, readLogSeries, type Series, savePlotSvg, saveScatterSvg, scatterSvg } from './plot.js';
export { decodePng, encodePng, readPng, writePng } from './png.js';
export { Progress, type ProgressOptions } from './progress.js';
export {
  CHECKPOINT_FILE,
  type Checkpoint,
  type ConfigParser,
  LOCK_FILE,
  type OpenOptions,
  parseCheckpointState,
  Run,
  STATE_FILE,
} from './run.js';
export {
  finishRun,
  type Interrupted,
  isInterrupted,
  openTrainingRun,
  type TrainOptions,
  trainingConfig,
  trainParts,
} from './session.js';
export { type BatchShard, batchShard, globalMeans, shardRows } from './shard.js';
export { drawDataset, numericKeys, plotRun } from './show.js';
export { type StepOutput, type StepPlan, trainStep, trainStepAsync } from './step.js';
