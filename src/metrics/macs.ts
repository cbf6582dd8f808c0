// Multiply-accumulates of a network, counted on its real operations: a forward pass is run with
// every counted layer watched, so shared, skipped or repeated layers count as they actually run.
// The conventions are ptflops's (which the PIBConv paper used for its GMACs):
//   conv:    H_out·W_out·C_out·(C_in/groups)·k_h·k_w  (+ H_out·W_out·C_out with a bias)
//   linear:  in·out per row                          (+ out with a bias)
//   pooling: one per input element (max, average and adaptive average)
//   batch norm: one per element, two with an affine transform; ReLU/GELU: one per element.
// Element-wise tensor arithmetic outside modules (sums of a cell's edges) is not counted.
import { GELU, ReLU } from '../nn/layers/activation.js';
import { Conv2d } from '../nn/layers/conv.js';
import { Linear } from '../nn/layers/linear.js';
import { BatchNorm1d, BatchNorm2d } from '../nn/layers/norm.js';
import { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d } from '../nn/layers/pooling.js';
import type { Module } from '../nn/module.js';
import { noGrad } from '../torch/autograd.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import { inMode, withForwardWatch } from './instrument.js';

const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** MACs of one call of `m` on `input` giving `output`, or null for a layer that is not counted. */
export function layerMacs(m: Module, input: Tensor, output: Tensor): number | null {
  if (m instanceof Conv2d) {
    const [kh, kw] = m.kernelSize;
    const out = numel(output.shape);
    return out * (m.inChannels / m.groups) * kh * kw + (m.bias ? out : 0);
  }
  if (m instanceof Linear) {
    const out = numel(output.shape);
    const inFeatures = input.shape[input.ndim - 1];
    return out * inFeatures + (m.bias ? out : 0);
  }
  if (m instanceof MaxPool2d || m instanceof AvgPool2d || m instanceof AdaptiveAvgPool2d) return numel(input.shape);
  if (m instanceof BatchNorm2d || m instanceof BatchNorm1d) return numel(output.shape) * (m.weight ? 2 : 1);
  if (m instanceof ReLU || m instanceof GELU) return numel(output.shape);
  return null;
}

export interface LayerMacs {
  name: string;
  type: string;
  /** Per input example, summed over the layer's calls. */
  macs: number;
  calls: number;
}

export interface MacReport {
  /** MACs per input example. */
  total: number;
  byType: Record<string, number>;
  layers: LayerMacs[];
}

/**
 * Counts the MACs of `forward(input)` (default `model.forward`) per example of the batch, in eval
 * mode (batch norm's running statistics are left untouched) and without autograd.
 */
export function countMacs(model: Module, input: Tensor, forward?: (x: Tensor) => unknown): MacReport {
  const n = input.shape[0];
  const named = model.namedModules();
  const names = new Map(named.map(([k, m]) => [m, k]));
  const byLayer = new Map<Module, LayerMacs>();
  const watch = (m: Module, x: Tensor, out: unknown) => {
    const macs = layerMacs(m, x, out as Tensor);
    if (macs === null) return;
    let rec = byLayer.get(m);
    if (!rec) {
      rec = { name: names.get(m) ?? '', type: m.constructor.name, macs: 0, calls: 0 };
      byLayer.set(m, rec);
    }
    rec.macs += macs / n;
    rec.calls++;
  };
  inMode(model, false, () =>
    withForwardWatch(
      named.map(([, m]) => m),
      watch,
      () => noGrad(() => tidy(() => void (forward ? forward(input) : model.forward(input)))),
    ),
  );
  const layers = [...byLayer.values()];
  const byType: Record<string, number> = {};
  for (const l of layers) byType[l.type] = (byType[l.type] ?? 0) + l.macs;
  return { total: layers.reduce((s, l) => s + l.macs, 0), byType, layers };
}
