// The small classifier behind FID, IS and precision/recall on digits and Fashion-MNIST.
// Its trained weights ship in assets/feature-nets/, so metrics need no training first.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SiLU } from '../nn/layers/activation.js';
import { Sequential } from '../nn/layers/container.js';
import { Conv2d } from '../nn/layers/conv.js';
import { Dropout } from '../nn/layers/dropout.js';
import { Flatten, Linear } from '../nn/layers/linear.js';
import { GroupNorm } from '../nn/layers/norm.js';
import { AdaptiveAvgPool2d } from '../nn/layers/pooling.js';
import { Module } from '../nn/module.js';
import { noGrad } from '../torch/autograd.js';
import { GenlabError } from '../torch/errors.js';
import { loadSafetensors } from '../torch/safetensors.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import type { FeatureExtractor } from './extractor.js';

export interface ClassifierConfig {
  channels: number;
  /** Image side (8 for digits, 28 for Fashion-MNIST). */
  size: number;
  classes: number;
  /** Width of the feature layer. */
  features?: number;
}

/**
 * conv → conv (stride 2) → conv, each with GroupNorm and SiLU, pooled to 4×4, then a feature layer
 * and the class logits. Inputs are images in [0, 1].
 */
export class ClassifierNet extends Module<[Tensor], Tensor> {
  readonly config: Required<ClassifierConfig>;
  readonly body: Sequential;
  readonly head: Sequential;
  readonly out: Linear;

  constructor(config: ClassifierConfig) {
    super();
    this.config = { features: 128, ...config };
    const { channels, size, features, classes } = this.config;
    const stride2 = size > 8 ? 2 : 1;
    this.body = this.registerModule(
      'body',
      new Sequential(
        new Conv2d(channels, 32, 3, { padding: 1 }),
        new GroupNorm(8, 32),
        new SiLU(),
        new Conv2d(32, 64, 3, { padding: 1, stride: 2 }),
        new GroupNorm(8, 64),
        new SiLU(),
        new Conv2d(64, 64, 3, { padding: 1, stride: stride2 }),
        new GroupNorm(8, 64),
        new SiLU(),
        new AdaptiveAvgPool2d(4),
        new Flatten(),
      ),
    );
    this.head = this.registerModule(
      'head',
      new Sequential(new Linear(64 * 16, features), new SiLU(), new Dropout(0.2)),
    );
    this.out = this.registerModule('out', new Linear(features, classes));
  }

  /** The feature-layer activations used by FID and precision/recall. */
  features(x: Tensor): Tensor {
    return this.head.forward(this.body.forward(x.mul(2).sub(1)));
  }

  forward(x: Tensor): Tensor {
    return this.out.forward(this.features(x));
  }
}

export const FEATURE_NETS: Record<string, ClassifierConfig> = {
  digits: { channels: 1, size: 8, classes: 10 },
  'fashion-mnist': { channels: 1, size: 28, classes: 10 },
};

export function featureNetPath(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return join(dir, 'assets', 'feature-nets', `${name}.safetensors`);
}

/** The shipped, trained classifier for a data set, in eval mode. */
export function loadFeatureNet(name: string): ClassifierNet {
  const config = FEATURE_NETS[name];
  if (!config) {
    throw new GenlabError('usage', `no feature network for '${name}' (have: ${Object.keys(FEATURE_NETS).join(', ')})`);
  }
  const path = featureNetPath(name);
  if (!existsSync(path)) {
    throw new GenlabError(
      'asset',
      `${path} is missing`,
      `train a classifier with {data} '${name}' and export its weights to that file`,
    );
  }
  const net = new ClassifierNet(config);
  tidy(() => net.loadStateDict(loadSafetensors(path).tensors));
  net.eval();
  return net;
}

/** Adapts a classifier to the FeatureExtractor interface of FID/IS. */
export function classifierExtractor(net: ClassifierNet): FeatureExtractor {
  return {
    features: (x) => noGrad(() => net.features(x)),
    probs: (x) => noGrad(() => net.forward(x).softmax(-1)),
  };
}
