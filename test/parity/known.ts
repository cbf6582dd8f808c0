// Documented differences between genlab and PyTorch 1.13. Each has the explanation and a
// check that the difference is still exactly what genlab does: when a fix lands, the case stops
// matching its check, the suite fails with "known-changed", and whoever fixed it sets `fixed` here
// (the case then has to agree with PyTorch like any other).
import type { CaseResult, Enc } from './protocol.js';
import { decNumber } from './protocol.js';

export interface Known {
  title: string;
  /** The explanation, as the issue (23) gives it or as this suite found it. */
  explanation: string;
  /** Where it came from: the list, or found by this suite. */
  source: 'issue 23' | 'found by the parity suite' | 'by design (genlab docs)';
  /** True when genlab's behaviour is the documented difference. */
  check: (js: CaseResult, py: CaseResult) => boolean;
  /** Set once genlab agrees with PyTorch; the entry stays as history. */
  fixed?: boolean;
}

const isErr = (e: Enc | undefined) => e?.k === 'err';
const tensors = (e: Enc): Extract<Enc, { k: 't' }>[] => (e.k === 't' ? [e] : e.k === 'l' ? e.v.flatMap(tensors) : []);

function floats(e: Extract<Enc, { k: 't' }>): number[] {
  const buf = Buffer.from(e.b, 'base64');
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  if (e.d === 'float32') return Array.from(new Float32Array(ab));
  if (e.d === 'float64') return Array.from(new Float64Array(ab));
  return [];
}

/** genlab raises nothing where PyTorch raises. */
const acceptsWhatPyTorchRefuses = (js: CaseResult, py: CaseResult) =>
  isErr(py.out) && !isErr(js.out) && js.out.k !== 'crash';

