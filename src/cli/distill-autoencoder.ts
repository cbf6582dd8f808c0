// genlab distill autoencoder: the small autoencoder whose scaled latents a latent teacher diffuses in
// (`genlab distill teacher --latent <run>`), the latent-space variant of guided distillation.
import { join } from 'node:path';
import {
  AUTOENCODER_DEFAULTS,
  type AutoencoderTrainResult,
  autoencoderConfig,
  trainAutoencoderRun,
} from '../diffusion/distill/autoencoder.js';
import { float, int, path, text } from './args.js';
import { root, trainingOptions, trainRunOptions } from './common.js';
import { verb } from './verb.js';

const d = AUTOENCODER_DEFAULTS;

export const autoencoder = verb({
  summary: 'train the autoencoder of latent distillation (latents of a quarter the image size)',
  usage: '[options]',
  description:
    "A conv encoder (two stride-2 convolutions) to --channels latent maps and its mirrored decoder, with a small penalty on the latents. It saves each latent channel's mean and std; pass the run to `distill teacher --latent`.",
  options: {
    data: text('fashion-mnist or digits', { default: 'fashion-mnist' }),
    root,
    ...trainingOptions({ 'any data': d }),
    channels: int('latent channels', { min: 1, max: 256, defaultText: String(d.channels) }),
    width: int('convolution width (twice this in the second level)', {
      min: 1,
      max: 1024,
      defaultText: String(d.width),
    }),
    latentPenalty: float('weight of mean(latent²) in the loss', {
      min: 0,
      max: 100,
      defaultText: String(d.latentPenalty),
    }),
    out: path('run folder to write', { defaultText: 'runs/distill-ae-<data>' }),
  },
  run: (o, _a, ctx) => {
    const { data, out, threads: _t, resume: _r, ...settings } = o;
    const cfg = autoencoderConfig(data, settings);
    return trainAutoencoderRun(cfg, out ?? join('runs', `distill-ae-${data}`), trainRunOptions(o, ctx));
  },
  show: (r: AutoencoderTrainResult) => [
    `autoencoder trained ${r.steps} steps (${r.parameters} parameters), loss ${r.loss.toFixed(4)}, test reconstruction MSE ${r.testMse.toFixed(5)}`,
    `latent [${r.latentShape.join(', ')}], per-channel std ${r.stats.std.map((v) => v.toFixed(2)).join(', ')}`,
    `reconstructions: ${r.reconstructions}`,
  ],
});
