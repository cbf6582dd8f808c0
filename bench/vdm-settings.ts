// The settings both sides of the VDM step benchmark read: bench/vdm.ts and bench/ab.ts write them
// for their workers (genlab's, and bench/vdm.py's).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageDataset } from '../src/data/dataset.js';
import { loadDataset } from '../src/data/registry.js';
import { defaultConfig } from '../src/diffusion/config.js';

export interface BenchSettings {
  threads: number;
  seed: number;
  levels: number;
  width: number;
  depth: number;
  fourier: number[];
  batchSize: number;
  lr: number;
  gammaMin: number;
  gammaMax: number;
  images: string;
  /** The U-Net's activation layout (the CLI's `--memory-format`); row-major when absent. */
  memoryFormat?: 'contiguous' | 'channelsLast';
}

/** The CLI's digits model and training settings (its layout included), with the training images written raw into `dir`. */
export function digitsBenchSettings(threads: number, dir: string): BenchSettings {
  const d = defaultConfig('digits');
  const train = loadDataset('digits', { split: 'train' }) as ImageDataset;
  const images = join(dir, 'digits-train.u8');
  writeFileSync(images, train.raw.contiguous().toTypedArray() as Uint8Array);
  train.dispose();
  return {
    threads,
    seed: 0,
    levels: 17,
    width: d.width,
    depth: d.depth,
    fourier: d.fourier,
    batchSize: d.batchSize,
    lr: d.lr,
    gammaMin: d.gammaMin,
    gammaMax: d.gammaMax,
    images,
    memoryFormat: d.memoryFormat,
  };
}
