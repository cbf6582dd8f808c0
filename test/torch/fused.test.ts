import assert from 'node:assert/strict';
import { test } from 'node:test';
import { torch } from '../../src/index.js';
import { grad } from '../../src/torch/autograd.js';
import { N } from '../../src/torch/native.js';
import { handle, type Tensor } from '../../src/torch/tensor.js';

/** The float32 values of t as their bit patterns, so NaN, -0 and every last digit compare exactly. */
function bits(t: Tensor): number[] {
  const f = t.contiguous().toTypedArray() as Float32Array;
  return Array.from(new Uint32Array(f.buffer, f.byteOffset, f.length));
}

/** The three ATen ops the fused node replaces, as the coupling network ran them. */
function threeOps(x: Tensor, shift: Tensor, scale: Tensor): Tensor {
  return torch.relu(x.add(shift).mul(scale));
}

/** x with zeros of both signs, NaN, infinities and values that land exactly on the ReLU's kink. */
function awkward(shape: number[], shift: Tensor, seed: number): Tensor {
  const x = torch.randn(shape, { generator: new torch.Generator(seed) }).mul(2);
  const flat = x.toTypedArray() as Float32Array;
  const b = shift.flatten().toTypedArray() as Float32Array;
  const per = flat.length / (shape[0] * shape[1]);
  flat[0] = 0;
  flat[1] = -0;
  flat[2] = Number.NaN;
  flat[3] = Number.POSITIVE_INFINITY;
  flat[4] = Number.NEGATIVE_INFINITY;
  flat[per] = -b[1 % shape[1]]; // x + shift = 0 exactly: the gradient there must be ATen's
  return torch.tensor(flat).reshape(shape);
}

/**
 * Fused against the three ops on the same x. Channels last: x in that layout, and the upstream
 * gradient too ('channelsLast') or row-major ('mixed', which the backward takes through ATen).
 */
function check(shape: number[], seed: number, layout: 'contiguous' | 'channelsLast' | 'mixed' = 'contiguous'): void {
  torch.tidy(() => {
    const c = shape[1];
    const g = new torch.Generator(seed + 100);
    const shiftShape = [1, c, ...shape.slice(2).map(() => 1)];
    const shift = torch.randn(shiftShape, { generator: g }).requiresGrad_(true);
    const logs = torch.randn(shiftShape, { generator: g }).mul(0.5).requiresGrad_(true);
    const inLayout = layout === 'contiguous' ? 'contiguous' : 'channelsLast';
    const x0 = awkward(shape, shift.detach(), seed).contiguous(inLayout);
    const upstream = torch
      .randn(shape, { generator: g })
      .contiguous(layout === 'channelsLast' ? 'channelsLast' : 'contiguous');
    const run = (f: typeof threeOps) => {
      const x = x0.clone().requiresGrad_(true);
      const y = f(x, shift, logs.exp());
      const [gx, gShift, gLogs] = grad(y, [x, shift, logs], { gradOutputs: [upstream] });
      return { y, gx: gx!, gShift: gShift!, gLogs: gLogs! };
    };
    const fused = run(torch.shiftScaleRelu);
    const ref = run(threeOps);
    for (const k of ['y', 'gx', 'gShift', 'gLogs'] as const) {
      assert.deepEqual(bits(fused[k]), bits(ref[k]), `${k} of shape [${shape}], ${layout}`);
    }
    assert.ok(fused.y.isContiguous(inLayout), `the output keeps x's layout (${inLayout})`);
    // The fused path really ran: one node, not ReLU over a product.
    const y = torch.shiftScaleRelu(x0.clone().requiresGrad_(true), shift, logs.exp());
    assert.match(y.gradFn ?? '', /ShiftScaleRelu/);
  });
}

