// The Glow training step that bench/glow.ts times and bench/memory.ts runs for its peak RSS: the
// CLI's step minus the data loader and the (pure-JS) LR schedule, on one fixed random batch.
import { bitsPerDim, dequantize, quantization } from '../src/flows/dequant.js';
import { FLOWS_MEMORY_FORMAT } from '../src/flows/experiment.js';
import { Glow } from '../src/flows/glow.js';
import { optim, torch } from '../src/index.js';

export interface GlowWorkload {
  shape: [number, number, number];
  levels: number;
  depth: number;
  hidden: number;
  batch: number;
  levels_in_data: number;
  /** The activations' layout; the CLI's (channels-last) when absent. */
  memoryFormat?: 'contiguous' | 'channelsLast';
}

/** Builds the model, batch and Adam of workload w (seed 0); `step` returns the loss, `dispose` frees all. */
export function glowTrainStep(w: GlowWorkload): { step: () => number; dispose: () => void } {
  torch.manualSeed(0);
  const memoryFormat = w.memoryFormat ?? FLOWS_MEMORY_FORMAT;
  const glow = new Glow({ shape: w.shape, levels: w.levels, depth: w.depth, hidden: w.hidden, memoryFormat });
  const q = quantization(w.levels_in_data);
  const x01 = torch
    .randint(0, w.levels_in_data, [w.batch, ...w.shape])
    .float()
    .div(w.levels_in_data - 1)
    .keep();
  torch.tidy(() => glow.initialize(dequantize(x01, q)));
  const optimizer = new optim.Adam(glow.parameters(), { lr: 1e-3 });
  const params = glow.parameters();
  const step = () =>
    torch.tidy(() => {
      optimizer.zeroGrad();
      const loss = bitsPerDim(glow.forward(dequantize(x01, q)), glow.dims, q).mean();
      loss.backward();
      optim.clipGradNorm(params, 50);
      optimizer.step();
      return loss.item();
    });
  const dispose = () => {
    x01.dispose();
    glow.dispose();
    for (const s of optimizer.state.values()) torch.dispose(s);
  };
  return { step, dispose };
}