export const KNOWN: Record<string, Known> = {
  'negzero-scalar': {
    title: '-0.0 passed as a number becomes integer 0',
    explanation:
      'JavaScript numbers do not say whether they are integers, and -0 was sent to libtorch as the integer 0: `x.mul(-0.0)`, `x.div(-0.0)`, `torch.full([2], -0.0)` lose the sign of zero (and full() may even make an integer tensor).',
    source: 'issue 23',
    fixed: true,
    check: (js, py) => {
      const a = tensors(js.out);
      const b = tensors(py.out);
      if (a.length !== b.length || a.length === 0) return false;
      return a.some((t, i) => {
        if (t.d !== b[i].d) return true;
        const x = floats(t);
        const y = floats(b[i]);
        return y.some((v, k) =>
          Object.is(v, -0)
            ? !Object.is(x[k], -0)
            : Object.is(x[k], -0) && !Object.is(v, -0)
              ? true
              : Object.is(v, Number.NEGATIVE_INFINITY) !== Object.is(x[k], Number.NEGATIVE_INFINITY),
        );
      });
    },
  },
  'int-times-float': {
    title: 'int64Tensor.mul(2.0) stays int64',
    explanation:
      "JavaScript cannot tell 2.0 from 2, so an integral number is an integer Scalar and an int64 tensor times 2.0 stays int64 where PyTorch promotes to float32. The parity suite found the same in `torch.where(cond, 1, 0)`: int64, where PyTorch's `torch.where(cond, 1.0, 0.0)` is float32.",
    source: 'issue 23',
    check: (js, py) => js.out.k === 't' && py.out.k === 't' && js.out.d === 'int64' && py.out.d === 'float32',
  },
  'tensor-bool-number': {
    title: 'torch.tensor([true, 2]) gives bool',
    explanation:
      'The dtype of a nested array was inferred from its first leaf only, so [true, 2] became a bool tensor; PyTorch gives int64.',
    source: 'issue 23',
    fixed: true,
    check: (js, py) => js.out.k === 't' && js.out.d === 'bool' && py.out.k === 't' && py.out.d === 'int64',
  },
  'storageless-grad': {
    title: 'a storage-less gradient crashes the process when read',
    explanation:
      '`x.grad` after `torch.ops.sgn(x).sum().backward()` is a gradient without storage (sgn has a zero-filled, expanded gradient); reading it crashed the process. The case runs in the child runner.',
    source: 'issue 23',
    fixed: true,
    check: (js) => js.out.k === 'crash',
  },
  'bce-target-size': {
    title: 'F.binaryCrossEntropy with a target of another size returns a value',
    explanation:
      'PyTorch raises ValueError("Using a target size that is different to the input size") in Python before calling ATen; genlab called ATen directly, which broadcast the target and returned a result.',
    source: 'issue 23',
    fixed: true,
    check: acceptsWhatPyTorchRefuses,
  },
  'norm-one-value': {
    title: 'BatchNorm/GroupNorm in training with one value per channel/group return zeros',
    explanation:
      'PyTorch raises "Expected more than 1 value per channel when training" from Python; ATen itself normalises the single value to 0, which genlab returned.',
    source: 'issue 23',
    fixed: true,
    check: acceptsWhatPyTorchRefuses,
  },
  'embedding-padding-oob': {
    title: 'F.embedding with paddingIdx out of range accepted',
    explanation:
      'PyTorch asserts that padding_idx is within num_embeddings in Python; genlab passed it to ATen, which does not check.',
    source: 'issue 23',
    fixed: true,
    check: acceptsWhatPyTorchRefuses,
  },
  'grad-setter': {
    title: 'p.grad setter accepts a gradient of the wrong shape or dtype',
    explanation:
      'PyTorch checks the assigned gradient against the tensor (shape, dtype, device); the setter passed it straight to libtorch, which does not.',
    source: 'issue 23',
    fixed: true,
    check: acceptsWhatPyTorchRefuses,
  },
  'gradfn-names': {
    title: 'gradFn names say AddBackward1 where PyTorch says AddBackward0',
    explanation:
      'The boxed call goes through a different overload (add.Tensor with alpha, or the Scalar overload) than Python, so the autograd node has another numbered name. In this run tensor ⊕ tensor agrees; tensor ⊕ number (`x.add(1)`, `x.mul(2)`, `x.div(2)`, `x.sub(0.5)`) still says AddBackward1/MulBackward1/DivBackward1/SubBackward1 where PyTorch, which wraps the number in a tensor, says …Backward0.',
    source: 'issue 23',
    check: (js, py) => js.out.k === 's' && py.out.k === 's' && js.out.v !== py.out.v,
  },
  'cosine-after-tmax': {
    title: 'CosineAnnealingLR after tMax',
    explanation:
      "PyTorch 1.13's recursive (chainable) form keeps following the cosine back up after T_max; genlab used the closed form, which differs from the recursion past T_max.",
    source: 'issue 23',
    fixed: true,
    check: (js, py) => {
      if (js.out.k !== 'l' || py.out.k !== 'l') return false;
      const a = js.out.v.map((e) => (e.k === 'n' ? decNumber(e.v) : Number.NaN));
      const b = py.out.v.map((e) => (e.k === 'n' ? decNumber(e.v) : Number.NaN));
      return a.some((v, i) => Math.abs(v - b[i]) > 1e-9);
    },
  },
  'zerograd-none': {
    title: 'zeroGrad sets null',
    explanation:
      "optimizer.zero_grad() in PyTorch 1.13 defaults to set_to_none=False (zeros); genlab's sets gradients to null.",
    source: 'issue 23',
    check: (js, py) => {
      const a = js.out.k === 'l' ? js.out.v : [js.out];
      const b = py.out.k === 'l' ? py.out.v : [py.out];
      return a.some((e, i) => e.k === 'none' && b[i]?.k === 't');
    },
  },
  'clipgradnorm-number': {
    title: 'clipGradNorm returns a number',
    explanation: 'torch.nn.utils.clip_grad_norm_ returns the total norm as a 0-d tensor; genlab returns a JS number.',
    source: 'issue 23',
    check: (js, py) => {
      const a = js.out.k === 'l' ? js.out.v[0] : js.out;
      const b = py.out.k === 'l' ? py.out.v[0] : py.out;
      return a?.k === 'n' && b?.k === 't';
    },
  },
  'loss-broadcast-grad': {
    title: 'F.mseLoss with a broadcast operand gives 3× the gradient (also huber/smoothL1)',
    explanation:
      "PyTorch's Python wrapper broadcasts input and target before calling ATen (with a warning); ATen's mse/huber/smooth-L1 backward on unbroadcast operands scales the gradient by the broadcast factor. F.mseLoss, F.l1Loss, F.huberLoss and F.smoothL1Loss now broadcast first and agree with PyTorch's F functions. The raw operators torch.ops.huberLoss/smoothL1Loss agree bit for bit with torch.ops.aten.huber_loss/smooth_l1_loss, which with reduction 'mean' still give a broadcast target the broadcast factor (2 in the cases) times F.huber_loss's gradient; that is ATen's behaviour on both sides.",
    source: 'issue 23',
    fixed: true,
    check: (js, py) => {
      if (!Array.isArray(js.grads) || !Array.isArray(py.grads)) return false;
      const a = js.grads[0];
      const b = py.grads[0];
      if (!a || !b || a.k !== 't' || b.k !== 't') return false;
      const x = floats(a);
      const y = floats(b);
      return x.some((v, i) => Math.abs(v - y[i]) > 1e-6 * (1 + Math.abs(y[i])));
    },
  },
  'int-2p53': {
    title: 'integral numbers from 2^53 on become float Scalars',
    explanation:
      'The addon makes an integral JS number an integer Scalar only below 2^53 (where doubles stop being exact), so `int64Tensor.add(2 ** 53)` promotes to float32 where PyTorch stays int64 (and compares exactly).',
    source: 'found by the parity suite',
    check: (js, py) => js.out.k === 't' && py.out.k === 't' && js.out.d === 'float32' && py.out.d === 'int64',
  },
  'numbers-float32': {
    title: 'numbers make float32 tensors',
    explanation:
      'JavaScript has no integer literals, so `torch.tensor([1, 2])` and `torch.arange(4)` are float32 where PyTorch infers int64 (README: "Numbers make float32 tensors unless a dtype is given").',
    source: 'by design (genlab docs)',
    check: (js, py) => js.out.k === 't' && py.out.k === 't' && js.out.d === 'float32' && py.out.d === 'int64',
  },
  'int64-readback': {
    title: 'item() and toArray() refuse int64 values beyond 2^53',
    explanation:
      'A JS number cannot hold them exactly, so genlab raises (toTypedArray() gives BigInts) where Python returns an exact int.',
    source: 'by design (genlab docs)',
    check: (js, py) => isErr(js.out) && !isErr(py.out),
  },
  'item-bool': {
    title: 'item() of a bool tensor gives 0 or 1',
    explanation: 'Documented on Tensor.item(): bool tensors give the number 0 or 1, where PyTorch gives True or False.',
    source: 'by design (genlab docs)',
    check: (js, py) => js.out.k === 'n' && py.out.k === 'b',
  },
  'interpolate-4d-only': {
    title: 'F.interpolate takes only 4-d input',
    explanation:
      'genlab implements the 2-d modes only and refuses a 3-d [N, C, L] input that PyTorch resizes with its 1-d kernels.',
    source: 'found by the parity suite',
    check: (js, py) => isErr(js.out) && !isErr(py.out),
  },
  'tensor-int-overflow': {
    title: 'torch.tensor(numbers, {dtype: int32/int64}) wraps values out of range',
    explanation:
      'Numbers are staged in an Int32Array (or BigInt64Array), whose conversion wraps silently: `torch.tensor([1e10], {dtype: \'int32\'})` gives 1410065408 where PyTorch raises "value cannot be converted to type int32 without overflow".',
    source: 'found by the parity suite',
    fixed: true,
    check: (js, py) => isErr(py.out) && js.out.k === 't',
  },
  'storageless-grad-read': {
    title: 'the storage-less gradient of sgn reads as zeros where PyTorch refuses to read it',
    explanation:
      'Since the crash fix, `x.grad` after `torch.ops.sgn(x).sum().backward()` reads as zeros; PyTorch keeps the undefined-storage gradient and raises on reading it ("tolist() shouldn\'t be called on a tensor with unallocated storage"). genlab\'s answer is the mathematically right one.',
    source: 'found by the parity suite',
    check: (js, py) => isErr(py.out) && js.out.k === 'l',
  },
  'smoothl1-beta0-grad': {
    title: "F.smoothL1Loss with beta 0: a zero difference gets gradient 0, PyTorch's gets -1",
    explanation:
      "genlab computes beta 0 as F.l1Loss, whose gradient at input == target is sgn(0) = 0. PyTorch 1.13's F.smooth_l1_loss keeps ATen's smooth_l1_loss, whose backward takes its `x <= -beta` branch at x = 0 when beta is 0 and gives -1 (times the incoming gradient) for the input and +1 for the target. The values agree; only the gradient where the difference is exactly 0 differs.",
    source: 'found by the parity suite',
    fixed: true,
    check: (js, py) => {
      const same = (x: number, y: number) => Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y));
      const a = tensors(js.out);
      const b = tensors(py.out);
      if (a.length !== 1 || b.length !== 1 || !floats(a[0]).every((v, i) => same(v, floats(b[0])[i]))) return false;
      if (!Array.isArray(js.grads) || !Array.isArray(py.grads) || js.grads.length !== py.grads.length) return false;
      let differs = false;
      for (const [k, g] of js.grads.entries()) {
        const h = py.grads[k];
        if (!g || !h || g.k !== 't' || h.k !== 't') return false;
        const x = floats(g);
        const y = floats(h);
        for (const [i, v] of x.entries()) {
          if (same(v, y[i])) continue;
          if (v !== 0) return false;
          differs = true;
        }
      }
      return differs;
    },
  },
  'pow-ulp-radam': {
    title: "RAdam: bias corrections an ulp away (V8's pow, not C's)",
    explanation:
      "RAdam computes 1 - beta1 ** step and 1 - beta2 ** step with JavaScript's `**`, V8's fdlibm pow, where PyTorch 1.13 uses Python's float pow (C's libm): 1 - 0.9 ** 4 is 0.3438999999999999 in V8 and 0.3439 in Python. libm.ts has cPow for the schedules, but the optimizers do not use it, so a float64 parameter can end up an ulp or so away after step 4. Adam, Adamax and NAdam have the same `**` but agreed on the cases here.",
    source: 'found by the parity suite',
    fixed: true,
    check: (js, py) => {
      const a = tensors(js.out);
      const b = tensors(py.out);
      if (a.length === 0 || a.length !== b.length) return false;
      let differs = false;
      for (const [k, t] of a.entries()) {
        const x = floats(t);
        const y = floats(b[k]);
        if (x.length !== y.length) return false;
        for (const [i, v] of x.entries()) {
          if (Object.is(v, y[i])) continue;
          if (!(Math.abs(v - y[i]) <= 1e-13 * (1 + Math.abs(y[i])))) return false;
          differs = true;
        }
      }
      return differs;
    },
  },
};