test('shiftScaleRelu: values and the three gradients are bit for bit those of add, mul and relu', () => {
  // Planes of 64 values or more run plane by plane; smaller ones example by example (kMinPlane).
  check([2, 3, 9, 9], 1); // planes of 81: ten 8-wide steps and a tail of 1
  check([2, 3, 8, 8], 2); // planes of 64: no tail
  check([3, 4, 5, 7], 3); // planes of 35, examples of 140: the 8-wide loop and a tail of 4
  check([2, 3, 4, 4], 4); // examples of 48: no tail
  check([5, 6], 5); // one value per plane
  check([1, 2, 3], 6);
});

test('shiftScaleRelu: channels-last x gives bit for bit the three ops, and keeps its layout', () => {
  // Runs of whole pixels, each at least 256 values: C = 3 runs 86 pixels (the last run short),
  // C = 96 runs 3; C = 5 has a scalar tail in every run.
  check([2, 3, 9, 9], 11, 'channelsLast');
  check([2, 96, 3, 3], 12, 'channelsLast');
  check([3, 5, 2, 7], 13, 'channelsLast');
  check([2, 96, 3, 3], 14, 'mixed');
});

test('shiftScaleRelu: the analytic gradient matches a central difference', () => {
  torch.tidy(() => {
    // Away from the kink, in float32: the difference quotient of Σ w·y against the backward.
    const g = new torch.Generator(5);
    const x = torch.rand([2, 3, 4, 4], { generator: g }).add(0.5).requiresGrad_(true);
    const shift = torch
      .tensor(new Float32Array([0.1, -0.2, 0.3]))
      .reshape([1, 3, 1, 1])
      .requiresGrad_(true);
    const scale = torch
      .tensor(new Float32Array([1.5, 0.5, 2]))
      .reshape([1, 3, 1, 1])
      .requiresGrad_(true);
    const w = torch.randn([2, 3, 4, 4], { generator: g });
    const loss = (b: Tensor, s: Tensor) => torch.shiftScaleRelu(x, b, s).mul(w).sum();
    const [gShift, gScale] = grad(loss(shift, scale), [shift, scale]);
    const h = 1e-2;
    for (let ch = 0; ch < 3; ch++) {
      const bump = (t: Tensor, d: number) => {
        const delta = new Float32Array(3);
        delta[ch] = d;
        return t.detach().add(torch.tensor(delta).reshape([1, 3, 1, 1]));
      };
      const fd = (t: Tensor, isShift: boolean) => {
        const up = isShift ? loss(bump(t, h), scale) : loss(shift, bump(t, h));
        const down = isShift ? loss(bump(t, -h), scale) : loss(shift, bump(t, -h));
        return (up.item() - down.item()) / (2 * h);
      };
      const a = (gShift!.toTypedArray() as Float32Array)[ch];
      const b = (gScale!.toTypedArray() as Float32Array)[ch];
      assert.ok(
        Math.abs(a - fd(shift, true)) < 1e-2 * Math.max(1, Math.abs(a)),
        `shift ${ch}: ${a} vs ${fd(shift, true)}`,
      );
      assert.ok(
        Math.abs(b - fd(scale, false)) < 1e-2 * Math.max(1, Math.abs(b)),
        `scale ${ch}: ${b} vs ${fd(scale, false)}`,
      );
    }
  });
});

test('shiftScaleRelu: double backward equals that of the three ops', () => {
  torch.tidy(() => {
    const g = new torch.Generator(6);
    const x0 = torch.randn([2, 3, 3, 3], { generator: g });
    const shift = torch.randn([1, 3, 1, 1], { generator: g }).requiresGrad_(true);
    const scale = torch.rand([1, 3, 1, 1], { generator: g }).add(0.5).requiresGrad_(true);
    const run = (f: typeof threeOps) => {
      const x = x0.clone().requiresGrad_(true);
      const [gx] = grad(f(x, shift, scale).square().sum(), [x], { createGraph: true });
      return grad(gx!.square().sum(), [shift, scale]);
    };
    const fused = run(torch.shiftScaleRelu);
    const ref = run(threeOps);
    for (let i = 0; i < 2; i++) assert.deepEqual(bits(fused[i]!), bits(ref[i]!));
  });
});

