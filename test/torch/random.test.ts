import assert from 'node:assert/strict';
import { test } from 'node:test';
import { torch } from '../../src/index.js';

test('the same seed gives bit-identical tensors', () => {
  torch.manualSeed(1234);
  const a = torch.randn([100]).toTypedArray();
  const b = torch.rand([7, 3]).toTypedArray();
  torch.manualSeed(1234);
  assert.deepEqual(torch.randn([100]).toTypedArray(), a);
  assert.deepEqual(torch.rand([7, 3]).toTypedArray(), b);
  torch.manualSeed(1235);
  assert.notDeepEqual(torch.randn([100]).toTypedArray(), a);
});

test('explicit generators are independent of the global one and restorable', () => {
  const g = new torch.Generator(7);
  const first = torch.randn([5], { generator: g }).toTypedArray();
  const state = g.getState();
  const second = torch.randn([5], { generator: g }).toTypedArray();
  g.setState(state);
  torch.randn([50]); // the global generator does not disturb g
  assert.deepEqual(torch.randn([5], { generator: g }).toTypedArray(), second);
  g.manualSeed(7);
  assert.deepEqual(torch.randn([5], { generator: g }).toTypedArray(), first);
  assert.equal(g.initialSeed(), 7);
});

test('random draws have the right moments', () => {
  const g = new torch.Generator(3);
  const n = torch.randn([200000], { generator: g, dtype: 'float64' });
  assert.ok(Math.abs(n.mean().item()) < 0.01);
  assert.ok(Math.abs(n.var().item() - 1) < 0.01);
  const u = torch.rand([200000], { generator: g, dtype: 'float64' });
  assert.ok(Math.abs(u.mean().item() - 0.5) < 0.005);
  assert.ok(Math.abs(u.var().item() - 1 / 12) < 0.002);
});

function trainLosses(seed: number): number[] {
  torch.manualSeed(seed);
  const x = torch.randn([32, 4]);
  const y = x.sum(1, { keepdim: true }).sin();
  const w = torch.randn([4, 1]).requiresGrad_();
  const losses: number[] = [];
  for (let i = 0; i < 20; i++) {
    torch.tidy(() => {
      const noise = torch.randn([32, 1]).mul(0.01); // randomness inside the loop too
      const loss = x.matmul(w).add(noise).sub(y).square().mean();
      const [g] = torch.grad(loss, w);
      torch.noGrad(() => w.sub_(g!, { alpha: 0.1 }));
      losses.push(loss.item());
    });
  }
  return losses;
}

test('the same seed gives bit-identical training losses', () => {
  const a = trainLosses(99);
  const b = trainLosses(99);
  assert.deepEqual(a, b);
  assert.ok(a[19] < a[0]);
  assert.notDeepEqual(trainLosses(100), a);
});
