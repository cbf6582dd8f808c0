import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadDigits } from '../../src/data/digits.js';
import { torch } from '../../src/index.js';
import { accuracy } from '../../src/metrics/classification.js';
import { classifierExtractor, loadFeatureNet } from '../../src/metrics/featureNet.js';
import { fidFromFeatures } from '../../src/metrics/fid.js';

test('the shipped digits feature network classifies the test split and gives FID 0 to itself', () => {
  const net = loadFeatureNet('digits');
  const test = loadDigits({ split: 'test' });
  torch.tidy(() => {
    const x = test.images();
    const logits = torch.noGrad(() => net.forward(x));
    assert.ok(accuracy(logits, test.y) > 0.97, 'the shipped weights must be the trained ones');
    const f = classifierExtractor(net).features(x);
    assert.deepEqual(f.shape, [360, 128]);
    assert.ok(Math.abs(fidFromFeatures(f, f)) < 1e-6);
    // Noise images are far from digits in feature space (here about 350 against 44 between two halves
    // of the test split, a gap that small-sample bias alone does not explain).
    const noise = classifierExtractor(net).features(torch.rand([360, 1, 8, 8], { generator: new torch.Generator(1) }));
    assert.ok(fidFromFeatures(f, noise) > 5 * fidFromFeatures(f.narrow(0, 0, 180), f.narrow(0, 180, 180)));
  });
  test.dispose();
  net.dispose();
});

test('an unknown feature network is a clear error', () => {
  assert.throws(() => loadFeatureNet('cifar10'), /no feature network for 'cifar10'/);
});