test('shiftScaleRelu: other dtypes, layouts and shapes take the three ops; bad input to the kernel is an error', () => {
  torch.tidy(() => {
    const g = new torch.Generator(7);
    const shift = torch.randn([1, 3, 1, 1], { generator: g });
    const scale = torch.rand([1, 3, 1, 1], { generator: g });
    const x = torch.randn([2, 3, 4, 4], { generator: g });
    const f64 = x.to('float64');
    const r64 = torch.shiftScaleRelu(f64, shift.to('float64'), scale.to('float64'));
    assert.equal(r64.dtype, 'float64');
    assert.ok(torch.equal(r64, threeOps(f64, shift.to('float64'), scale.to('float64'))));
    const strided = x.transpose(2, 3);
    assert.ok(torch.equal(torch.shiftScaleRelu(strided, shift, scale), threeOps(strided, shift, scale)));
    const perRow = torch.randn([1, 1, 1, 4], { generator: g }); // not one value per channel
    assert.ok(torch.equal(torch.shiftScaleRelu(x, perRow, scale), threeOps(x, perRow, scale)));
    assert.throws(
      () => N.shiftScaleRelu(handle(x), handle(torch.zeros([1, 2, 1, 1])), handle(scale)),
      /of shape \[1, 3, 1, \.\.\.\] \(one value per channel\)/,
    );
    // Three values, but along the last dimension: refused by the kernel rather than read per channel.
    const square = torch.randn([2, 3, 3, 3], { generator: g });
    assert.throws(
      () => N.shiftScaleRelu(handle(square), handle(torch.zeros([1, 1, 1, 3])), handle(scale)),
      /one value per channel/,
    );
    assert.throws(
      () => N.shiftScaleRelu(handle(f64), handle(shift), handle(scale)),
      /x must be a float32 CPU tensor \[N, C, \.\.\.\]/,
    );
  });
});

test('shiftScaleRelu: the switch turns the fused node off, for A/B runs', () => {
  torch.tidy(() => {
    const x = torch.randn([2, 3, 4, 4]).requiresGrad_(true);
    const shift = torch.zeros([1, 3, 1, 1]);
    const scale = torch.ones([1, 3, 1, 1]);
    const before = torch.useFusedKernels(false);
    try {
      assert.doesNotMatch(torch.shiftScaleRelu(x, shift, scale).gradFn ?? '', /ShiftScaleRelu/);
      // consume: the unfused path adds the shift into x in place, with the same values and gradients.
      const g = new torch.Generator(8);
      const x0 = torch.randn([2, 3, 5, 5], { generator: g });
      const b = torch.randn([1, 3, 1, 1], { generator: g }).requiresGrad_(true);
      const s = torch.rand([1, 3, 1, 1], { generator: g }).requiresGrad_(true);
      const run = (consume: boolean) => {
        const leaf = x0.clone().requiresGrad_(true);
        const temp = leaf.mul(1); // an operation's output that no backward saved, as a convolution's
        const y = torch.shiftScaleRelu(temp, b, s, { consume });
        const grads = grad(y.square().sum(), [leaf, b, s]);
        return { y, temp, grads };
      };
      const consumed = run(true);
      const kept = run(false);
      assert.deepEqual(bits(consumed.y), bits(kept.y));
      for (let i = 0; i < 3; i++) assert.deepEqual(bits(consumed.grads[i]!), bits(kept.grads[i]!));
      assert.ok(!torch.equal(consumed.temp, kept.temp), 'consume wrote into x');
      assert.ok(torch.equal(kept.temp, x0), 'without consume x is left as it was');
    } finally {
      torch.useFusedKernels(before);
    }
    assert.match(torch.shiftScaleRelu(x, shift, scale).gradFn ?? '', /ShiftScaleRelu/);
  });
});
