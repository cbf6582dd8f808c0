// Grad-CAM (Selvaraju et al. 2017): the class score's gradient, averaged over the positions of a
// layer's feature maps, weighs those maps; ReLU of the weighted sum shows where the evidence lies.
import { interpolate } from '../nn/functional.js';
import type { Module } from '../nn/module.js';
import { grad, noGrad } from '../torch/autograd.js';
import { tensor } from '../torch/creation.js';
import { stack } from '../torch/functions.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import { inMode, withForwardWatch } from './instrument.js';

export interface GradCamOptions {
  /** The layer whose output feature maps [N, K, h, w] are weighed (its last call in the forward). */
  layer: Module;
  /** The class per image (or one for all); the predicted class by default. */
  target?: number | number[];
  /** How to get logits [N, classes] from the input; `model.forward` by default. */
  forward?: (x: Tensor) => Tensor;
}

export interface GradCamResult {
  /** [N, H, W] at the input's size, each map scaled to a maximum of 1 (all zeros stay zeros). */
  cam: Tensor;
  /** [N, h, w] at the layer's size, unscaled: ReLU(Σ_k α_k A_k). */
  raw: Tensor;
  /** The class explained per image. */
  target: number[];
}

/** Grad-CAM maps of `input` [N, C, H, W] for `opts.target`, with the model in eval mode. */
export function gradCam(model: Module, input: Tensor, opts: GradCamOptions): GradCamResult {
  return inMode(model, false, () =>
    tidy(() => {
      // The layer's outputs are made inside its parent's forward, whose scope frees them on return:
      // keep them for the gradient below (the last call's is used), and free them when done.
      const outputs: Tensor[] = [];
      const logits = withForwardWatch(
        [opts.layer],
        (_m, _x, out) => {
          outputs.push((out as Tensor).keep());
        },
        () => (opts.forward ? opts.forward(input) : (model.forward(input) as Tensor)),
      );
      try {
        if (outputs.length === 0) throw new Error('gradCam: the layer was not called by the forward pass');
        const a = outputs[outputs.length - 1];
        if (a.ndim !== 4) throw new Error(`gradCam: the layer's output must be [N, K, h, w], got [${a.shape}]`);
        const n = input.shape[0];
        const target =
          opts.target === undefined
            ? (logits.argmax(1).toArray() as number[])
            : typeof opts.target === 'number'
              ? new Array(n).fill(opts.target)
              : opts.target;
        if (target.length !== n) throw new Error(`gradCam: ${target.length} targets for ${n} images`);
        const idx = tensor(target, { dtype: 'int64' }).view([n, 1]);
        const score = logits.gather(1, idx).sum();
        const [g] = grad(score, a);
        if (g === null) throw new Error("gradCam: the class score does not depend on the layer's output");
        return noGrad(() => {
          // α_k: the gradient averaged over the positions of map k.
          const alpha = g.mean([2, 3], { keepdim: true });
          const raw = a.detach().mul(alpha).sum(1).relu();
          const up = interpolate(raw.unsqueeze(1), {
            size: [input.shape[2], input.shape[3]],
            mode: 'bilinear',
          }).squeeze(1);
          const peak = up.amax([1, 2], { keepdim: true });
          const cam = up.div(peak.clampMin(1e-12));
          return { cam, raw, target };
        });
      } finally {
        for (const t of outputs) t.dispose();
      }
    }),
  );
}

/** A jet-like colour ramp (blue → cyan → yellow → red) of values in [0, 1]: [N, 3, H, W]. */
export function heatColours(cam: Tensor): Tensor {
  return tidy(() => {
    const v = cam.clamp(0, 1).unsqueeze(1);
    const ramp = (centre: number) => v.sub(centre).abs().mul(-4).add(1.5).clamp(0, 1);
    return stack([ramp(0.75), ramp(0.5), ramp(0.25)], 1).squeeze(2);
  });
}

/** Images [N, 1 or 3, H, W] in [0, 1] with their maps [N, H, W] laid over, half and half: [N, 3, H, W]. */
export function camOverlay(images: Tensor, cam: Tensor): Tensor {
  return tidy(() => {
    const rgb = images.shape[1] === 1 ? images.expand([-1, 3, -1, -1]) : images;
    return rgb.mul(0.5).add(heatColours(cam).mul(0.5));
  });
}
