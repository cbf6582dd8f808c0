// Working in latent space: temperature grids, interpolation, and class-mean attribute directions.
import { inferenceMode } from '../torch/autograd.js';
import { full } from '../torch/creation.js';
import { cat } from '../torch/functions.js';
import { Generator } from '../torch/random.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import { type Quantization, toImage } from './dequant.js';
import type { Glow } from './glow.js';

/** Rows of samples, one per temperature, from the same noise (seeded), so rows differ only in T. */
export function temperatureGrid(
  glow: Glow,
  temperatures: number[],
  perRow: number,
  q: Quantization,
  opts: { seed?: number; classes?: number[] } = {},
): Tensor {
  return tidy(() =>
    inferenceMode(() => {
      const y = labels(glow, perRow, opts.classes);
      const rows = temperatures.map((t) => {
        const generator = new Generator(opts.seed ?? 0);
        return toImage(glow.sample(perRow, { temperature: t, y, generator }), q);
      });
      return cat(rows);
    }),
  );
}

/** Class labels for n samples of a class-conditional model: the given classes cycled, or 0…n−1 mod K. */
function labels(glow: Glow, n: number, classes?: number[]): Tensor | undefined {
  const k = glow.config.numClasses ?? 0;
  if (k === 0) return undefined;
  const list = classes?.length ? classes : Array.from({ length: k }, (_, i) => i);
  return tidy(() => {
    const y = full([n], 0, { dtype: 'int64' });
    for (let i = 0; i < n; i++) y.select(0, i).fill_(list[i % list.length]);
    return y;
  });
}

/** Linear mixes of two latents, t = 0 … 1 in `steps` points; latents are lists of [1, …] tensors. */
export function mixLatents(a: Tensor[], b: Tensor[], steps: number): Tensor[] {
  return tidy(() =>
    a.map((ea, i) => {
      const parts: Tensor[] = [];
      for (let s = 0; s < steps; s++) {
        const t = steps === 1 ? 0 : s / (steps - 1);
        parts.push(ea.mul(1 - t).add(b[i].mul(t)));
      }
      return cat(parts);
    }),
  );
}

/**
 * Each pair (xa[i], xb[i]) is encoded, its latents mixed linearly, and decoded: an [P·steps, C, H, W]
 * strip, one row per pair. Labels (for a class-conditional prior) are taken from `ya`.
 */
export function interpolate(
  glow: Glow,
  xa: Tensor,
  xb: Tensor,
  steps: number,
  q: Quantization,
  opts: { ya?: Tensor; yb?: Tensor } = {},
): Tensor {
  return tidy(() =>
    inferenceMode(() => {
      const ea = glow.encode(xa, opts.ya).eps;
      const eb = glow.encode(xb, opts.yb ?? opts.ya).eps;
      const rows: Tensor[] = [];
      for (let i = 0; i < xa.shape[0]; i++) {
        const mixed = mixLatents(
          ea.map((e) => e.narrow(0, i, 1)),
          eb.map((e) => e.narrow(0, i, 1)),
          steps,
        );
        const y = opts.ya ? opts.ya.narrow(0, i, 1).expand(steps) : undefined;
        rows.push(toImage(glow.decode(mixed, y), q));
      }
      return cat(rows);
    }),
  );
}

/** The mean latents of a batch (one [1, …] tensor per level). */
export function meanLatents(glow: Glow, x: Tensor, y?: Tensor, batchSize = 100): Tensor[] {
  return tidy(() =>
    inferenceMode(() => {
      const n = x.shape[0];
      let sums: Tensor[] | null = null;
      for (let i = 0; i < n; i += batchSize) {
        const m = Math.min(batchSize, n - i);
        const eps = glow.encode(x.narrow(0, i, m), y?.narrow(0, i, m)).eps;
        const s = eps.map((e) => e.sum(0, { keepdim: true }));
        sums = sums === null ? s : sums.map((t, k) => t.add(s[k]));
      }
      return sums!.map((t) => t.div(n));
    }),
  );
}

/**
 * The attribute direction of the reference's demo: mean latent of the target class minus mean
 * latent of the source class. Adding α times it to an image's latents moves it toward the target.
 */
export function classDirection(glow: Glow, xFrom: Tensor, xTo: Tensor): Tensor[] {
  return tidy(() => {
    const a = meanLatents(glow, xFrom);
    const b = meanLatents(glow, xTo);
    return b.map((t, i) => t.sub(a[i]));
  });
}

/** For each image, decodes latents + α · direction for every α: [N·|α|, C, H, W], one row per image. */
export function manipulate(
  glow: Glow,
  x: Tensor,
  direction: Tensor[],
  alphas: number[],
  q: Quantization,
  opts: { y?: Tensor } = {},
): Tensor {
  return tidy(() =>
    inferenceMode(() => {
      const eps = glow.encode(x, opts.y).eps;
      const rows: Tensor[] = [];
      for (let i = 0; i < x.shape[0]; i++) {
        const moved = eps.map((e, k) => cat(alphas.map((a) => e.narrow(0, i, 1).add(direction[k].mul(a)))));
        const y = opts.y ? opts.y.narrow(0, i, 1).expand(alphas.length) : undefined;
        rows.push(toImage(glow.decode(moved, y), q));
      }
      return cat(rows);
    }),
  );
}
