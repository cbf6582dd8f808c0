// Training runs: the loop, run folders, checkpoints, progress and pictures.
export {
  captureCheckpoint,
  type Positioned,
  restoreCheckpoint,
  type Stateful,
  type TrainingParts,
} from './checkpoint.js';
export { type GridOptions, imageGrid, saveImageGrid } from './images.js';
export { type LoopResult, type LoopSpec, NonFiniteLossError, trainLoop } from './loop.js';
export { plotRunLog, plotSvg, readLogSeries, type Series, savePlotSvg, saveScatterSvg, scatterSvg } from './plot.js';
export { decodePng, encodePng, readPng, writePng } from './png.js';
export { Progress, type ProgressOptions } from './progress.js';
export { type Checkpoint, Run } from './run.js';
