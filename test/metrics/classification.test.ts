import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  accuracy,
  calibrationBins,
  confusionMatrix,
  expectedCalibrationError,
  rocAuc,
} from '../../src/metrics/classification.js';
import * as torch from '../../src/torch/index.js';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);
const labels = (xs: number[]) => torch.tensor(xs, { dtype: 'int64' });
const f64 = (data: torch.NestedArray) => torch.tensor(data, { dtype: 'float64' });

test('accuracy from labels and from scores', () => {
  assert.equal(accuracy(labels([0, 1, 2, 1]), labels([0, 2, 2, 1])), 0.75);
  const scores = torch.tensor([
    [2, 1, 0],
    [0, 3, 1],
    [0, 0, 5],
    [1, 0, 0],
  ]);
  assert.equal(accuracy(scores, labels([0, 1, 2, 1])), 0.75);
});

test('confusion matrix: rows are true classes, columns predictions', () => {
  const cm = confusionMatrix(labels([0, 1, 2, 1, 0]), labels([0, 2, 2, 1, 1]));
  assert.equal(cm.dtype, 'int64');
  assert.deepEqual(cm.toArray(), [
    [1, 0, 0],
    [1, 1, 0],
    [0, 1, 1],
  ]);
  assert.deepEqual(confusionMatrix(labels([1, 1]), labels([0, 1]), 3).toArray(), [
    [0, 1, 0],
    [0, 1, 0],
    [0, 0, 0],
  ]);
  assert.throws(() => confusionMatrix(labels([3]), labels([0]), 3), /labels must lie/);
});

test('ROC-AUC on hand-computed cases, ties counting one half', () => {
  // Positives 0.35, 0.8 against negatives 0.1, 0.4: 3 of 4 pairs ordered.
  close(rocAuc(f64([0.1, 0.4, 0.35, 0.8]), labels([0, 0, 1, 1])), 0.75);
  close(rocAuc(f64([1, 2, 3, 4]), labels([0, 0, 1, 1])), 1);
  close(rocAuc(f64([4, 3, 2, 1]), labels([0, 0, 1, 1])), 0);
  // All tied: 0.5.
  close(rocAuc(f64([0.5, 0.5, 0.5, 0.5]), labels([0, 1, 0, 1])), 0.5);
  // Positives 2, 3 against negatives 1, 2: pairs 1 + 0.5 + 1 + 1 = 3.5 of 4.
  close(rocAuc(f64([1, 2, 2, 3]), labels([0, 0, 1, 1])), 0.875);
  // Booleans work as labels.
  close(rocAuc(f64([1, 2, 2, 3]), torch.tensor([false, false, true, true])), 0.875);
  assert.throws(() => rocAuc(f64([1, 2]), labels([1, 1])), /both/);
});

test('ROC-AUC equals the pairwise count on data with many ties', () => {
  const g = new torch.Generator(9);
  const s = torch.randint(0, 5, [300], { generator: g });
  const y = torch.randint(0, 2, [300], { generator: g });
  const sv = Array.from(s.toTypedArray() as BigInt64Array, Number);
  const yv = Array.from(y.toTypedArray() as BigInt64Array, Number);
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < sv.length; i++) {
    if (yv[i] !== 1) continue;
    for (let j = 0; j < sv.length; j++) {
      if (yv[j] !== 0) continue;
      pairs++;
      wins += sv[i] > sv[j] ? 1 : sv[i] === sv[j] ? 0.5 : 0;
    }
  }
  close(rocAuc(s.double(), y), wins / pairs);
});

test('expected calibration error on a hand-computed example', () => {
  const probs = f64([
    [0.9, 0.05, 0.05], // conf 0.9, right, bin (0.8, 1]
    [0.7, 0.2, 0.1], // conf 0.7, wrong, bin (0.6, 0.8]
    [0.1, 0.85, 0.05], // conf 0.85, right, bin (0.8, 1]
    [0.3, 0.3, 0.4], // conf 0.4, right, bin (0.2, 0.4] (an edge belongs to the lower bin)
    [0.6, 0.4, 0], // conf 0.6, wrong, bin (0.4, 0.6]
  ]);
  const y = labels([0, 1, 1, 2, 1]);
  const bins = calibrationBins(probs, y, { bins: 5 });
  assert.deepEqual(bins.counts, [0, 1, 1, 1, 2]);
  assert.deepEqual(bins.accuracy, [0, 1, 0, 0, 1]);
  close(bins.confidence[4], 0.875);
  // (2/5)|1 − 0.875| + (1/5)|0 − 0.7| + (1/5)|1 − 0.4| + (1/5)|0 − 0.6| = 0.05 + 0.14 + 0.12 + 0.12.
  close(expectedCalibrationError(probs, y, { bins: 5 }), 0.43);
});

test('ECE of a binary classifier from positive-class probabilities', () => {
  // Confidences 0.9 (right), 0.75 (right), 0.6 (wrong) in separate bins: (0.1 + 0.25 + 0.6) / 3.
  close(expectedCalibrationError(f64([0.9, 0.25, 0.6]), labels([1, 0, 0]), { bins: 5 }), 0.95 / 3);
  // Perfect calibration: confidence 1 and always right.
  close(expectedCalibrationError(f64([1, 0, 1]), labels([1, 0, 1])), 0);
});
