// The networks of the bayes experiments: the small ConvNet in its four normalisations (Salimans &
// Kingma 2016, §5.1 in miniature), the 3-layer MLP of Kingma et al. 2015's Table 1 in its three
// noise models, and LeNet-300-100 with sparse variational dropout (Molchanov et al. 2017).
import {
  BatchNorm2d,
  Conv2d,
  Flatten,
  GaussianDropoutLinear,
  Linear,
  MaxPool2d,
  MeanOnlyBatchNorm,
  type Module,
  ReLU,
  Sequential,
  utils,
  VariationalLinear,
} from '../nn/index.js';

/** The four ways the convergence experiment trains one ConvNet. */
export const CONV_VARIANTS = ['plain', 'wn-init', 'wn-mobn', 'bn'] as const;
export type ConvVariant = (typeof CONV_VARIANTS)[number];

export interface ImageShape {
  channels: number;
  size: number;
  classes: number;
}

/**
 * conv 3×3 (16) → pool → conv 3×3 (32) → pool → linear, ReLU between. 'plain' has biases and
 * PyTorch's init; 'wn-init' weight-normalises every layer; 'wn-mobn' weight-normalises every layer,
 * the convolutions without bias and each followed by mean-only batch norm (the experiment
 * initialises both from data); 'bn' puts full batch norm after each convolution.
 */
export function convNet(variant: ConvVariant, shape: ImageShape): Sequential {
  const widths = [16, 32];
  const layers: Module[] = [];
  let cin = shape.channels;
  for (const w of widths) {
    const bias = variant === 'plain' || variant === 'wn-init';
    const conv = new Conv2d(cin, w, 3, { padding: 1, bias });
    layers.push(variant === 'wn-init' || variant === 'wn-mobn' ? utils.weightNorm(conv) : conv);
    if (variant === 'wn-mobn') layers.push(new MeanOnlyBatchNorm(w));
    if (variant === 'bn') layers.push(new BatchNorm2d(w));
    layers.push(new ReLU(), new MaxPool2d(2));
    cin = w;
  }
  const side = Math.floor(Math.floor(shape.size / 2) / 2);
  const head = new Linear(cin * side * side, shape.classes);
  layers.push(new Flatten(), variant === 'plain' || variant === 'bn' ? head : utils.weightNorm(head));
  return new Sequential(...layers);
}

/** The noise models of the gradient-variance experiment's MLP. */
export const MLP_KINDS = ['weights', 'dropout-a', 'dropout-b'] as const;
export type MlpKind = (typeof MLP_KINDS)[number];

/**
 * in → hidden → hidden → classes with ReLU. 'weights': a fully factorised Gaussian posterior, its
 * own σ² per weight, started at α = alpha, with the 2017 KL (with σ² free, the 2015 fit's α ≤ 1
 * clip stalls: the KL shrinks θ until α = 1, where its gradient stops); 'dropout-a'/'dropout-b':
 * Gaussian dropout with one learned α ≤ 1 per input unit, noise on the units (A) or on each weight (B).
 */
export function noisyMlp(kind: MlpKind, inputs: number, hidden: number, classes: number, alpha: number): Sequential {
  const widths = [inputs, hidden, hidden, classes];
  const layers: Module[] = [new Flatten()];
  for (let i = 0; i < 3; i++) {
    const [a, b] = [widths[i], widths[i + 1]];
    layers.push(
      kind === 'weights'
        ? new VariationalLinear(a, b, { kl: 'kingma2015', logAlphaInit: Math.log(alpha) })
        : new GaussianDropoutLinear(a, b, { type: kind === 'dropout-a' ? 'A' : 'B', alpha }),
    );
    if (i < 2) layers.push(new ReLU());
  }
  return new Sequential(...layers);
}

/** LeNet-300-100 with sparse variational dropout on every layer (log σ² from −10, log α ∈ [−8, 8]). */
export function sparseLeNet(inputs: number, classes: number): Sequential {
  return new Sequential(
    new Flatten(),
    new VariationalLinear(inputs, 300),
    new ReLU(),
    new VariationalLinear(300, 100),
    new ReLU(),
    new VariationalLinear(100, classes),
  );
}
