// Checks shared by the GroupNorm kernel tests.
import assert from 'node:assert/strict';
import { torch } from '../../src/index.js';
import { grad } from '../../src/torch/autograd.js';
import type { Tensor } from '../../src/torch/tensor.js';

/**
 * The weight gradient of sum(norm(x, weight, bias) · w), for x [3, 8, 4, 4] in `layout` and 2
 * groups, against a central difference (step 1e-2) in each of the 8 channels.
 */
export function assertWeightGradientByCentralDifference(
  norm: (x: Tensor, groups: number, weight: Tensor, bias: Tensor) => Tensor,
  layout: 'contiguous' | 'channelsLast',
): void {
  torch.tidy(() => {
    const g = new torch.Generator(9);
    const x = torch.randn([3, 8, 4, 4], { generator: g }).contiguous(layout);
    const w = torch.randn([3, 8, 4, 4], { generator: g });
    const weight = torch.rand([8], { generator: g }).add(0.5).requiresGrad_(true);
    const bias = torch.randn([8], { generator: g }).requiresGrad_(true);
    const loss = (wt: Tensor) => norm(x, 2, wt, bias).mul(w).sum();
    const [gw] = grad(loss(weight), [weight]);
    const analytic = gw!.toTypedArray() as Float32Array;
    const h = 1e-2;
    for (let c = 0; c < 8; c++) {
      const bump = (d: number) => {
        const delta = new Float32Array(8);
        delta[c] = d;
        return weight.detach().add(torch.tensor(delta));
      };
      const fd = (loss(bump(h)).item() - loss(bump(-h)).item()) / (2 * h);
      assert.ok(Math.abs(analytic[c] - fd) < 1e-2 * Math.max(1, Math.abs(fd)), `channel ${c}: ${analytic[c]} vs ${fd}`);
    }
  });
}
