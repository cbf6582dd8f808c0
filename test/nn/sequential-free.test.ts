// nn.Sequential frees each intermediate output once the next module has consumed it. The results,
// first and second derivatives included, must be those of calling the modules one by one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nn, torch } from '../../src/index.js';
import type { Tensor } from '../../src/torch/tensor.js';

function model(): nn.Sequential {
  torch.manualSeed(3);
  return new nn.Sequential(
    new nn.Linear(3, 5),
    new nn.Tanh(),
    new nn.Linear(5, 4),
    new nn.Softplus(),
    new nn.Linear(4, 1),
  ).to('float64');
}

/** Output, input gradient (with its graph) and the gradient of its squared norm w.r.t. every parameter. */
function derivatives(m: nn.Sequential, x: Tensor, run: (x: Tensor) => Tensor): number[][] {
  return torch.tidy(() => {
    const xi = x.detach().requiresGrad_();
    const y = run(xi);
    const [gx] = torch.grad(y.sum(), [xi], { createGraph: true });
    const ps = m.parameters();
    // The last bias does not reach the input gradient: its second derivative is absent (null).
    const second = torch.grad((gx as Tensor).square().sum(), ps, { allowUnused: true });
    assert.equal(second.filter((g) => g !== null).length, ps.length - 1);
    return [y, gx, ...second].map((t) => (t === null ? [] : Array.from(t.toTypedArray() as Float64Array)));
  });
}

test('Sequential: early freeing keeps outputs, gradients and double-backward gradients bit for bit', () => {
  const m = model();
  const x = torch.randn([6, 3], { dtype: 'float64' }).keep();
  const chained = derivatives(m, x, (xi) => {
    let h = xi;
    for (const layer of m) h = layer.forward(h);
    return h;
  });
  const seq = derivatives(m, x, (xi) => m.forward(xi));
  assert.deepEqual(seq, chained);
  x.dispose();
  m.dispose();
});

test('Sequential: intermediates are freed during the pass; the input and the output are not', () => {
  const m = model();
  torch.tidy(() => {
    const x = torch.randn([6, 3], { dtype: 'float64' });
    const before = torch.memory().tensors;
    const y = m.forward(x);
    // Five modules, five outputs: four intermediates freed, the last one returned.
    assert.equal(torch.memory().tensors - before, 1);
    assert.deepEqual(x.shape, [6, 3]);
    assert.deepEqual(y.shape, [6, 1]);
  });
  m.dispose();
});

test('Sequential: a watched module keeps its output (the Grad-CAM pattern)', () => {
  const m = model();
  const layer = m.at(1);
  const original = layer.forward;
  let seen: Tensor | null = null;
  let freedDuringPass = true;
  (layer as unknown as { forward: (x: Tensor) => Tensor }).forward = (x: Tensor) => {
    seen = original.call(layer, x);
    return seen;
  };
  torch.tidy(() => {
    const next = m.at(2);
    const nextForward = next.forward;
    (next as unknown as { forward: (x: Tensor) => Tensor }).forward = (x: Tensor) => {
      const y = nextForward.call(next, x);
      freedDuringPass = (seen as unknown as Tensor).isDisposed;
      return y;
    };
    m.forward(torch.randn([2, 3], { dtype: 'float64' }));
    // Not freed early by the Sequential; freed with the Sequential's own scope unless kept.
    assert.equal(freedDuringPass, false);
    assert.equal((seen as unknown as Tensor).isDisposed, true);
  });
  m.dispose();
});
