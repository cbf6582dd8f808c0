// Bits per dimension, the likelihood unit of image density models.
//
// Two cases, and the caller must say which one applies:
//
// 1. Discrete: `nll` is already −log P(x) of the integer data (a discretised logistic or a
//    categorical decoder, a VDM's discrete likelihood). Then bpd = nll / (D ln 2).
//
// 2. Dequantised: the data are n-bit integers x ∈ {0, …, 2^n − 1}, dequantised and rescaled as
//       y = lo + (hi − lo) · (x + u) / 2^n,   u ~ U[0, 1)^D,
//    and `nll` is −log p(y) of a density over the continuous y. With z = x + u on [0, 2^n)^D,
//       p_z(z) = p_y(y) · |dy/dz|^D = p_y(y) · ((hi − lo) / 2^n)^D,
//    and −E_u log p_z(x + u) bounds −log P(x) from above (Theis et al. 2016), so
//       nll_discrete ≤ nll_y + D · (n ln 2 − ln(hi − lo))   [nats]
//       bpd = nll_y / (D ln 2) + n − log2(hi − lo).
//    For 8-bit data in [0, 1] that adds 8 bits/dim; in [−1, 1] it adds 7.
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';

/** How continuous data were made from n-bit integers: y = lo + (hi − lo)(x + u) / 2^bits. */
export interface Dequantization {
  /** Bit depth n of the integer data; 8 for ordinary images. */
  bits?: number;
  /** [lo, hi] the data were rescaled to; [0, 1] or [−1, 1] usually. */
  range?: [number, number];
}

/** Bits/dim from −log P(x) in nats of discrete data (or any nll already in the space you report). */
export function bitsPerDim(nllNats: number, dims: number): number;
export function bitsPerDim(nllNats: Tensor, dims: number): Tensor;
export function bitsPerDim(nllNats: number | Tensor, dims: number): number | Tensor {
  checkDims(dims);
  const denom = dims * Math.LN2;
  return typeof nllNats === 'number' ? nllNats / denom : nllNats.div(denom);
}

/**
 * Nats to add to −log p(y) of the rescaled continuous data so that it bounds −log P(x) of the
 * n-bit integers: D · (n ln 2 − ln(hi − lo)), the log-Jacobian of y ↦ z = 2^n (y − lo) / (hi − lo).
 */
export function dequantizationCorrection(dims: number, deq: Dequantization = {}): number {
  checkDims(dims);
  const bits = deq.bits ?? 8;
  const [lo, hi] = deq.range ?? [0, 1];
  if (!(hi > lo)) throw new Error(`dequantizationCorrection: range must have hi > lo, got [${lo}, ${hi}]`);
  if (!(bits > 0)) throw new Error(`dequantizationCorrection: bits must be positive, got ${bits}`);
  return dims * (bits * Math.LN2 - Math.log(hi - lo));
}

/**
 * Bits/dim of n-bit integer data from −log p(y) in nats of a density over the dequantised,
 * rescaled data (case 2 above). Defaults: 8 bits, range [0, 1].
 */
export function dequantizedBitsPerDim(nllNats: number, dims: number, deq?: Dequantization): number;
export function dequantizedBitsPerDim(nllNats: Tensor, dims: number, deq?: Dequantization): Tensor;
export function dequantizedBitsPerDim(
  nllNats: number | Tensor,
  dims: number,
  deq: Dequantization = {},
): number | Tensor {
  const extra = dequantizationCorrection(dims, deq);
  const denom = dims * Math.LN2;
  return typeof nllNats === 'number' ? (nllNats + extra) / denom : tidy(() => nllNats.add(extra).div(denom));
}

/** Inverse of bitsPerDim: total nats per example. */
export function natsFromBitsPerDim(bpd: number, dims: number): number {
  checkDims(dims);
  return bpd * dims * Math.LN2;
}

function checkDims(dims: number): void {
  if (!Number.isInteger(dims) || dims <= 0) throw new Error(`bits/dim: dims must be a positive integer, got ${dims}`);
}
