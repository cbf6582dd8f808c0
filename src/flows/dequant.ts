// n-bit data, uniform dequantisation, and bits/dim.
//
// A data set's images arrive as floats k / (levels − 1) with integer k in [0, levels). Glow models
// y = (b + u) / bins − ½, u ~ U[0, 1)^D, where b ∈ {0, …, bins − 1} is k reduced to n bits
// (bins = 2^n) or left as is (bins = levels: 17 for the UCI digits). y lies in [−½, ½), so
// p_b(b) ≥ E_u p_y(y) / bins^D (Theis et al. 2016) and
//   bits/dim = (−log p_y(y) + D ln bins) / (D ln 2)   (src/metrics/bits.ts, range [−½, ½]).
import { dequantizedBitsPerDim } from '../metrics/bits.js';
import { randLike } from '../torch/creation.js';
import type { Generator } from '../torch/random.js';
import type { Tensor } from '../torch/tensor.js';

/** How images become bins: `levels` grey levels in the data, reduced to `bins`. */
export interface Quantization {
  levels: number;
  bins: number;
}

/** bins = 2^nBits when nBits is given (needs a power-of-two level count), else every level is a bin. */
export function quantization(levels: number, nBits?: number): Quantization {
  if (nBits === undefined || nBits <= 0) return { levels, bins: levels };
  const bins = 2 ** nBits;
  if (!Number.isInteger(nBits)) throw new Error(`n-bits must be a whole number, got ${nBits}`);
  if (Math.log2(levels) % 1 !== 0) throw new Error(`n-bits needs power-of-two levels; this data has ${levels}`);
  if (bins > levels) throw new Error(`n-bits ${nBits} asks for ${bins} bins; the data has only ${levels} levels`);
  return { levels, bins };
}

/** Integer bins b (as floats) of images in [0, 1]. */
export function toBins(x: Tensor, q: Quantization): Tensor {
  const k = x.mul(q.levels - 1).round();
  return q.bins === q.levels ? k : k.div(q.levels / q.bins).floor();
}

/** The model's input: y = (b + u) / bins − ½ with u ~ U[0, 1). */
export function dequantize(x: Tensor, q: Quantization, opts: { generator?: Generator } = {}): Tensor {
  const b = toBins(x, q);
  return b
    .add(randLike(b, { generator: opts.generator }))
    .div(q.bins)
    .sub(0.5);
}

/** Images to model space at the bin centres (u = ½): a deterministic encoding for latent edits. */
export function binCentres(x: Tensor, q: Quantization): Tensor {
  return toBins(x, q).add(0.5).div(q.bins).sub(0.5);
}

/** Model space back to images in [0, 1]: the bin y falls in, shown as b / (bins − 1). */
export function toImage(y: Tensor, q: Quantization): Tensor {
  return y
    .add(0.5)
    .mul(q.bins)
    .floor()
    .clamp(0, q.bins - 1)
    .div(q.bins - 1);
}

/** Bits/dim of the discrete data from log p(y) in nats ([B] or a number), with the correction above. */
export function bitsPerDim(logp: Tensor, dims: number, q: Quantization): Tensor;
export function bitsPerDim(logp: number, dims: number, q: Quantization): number;
export function bitsPerDim(logp: Tensor | number, dims: number, q: Quantization): Tensor | number {
  const deq = { bits: Math.log2(q.bins), range: [-0.5, 0.5] as [number, number] };
  return typeof logp === 'number'
    ? dequantizedBitsPerDim(-logp, dims, deq)
    : dequantizedBitsPerDim(logp.neg(), dims, deq);
}
