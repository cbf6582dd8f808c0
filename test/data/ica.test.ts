import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeNonlinearIca } from '../../src/data/ica.js';
import { meanCorrCoef } from '../../src/metrics/mcc.js';
import * as torch from '../../src/torch/index.js';

test('ICA data: shapes, segments, scales in range and reproducible from the seed', () => {
  const a = makeNonlinearIca({ segments: 10, perSegment: 200, seed: 2, condSamples: 500 });
  const b = makeNonlinearIca({ segments: 10, perSegment: 200, seed: 2, condSamples: 500 });
  const c = makeNonlinearIca({ segments: 10, perSegment: 200, seed: 3, condSamples: 500 });
  assert.deepEqual(a.x.shape, [2000, 5]);
  assert.deepEqual(a.s.shape, [2000, 5]);
  assert.deepEqual(a.scales.shape, [10, 5]);
  assert.equal(a.mixing.length, 3);
  assert.ok(a.x.equal(b.x) && a.s.equal(b.s));
  assert.ok(!a.x.equal(c.x));
  torch.tidy(() => {
    assert.equal(a.segment.select(0, 0).item(), 0);
    assert.equal(a.segment.select(0, 1999).item(), 9);
    assert.equal(a.scales.min().item() >= 0.5 && a.scales.max().item() <= 3, true);
    // Within a segment the sources have the segment's scales as standard deviations.
    const seg = a.s.narrow(0, 400, 200).to('float64');
    const ratio = seg.std(0).div(a.scales.select(0, 2));
    assert.ok(ratio.sub(1).abs().max().item() < 0.2, `${ratio.toArray()}`);
    // Mixing matrices have unit-norm columns and passed the condition-number threshold.
    for (const [i, m] of a.mixing.entries()) {
      assert.ok(m.norm(2, 0).sub(1).abs().max().item() < 1e-12);
      assert.ok(a.conditions[i] <= a.thresholds[i]);
    }
  });
  for (const d of [a, b, c]) d.dispose();
});

test('ICA data: the mixing is nonlinear, Laplace sources have unit variance before scaling, options are checked', () => {
  const lin = makeNonlinearIca({
    segments: 4,
    perSegment: 2000,
    activation: 'none',
    layers: 1,
    seed: 5,
    condSamples: 200,
  });
  torch.tidy(() => {
    // With a single linear layer x = s·A exactly.
    assert.ok(lin.s.to('float64').matmul(lin.mixing[0]).sub(lin.x.to('float64')).abs().max().item() < 1e-5);
  });
  const lap = makeNonlinearIca({
    segments: 1,
    perSegment: 50000,
    source: 'laplace',
    scaleRange: [1, 1],
    activation: 'xtanh',
    seed: 6,
    condSamples: 200,
  });
  torch.tidy(() => {
    const v = lap.s.to('float64').var(0);
    assert.ok(v.sub(1).abs().max().item() < 0.05, `${v.toArray()}`);
    // Excess kurtosis of a Laplace is 3.
    const k = lap.s.to('float64').pow(4).mean(0).div(v.square()).sub(3);
    assert.ok(k.sub(3).abs().max().item() < 0.6, `${k.toArray()}`);
    // Sources and observations are not trivially related: the MCC of x itself is well below 1.
    assert.ok(meanCorrCoef(lap.s, lap.x) < 0.9);
  });
  lin.dispose();
  lap.dispose();
  assert.throws(() => makeNonlinearIca({ activation: 'relu' as never }), /unknown activation/);
  assert.throws(() => makeNonlinearIca({ dim: 5, dataDim: 3 }), /dataDim/);
  assert.throws(() => makeNonlinearIca({ scaleRange: [0, 1] }), /scaleRange/);
});

test('ICA data: repeatMatrix reuses the first matrix for every layer when dataDim = dim, as the reference', () => {
  const sq = makeNonlinearIca({ segments: 2, perSegment: 50, repeatMatrix: true, seed: 4, condSamples: 200 });
  assert.equal(sq.mixing.length, 3);
  assert.ok(sq.mixing[1] === sq.mixing[0] && sq.mixing[2] === sq.mixing[0]);
  assert.equal(sq.conditions.length, 1);
  const wide = makeNonlinearIca({
    segments: 2,
    perSegment: 50,
    dataDim: 7,
    repeatMatrix: true,
    seed: 4,
    condSamples: 200,
  });
  assert.deepEqual(wide.mixing[0].shape, [5, 7]);
  assert.ok(wide.mixing[2] === wide.mixing[1] && wide.mixing[1] !== wide.mixing[0]);
  sq.dispose();
  wide.dispose();
});
