// The parity table: every case is an op or module, seeded inputs (edge values, empty tensors,
// broadcasting, non-contiguous views), a dtype, a genlab call and the PyTorch call it must equal.
// Inputs reach PyTorch as a, b, c, … (see protocol.ts).
import { nn, optim, torch } from '../../src/index.js';
import { noGrad } from '../../src/torch/autograd.js';
import type { InputSpec, PDType } from './inputs.js';
import type { Case } from './protocol.js';

type Tensor = torch.Tensor;
const F = nn.F;

const FLOATS: PDType[] = ['float32', 'float64'];
const PYDT: Record<PDType, string> = {
  float32: 'torch.float32',
  float64: 'torch.float64',
  int64: 'torch.int64',
  int32: 'torch.int32',
  bool: 'torch.bool',
};
const short = (d: PDType) => ({ float32: 'f32', float64: 'f64', int64: 'i64', int32: 'i32', bool: 'bool' })[d];

function X(
  dtype: PDType,
  shape: number[],
  fill: InputSpec['fill'] = 'normal',
  more: Partial<InputSpec> = {},
): InputSpec {
  return { dtype, shape, fill, ...more };
}
const G = (dtype: PDType, shape: number[], fill: InputSpec['fill'] = 'normal', more: Partial<InputSpec> = {}) =>
  X(dtype, shape, fill, { grad: true, ...more });

/** camelCase → snake_case, for Tensor methods whose Python name is the snake-case one. */
const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Copies values into a module's parameters, in registration order (PyTorch's is the same). */
function load<M extends nn.Module>(m: M, values: Tensor[]): M {
  noGrad(() => {
    m.parameters().forEach((p, i) => {
      p.copy_(values[i]);
    });
  });
  return m;
}

export function buildCases(): Case[] {
  const cases: Case[] = [];
  const add = (c: Case) => cases.push(c);

  // ---- unary Tensor methods ----
  const unary = [
    'neg',
    'abs',
    'sign',
    'exp',
    'expm1',
    'log',
    'log1p',
    'log2',
    'sqrt',
    'rsqrt',
    'square',
    'reciprocal',
    'sin',
    'cos',
    'tanh',
    'sigmoid',
    'relu',
    'erf',
    'lgamma',
    'floor',
    'ceil',
    'round',
  ];
  for (const op of unary) {
    const js = (a: any) => a[op]();
    const py = `a.${op}()`;
    add({ id: `unary.${op}.f32.edge`, category: 'unary', inputs: [G('float32', [4, 5], 'edge')], js, py, grad: true });
    add({ id: `unary.${op}.f64.edge`, category: 'unary', inputs: [G('float64', [3, 6], 'edge')], js, py, grad: true });
    add({
      id: `unary.${op}.f32.T`,
      category: 'unary',
      inputs: [G('float32', [3, 4], 'pos', { view: 'T' })],
      js,
      py,
      grad: true,
    });
    add({
      id: `unary.${op}.f64.step`,
      category: 'unary',
      inputs: [G('float64', [2, 3], 'normal', { view: 'step' })],
      js,
      py,
      grad: true,
    });
    add({ id: `unary.${op}.empty`, category: 'unary', inputs: [G('float32', [0, 3])], js, py, grad: true });
    add({ id: `unary.${op}.i64`, category: 'unary', inputs: [X('int64', [7], 'small')], js, py });
    add({ id: `unary.${op}.i32.edge`, category: 'unary', inputs: [X('int32', [8], 'intedge')], js, py });
    add({ id: `unary.${op}.bool`, category: 'unary', inputs: [X('bool', [5], 'bool')], js, py });
  }
  for (const op of ['isnan', 'isfinite', 'logicalNot']) {
    for (const d of ['float32', 'float64', 'int64', 'bool'] as PDType[]) {
      add({
        id: `unary.${op}.${short(d)}`,
        category: 'unary',
        inputs: [X(d, [9], d === 'int64' ? 'intedge' : 'edge')],
        js: (a: any) => a[op](),
        py: `a.${snake(op)}()`,
      });
    }
  }

  // ---- binary Tensor methods ----
  const binary: [string, string][] = [
    ['add', 'a.add(b)'],
    ['sub', 'a.sub(b)'],
    ['mul', 'a.mul(b)'],
    ['div', 'a.div(b)'],
    ['pow', 'a.pow(b)'],
    ['remainder', 'a.remainder(b)'],
    ['maximum', 'a.maximum(b)'],
    ['minimum', 'a.minimum(b)'],
    ['atan2', 'a.atan2(b)'],
    ['eq', 'a.eq(b)'],
    ['ne', 'a.ne(b)'],
    ['lt', 'a.lt(b)'],
    ['le', 'a.le(b)'],
    ['gt', 'a.gt(b)'],
    ['ge', 'a.ge(b)'],
    ['logicalAnd', 'a.logical_and(b)'],
    ['logicalOr', 'a.logical_or(b)'],
  ];
  for (const [op, py] of binary) {
    const js = (a: any, b: any) => a[op](b);
    add({
      id: `binary.${op}.f32.bcast.edge`,
      category: 'binary',
      inputs: [G('float32', [3, 1], 'edge'), G('float32', [1, 4], 'edge')],
      js,
      py,
      grad: true,
    });
    add({
      id: `binary.${op}.f64.T`,
      category: 'binary',
      inputs: [G('float64', [3, 4], 'pos', { view: 'T' }), G('float64', [4], 'normal')],
      js,
      py,
      grad: true,
    });
    add({
      id: `binary.${op}.f32.expand`,
      category: 'binary',
      inputs: [G('float32', [3, 2], 'normal', { view: 'expand' }), G('float32', [3, 2], 'pos')],
      js,
      py,
      grad: true,
    });
    add({
      id: `binary.${op}.i64`,
      category: 'binary',
      inputs: [X('int64', [6], 'small'), X('int64', [6], { values: [1, -2, 3, 2, -1, 4] })],
      js,
      py,
    });
    add({
      id: `binary.${op}.i32_f32`,
      category: 'binary',
      inputs: [X('int32', [5], 'small'), X('float32', [5])],
      js,
      py,
    });
    add({
      id: `binary.${op}.i32_i64`,
      category: 'binary',
      inputs: [X('int32', [5], 'small'), X('int64', [1], 'small')],
      js,
      py,
    });
    add({
      id: `binary.${op}.bool`,
      category: 'binary',
      inputs: [X('bool', [6], 'bool'), X('bool', [6], 'bool')],
      js,
      py,
    });
    add({
      id: `binary.${op}.empty`,
      category: 'binary',
      inputs: [G('float32', [0, 2]), G('float32', [2])],
      js,
      py,
      grad: true,
    });
    add({
      id: `binary.${op}.mismatch`,
      category: 'binary',
      inputs: [X('float32', [3]), X('float32', [4])],
      js,
      py,
    });
  }
  for (const mode of ['trunc', 'floor'] as const) {
    add({
      id: `binary.div_${mode}.f32.edge`,
      category: 'binary',
      inputs: [X('float32', [8], 'edge'), X('float32', [8], 'edge')],
      js: (a: Tensor, b: Tensor) => a.div(b, { roundingMode: mode }),
      py: `a.div(b, rounding_mode='${mode}')`,
    });
    add({
      id: `binary.div_${mode}.i64`,
      category: 'binary',
      inputs: [X('int64', [6], 'small'), X('int64', [6], { values: [3, -2, 5, 2, -3, 7] })],
      js: (a: Tensor, b: Tensor) => a.div(b, { roundingMode: mode }),
      py: `a.div(b, rounding_mode='${mode}')`,
    });
    add({
      id: `binary.div_${mode}.i64.byzero`,
      category: 'binary',
      inputs: [X('int64', [3], 'small'), X('int64', [3], { values: [0] })],
      js: (a: Tensor, b: Tensor) => a.div(b, { roundingMode: mode }),
      py: `a.div(b, rounding_mode='${mode}')`,
    });
  }

  // ---- Tensor ⊕ number ----
  const scalars: [string, number, string][] = [
    ['add', 2.5, 'a.add(2.5)'],
    ['sub', -1.5, 'a.sub(-1.5)'],
    ['mul', 3, 'a.mul(3)'],
    ['div', 4, 'a.div(4)'],
    ['div', 0, 'a.div(0)'],
    ['pow', 2, 'a.pow(2)'],
    ['pow', 0.5, 'a.pow(0.5)'],
    ['pow', -1, 'a.pow(-1)'],
    ['remainder', 1.5, 'a.remainder(1.5)'],
    ['rsub', 1, 'torch.rsub(a, 1)'],
    ['mul', 1e20, 'a.mul(1e20)'],
    ['add', 2 ** 53, 'a.add(2 ** 53)'],
    ['sub', 0.1, 'a.sub(0.1)'],
    ['eq', 0, 'a.eq(0)'],
    ['lt', 0.5, 'a.lt(0.5)'],
    ['ge', -1, 'a.ge(-1)'],
  ];
  for (const [op, v, py] of scalars) {
    const js = (a: any) => a[op](v);
    for (const d of FLOATS) {
      add({
        id: `scalar.${op}(${v}).${short(d)}.edge`,
        category: 'scalar',
        inputs: [G(d, [10], 'edge')],
        js,
        py,
        grad: true,
      });
    }
    // Integral numbers from 2^53 on reach libtorch as float Scalars (see known.ts).
    const known = v === 2 ** 53 ? 'int-2p53' : undefined;
    add({ id: `scalar.${op}(${v}).i64`, category: 'scalar', inputs: [X('int64', [6], 'small')], js, py, known });
    add({ id: `scalar.${op}(${v}).bool`, category: 'scalar', inputs: [X('bool', [6], 'bool')], js, py, known });
  }
  for (const d of FLOATS) {
    add({
      id: `scalar.mul(-0).${short(d)}`,
      category: 'scalar',
      inputs: [X(d, [4], { values: [1, 2, -3, 0] })],
      js: (a: Tensor) => a.mul(-0),
      py: 'a.mul(-0.0)',
      known: 'negzero-scalar',
    });
    add({
      id: `scalar.div(-0).${short(d)}`,
      category: 'scalar',
      inputs: [X(d, [4], { values: [1, -2, 3, 0] })],
      js: (a: Tensor) => a.div(-0),
      py: 'a.div(-0.0)',
      known: 'negzero-scalar',
    });
    add({
      id: `scalar.add(-0).${short(d)}`,
      category: 'scalar',
      inputs: [X(d, [3], { values: [-0, 0, 1] })],
      js: (a: Tensor) => a.add(-0),
      py: 'a.add(-0.0)',
      known: 'negzero-scalar',
    });
  }
  add({
    id: 'scalar.mul(2.0).i64',
    category: 'scalar',
    inputs: [X('int64', [3], 'small')],
    js: (a: Tensor) => a.mul(2.0),
    py: 'a.mul(2.0)',
    known: 'int-times-float',
  });
  add({
    id: 'scalar.add(1.5).i32',
    category: 'scalar',
    inputs: [X('int32', [3], 'small')],
    js: (a: Tensor) => a.add(1.5),
    py: 'a.add(1.5)',
  });
  add({
    id: 'scalar.mul(0.5).i64',
    category: 'scalar',
    inputs: [X('int64', [3], 'small')],
    js: (a: Tensor) => a.mul(0.5),
    py: 'a.mul(0.5)',
  });
  for (const [mn, mx] of [
    [-0.5, 0.5],
    [0, null],
    [null, 1],
  ] as [number | null, number | null][]) {
    for (const d of FLOATS) {
      add({
        id: `scalar.clamp(${mn},${mx}).${short(d)}`,
        category: 'scalar',
        inputs: [G(d, [8], 'edge')],
        js: (a: Tensor) => a.clamp(mn, mx),
        py: `a.clamp(${mn ?? 'None'}, ${mx ?? 'None'})`,
        grad: true,
      });
    }
    add({
      id: `scalar.clamp(${mn},${mx}).i64`,
      category: 'scalar',
      inputs: [X('int64', [8], 'small')],
      js: (a: Tensor) => a.clamp(mn, mx),
      py: `a.clamp(${mn ?? 'None'}, ${mx ?? 'None'})`,
    });
  }
  add({
    id: 'scalar.clampMin.f32',
    category: 'scalar',
    inputs: [G('float32', [6], 'edge')],
    js: (a: Tensor) => a.clampMin(0.1),
    py: 'a.clamp_min(0.1)',
    grad: true,
  });
  add({
    id: 'scalar.clampMax.f64',
    category: 'scalar',
    inputs: [G('float64', [6], 'edge')],
    js: (a: Tensor) => a.clampMax(-0.1),
    py: 'a.clamp_max(-0.1)',
    grad: true,
  });
  for (const d of FLOATS) {
    add({
      id: `binary.lerp.${short(d)}`,
      category: 'binary',
      inputs: [G(d, [2, 3]), G(d, [3]), G(d, [2, 3], 'unit')],
      js: (a: Tensor, b: Tensor, c: Tensor) => a.lerp(b, c),
      py: 'a.lerp(b, c)',
      grad: true,
    });
    add({
      id: `binary.lerp_scalar.${short(d)}`,
      category: 'binary',
      inputs: [G(d, [2, 3], 'edge'), G(d, [2, 3])],
      js: (a: Tensor, b: Tensor) => a.lerp(b, 0.3),
      py: 'a.lerp(b, 0.3)',
      grad: true,
    });
    add({
      id: `binary.where.${short(d)}`,
      category: 'binary',
      inputs: [X('bool', [2, 3], 'bool'), G(d, [2, 3], 'edge'), G(d, [3])],
      js: (c: Tensor, a: Tensor, b: Tensor) => torch.where(c, a, b),
      py: 'torch.where(a, b, c)',
      grad: true,
    });
    add({
      id: `binary.where_scalar.${short(d)}`,
      category: 'binary',
      inputs: [X('bool', [4], 'bool'), G(d, [4])],
      js: (c: Tensor, a: Tensor) => a.where(c, 0),
      py: 'torch.where(a, b, torch.tensor(0.0, dtype=b.dtype))',
      grad: true,
    });
  }

  // A case that takes the genlab process down (as a native crash would): the runner restarts after it.
  add({
    id: 'harness.crash',
    category: 'harness',
    inputs: [],
    js: () => process.kill(process.pid, 'SIGSEGV'),
    py: 'None',
    mustCrash: true,
  });

  // ---- reductions ----
  const reductions: [string, (a: any) => any, string][] = [
    ['sum', (a) => a.sum(), 'a.sum()'],
    ['sum(1)', (a) => a.sum(1), 'a.sum(1)'],
    ['sum([0,1],keep)', (a) => a.sum([0, 1], { keepdim: true }), 'a.sum([0, 1], keepdim=True)'],
    ['mean', (a) => a.mean(), 'a.mean()'],
    ['mean(-1)', (a) => a.mean(-1), 'a.mean(-1)'],
    ['prod', (a) => a.prod(), 'a.prod()'],
    ['prod(0)', (a) => a.prod(0), 'a.prod(0)'],
    ['var', (a) => a.var(), 'a.var()'],
    ['var(1,c0)', (a) => a.var(1, { correction: 0 }), 'a.var(1, correction=0)'],
    ['std', (a) => a.std(), 'a.std()'],
    ['std(0,keep)', (a) => a.std(0, { keepdim: true }), 'a.std(0, keepdim=True)'],
    ['norm', (a) => a.norm(), 'torch.linalg.vector_norm(a)'],
    ['norm(1,1)', (a) => a.norm(1, 1), 'torch.linalg.vector_norm(a, 1, 1)'],
    ['norm(inf,0)', (a) => a.norm(Infinity, 0), "torch.linalg.vector_norm(a, float('inf'), 0)"],
    ['logsumexp(1)', (a) => a.logsumexp(1), 'a.logsumexp(1)'],
    ['max', (a) => a.max(), 'a.max()'],
    ['max(1)', (a) => a.max(1), 'list(a.max(1))'],
    ['min(0,keep)', (a) => a.min(0, { keepdim: true }), 'list(a.min(0, keepdim=True))'],
    ['amax(1)', (a) => a.amax(1), 'a.amax(1)'],
    ['argmax', (a) => a.argmax(), 'a.argmax()'],
    ['argmin(1)', (a) => a.argmin(1), 'a.argmin(1)'],
    ['cumsum(1)', (a) => a.cumsum(1), 'a.cumsum(1)'],
    ['all', (a) => a.all(), 'a.all()'],
    ['any(1)', (a) => a.any(1), 'a.any(1)'],
  ];
  for (const [name, js, py] of reductions) {
    add({
      id: `reduce.${name}.f32.edge`,
      category: 'reduce',
      inputs: [G('float32', [3, 4], 'edge')],
      js,
      py,
      grad: true,
    });
    add({
      id: `reduce.${name}.f64.T`,
      category: 'reduce',
      inputs: [G('float64', [4, 3], 'normal', { view: 'T' })],
      js,
      py,
      grad: true,
    });
    add({ id: `reduce.${name}.empty`, category: 'reduce', inputs: [G('float32', [0, 3])], js, py, grad: true });
    add({ id: `reduce.${name}.i32`, category: 'reduce', inputs: [X('int32', [2, 5], 'small')], js, py });
    add({ id: `reduce.${name}.bool`, category: 'reduce', inputs: [X('bool', [2, 3], 'bool')], js, py });
  }
  add({
    id: 'reduce.sum(dtype f64).f32',
    category: 'reduce',
    inputs: [G('float32', [5])],
    js: (a: Tensor) => a.sum(null, { dtype: 'float64' }),
    py: 'a.sum(dtype=torch.float64)',
    grad: true,
  });
  add({
    id: 'reduce.trace.f64',
    category: 'reduce',
    inputs: [G('float64', [3, 4])],
    js: (a: Tensor) => a.trace(),
    py: 'a.trace()',
    grad: true,
  });
  add({
    id: 'reduce.allclose',
    category: 'reduce',
    inputs: [X('float32', [4]), X('float32', [4])],
    js: (a: Tensor, b: Tensor) => [a.allclose(a), a.allclose(b), a.equal(a.clone()), a.equal(b)],
    py: '[a.allclose(a), a.allclose(b), a.equal(a.clone()), a.equal(b)]',
  });

  // ---- shapes, views, indexing ----
  const shapeOps: [string, (...x: any[]) => any, string, InputSpec[]][] = [
    ['reshape', (a) => a.reshape(4, 3), 'a.reshape(4, 3)', [G('float32', [3, 4], 'normal', { view: 'T' })]],
    ['reshape(-1)', (a) => a.reshape(-1), 'a.reshape(-1)', [G('float64', [2, 3])]],
    ['view.noncontig', (a) => a.view(12), 'a.view(12)', [X('float32', [3, 4], 'normal', { view: 'T' })]],
    ['view', (a) => a.view(2, 6), 'a.view(2, 6)', [G('float32', [3, 4])]],
    ['permute', (a) => a.permute(2, 0, 1), 'a.permute(2, 0, 1)', [G('float32', [2, 3, 4])]],
    ['transpose', (a) => a.transpose(0, 2), 'a.transpose(0, 2)', [G('float64', [2, 3, 4])]],
    ['t', (a) => a.t(), 'a.t()', [G('float32', [2, 3])]],
    ['t.3d', (a) => a.t(), 'a.t()', [X('float32', [2, 3, 4])]],
    ['mT', (a) => a.mT, 'a.mT', [G('float32', [2, 3, 4])]],
    ['squeeze', (a) => a.squeeze(), 'a.squeeze()', [G('float32', [1, 3, 1])]],
    ['squeeze(1)', (a) => a.squeeze(1), 'a.squeeze(1)', [G('float32', [2, 3])]],
    ['unsqueeze(-1)', (a) => a.unsqueeze(-1), 'a.unsqueeze(-1)', [G('float32', [2, 3])]],
    ['expand', (a) => a.expand(2, 3, 4), 'a.expand(2, 3, 4)', [G('float32', [3, 1])]],
    ['expand.bad', (a) => a.expand(2, 5), 'a.expand(2, 5)', [X('float32', [3])]],
    ['flatten', (a) => a.flatten(1), 'a.flatten(1)', [G('float32', [2, 3, 4])]],
    ['unflatten', (a) => a.unflatten(1, [2, 2]), 'a.unflatten(1, [2, 2])', [G('float32', [3, 4])]],
    ['repeat', (a) => a.repeat(2, 1, 3), 'a.repeat(2, 1, 3)', [G('float32', [2, 3])]],
    ['flip', (a) => a.flip(0, 1), 'a.flip(0, 1)', [G('float32', [2, 3])]],
    ['roll', (a) => a.roll(1, 1), 'a.roll(1, 1)', [G('float32', [2, 3])]],
    ['roll.flat', (a) => a.roll(-2), 'a.roll(-2)', [G('float64', [2, 3])]],
    ['tril', (a) => a.tril(), 'a.tril()', [G('float32', [3, 4], 'edge')]],
    ['triu(1)', (a) => a.triu(1), 'a.triu(1)', [G('float32', [4, 3])]],
    ['diagonal', (a) => a.diagonal({ offset: 1 }), 'a.diagonal(1)', [G('float32', [3, 4])]],
    ['diag', (a) => a.diag(), 'a.diag()', [G('float32', [3])]],
    ['narrow', (a) => a.narrow(1, 1, 2), 'a.narrow(1, 1, 2)', [G('float32', [3, 4])]],
    ['narrow.bad', (a) => a.narrow(1, 3, 2), 'a.narrow(1, 3, 2)', [X('float32', [3, 4])]],
    ['select', (a) => a.select(0, -1), 'a.select(0, -1)', [G('float32', [3, 4])]],
    ['select.bad', (a) => a.select(0, 3), 'a.select(0, 3)', [X('float32', [3, 4])]],
    ['chunk', (a) => a.chunk(3, 1), 'list(a.chunk(3, 1))', [G('float32', [2, 5])]],
    ['split', (a) => a.split(2), 'list(a.split(2))', [G('float32', [5, 2])]],
    ['split.sizes', (a) => a.split([1, 3], 1), 'list(a.split([1, 3], 1))', [G('float32', [2, 4])]],
    ['unbind', (a) => a.unbind(1), 'list(a.unbind(1))', [G('float32', [2, 3])]],
    ['contiguous', (a) => a.contiguous(), 'a.contiguous()', [G('float32', [3, 4], 'edge', { view: 'T' })]],
    ['clone', (a) => a.clone(), 'a.clone()', [G('float64', [3], 'edge')]],
    ['detach', (a) => a.detach(), 'a.detach()', [X('float32', [3], 'edge')]],
    ['cat', (a, b) => torch.cat([a, b], 1), 'torch.cat([a, b], 1)', [G('float32', [2, 3]), G('float32', [2, 1])]],
    ['cat.promote', (a, b) => torch.cat([a, b]), 'torch.cat([a, b])', [X('int64', [2], 'small'), X('float32', [3])]],
    ['cat.empty', (a, b) => torch.cat([a, b]), 'torch.cat([a, b])', [G('float32', [0]), G('float32', [3])]],
    ['cat.bad', (a, b) => torch.cat([a, b], 1), 'torch.cat([a, b], 1)', [X('float32', [2, 3]), X('float32', [3, 1])]],
    [
      'stack',
      (a, b) => torch.stack([a, b], -1),
      'torch.stack([a, b], -1)',
      [G('float32', [2, 3]), G('float32', [2, 3])],
    ],
    ['stack.bad', (a, b) => torch.stack([a, b]), 'torch.stack([a, b])', [X('float32', [2]), X('float32', [3])]],
    ['index', (a, i) => a.index([i]), 'a[b]', [G('float32', [4, 3]), X('int64', [5], { idx: 4 })]],
    [
      'index.2',
      (a, i, j) => a.index([i, j]),
      'a[b, c]',
      [G('float32', [4, 3]), X('int64', [5], { idx: 4 }), X('int64', [5], { idx: 3 })],
    ],
    [
      'index.neg',
      (a, i) => a.index([null, i]),
      'a[:, b]',
      [G('float32', [2, 3]), X('int64', [2], { values: [-1, -3] })],
    ],
    ['index.oob', (a, i) => a.index([i]), 'a[b]', [X('float32', [4]), X('int64', [1], { values: [4] })]],
    ['index.bool', (a, m) => a.index([m]), 'a[b]', [G('float32', [6]), X('bool', [6], 'bool')]],
    [
      'indexSelect',
      (a, i) => a.indexSelect(1, i),
      'a.index_select(1, b)',
      [G('float32', [2, 4]), X('int64', [3], { idx: 4 })],
    ],
    [
      'indexSelect.i32',
      (a, i) => a.indexSelect(0, i),
      'a.index_select(0, b)',
      [G('float64', [4, 2]), X('int32', [3], { idx: 4 })],
    ],
    ['gather', (a, i) => a.gather(1, i), 'a.gather(1, b)', [G('float32', [3, 4]), X('int64', [3, 2], { idx: 4 })]],
    [
      'gather.oob',
      (a, i) => a.gather(1, i),
      'a.gather(1, b)',
      [X('float32', [3, 4]), X('int64', [3, 2], { values: [5] })],
    ],
    [
      'scatter',
      (a, i, s) => a.scatter(1, i, s),
      'a.scatter(1, b, c)',
      [G('float32', [2, 4]), X('int64', [2, 2], { values: [0, 3, 2, 1] }), G('float32', [2, 2])],
    ],
    [
      'scatterAdd',
      (a, i, s) => a.scatterAdd(0, i, s),
      'a.scatter_add(0, b, c)',
      [G('float64', [3, 2]), X('int64', [4, 2], { idx: 3 }), G('float64', [4, 2])],
    ],
    [
      'maskedFill',
      (a, m) => a.maskedFill(m, -Infinity),
      "a.masked_fill(b, float('-inf'))",
      [G('float32', [2, 3]), X('bool', [3], 'bool')],
    ],
    [
      'maskedFill.nan',
      (a, m) => a.maskedFill(m, Number.NaN),
      "a.masked_fill(b, float('nan'))",
      [G('float64', [4]), X('bool', [4], 'bool')],
    ],
    [
      'maskedFill.i64',
      (a, m) => a.maskedFill(m, 7),
      'a.masked_fill(b, 7)',
      [X('int64', [4], 'small'), X('bool', [4], 'bool')],
    ],
    [
      'maskedSelect',
      (a, m) => a.maskedSelect(m),
      'a.masked_select(b)',
      [G('float32', [2, 3]), X('bool', [2, 3], 'bool')],
    ],
    ['sort', (a) => a.sort(1), 'list(a.sort(1))', [G('float32', [3, 5], 'edge')]],
    [
      'sort.desc',
      (a) => a.sort(-1, { descending: true }),
      'list(a.sort(-1, descending=True))',
      [G('float64', [6], 'normal')],
    ],
    ['argsort', (a) => a.argsort(0), 'a.argsort(0)', [X('float32', [5], { values: [3, 1, 2, 0.5, 4] })]],
    ['topk', (a) => a.topk(2, 1), 'list(a.topk(2, 1))', [G('float32', [3, 5])]],
    [
      'topk.smallest',
      (a) => a.topk(3, -1, { largest: false }),
      'list(a.topk(3, -1, largest=False))',
      [G('float64', [2, 6])],
    ],
    ['topk.bad', (a) => a.topk(7), 'list(a.topk(7))', [X('float32', [5])]],
    ['softmax', (a) => a.softmax(1), 'a.softmax(1)', [G('float32', [3, 4], 'edge')]],
    ['softmax.T', (a) => a.softmax(0), 'a.softmax(0)', [G('float64', [3, 4], 'normal', { view: 'T' })]],
    ['logSoftmax', (a) => a.logSoftmax(-1), 'a.log_softmax(-1)', [G('float32', [3, 4], 'edge')]],
    ['logSoftmax.empty', (a) => a.logSoftmax(1), 'a.log_softmax(1)', [G('float32', [0, 4])]],
  ];
  for (const [name, js, py, inputs] of shapeOps) {
    add({ id: `shape.${name}`, category: 'shape', inputs, js, py, grad: inputs.some((s) => s.grad) });
  }

  // ---- linear algebra ----
  const linalg: [string, (...x: any[]) => any, string, InputSpec[], Case['tol']?][] = [
    ['matmul.2d', (a, b) => a.matmul(b), 'a.matmul(b)', [G('float32', [3, 4]), G('float32', [4, 2])]],
    ['matmul.bcast', (a, b) => a.matmul(b), 'a.matmul(b)', [G('float32', [2, 3, 4]), G('float32', [4, 5])]],
    ['matmul.vec', (a, b) => a.matmul(b), 'a.matmul(b)', [G('float64', [4]), G('float64', [4, 3])]],
    [
      'matmul.T',
      (a, b) => a.matmul(b),
      'a.matmul(b)',
      [G('float32', [3, 4], 'normal', { view: 'T' }), G('float32', [3, 2])],
    ],
    ['matmul.edge', (a, b) => a.matmul(b), 'a.matmul(b)', [G('float32', [2, 3], 'edge'), G('float32', [3, 2], 'edge')]],
    ['matmul.empty', (a, b) => a.matmul(b), 'a.matmul(b)', [G('float32', [2, 0]), G('float32', [0, 3])]],
    ['matmul.bad', (a, b) => a.matmul(b), 'a.matmul(b)', [X('float32', [2, 3]), X('float32', [2, 3])]],
    ['matmul.i64', (a, b) => a.matmul(b), 'a.matmul(b)', [X('int64', [2, 3], 'small'), X('int64', [3, 2], 'small')]],
    ['matmul.mixed', (a, b) => a.matmul(b), 'a.matmul(b)', [X('float32', [2, 3]), X('float64', [3, 2])]],
    ['mm', (a, b) => a.mm(b), 'a.mm(b)', [G('float64', [3, 4]), G('float64', [4, 2], 'normal', { view: 'T' })]],
    ['bmm', (a, b) => a.bmm(b), 'a.bmm(b)', [G('float32', [2, 3, 4]), G('float32', [2, 4, 2])]],
    ['bmm.bad', (a, b) => a.bmm(b), 'a.bmm(b)', [X('float32', [3, 4]), X('float32', [4, 2])]],
    ['dot', (a, b) => a.dot(b), 'a.dot(b)', [G('float32', [5]), G('float32', [5])]],
    ['dot.i32', (a, b) => a.dot(b), 'a.dot(b)', [X('int32', [5], 'small'), X('int32', [5], 'small')]],
    ['outer', (a, b) => a.outer(b), 'a.outer(b)', [G('float32', [3], 'edge'), G('float32', [2])]],
    [
      'einsum',
      (a, b) => torch.einsum('ij,jk->ik', a, b),
      "torch.einsum('ij,jk->ik', a, b)",
      [G('float32', [2, 3]), G('float32', [3, 4])],
    ],
    ['einsum.trace', (a) => torch.einsum('ii', a), "torch.einsum('ii', a)", [G('float64', [3, 3])]],
    [
      'cdist',
      (a, b) => torch.cdist(a, b),
      'torch.cdist(a, b)',
      [G('float32', [3, 2]), G('float32', [4, 2])],
      { rtol: 1e-6, atol: 1e-6 },
    ],
    ['cdist.p1', (a, b) => torch.cdist(a, b, 1), 'torch.cdist(a, b, 1)', [G('float64', [3, 2]), G('float64', [4, 2])]],
  ];
  for (const [name, js, py, inputs, tol] of linalg) {
    add({ id: `linalg.${name}`, category: 'linalg', inputs, js, py, grad: inputs.some((s) => s.grad), tol });
  }
  add({
    id: 'linalg.broadcastTensors',
    category: 'linalg',
    inputs: [X('float32', [3, 1]), X('float32', [4])],
    js: (a: Tensor, b: Tensor) => torch.broadcastTensors(a, b),
    py: 'list(torch.broadcast_tensors(a, b))',
  });
  add({
    id: 'linalg.meshgrid.xy',
    category: 'linalg',
    inputs: [X('float32', [3]), X('float32', [2])],
    js: (a: Tensor, b: Tensor) => torch.meshgrid([a, b], 'xy'),
    py: "list(torch.meshgrid(a, b, indexing='xy'))",
  });

  // ---- creation ----
  const creation: [string, () => any, string, string?][] = [
    [
      'tensor.nested',
      () =>
        torch.tensor([
          [1, 2.5],
          [-0, 3],
        ]),
      'torch.tensor([[1, 2.5], [-0.0, 3]])',
    ],
    ['tensor.bool', () => torch.tensor([true, false]), 'torch.tensor([True, False])'],
    ['tensor.bool_number', () => torch.tensor([true, 2]), 'torch.tensor([True, 2])', 'numbers-float32'],
    [
      'tensor.bool_number.notBool',
      () => torch.tensor([true, 2]).dtype !== 'bool',
      'torch.tensor([True, 2]).dtype != torch.bool',
      'tensor-bool-number',
    ],
    ['tensor.int64', () => torch.tensor([1, -2], { dtype: 'int64' }), 'torch.tensor([1, -2], dtype=torch.int64)'],
    ['tensor.empty', () => torch.tensor([]), 'torch.tensor([])'],
    ['tensor.ragged', () => torch.tensor([[1, 2], [3]] as any), 'torch.tensor([[1, 2], [3]])'],
    ['scalarTensor', () => torch.scalarTensor(-0), 'torch.tensor(-0.0)', 'negzero-scalar'],
    ['zeros', () => torch.zeros([2, 3]), 'torch.zeros([2, 3])'],
    ['zeros.empty', () => torch.zeros([0, 2], { dtype: 'int32' }), 'torch.zeros([0, 2], dtype=torch.int32)'],
    ['ones.f64', () => torch.ones([3], { dtype: 'float64' }), 'torch.ones([3], dtype=torch.float64)'],
    ['ones.negative', () => torch.ones([-1]), 'torch.ones([-1])'],
    ['full', () => torch.full([2], 2.5), 'torch.full([2], 2.5)'],
    ['full.negzero', () => torch.full([2], -0), 'torch.full([2], -0.0)', 'negzero-scalar'],
    ['full.nan', () => torch.full([2], Number.NaN), "torch.full([2], float('nan'))"],
    ['full.int', () => torch.full([2], 3), 'torch.full([2], 3.0)'],
    ['full.bool', () => torch.full([2], 1, { dtype: 'bool' }), 'torch.full([2], True)'],
    ['eye', () => torch.eye(3), 'torch.eye(3)'],
    ['eye.rect', () => torch.eye(2, 4), 'torch.eye(2, 4)'],
    ['arange', () => torch.arange(5), 'torch.arange(5.0)'],
    ['arange.step', () => torch.arange(1, 2, 0.3), 'torch.arange(1, 2, 0.3)'],
    ['arange.int64', () => torch.arange(0, 5, 2, { dtype: 'int64' }), 'torch.arange(0, 5, 2)'],
    ['arange.zero_step', () => torch.arange(0, 5, 0), 'torch.arange(0.0, 5, 0)'],
    ['linspace', () => torch.linspace(-1, 1, 7), 'torch.linspace(-1, 1, 7)'],
    ['linspace.one', () => torch.linspace(3, 5, 1), 'torch.linspace(3, 5, 1)'],
    ['logspace', () => torch.logspace(0, 2, 5), 'torch.logspace(0, 2, 5)'],
    ['logspace.base2', () => torch.logspace(0, 3, 4, { base: 2 }), 'torch.logspace(0, 3, 4, base=2)'],
  ];
  for (const [name, js, py, known] of creation)
    add({ id: `create.${name}`, category: 'create', inputs: [], js, py, known });
  for (const d of ['float32', 'float64', 'int64', 'bool'] as PDType[]) {
    add({
      id: `create.like.${short(d)}`,
      category: 'create',
      inputs: [X(d, [2, 3], d === 'bool' ? 'bool' : 'small', { view: 'T' })],
      js: (a: Tensor) => [torch.zerosLike(a), torch.onesLike(a), torch.fullLike(a, 1)],
      py: '[torch.zeros_like(a), torch.ones_like(a), torch.full_like(a, 1)]',
    });
  }
  for (const [from, to] of [
    ['float32', 'int64'],
    ['float64', 'float32'],
    ['float32', 'bool'],
    ['int64', 'float32'],
    ['bool', 'float64'],
    ['int32', 'int64'],
  ] as [PDType, PDType][]) {
    add({
      id: `create.to.${short(from)}_${short(to)}`,
      category: 'create',
      inputs: [X(from, [8], from === 'bool' ? 'bool' : from.startsWith('int') ? 'intedge' : 'normal')],
      js: (a: Tensor) => a.to(to),
      py: `a.to(${PYDT[to]})`,
    });
  }

  // ---- nn.functional ----
  const fns: [string, (...x: any[]) => any, string, InputSpec[], Case['tol']?][] = [];
  const acts: [string, (a: Tensor) => Tensor, string][] = [
    ['relu', (a) => F.relu(a), 'F.relu(a)'],
    ['leakyRelu', (a) => F.leakyRelu(a), 'F.leaky_relu(a)'],
    ['leakyRelu(0.2)', (a) => F.leakyRelu(a, { negativeSlope: 0.2 }), 'F.leaky_relu(a, 0.2)'],
    ['elu', (a) => F.elu(a), 'F.elu(a)'],
    ['elu(0.5)', (a) => F.elu(a, { alpha: 0.5 }), 'F.elu(a, 0.5)'],
    ['softplus', (a) => F.softplus(a), 'F.softplus(a)'],
    ['softplus(2,5)', (a) => F.softplus(a, { beta: 2, threshold: 5 }), 'F.softplus(a, 2, 5)'],
    ['gelu', (a) => F.gelu(a), 'F.gelu(a)'],
    ['gelu.tanh', (a) => F.gelu(a, { approximate: 'tanh' }), "F.gelu(a, approximate='tanh')"],
    ['silu', (a) => F.silu(a), 'F.silu(a)'],
    ['sigmoid', (a) => F.sigmoid(a), 'torch.sigmoid(a)'],
    ['tanh', (a) => F.tanh(a), 'torch.tanh(a)'],
    ['logsigmoid', (a) => F.logsigmoid(a), 'F.logsigmoid(a)'],
    ['softmax', (a) => F.softmax(a, -1), 'F.softmax(a, -1)'],
    ['softmax.f64', (a) => F.softmax(a, 0, { dtype: 'float64' }), 'F.softmax(a, 0, dtype=torch.float64)'],
    ['logSoftmax', (a) => F.logSoftmax(a, 1), 'F.log_softmax(a, 1)'],
    ['dropout.eval', (a) => F.dropout(a, { training: false }), 'F.dropout(a, training=False)'],
    ['dropout.p0', (a) => F.dropout(a, { p: 0 }), 'F.dropout(a, 0.0)'],
    ['dropout.p1', (a) => F.dropout(a, { p: 1 }), 'F.dropout(a, 1.0)'],
    ['dropout.bad_p', (a) => F.dropout(a, { p: 1.5 }), 'F.dropout(a, 1.5)'],
    ['hardtanh', (a) => torch.ops.hardtanh(a), 'F.hardtanh(a)'],
  ];
  for (const [name, js, py] of acts) {
    fns.push([`${name}.f32.edge`, js, py, [G('float32', [3, 5], 'edge')]]);
    fns.push([`${name}.f64.T`, js, py, [G('float64', [4, 3], 'normal', { view: 'T' })]]);
    fns.push([`${name}.empty`, js, py, [G('float32', [0, 4])]]);
  }
  for (const d of FLOATS) {
    const s = short(d);
    fns.push(
      [
        `linear.${s}`,
        (x, w, b) => F.linear(x, w, { bias: b }),
        'F.linear(a, b, c)',
        [G(d, [2, 3]), G(d, [4, 3]), G(d, [4])],
      ],
      [`linear.nobias.${s}`, (x, w) => F.linear(x, w), 'F.linear(a, b)', [G(d, [2, 5, 3]), G(d, [4, 3])]],
      [`linear.bad.${s}`, (x, w) => F.linear(x, w), 'F.linear(a, b)', [X(d, [2, 3]), X(d, [4, 2])]],
      [
        `conv2d.${s}`,
        (x, w, b) => F.conv2d(x, w, { bias: b }),
        'F.conv2d(a, b, c)',
        [G(d, [2, 3, 5, 5]), G(d, [4, 3, 3, 3]), G(d, [4])],
      ],
      [
        `conv2d.stride_pad.${s}`,
        (x, w) => F.conv2d(x, w, { stride: 2, padding: 1 }),
        'F.conv2d(a, b, stride=2, padding=1)',
        [G(d, [1, 2, 6, 5]), G(d, [3, 2, 3, 3])],
      ],
      [
        `conv2d.same.${s}`,
        (x, w) => F.conv2d(x, w, { padding: 'same', dilation: 2 }),
        "F.conv2d(a, b, padding='same', dilation=2)",
        [G(d, [1, 2, 6, 6]), G(d, [2, 2, 3, 2])],
      ],
      [
        `conv2d.groups.${s}`,
        (x, w) => F.conv2d(x, w, { groups: 2 }),
        'F.conv2d(a, b, groups=2)',
        [G(d, [1, 4, 4, 4]), G(d, [6, 2, 2, 2])],
      ],
      [
        `conv2d.T.${s}`,
        (x, w) => F.conv2d(x, w),
        'F.conv2d(a, b)',
        [G(d, [1, 2, 4, 5], 'normal', { view: 'T' }), G(d, [3, 2, 2, 2])],
      ],
      [`conv2d.bad.${s}`, (x, w) => F.conv2d(x, w), 'F.conv2d(a, b)', [X(d, [1, 2, 4, 4]), X(d, [3, 3, 2, 2])]],
      [
        `convTranspose2d.${s}`,
        (x, w, b) => F.convTranspose2d(x, w, { bias: b, stride: 2, padding: 1, outputPadding: 1 }),
        'F.conv_transpose2d(a, b, c, stride=2, padding=1, output_padding=1)',
        [G(d, [1, 3, 3, 3]), G(d, [3, 2, 3, 3]), G(d, [2])],
      ],
      [
        `interpolate.nearest.${s}`,
        (x) => F.interpolate(x, { scaleFactor: 2 }),
        "F.interpolate(a, scale_factor=2, mode='nearest')",
        [G(d, [1, 2, 3, 3])],
      ],
      [
        `interpolate.nearest_size.${s}`,
        (x) => F.interpolate(x, { size: [5, 2] }),
        'F.interpolate(a, size=[5, 2])',
        [G(d, [1, 1, 3, 4])],
      ],
      [
        `interpolate.bilinear.${s}`,
        (x) => F.interpolate(x, { size: 5, mode: 'bilinear' }),
        "F.interpolate(a, size=5, mode='bilinear')",
        [G(d, [1, 2, 3, 3])],
      ],
      [
        `interpolate.bilinear_ac.${s}`,
        (x) => F.interpolate(x, { scaleFactor: 1.5, mode: 'bilinear', alignCorners: true }),
        "F.interpolate(a, scale_factor=1.5, mode='bilinear', align_corners=True)",
        [G(d, [1, 1, 4, 4])],
      ],
      [
        `interpolate.bicubic.${s}`,
        (x) => F.interpolate(x, { size: [4, 6], mode: 'bicubic' }),
        "F.interpolate(a, size=[4, 6], mode='bicubic')",
        [G(d, [1, 1, 3, 3])],
      ],
      [`avgPool2d.${s}`, (x) => F.avgPool2d(x, 2), 'F.avg_pool2d(a, 2)', [G(d, [1, 2, 4, 5], 'edge')]],
      [
        `avgPool2d.pad.${s}`,
        (x) => F.avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }),
        'F.avg_pool2d(a, 3, 2, 1, ceil_mode=True, count_include_pad=False)',
        [G(d, [1, 2, 5, 5])],
      ],
      [`maxPool2d.${s}`, (x) => F.maxPool2d(x, 2), 'F.max_pool2d(a, 2)', [G(d, [1, 2, 4, 4], 'edge')]],
      [
        `maxPool2d.dil.${s}`,
        (x) => F.maxPool2d(x, 2, { stride: 1, padding: 1, dilation: 2 }),
        'F.max_pool2d(a, 2, 1, 1, dilation=2)',
        [G(d, [1, 1, 5, 5])],
      ],
      [
        `maxPool2dWithIndices.${s}`,
        (x) => F.maxPool2dWithIndices(x, 2),
        'list(F.max_pool2d(a, 2, return_indices=True))',
        [G(d, [1, 2, 4, 4])],
      ],
      [
        `maxPool2d.badpad.${s}`,
        (x) => F.maxPool2d(x, 2, { padding: 2 }),
        'F.max_pool2d(a, 2, padding=2)',
        [X(d, [1, 1, 4, 4])],
      ],
      [
        `adaptiveAvgPool2d.${s}`,
        (x) => F.adaptiveAvgPool2d(x, [2, 3]),
        'F.adaptive_avg_pool2d(a, [2, 3])',
        [G(d, [1, 2, 5, 7])],
      ],
      [
        `adaptiveAvgPool2d.1.${s}`,
        (x) => F.adaptiveAvgPool2d(x, 1),
        'F.adaptive_avg_pool2d(a, 1)',
        [G(d, [2, 3, 4, 4], 'edge')],
      ],
      [
        `pad.constant.${s}`,
        (x) => F.pad(x, [1, 2, 0, 1], { value: -0 }),
        'F.pad(a, [1, 2, 0, 1], value=-0.0)',
        [G(d, [1, 1, 2, 3])],
      ],
      [`pad.value.${s}`, (x) => F.pad(x, [1, 1], { value: 2.5 }), 'F.pad(a, [1, 1], value=2.5)', [G(d, [2, 3])]],
      [`pad.negative.${s}`, (x) => F.pad(x, [-1, 1]), 'F.pad(a, [-1, 1])', [G(d, [2, 3])]],
      [
        `pad.reflect.${s}`,
        (x) => F.pad(x, [2, 1, 1, 2], { mode: 'reflect' }),
        "F.pad(a, [2, 1, 1, 2], mode='reflect')",
        [G(d, [1, 2, 3, 4])],
      ],
      [
        `pad.replicate.${s}`,
        (x) => F.pad(x, [1, 2, 2, 1], { mode: 'replicate' }),
        "F.pad(a, [1, 2, 2, 1], mode='replicate')",
        [G(d, [1, 2, 3, 3])],
      ],
      [
        `pad.circular.${s}`,
        (x) => F.pad(x, [1, 1, 1, 0], { mode: 'circular' }),
        "F.pad(a, [1, 1, 1, 0], mode='circular')",
        [G(d, [1, 1, 3, 3])],
      ],
      [
        `pad.reflect_big.${s}`,
        (x) => F.pad(x, [3, 3], { mode: 'reflect' }),
        "F.pad(a, [3, 3], mode='reflect')",
        [X(d, [1, 2, 3])],
      ],
      [
        `layerNorm.${s}`,
        (x, w, b) => F.layerNorm(x, [4], { weight: w, bias: b }),
        'F.layer_norm(a, [4], b, c)',
        [G(d, [3, 4], 'edge'), G(d, [4]), G(d, [4])],
      ],
      [
        `layerNorm.2d.${s}`,
        (x) => F.layerNorm(x, [3, 4], { eps: 1e-3 }),
        'F.layer_norm(a, [3, 4], eps=1e-3)',
        [G(d, [2, 3, 4])],
      ],
      [
        `groupNorm.${s}`,
        (x, w, b) => F.groupNorm(x, 2, { weight: w, bias: b }),
        'F.group_norm(a, 2, b, c)',
        [G(d, [2, 4, 3, 3]), G(d, [4]), G(d, [4])],
      ],
      [`groupNorm.single.${s}`, (x) => F.groupNorm(x, 4), 'F.group_norm(a, 4)', [G(d, [2, 4])], undefined],
      [`groupNorm.bad.${s}`, (x) => F.groupNorm(x, 3), 'F.group_norm(a, 3)', [X(d, [2, 4, 2])]],
      [
        `batchNorm.eval.${s}`,
        (x, m, v, w, b) => F.batchNorm(x, m, v, { weight: w, bias: b }),
        'F.batch_norm(a, b, c, d, e)',
        [G(d, [4, 3, 2]), X(d, [3]), X(d, [3], 'pos'), G(d, [3]), G(d, [3])],
      ],
      [
        `batchNorm.train.${s}`,
        (x, m, v) => [F.batchNorm(x, m, v, { training: true, momentum: 0.2 }), m, v],
        '[F.batch_norm(a, b, c, training=True, momentum=0.2), b, c]',
        [G(d, [5, 3]), X(d, [3]), X(d, [3], 'pos')],
      ],
      [`normalize.${s}`, (x) => F.normalize(x), 'F.normalize(a)', [G(d, [3, 4], 'edge')]],
      [`normalize.p1.${s}`, (x) => F.normalize(x, { p: 1, dim: 0 }), 'F.normalize(a, 1.0, 0)', [G(d, [3, 4])]],
      [
        `normalize.zero.${s}`,
        (x) => F.normalize(x, { dim: -1 }),
        'F.normalize(a, dim=-1)',
        [G(d, [2, 3], { values: [0, -0, 0, 1, 2, 3] })],
      ],
      [
        `embedding.${s}`,
        (i, w) => F.embedding(i, w),
        'F.embedding(a, b)',
        [X('int64', [2, 3], { idx: 5 }), G(d, [5, 4])],
      ],
      [
        `embedding.pad.${s}`,
        (i, w) => F.embedding(i, w, { paddingIdx: 1 }),
        'F.embedding(a, b, padding_idx=1)',
        [X('int64', [6], { values: [0, 1, 1, 2, 4, 1] }), G(d, [5, 3])],
      ],
      [
        `embedding.padneg.${s}`,
        (i, w) => F.embedding(i, w, { paddingIdx: -1 }),
        'F.embedding(a, b, padding_idx=-1)',
        [X('int64', [4], { values: [4, 0, 4, 2] }), G(d, [5, 3])],
      ],
      [
        `embedding.scaleGrad.${s}`,
        (i, w) => F.embedding(i, w, { scaleGradByFreq: true }),
        'F.embedding(a, b, scale_grad_by_freq=True)',
        [X('int64', [5], { values: [0, 0, 3, 0, 1] }), G(d, [4, 2])],
      ],
      [
        `embedding.oob.${s}`,
        (i, w) => F.embedding(i, w),
        'F.embedding(a, b)',
        [X('int64', [2], { values: [0, 5] }), X(d, [5, 2])],
      ],
    );
  }
  fns.push(
    ['oneHot', (i) => F.oneHot(i), 'F.one_hot(a)', [X('int64', [5], { idx: 4 })]],
    ['oneHot.n', (i) => F.oneHot(i, { numClasses: 6 }), 'F.one_hot(a, 6)', [X('int64', [2, 2], { idx: 4 })]],
    ['oneHot.neg', (i) => F.oneHot(i), 'F.one_hot(a)', [X('int64', [2], { values: [-1, 2] })]],
    ['oneHot.small', (i) => F.oneHot(i, { numClasses: 2 }), 'F.one_hot(a, 2)', [X('int64', [2], { values: [0, 3] })]],
    ['oneHot.i32', (i) => F.oneHot(i), 'F.one_hot(a)', [X('int32', [3], { idx: 3 })]],
  );
  for (const [name, js, py, inputs, tol] of fns) {
    add({ id: `F.${name}`, category: 'nn.F', inputs, js, py, grad: inputs.some((s) => s.grad), tol });
  }
  add({
    id: 'F.embedding.padOOB',
    category: 'nn.F',
    inputs: [X('int64', [3], { values: [0, 1, 2] }), G('float32', [3, 2])],
    js: (i: Tensor, w: Tensor) => F.embedding(i, w, { paddingIdx: 3 }),
    py: 'F.embedding(a, b, padding_idx=3)',
    grad: true,
    known: 'embedding-padding-oob',
  });
  add({
    id: 'F.embedding.padOOBneg',
    category: 'nn.F',
    inputs: [X('int64', [3], { values: [0, 1, 2] }), G('float32', [3, 2])],
    js: (i: Tensor, w: Tensor) => F.embedding(i, w, { paddingIdx: -4 }),
    py: 'F.embedding(a, b, padding_idx=-4)',
    grad: true,
    known: 'embedding-padding-oob',
  });
  add({
    id: 'F.batchNorm.train.single',
    category: 'nn.F',
    inputs: [G('float32', [1, 3])],
    js: (x: Tensor) => F.batchNorm(x, null, null, { training: true }),
    py: 'F.batch_norm(a, None, None, training=True)',
    grad: true,
    known: 'norm-one-value',
  });
  add({
    id: 'F.groupNorm.onePerGroup',
    category: 'nn.F',
    inputs: [G('float32', [2, 4])],
    js: (x: Tensor) => F.groupNorm(x, 4),
    py: 'F.group_norm(a, 4)',
    grad: true,
    known: 'norm-one-value',
  });

  // ---- losses ----
  // torch.ops.huberLoss and smoothL1Loss are compared here with the same ATen ops (torch.ops.aten.*), whose
  // 'mean' gradient of a broadcast target is the broadcast factor times F.huber_loss's (F broadcasts first);
  // see known.ts, 'loss-broadcast-grad'. F.huberLoss and F.smoothL1Loss are compared with F below.
  const reductionsList = ['mean', 'sum', 'none'] as const;
  for (const red of reductionsList) {
    for (const d of FLOATS) {
      const s = `${red}.${short(d)}`;
      const r = `reduction='${red}'`;
      const L: [string, (...x: any[]) => any, string, InputSpec[], string?][] = [
        [
          'mseLoss',
          (a, b) => F.mseLoss(a, b, { reduction: red }),
          `F.mse_loss(a, b, ${r})`,
          [G(d, [3, 4], 'edge'), G(d, [3, 4])],
        ],
        [
          'l1Loss',
          (a, b) => F.l1Loss(a, b, { reduction: red }),
          `F.l1_loss(a, b, ${r})`,
          [G(d, [3, 4]), G(d, [3, 4], 'edge')],
        ],
        [
          'huber',
          (a, b) => torch.ops.huberLoss(a, b, { reduction: rc(red), delta: 0.5 }),
          `torch.ops.aten.huber_loss(a, b, ${rc(red)}, 0.5)`,
          [G(d, [3, 4]), G(d, [3, 4])],
        ],
        [
          'smoothL1',
          (a, b) => torch.ops.smoothL1Loss(a, b, { reduction: rc(red), beta: 0.7 }),
          `torch.ops.aten.smooth_l1_loss(a, b, ${rc(red)}, 0.7)`,
          [G(d, [3, 4]), G(d, [3, 4])],
        ],
        [
          'crossEntropy',
          (a, t) => F.crossEntropy(a, t, { reduction: red }),
          `F.cross_entropy(a, b, ${r})`,
          [G(d, [4, 5]), X('int64', [4], { idx: 5 })],
        ],
        [
          'crossEntropy.weighted_ignore',
          (a, t, w) => F.crossEntropy(a, t, { reduction: red, weight: w, ignoreIndex: 2 }),
          `F.cross_entropy(a, b, c, ignore_index=2, ${r})`,
          [G(d, [5, 3]), X('int64', [5], { values: [0, 2, 1, 2, 1] }), X(d, [3], 'pos')],
        ],
        [
          'crossEntropy.smooth',
          (a, t) => F.crossEntropy(a, t, { reduction: red, labelSmoothing: 0.1 }),
          `F.cross_entropy(a, b, ${r}, label_smoothing=0.1)`,
          [G(d, [3, 4, 2]), X('int64', [3, 2], { idx: 4 })],
        ],
        [
          'crossEntropy.probs',
          (a, t) => F.crossEntropy(a, t, { reduction: red }),
          `F.cross_entropy(a, b, ${r})`,
          [G(d, [3, 4], 'edge'), X(d, [3, 4], 'unit')],
        ],
        [
          'nllLoss',
          (a, t) => F.nllLoss(a, t, { reduction: red }),
          `F.nll_loss(a, b, ${r})`,
          [G(d, [4, 3]), X('int64', [4], { idx: 3 })],
        ],
        [
          'nllLoss.allIgnored',
          (a, t) => F.nllLoss(a, t, { reduction: red, ignoreIndex: 1 }),
          `F.nll_loss(a, b, ignore_index=1, ${r})`,
          [G(d, [2, 3]), X('int64', [2], { values: [1] })],
        ],
        [
          'bce',
          (p, t, w) => F.binaryCrossEntropy(p, t, { reduction: red, weight: w }),
          `F.binary_cross_entropy(a, b, c, ${r})`,
          [G(d, [6], { values: [0, 1, 0.3, 0.999, 1e-30, 0.5] }), X(d, [6], 'unit'), X(d, [6], 'pos')],
        ],
        [
          'bceWithLogits',
          (z, t, pw) => F.binaryCrossEntropyWithLogits(z, t, { reduction: red, posWeight: pw }),
          `F.binary_cross_entropy_with_logits(a, b, ${r}, pos_weight=c)`,
          [G(d, [4, 3], 'edge'), X(d, [4, 3], 'unit'), X(d, [3], 'pos')],
        ],
        [
          'klDiv',
          (a, b) => F.klDiv(a, b, { reduction: red }),
          `F.kl_div(a, b, ${r})`,
          [G(d, [3, 4]), X(d, [3, 4], { values: [0, 0.5, 0.25, 0.25, 1, 0, 0, 0] })],
        ],
        [
          'klDiv.log',
          (a, b) => F.klDiv(a, b, { reduction: red, logTarget: true }),
          `F.kl_div(a, b, ${r}, log_target=True)`,
          [G(d, [3, 4]), G(d, [3, 4])],
        ],
        [
          'gaussianNll',
          (a, b, v) => F.gaussianNllLoss(a, b, v, { reduction: red }),
          `F.gaussian_nll_loss(a, b, c, ${r})`,
          [G(d, [3, 2]), G(d, [3, 2]), G(d, [3, 2], { values: [0.5, 1e-9, 2, 0, 1, 3] })],
        ],
        [
          'gaussianNll.full_shared',
          (a, b, v) => F.gaussianNllLoss(a, b, v, { reduction: red, full: true }),
          `F.gaussian_nll_loss(a, b, c, full=True, ${r})`,
          [G(d, [3, 2]), G(d, [3, 2]), G(d, [3], 'pos')],
        ],
        [
          'mseLoss.bcast',
          (a, b) => F.mseLoss(a, b, { reduction: red }),
          `F.mse_loss(a, b, ${r})`,
          [G(d, [3, 4]), G(d, [4])],
          red === 'none' ? undefined : 'loss-broadcast-grad',
        ],
        [
          'l1Loss.bcast',
          (a, b) => F.l1Loss(a, b, { reduction: red }),
          `F.l1_loss(a, b, ${r})`,
          [G(d, [3, 1]), G(d, [1, 4])],
        ],
        [
          'huber.bcast',
          (a, b) => torch.ops.huberLoss(a, b, { reduction: rc(red) }),
          `torch.ops.aten.huber_loss(a, b, ${rc(red)})`,
          [G(d, [2, 3]), G(d, [3])],
        ],
        [
          'smoothL1.bcast',
          (a, b) => torch.ops.smoothL1Loss(a, b, { reduction: rc(red) }),
          `torch.ops.aten.smooth_l1_loss(a, b, ${rc(red)})`,
          [G(d, [2, 3]), G(d, [3])],
        ],
        [
          'bce.targetSize',
          (p, t) => F.binaryCrossEntropy(p, t, { reduction: red }),
          `F.binary_cross_entropy(a, b, ${r})`,
          [X(d, [3, 2], 'unit'), X(d, [2], 'unit')],
          'bce-target-size',
        ],
        [
          'crossEntropy.bad',
          (a, t) => F.crossEntropy(a, t, { reduction: red }),
          `F.cross_entropy(a, b, ${r})`,
          [X(d, [2, 3]), X('int64', [2], { values: [3, 0] })],
        ],
        [
          'crossEntropy.empty',
          (a, t) => F.crossEntropy(a, t, { reduction: red }),
          `F.cross_entropy(a, b, ${r})`,
          [G(d, [0, 3]), X('int64', [0], { idx: 3 })],
        ],
      ];
      for (const [name, js, py, inputs, known] of L) {
        add({ id: `loss.${name}.${s}`, category: 'loss', inputs, js, py, grad: inputs.some((i) => i.grad), known });
      }
    }
  }
  // F.huberLoss and F.smoothL1Loss against F.huber_loss / F.smooth_l1_loss: delta/beta, every
  // reduction, and broadcast operands (both sides broadcast before ATen, so the gradients agree).
  for (const red of reductionsList) {
    for (const d of FLOATS) {
      const s = `${red}.${short(d)}`;
      const r = `reduction='${red}'`;
      const HL: [string, (a: Tensor, b: Tensor) => Tensor, string, InputSpec[], string?][] = [
        [
          'huber.delta',
          (a, b) => F.huberLoss(a, b, { reduction: red, delta: 0.5 }),
          `F.huber_loss(a, b, ${r}, delta=0.5)`,
          [G(d, [3, 4]), G(d, [3, 4])],
        ],
        [
          'huber.default.edge',
          (a, b) => F.huberLoss(a, b, { reduction: red }),
          `F.huber_loss(a, b, ${r})`,
          [G(d, [2, 5], 'edge'), G(d, [2, 5])],
        ],
        [
          'huber.bcastTarget',
          (a, b) => F.huberLoss(a, b, { reduction: red, delta: 1.5 }),
          `F.huber_loss(a, b, ${r}, delta=1.5)`,
          [G(d, [2, 3]), G(d, [3])],
        ],
        [
          'huber.bcastBoth',
          (a, b) => F.huberLoss(a, b, { reduction: red, delta: 0.3 }),
          `F.huber_loss(a, b, ${r}, delta=0.3)`,
          [G(d, [3, 1]), G(d, [1, 4])],
        ],
        [
          'smoothL1.beta',
          (a, b) => F.smoothL1Loss(a, b, { reduction: red, beta: 0.7 }),
          `F.smooth_l1_loss(a, b, ${r}, beta=0.7)`,
          [G(d, [3, 4]), G(d, [3, 4])],
        ],
        [
          'smoothL1.default.edge',
          (a, b) => F.smoothL1Loss(a, b, { reduction: red }),
          `F.smooth_l1_loss(a, b, ${r})`,
          [G(d, [2, 5], 'edge'), G(d, [2, 5])],
        ],
        [
          'smoothL1.beta0',
          (a, b) => F.smoothL1Loss(a, b, { reduction: red, beta: 0 }),
          `F.smooth_l1_loss(a, b, ${r}, beta=0.0)`,
          [G(d, [4], { values: [1, -2, 0.5, 3] }), G(d, [4], { values: [1, 0, -0.5, 3] })],
          'smoothl1-beta0-grad',
        ],
        [
          'smoothL1.bcastTarget',
          (a, b) => F.smoothL1Loss(a, b, { reduction: red, beta: 2 }),
          `F.smooth_l1_loss(a, b, ${r}, beta=2.0)`,
          [G(d, [2, 3]), G(d, [3])],
        ],
        [
          'smoothL1.bcastBoth',
          (a, b) => F.smoothL1Loss(a, b, { reduction: red, beta: 0.25 }),
          `F.smooth_l1_loss(a, b, ${r}, beta=0.25)`,
          [G(d, [3, 1]), G(d, [1, 4])],
        ],
      ];
      for (const [name, js, py, inputs, known] of HL) {
        add({ id: `loss.F.${name}.${s}`, category: 'loss', inputs, js, py, grad: true, known });
      }
    }
  }
  for (const d of FLOATS) {
    add({
      id: `loss.klDiv.batchmean.${short(d)}`,
      category: 'loss',
      inputs: [G(d, [4, 3]), X(d, [4, 3], 'unit')],
      js: (a: Tensor, b: Tensor) => F.klDiv(a, b, { reduction: 'batchmean' }),
      py: "F.kl_div(a, b, reduction='batchmean')",
      grad: true,
    });
  }

  // ---- more edges: numbers at the JS boundary, in-place ops, metadata and readback ----
  const more: [string, string, (...x: any[]) => any, string, InputSpec[], string?][] = [
    [
      'scalar',
      'scatter.value-0',
      (a, i) => a.scatter(0, i, -0),
      'a.scatter(0, b, -0.0)',
      [X('float32', [3, 2]), X('int64', [1, 2], { values: [2, 0] })],
      'negzero-scalar',
    ],
    [
      'scalar',
      'clamp(-0)',
      (a) => a.clamp(-0, null),
      'a.clamp(-0.0, None)',
      [X('float32', [3], { values: [-1, -0, 2] })],
      'negzero-scalar',
    ],
    [
      'scalar',
      'sub(-0)',
      (a) => a.sub(-0),
      'a.sub(-0.0)',
      [X('float64', [3], { values: [-0, 0, 1] })],
      'negzero-scalar',
    ],
    ['scalar', 'fill_(-0)', (a) => a.clone().fill_(-0), 'a.clone().fill_(-0.0)', [X('float32', [3])], 'negzero-scalar'],
    [
      'scalar',
      'maskedFill(-0)',
      (a, m) => a.maskedFill(m, -0),
      'a.masked_fill(b, -0.0)',
      [X('float32', [4]), X('bool', [4], { values: [1, 0, 1, 1] })],
      'negzero-scalar',
    ],
    [
      'scalar',
      'fullLike(-0)',
      (a) => torch.fullLike(a, -0),
      'torch.full_like(a, -0.0)',
      [X('float64', [2])],
      'negzero-scalar',
    ],
    ['scalar', 'add(2**53).i64', (a) => a.add(2 ** 53), 'a.add(2 ** 53)', [X('int64', [3], 'small')], 'int-2p53'],
    [
      'scalar',
      'mul(2**60).i64',
      (a) => a.mul(2 ** 60),
      'a.mul(2 ** 60)',
      [X('int64', [3], { values: [0, 1, -1] })],
      'int-2p53',
    ],
    ['scalar', 'eq(2**53+2).i64', (a) => a.eq(2 ** 53 + 2), 'a.eq(2 ** 53 + 2)', [X('int64', [2], { values: [1, 2] })]],
    [
      'scalar',
      'full(2**53).i64',
      () => torch.full([2], 2 ** 53, { dtype: 'int64' }),
      'torch.full([2], 2 ** 53, dtype=torch.int64)',
      [],
    ],
    [
      'scalar',
      'full(2.5).i64',
      () => torch.full([2], 2.5, { dtype: 'int64' }),
      'torch.full([2], 2.5, dtype=torch.int64)',
      [],
    ],
    ['scalar', 'clamp(nan)', (a) => a.clamp(Number.NaN, null), "a.clamp(float('nan'), None)", [X('float32', [3])]],
    ['scalar', 'clamp()', (a) => a.clamp(), 'a.clamp()', [X('float32', [3])]],
    ['scalar', 'clamp(min>max)', (a) => a.clamp(1, -1), 'a.clamp(1, -1)', [X('float32', [4], 'edge')]],
    ['scalar', 'mul(true)', (a) => a.mul(true as any), 'a.mul(True)', [X('float32', [3])]],
    ['scalar', 'add(true).bool', (a) => a.add(true as any), 'a.add(True)', [X('bool', [3], 'bool')]],
    [
      'create',
      'tensor.nan_int64',
      () => torch.tensor([Number.NaN], { dtype: 'int64' }),
      "torch.tensor([float('nan')], dtype=torch.int64)",
      [],
    ],
    [
      'create',
      'tensor.overflow_int32',
      () => torch.tensor([1e10], { dtype: 'int32' }),
      'torch.tensor([1e10], dtype=torch.int32)',
      [],
      'tensor-int-overflow',
    ],
    [
      'create',
      'tensor.overflow_int64',
      () => torch.tensor([1e19], { dtype: 'int64' }),
      'torch.tensor([1e19], dtype=torch.int64)',
      [],
      'tensor-int-overflow',
    ],
    [
      'create',
      'tensor.inf_int32',
      () => torch.tensor([Infinity], { dtype: 'int32' }),
      "torch.tensor([float('inf')], dtype=torch.int32)",
      [],
      'tensor-int-overflow',
    ],
    [
      'create',
      'tensor.frac_int64',
      () => torch.tensor([-1.7, 2.7], { dtype: 'int64' }),
      'torch.tensor([-1.7, 2.7], dtype=torch.int64)',
      [],
    ],
    ['create', 'tensor.numbers', () => torch.tensor([1, 2]), 'torch.tensor([1, 2])', [], 'numbers-float32'],
    ['create', 'arange.int', () => torch.arange(4), 'torch.arange(4)', [], 'numbers-float32'],
    ['create', 'tensor.float64_f32', () => torch.tensor([0.1]), 'torch.tensor([0.1])', []],
    ['create', 'tensor.huge_f32', () => torch.tensor([1e39, -1e39, 1e-46]), 'torch.tensor([1e39, -1e39, 1e-46])', []],
    ['create', 'zeros.frac', () => torch.zeros([2.5]), 'torch.zeros([2.5])', []],
    ['create', 'eye.0', () => torch.eye(0), 'torch.eye(0)', []],
    ['create', 'linspace.0', () => torch.linspace(0, 1, 0), 'torch.linspace(0, 1, 0)', []],
    [
      'create',
      'linspace.i64',
      () => torch.linspace(0, 10, 4, { dtype: 'int64' }),
      'torch.linspace(0, 10, 4, dtype=torch.int64)',
      [],
    ],
    ['shape', 'narrow.frac', (a) => a.narrow(0, 0.5, 1), 'a.narrow(0, 0.5, 1)', [X('float32', [3])]],
    ['shape', 'reshape.frac', (a) => a.reshape(1.5, 2), 'a.reshape(1.5, 2)', [X('float32', [3])]],
    ['shape', 'sum.dimInf', (a) => a.sum(Infinity), "a.sum(float('inf'))", [X('float32', [3])]],
    ['shape', 'size(-1)', (a) => a.size(-1), 'a.size(-1)', [X('float32', [2, 3])]],
    ['shape', 'size(2)', (a) => a.size(2), 'a.size(2)', [X('float32', [2, 3])]],
    ['shape', 'shape', (a) => a.shape, 'list(a.shape)', [X('float32', [2, 0, 3])]],
    ['shape', 'stride.T', (a) => a.stride(), 'list(a.stride())', [X('float32', [3, 4], 'normal', { view: 'T' })]],
    [
      'shape',
      'stride.expand',
      (a) => a.stride(),
      'list(a.stride())',
      [X('float32', [3, 2], 'normal', { view: 'expand' })],
    ],
    [
      'shape',
      'isContiguous',
      (a) => [a.isContiguous(), a.contiguous().isContiguous()],
      '[a.is_contiguous(), a.contiguous().is_contiguous()]',
      [X('float32', [2, 3], 'normal', { view: 'step' })],
    ],
    [
      'shape',
      'numel_dim',
      (a) => [a.numel(), a.dim(), a.ndim],
      '[a.numel(), a.dim(), a.ndim]',
      [X('float64', [2, 0, 4])],
    ],
    ['readback', 'item.f32', (a) => a.item(), 'a.item()', [X('float32', [1], 'edge')]],
    ['readback', 'item.f64', (a) => a.item(), 'a.item()', [X('float64', [], { values: [-0] })]],
    ['readback', 'item.i64', (a) => a.item(), 'a.item()', [X('int64', [1], { values: [-7] })]],
    [
      'readback',
      'item.i64big',
      (a) => a.item(),
      'a.item()',
      [X('int64', [1], { values: [2 ** 60] })],
      'int64-readback',
    ],
    ['readback', 'item.bool', (a) => a.item(), 'a.item()', [X('bool', [1], { values: [1] })], 'item-bool'],
    ['readback', 'item.many', (a) => a.item(), 'a.item()', [X('float32', [2])]],
    ['readback', 'toArray.f32', (a) => a.toArray(), 'a.tolist()', [X('float32', [2, 3], 'edge')]],
    ['readback', 'toArray.bool', (a) => a.toArray(), 'a.tolist()', [X('bool', [2, 2], 'bool')]],
    [
      'readback',
      'toArray.i64big',
      (a) => a.toArray(),
      'a.tolist()',
      [X('int64', [2], { values: [1, 2 ** 60] })],
      'int64-readback',
    ],
    ['readback', 'toArray.scalar', (a) => a.toArray(), 'a.tolist()', [X('int32', [], { values: [5] })]],
    ['readback', 'toArray.empty', (a) => a.toArray(), 'a.tolist()', [X('float32', [2, 0])]],
    ['readback', 'dtype', (a) => a.dtype, "str(a.dtype).replace('torch.', '')", [X('int32', [1])]],
    [
      'inplace',
      'add_.f32',
      (a, b) => a.clone().add_(b, { alpha: 2 }),
      'a.clone().add_(b, alpha=2)',
      [X('float32', [2, 3], 'edge'), X('float32', [3])],
    ],
    [
      'inplace',
      'add_.bcastSelf',
      (a, b) => a.clone().add_(b),
      'a.clone().add_(b)',
      [X('float32', [3]), X('float32', [2, 3])],
    ],
    ['inplace', 'mul_.i64_float', (a) => a.clone().mul_(2.5), 'a.clone().mul_(2.5)', [X('int64', [3], 'small')]],
    [
      'inplace',
      'mul_.i64_f32t',
      (a, b) => a.clone().mul_(b),
      'a.clone().mul_(b)',
      [X('int64', [3], 'small'), X('float32', [3])],
    ],
    ['inplace', 'div_.i64', (a) => a.clone().div_(2), 'a.clone().div_(2)', [X('int64', [3], 'small')]],
    [
      'inplace',
      'sub_.f64',
      (a) => a.clone().sub_(1.5, { alpha: -2 }),
      'a.clone().sub_(1.5, alpha=-2)',
      [X('float64', [3], 'edge')],
    ],
    ['inplace', 'sqrt_.i64', (a) => a.clone().sqrt_(), 'a.clone().sqrt_()', [X('int64', [3], 'small')]],
    ['inplace', 'clamp_', (a) => a.clone().clamp_(-1, 1), 'a.clone().clamp_(-1, 1)', [X('float32', [6], 'edge')]],
    [
      'inplace',
      'copy_.bcast',
      (a, b) => a.clone().copy_(b),
      'a.clone().copy_(b)',
      [X('float32', [2, 3]), X('int64', [3], 'small')],
    ],
    [
      'inplace',
      'copy_.bad',
      (a, b) => a.clone().copy_(b),
      'a.clone().copy_(b)',
      [X('float32', [2, 3]), X('float32', [2])],
    ],
    ['inplace', 'zero_', (a) => a.clone().zero_(), 'a.clone().zero_()', [X('float64', [3], 'edge')]],
    ['inplace', 'fill_.nan', (a) => a.clone().fill_(Number.NaN), "a.clone().fill_(float('nan'))", [X('float32', [2])]],
    [
      'inplace',
      'fill_.tensor',
      (a, b) => a.clone().fill_(b),
      'a.clone().fill_(b)',
      [X('float32', [2]), X('float64', [], { values: [2.5] })],
    ],
    [
      'inplace',
      'maskedFill_',
      (a, m) => a.clone().maskedFill_(m, 3),
      'a.clone().masked_fill_(b, 3)',
      [X('int32', [4], 'small'), X('bool', [4], 'bool')],
    ],
    [
      'inplace',
      'addcmul_',
      (a, b, c) => a.clone().addcmul_(b, c, { value: 0.5 }),
      'a.clone().addcmul_(b, c, value=0.5)',
      [X('float32', [3]), X('float32', [3], 'edge'), X('float32', [3])],
    ],
    [
      'inplace',
      'addcdiv_',
      (a, b, c) => a.clone().addcdiv_(b, c, { value: -2 }),
      'a.clone().addcdiv_(b, c, value=-2)',
      [X('float64', [4]), X('float64', [4]), X('float64', [4], 'edge')],
    ],
    [
      'inplace',
      'lerp_',
      (a, b) => a.clone().lerp_(b, 0.25),
      'a.clone().lerp_(b, 0.25)',
      [X('float32', [3], 'edge'), X('float32', [3])],
    ],
    [
      'inplace',
      'indexPut_',
      (a, i, v) => a.clone().indexPut_([i], v, { accumulate: true }),
      'a.clone().index_put_((b,), c, accumulate=True)',
      [X('float32', [4]), X('int64', [5], { values: [0, 1, 0, 3, 0] }), X('float32', [5])],
    ],
    [
      'inplace',
      'view.mutation',
      (a) => {
        const c = a.clone();
        c.narrow(0, 1, 2).mul_(-1);
        return c;
      },
      'c = a.clone(); c.narrow(0, 1, 2).mul_(-1); out = c',
      [X('float32', [4])],
    ],
    ['inplace', 'leaf.requiresGrad', (a) => a.mul_(2), 'a.mul_(2)', [G('float32', [3])]],
    [
      'nn.F',
      'interpolate.3d',
      (a) => F.interpolate(a, { scaleFactor: 2 }),
      'F.interpolate(a, scale_factor=2)',
      [X('float32', [1, 2, 3])],
      'interpolate-4d-only',
    ],
    [
      'nn.F',
      'interpolate.nearest_ac',
      (a) => F.interpolate(a, { scaleFactor: 2, alignCorners: false }),
      'F.interpolate(a, scale_factor=2, align_corners=False)',
      [X('float32', [1, 1, 2, 2])],
    ],
    [
      'nn.F',
      'interpolate.both',
      (a) => F.interpolate(a, { size: 4, scaleFactor: 2 }),
      'F.interpolate(a, size=4, scale_factor=2)',
      [X('float32', [1, 1, 2, 2])],
    ],
    [
      'nn.F',
      'pad.reflect_value',
      (a) => F.pad(a, [1, 1], { mode: 'reflect', value: 1 }),
      "F.pad(a, [1, 1], mode='reflect', value=1.0)",
      [X('float32', [1, 2, 3])],
    ],
    [
      'nn.F',
      'batchNorm.eval_nostats',
      (a) => F.batchNorm(a, null, null),
      'F.batch_norm(a, None, None)',
      [X('float32', [4, 3])],
    ],
    [
      'nn.F',
      'nllLoss.unbatched',
      (a, t) => F.nllLoss(a, t),
      'F.nll_loss(a, b)',
      [G('float32', [4]), X('int64', [], { values: [2] })],
    ],
    [
      'nn.F',
      'crossEntropy.unbatched',
      (a, t) => F.crossEntropy(a, t),
      'F.cross_entropy(a, b)',
      [G('float32', [4]), X('int64', [], { values: [1] })],
    ],
    [
      'nn.F',
      'crossEntropy.probs_smooth_w',
      (a, t, w) => F.crossEntropy(a, t, { weight: w, labelSmoothing: 0.2 }),
      'F.cross_entropy(a, b, c, label_smoothing=0.2)',
      [G('float64', [3, 4]), X('float64', [3, 4], 'unit'), X('float64', [4], 'pos')],
    ],
    [
      'nn.F',
      'crossEntropy.badSmoothing',
      (a, t) => F.crossEntropy(a, t, { labelSmoothing: 1.5 }),
      'F.cross_entropy(a, b, label_smoothing=1.5)',
      [X('float32', [2, 3]), X('int64', [2], { idx: 3 })],
    ],
    [
      'nn.F',
      'klDiv.batchmean0d',
      (a, b) => F.klDiv(a, b, { reduction: 'batchmean' }),
      "F.kl_div(a, b, reduction='batchmean')",
      [G('float32', []), X('float32', [], 'unit')],
    ],
    [
      'nn.F',
      'bce.outOfRange',
      (a, b) => F.binaryCrossEntropy(a, b),
      'F.binary_cross_entropy(a, b)',
      [X('float32', [3], { values: [0.5, 1.5, 0.2] }), X('float32', [3], 'unit')],
    ],
    [
      'nn.F',
      'gaussianNll.negVar',
      (a, b, v) => F.gaussianNllLoss(a, b, v),
      'F.gaussian_nll_loss(a, b, c)',
      [X('float32', [3]), X('float32', [3]), X('float32', [3], { values: [1, -1, 1] })],
    ],
    [
      'nn.F',
      'gaussianNll.badShape',
      (a, b, v) => F.gaussianNllLoss(a, b, v),
      'F.gaussian_nll_loss(a, b, c)',
      [X('float32', [3, 2]), X('float32', [3, 2]), X('float32', [2])],
    ],
    [
      'nn.F',
      'mseLoss.int',
      (a, b) => F.mseLoss(a, b),
      'F.mse_loss(a, b)',
      [X('int64', [3], 'small'), X('int64', [3], 'small')],
    ],
    [
      'nn.F',
      'linear.1d',
      (x, w, b) => F.linear(x, w, { bias: b }),
      'F.linear(a, b, c)',
      [G('float32', [3]), G('float32', [2, 3]), G('float32', [2])],
    ],
    ['nn.F', 'linear.vecWeight', (x, w) => F.linear(x, w), 'F.linear(a, b)', [G('float32', [2, 3]), G('float32', [3])]],
    [
      'nn.F',
      'conv2d.valid',
      (x, w) => F.conv2d(x, w, { padding: 'valid' }),
      "F.conv2d(a, b, padding='valid')",
      [G('float32', [1, 1, 4, 4]), G('float32', [1, 1, 2, 2])],
    ],
    [
      'nn.F',
      'conv2d.unbatched',
      (x, w) => F.conv2d(x, w),
      'F.conv2d(a, b)',
      [G('float32', [2, 4, 4]), G('float32', [3, 2, 2, 2])],
    ],
    [
      'nn.F',
      'conv2d.sameStride',
      (x, w) => F.conv2d(x, w, { padding: 'same', stride: 2 }),
      "F.conv2d(a, b, padding='same', stride=2)",
      [X('float32', [1, 1, 4, 4]), X('float32', [1, 1, 3, 3])],
    ],
    ['nn.F', 'maxPool2d.unbatched', (x) => F.maxPool2d(x, 2), 'F.max_pool2d(a, 2)', [G('float32', [2, 4, 4])]],
    [
      'nn.F',
      'avgPool2d.divisor',
      (x) => F.avgPool2d(x, 2, { divisorOverride: 3 }),
      'F.avg_pool2d(a, 2, divisor_override=3)',
      [G('float32', [1, 1, 4, 4])],
    ],
    ['nn.F', 'softmax.int', (x) => F.softmax(x, 0), 'F.softmax(a, 0)', [X('int64', [3], 'small')]],
    [
      'nn.F',
      'logSoftmax.dtype',
      (x) => F.logSoftmax(x, 0, { dtype: 'float64' }),
      'F.log_softmax(a, 0, dtype=torch.float64)',
      [G('float32', [4], 'edge')],
    ],
    [
      'nn.F',
      'dropout.train_p0.5_shape',
      (x) => F.dropout(x, { p: 0.5 }).shape,
      'list(F.dropout(a, 0.5).shape)',
      [X('float32', [2, 3])],
    ],
    ['nn.F', 'normalize.empty', (x) => F.normalize(x), 'F.normalize(a)', [X('float32', [0, 3])]],
    ['nn.F', 'normalize.1d', (x) => F.normalize(x, { dim: 0 }), 'F.normalize(a, dim=0)', [G('float32', [3])]],
    ['nn.F', 'layerNorm.badShape', (x) => F.layerNorm(x, [3]), 'F.layer_norm(a, [3])', [X('float32', [2, 4])]],
    [
      'nn.F',
      'leakyRelu.huge',
      (x) => F.leakyRelu(x, { negativeSlope: 1e20 }),
      'F.leaky_relu(a, 1e20)',
      [G('float32', [4], 'edge')],
    ],
    ['nn.F', 'elu.negAlpha', (x) => F.elu(x, { alpha: -1 }), 'F.elu(a, -1.0)', [G('float32', [4], 'edge')]],
    ['nn.F', 'softplus.negBeta', (x) => F.softplus(x, { beta: -1 }), 'F.softplus(a, -1)', [G('float32', [4])]],
    ['nn.F', 'oneHot.empty', (i) => F.oneHot(i, { numClasses: 3 }), 'F.one_hot(a, 3)', [X('int64', [0], { idx: 3 })]],
    ['nn.F', 'oneHot.emptyInfer', (i) => F.oneHot(i), 'F.one_hot(a)', [X('int64', [0], { idx: 3 })]],
    [
      'nn.F',
      'embedding.maxIdx',
      (i, w) => F.embedding(i, w, { paddingIdx: 2 }),
      'F.embedding(a, b, padding_idx=2)',
      [X('int64', [3], { values: [2, 0, 1] }), G('float64', [3, 2])],
    ],
    [
      'nn.F',
      'embedding.i32',
      (i, w) => F.embedding(i, w),
      'F.embedding(a, b)',
      [X('int32', [3], { idx: 3 }), G('float32', [3, 2])],
    ],
    [
      'nn.F',
      'embedding.floatIdx',
      (i, w) => F.embedding(i, w),
      'F.embedding(a, b)',
      [X('float32', [2], { values: [0, 1] }), X('float32', [3, 2])],
    ],
  ];
  for (const [category, name, js, py, inputs, known] of more) {
    add({ id: `${category}.${name}`, category, inputs, js, py, grad: inputs.some((i) => i.grad), known });
  }

  // ---- seeded randomness: same generator, same draws; default initialisation of modules ----
  const R: [string, (...x: any[]) => any, string, InputSpec[]][] = [
    ['rand', () => torch.rand([5]), 'torch.rand([5])', []],
    ['randn.f64', () => torch.randn([2, 3], { dtype: 'float64' }), 'torch.randn([2, 3], dtype=torch.float64)', []],
    ['randint', () => torch.randint(0, 10, [6]), 'torch.randint(0, 10, [6])', []],
    [
      'randint.neg',
      () => torch.randint(-5, 5, [4], { dtype: 'int32' }),
      'torch.randint(-5, 5, [4], dtype=torch.int32)',
      [],
    ],
    ['randperm', () => torch.randperm(7), 'torch.randperm(7)', []],
    ['bernoulli', (p) => torch.bernoulli(p), 'torch.bernoulli(a)', [X('float32', [8], 'unit')]],
    ['multinomial', (p) => torch.multinomial(p, 3), 'torch.multinomial(a, 3)', [X('float32', [5], 'pos')]],
    [
      'multinomial.repl',
      (p) => torch.multinomial(p, 6, { replacement: true }),
      'torch.multinomial(a, 6, replacement=True)',
      [X('float64', [2, 3], 'pos')],
    ],
    ['normal_', (a) => a.clone().normal_(1, 2), 'a.clone().normal_(1, 2)', [X('float32', [5])]],
    ['uniform_', (a) => a.clone().uniform_(-1, 3), 'a.clone().uniform_(-1, 3)', [X('float64', [5])]],
    ['randLike', (a) => torch.randLike(a), 'torch.rand_like(a)', [X('float64', [3])]],
    ['randnLike', (a) => torch.randnLike(a), 'torch.randn_like(a)', [X('float32', [2, 2])]],
    ['randintLike', (a) => torch.randintLike(a, 0, 4), 'torch.randint_like(a, 0, 4)', [X('float32', [5])]],
    [
      'generator',
      () => torch.randn([3], { generator: new torch.Generator(123) }),
      'torch.randn([3], generator=torch.Generator().manual_seed(123))',
      [],
    ],
    ['dropout.train', (a) => F.dropout(a, { p: 0.3 }), 'F.dropout(a, 0.3)', [G('float32', [4, 5])]],
    ['dropout.module.train', (a) => new nn.Dropout(0.5).forward(a), 'nn.Dropout(0.5)(a)', [G('float64', [10])]],
    [
      'init.uniform_',
      (a) => nn.init.uniform_(a.clone(), -2, 2),
      'nn.init.uniform_(a.clone(), -2, 2)',
      [X('float32', [4])],
    ],
    [
      'init.normal_',
      (a) => nn.init.normal_(a.clone(), 1, 0.5),
      'nn.init.normal_(a.clone(), 1, 0.5)',
      [X('float32', [4])],
    ],
    [
      'init.truncNormal_',
      (a) => nn.init.truncNormal_(a.clone()),
      'nn.init.trunc_normal_(a.clone())',
      [X('float32', [6])],
    ],
    [
      'init.xavierUniform_',
      (a) => nn.init.xavierUniform_(a.clone()),
      'nn.init.xavier_uniform_(a.clone())',
      [X('float32', [3, 4])],
    ],
    [
      'init.xavierNormal_',
      (a) => nn.init.xavierNormal_(a.clone(), { gain: 2 }),
      'nn.init.xavier_normal_(a.clone(), gain=2)',
      [X('float32', [3, 4])],
    ],
    [
      'init.kaimingUniform_',
      (a) => nn.init.kaimingUniform_(a.clone()),
      'nn.init.kaiming_uniform_(a.clone())',
      [X('float32', [3, 2, 2, 2])],
    ],
    [
      'init.kaimingUniform_.a',
      (a) => nn.init.kaimingUniform_(a.clone(), { a: Math.sqrt(5) }),
      'nn.init.kaiming_uniform_(a.clone(), a=math.sqrt(5))',
      [X('float64', [4, 3])],
    ],
    [
      'init.kaimingNormal_.fanOut',
      (a) => nn.init.kaimingNormal_(a.clone(), { mode: 'fanOut', nonlinearity: 'relu' }),
      "nn.init.kaiming_normal_(a.clone(), mode='fan_out', nonlinearity='relu')",
      [X('float32', [4, 3])],
    ],
    [
      'init.orthogonal_',
      (a) => nn.init.orthogonal_(a.clone()),
      'nn.init.orthogonal_(a.clone())',
      [X('float64', [3, 5])],
    ],
    [
      'init.gain',
      () => [
        nn.init.calculateGain('tanh'),
        nn.init.calculateGain('leakyRelu', 0.2),
        nn.init.calculateGain('selu' as any),
      ],
      "[nn.init.calculate_gain('tanh'), nn.init.calculate_gain('leaky_relu', 0.2), nn.init.calculate_gain('selu')]",
      [],
    ],
    [
      'init.fan',
      (a) => {
        const f = nn.init.calculateFanInAndFanOut(a);
        return [f.fanIn, f.fanOut];
      },
      'list(nn.init._calculate_fan_in_and_fan_out(a))',
      [X('float32', [4, 3, 2, 2])],
    ],
    ['Linear.default', () => new nn.Linear(4, 3).parameters(), 'list(nn.Linear(4, 3).parameters())', []],
    ['Conv2d.default', () => new nn.Conv2d(2, 3, 3).parameters(), 'list(nn.Conv2d(2, 3, 3).parameters())', []],
    [
      'ConvTranspose2d.default',
      () => new nn.ConvTranspose2d(2, 3, 3).parameters(),
      'list(nn.ConvTranspose2d(2, 3, 3).parameters())',
      [],
    ],
    [
      'Embedding.default',
      () => new nn.Embedding(4, 3, { paddingIdx: 1 }).parameters(),
      'list(nn.Embedding(4, 3, padding_idx=1).parameters())',
      [],
    ],
    ['LayerNorm.default', () => new nn.LayerNorm([2, 3]).parameters(), 'list(nn.LayerNorm([2, 3]).parameters())', []],
    [
      'BatchNorm2d.default',
      () => {
        const m = new nn.BatchNorm2d(3);
        return [...m.parameters(), ...m.buffers()];
      },
      'm = nn.BatchNorm2d(3); out = list(m.parameters()) + list(m.buffers())',
      [],
    ],
    ['GroupNorm.default', () => new nn.GroupNorm(2, 4).parameters(), 'list(nn.GroupNorm(2, 4).parameters())', []],
  ];
  for (const [name, js, py, inputs] of R) {
    add({
      id: `random.${name}`,
      category: 'random',
      inputs,
      js: (...xs: Tensor[]) => {
        torch.manualSeed(1234);
        return js(...xs);
      },
      py: `torch.manual_seed(1234)\n${py.includes('out =') ? py : `out = ${py}`}`,
      grad: inputs.some((i) => i.grad),
    });
  }

  // ---- module bookkeeping: names, state dicts, modes ----
  const net = (d: PDType = 'float32') =>
    new nn.Sequential(
      new nn.Conv2d(1, 2, 3, { dtype: d, padding: 1 }),
      new nn.BatchNorm2d(2, { dtype: d }),
      new nn.ReLU(),
      new nn.Flatten(),
      new nn.Linear(32, 3, { dtype: d }),
      new nn.Dropout(0.1),
    );
  const pyNet =
    'nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(32, 3), nn.Dropout(0.1))';
  const B: [string, (...x: any[]) => any, string, InputSpec[]][] = [
    ['stateDict.keys', () => Object.keys(net().stateDict()), `list(${pyNet}.state_dict().keys())`, []],
    [
      'namedParameters',
      () =>
        net()
          .namedParameters()
          .map(([n]) => n),
      `[n for n, _ in ${pyNet}.named_parameters()]`,
      [],
    ],
    [
      'namedBuffers',
      () =>
        net()
          .namedBuffers()
          .map(([n]) => n),
      `[n for n, _ in ${pyNet}.named_buffers()]`,
      [],
    ],
    [
      'namedModules',
      () =>
        net()
          .namedModules()
          .map(([n]) => n),
      `[n for n, _ in ${pyNet}.named_modules()]`,
      [],
    ],
    [
      'namedChildren',
      () =>
        net()
          .namedChildren()
          .map(([n]) => n),
      `[n for n, _ in ${pyNet}.named_children()]`,
      [],
    ],
    ['numParameters', () => net().numParameters(), `sum(p.numel() for p in ${pyNet}.parameters())`, []],
    [
      'eval.flags',
      () =>
        net()
          .eval()
          .modules()
          .map((m) => m.training),
      `[m.training for m in ${pyNet}.eval().modules()]`,
      [],
    ],
    [
      'requiresGrad_',
      () =>
        net()
          .requiresGrad_(false)
          .parameters()
          .map((p) => p.requiresGrad),
      `[p.requires_grad for p in ${pyNet}.requires_grad_(False).parameters()]`,
      [],
    ],
    [
      'forward.train',
      (x, ...ps) => {
        const m = load(net(), ps);
        torch.manualSeed(7);
        const y = m.forward(x);
        return { out: [y, ...m.buffers()], extra: m.parameters() };
      },
      `m = load(${pyNet}, [b, c, d, e, f, g]); torch.manual_seed(7); y = m(a); out = [y] + list(m.buffers()); extra = list(m.parameters())`,
      [
        G('float32', [2, 1, 4, 4]),
        X('float32', [2, 1, 3, 3]),
        X('float32', [2]),
        X('float32', [2], 'pos'),
        X('float32', [2]),
        X('float32', [3, 32]),
        X('float32', [3]),
      ],
    ],
    [
      'forward.eval',
      (x, ...ps) => {
        const m = load(net('float64'), ps).eval();
        return { out: m.forward(x), extra: m.parameters() };
      },
      `m = load(${pyNet}.double(), [b, c, d, e, f, g]).eval(); out = m(a); extra = list(m.parameters())`,
      [
        G('float64', [2, 1, 4, 4]),
        X('float64', [2, 1, 3, 3]),
        X('float64', [2]),
        X('float64', [2], 'pos'),
        X('float64', [2]),
        X('float64', [3, 32]),
        X('float64', [3]),
      ],
    ],
    [
      'Linear.1d',
      (x, w, b) => load(new nn.Linear(3, 2), [w, b]).forward(x),
      'load(nn.Linear(3, 2), [b, c])(a)',
      [G('float32', [3]), X('float32', [2, 3]), X('float32', [2])],
    ],
    ['Linear.badInput', (x) => new nn.Linear(3, 2).forward(x), 'nn.Linear(3, 2)(a)', [X('float32', [2, 4])]],
    [
      'LayerNorm.noAffine',
      (x) => new nn.LayerNorm(4, { elementwiseAffine: false }).forward(x),
      'nn.LayerNorm(4, elementwise_affine=False)(a)',
      [G('float32', [2, 4], 'edge')],
    ],
    [
      'LayerNorm.noAffine.params',
      () => new nn.LayerNorm(4, { elementwiseAffine: false }).parameters().length,
      'len(list(nn.LayerNorm(4, elementwise_affine=False).parameters()))',
      [],
    ],
    [
      'BatchNorm1d.noTrack.eval',
      (x) => new nn.BatchNorm1d(3, { trackRunningStats: false }).eval().forward(x),
      'nn.BatchNorm1d(3, track_running_stats=False).eval()(a)',
      [G('float32', [4, 3])],
    ],
    ['BatchNorm1d.3d', (x) => new nn.BatchNorm1d(2).forward(x), 'nn.BatchNorm1d(2)(a)', [G('float64', [3, 2, 4])]],
    [
      'BatchNorm1d.noAffine',
      (x) => {
        const m = new nn.BatchNorm1d(2, { affine: false });
        return [m.forward(x), ...m.buffers()];
      },
      'm = nn.BatchNorm1d(2, affine=False); out = [m(a)] + list(m.buffers())',
      [G('float32', [5, 2])],
    ],
    [
      'BatchNorm2d.badChannels',
      (x) => new nn.BatchNorm2d(3).forward(x),
      'nn.BatchNorm2d(3)(a)',
      [X('float32', [2, 2, 2, 2])],
    ],
    [
      'Conv2d.same',
      (x, w, b) => load(new nn.Conv2d(1, 1, [2, 3], { padding: 'same' }), [w, b]).forward(x),
      "load(nn.Conv2d(1, 1, (2, 3), padding='same'), [b, c])(a)",
      [G('float32', [1, 1, 4, 5]), X('float32', [1, 1, 2, 3]), X('float32', [1])],
    ],
    [
      'Conv2d.replicate',
      (x, w, b) => load(new nn.Conv2d(1, 1, 3, { padding: [1, 2], paddingMode: 'replicate' }), [w, b]).forward(x),
      "load(nn.Conv2d(1, 1, 3, padding=(1, 2), padding_mode='replicate'), [b, c])(a)",
      [G('float32', [1, 1, 3, 3]), X('float32', [1, 1, 3, 3]), X('float32', [1])],
    ],
    [
      'Conv2d.groups.nobias',
      (x, w) => load(new nn.Conv2d(4, 2, 1, { groups: 2, bias: false }), [w]).forward(x),
      'load(nn.Conv2d(4, 2, 1, groups=2, bias=False), [b])(a)',
      [G('float32', [1, 4, 2, 2]), X('float32', [2, 2, 1, 1])],
    ],
    [
      'ConvTranspose2d.outPad',
      (x, w, b) =>
        load(new nn.ConvTranspose2d(1, 2, 3, { stride: 2, padding: 1, outputPadding: 1 }), [w, b]).forward(x),
      'load(nn.ConvTranspose2d(1, 2, 3, stride=2, padding=1, output_padding=1), [b, c])(a)',
      [G('float32', [1, 1, 3, 3]), X('float32', [1, 2, 3, 3]), X('float32', [2])],
    ],
    ['Dropout.train.p0', (x) => new nn.Dropout(0).forward(x), 'nn.Dropout(0.0)(a)', [G('float32', [5], 'edge')]],
    ['Softmax.neg', (x) => new nn.Softmax(-1).forward(x), 'nn.Softmax(-1)(a)', [G('float32', [2, 3], 'edge')]],
    [
      'Flatten.range',
      (x) => new nn.Flatten({ startDim: 0, endDim: 1 }).forward(x),
      'nn.Flatten(0, 1)(a)',
      [G('float32', [2, 3, 2])],
    ],
    [
      'Upsample.nearest',
      (x) => new nn.Upsample({ size: [3, 5] }).forward(x),
      'nn.Upsample(size=(3, 5))(a)',
      [G('float32', [1, 1, 2, 2])],
    ],
    [
      'MaxPool2d.ceil',
      (x) => new nn.MaxPool2d(2, { ceilMode: true }).forward(x),
      'nn.MaxPool2d(2, ceil_mode=True)(a)',
      [G('float32', [1, 1, 5, 5])],
    ],
    [
      'AvgPool2d.stride',
      (x) => new nn.AvgPool2d([2, 3], { stride: [1, 2] }).forward(x),
      'nn.AvgPool2d((2, 3), stride=(1, 2))(a)',
      [G('float64', [1, 2, 4, 5])],
    ],
  ];
  for (const [name, js, py, inputs] of B) {
    add({ id: `nn.${name}`, category: 'nn', inputs, js, py, grad: inputs.some((i) => i.grad) });
  }

  // ---- more optim: groups, schedules, clipping ----
  const O2: [string, (...x: any[]) => any, string, InputSpec[], string?][] = [
    [
      'clipGradNorm.multi.p1',
      (a, b, g, h) => {
        const p = a.clone().requiresGrad_();
        const q = b.clone().requiresGrad_();
        p.grad = g.clone();
        q.grad = h.clone();
        optim.clipGradNorm([p, q], 0.5, 1);
        return [p.grad, q.grad];
      },
      'p = a.clone().requires_grad_(); q = b.clone().requires_grad_(); p.grad = c.clone(); q.grad = d.clone(); torch.nn.utils.clip_grad_norm_([p, q], 0.5, 1); out = [p.grad, q.grad]',
      [X('float32', [3]), X('float32', [2, 2]), X('float32', [3]), X('float32', [2, 2])],
    ],
    [
      'clipGradNorm.nonfinite',
      (a, g) => {
        const p = a.clone().requiresGrad_();
        p.grad = g.clone();
        optim.clipGradNorm([p], 1, 2, { errorIfNonfinite: true });
        return p.grad;
      },
      'p = a.clone().requires_grad_(); p.grad = b.clone(); torch.nn.utils.clip_grad_norm_([p], 1, 2, error_if_nonfinite=True); out = p.grad',
      [X('float32', [3]), X('float32', [3], { values: [1, Number.NaN, 2] })],
    ],
    [
      'clipGradNorm.nonfinite.allowed',
      (a, g) => {
        const p = a.clone().requiresGrad_();
        p.grad = g.clone();
        optim.clipGradNorm([p], 1);
        return p.grad;
      },
      'p = a.clone().requires_grad_(); p.grad = b.clone(); torch.nn.utils.clip_grad_norm_([p], 1); out = p.grad',
      [X('float32', [3]), X('float32', [3], { values: [1, Infinity, 2] })],
    ],
    [
      'clipGradNorm.noGrads',
      (a) => optim.clipGradNorm([a.clone().requiresGrad_()], 1),
      'torch.nn.utils.clip_grad_norm_([a.clone().requires_grad_()], 1)',
      [X('float32', [3])],
      'clipgradnorm-number',
    ],
    [
      'SGD.groups',
      (a, b, g) => {
        const p = a.clone().requiresGrad_();
        const q = b.clone().requiresGrad_();
        const opt = new optim.SGD([{ params: [p] }, { params: [q], lr: 0.01, momentum: 0.9 }] as any, { lr: 0.1 });
        for (let k = 0; k < 3; k++) {
          p.grad = g.clone();
          q.grad = g.mul(-1);
          opt.step();
        }
        return [p.detach(), q.detach()];
      },
      "p = a.clone().requires_grad_(); q = b.clone().requires_grad_(); opt = torch.optim.SGD([{'params': [p]}, {'params': [q], 'lr': 0.01, 'momentum': 0.9}], lr=0.1)\nfor k in range(3):\n    p.grad = c.clone(); q.grad = c.mul(-1); opt.step()\nout = [p.detach(), q.detach()]",
      [X('float32', [3]), X('float32', [3]), X('float32', [3])],
    ],
    [
      'Adam.noGrad.skip',
      (a) => {
        const p = a.clone().requiresGrad_();
        const opt = new optim.Adam([p], { lr: 0.1 });
        opt.step();
        return p.detach();
      },
      'p = a.clone().requires_grad_(); opt = torch.optim.Adam([p], lr=0.1); opt.step(); out = p.detach()',
      [X('float32', [3])],
    ],
    [
      'Adam.maximize.f64',
      (a, g) => {
        const p = a.clone().requiresGrad_();
        const opt = new optim.Adam([p], { lr: 0.1, maximize: true, betas: [0.5, 0.6], eps: 1e-3 });
        for (let k = 0; k < 4; k++) {
          p.grad = g.mul(k - 1);
          opt.step();
        }
        return p.detach();
      },
      'p = a.clone().requires_grad_(); opt = torch.optim.Adam([p], lr=0.1, maximize=True, betas=(0.5, 0.6), eps=1e-3)\nfor k in range(4):\n    p.grad = b.mul(k - 1); opt.step()\nout = p.detach()',
      [X('float64', [4]), X('float64', [4])],
    ],
    [
      'AdamW.amsgrad',
      (a, g) => {
        const p = a.clone().requiresGrad_();
        const opt = new optim.AdamW([p], { lr: 0.05, amsgrad: true, weightDecay: 0.5 });
        for (let k = 0; k < 4; k++) {
          p.grad = g.mul(3 - k);
          opt.step();
        }
        return p.detach();
      },
      'p = a.clone().requires_grad_(); opt = torch.optim.AdamW([p], lr=0.05, amsgrad=True, weight_decay=0.5)\nfor k in range(4):\n    p.grad = b.mul(3 - k); opt.step()\nout = p.detach()',
      [X('float32', [4]), X('float32', [4])],
    ],
    [
      'RMSprop.plain',
      (a, g) => {
        const p = a.clone().requiresGrad_();
        const opt = new optim.RMSprop([p], { lr: 0.01, weightDecay: 0.1 });
        for (let k = 0; k < 3; k++) {
          p.grad = g.clone();
          opt.step();
        }
        return p.detach();
      },
      'p = a.clone().requires_grad_(); opt = torch.optim.RMSprop([p], lr=0.01, weight_decay=0.1)\nfor k in range(3):\n    p.grad = b.clone(); opt.step()\nout = p.detach()',
      [X('float32', [4]), X('float32', [4], 'edge')],
    ],
    [
      'sched.Lambda',
      () => {
        const opt = new optim.SGD([torch.zeros([1]).requiresGrad_()], { lr: 0.5 });
        const s = new optim.LambdaLR(opt, (e: number) => 0.9 ** e);
        const out: number[] = [];
        for (let k = 0; k < 5; k++) {
          opt.step();
          s.step();
          out.push(s.getLastLr()[0]);
        }
        return out;
      },
      'opt = torch.optim.SGD([torch.zeros([1]).requires_grad_()], lr=0.5); s = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 0.9 ** e); out = []\nfor k in range(5):\n    opt.step(); s.step(); out.append(s.get_last_lr()[0])',
      [],
    ],
    [
      'sched.Sequential',
      () => {
        const opt = new optim.SGD([torch.zeros([1]).requiresGrad_()], { lr: 0.5 });
        const s = new optim.SequentialLR(
          opt,
          [new optim.LinearLR(opt, { startFactor: 0.5, totalIters: 2 }), new optim.ExponentialLR(opt, { gamma: 0.5 })],
          [2],
        );
        const out: number[] = [];
        for (let k = 0; k < 6; k++) {
          opt.step();
          s.step();
          out.push(s.getLastLr()[0]);
        }
        return out;
      },
      'import warnings\nwarnings.simplefilter("ignore")\nopt = torch.optim.SGD([torch.zeros([1]).requires_grad_()], lr=0.5)\ns = torch.optim.lr_scheduler.SequentialLR(opt, [torch.optim.lr_scheduler.LinearLR(opt, 0.5, total_iters=2), torch.optim.lr_scheduler.ExponentialLR(opt, 0.5)], [2])\nout = []\nfor k in range(6):\n    opt.step(); s.step(); out.append(s.get_last_lr()[0])',
      [],
    ],
    [
      'sched.Plateau',
      () => {
        const opt = new optim.SGD([torch.zeros([1]).requiresGrad_()], { lr: 1 });
        const s = new optim.ReduceLROnPlateau(opt, { patience: 1, factor: 0.5 });
        const out: number[] = [];
        for (const m of [1, 0.9, 0.95, 0.97, 0.96, 0.5, 0.6, 0.7, 0.8]) {
          s.step(m);
          out.push(opt.paramGroups[0].lr);
        }
        return out;
      },
      "opt = torch.optim.SGD([torch.zeros([1]).requires_grad_()], lr=1.0); s = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5); out = []\nfor m in [1, 0.9, 0.95, 0.97, 0.96, 0.5, 0.6, 0.7, 0.8]:\n    s.step(m); out.append(opt.param_groups[0]['lr'])",
      [],
    ],
  ];
  O2.push(
    [
      'sched.lastLrBeforeStep',
      () =>
        new optim.StepLR(new optim.SGD([torch.zeros([1]).requiresGrad_()], { lr: 0.3 }), { stepSize: 1 }).getLastLr(),
      'torch.optim.lr_scheduler.StepLR(torch.optim.SGD([torch.zeros([1]).requires_grad_()], lr=0.3), 1).get_last_lr()',
      [],
    ],
    [
      'sched.twoGroups',
      () => {
        const opt = new optim.SGD(
          [
            { params: [torch.zeros([1]).requiresGrad_()] },
            { params: [torch.zeros([1]).requiresGrad_()], lr: 0.01 },
          ] as any,
          { lr: 0.1 },
        );
        const s = new optim.ExponentialLR(opt, { gamma: 0.5 });
        opt.step();
        s.step();
        return s.getLastLr();
      },
      "opt = torch.optim.SGD([{'params': [torch.zeros([1]).requires_grad_()]}, {'params': [torch.zeros([1]).requires_grad_()], 'lr': 0.01}], lr=0.1); s = torch.optim.lr_scheduler.ExponentialLR(opt, 0.5); opt.step(); s.step(); out = s.get_last_lr()",
      [],
    ],
    [
      'SGD.partialGrads',
      (a, b, g) => {
        const p = a.clone().requiresGrad_();
        const q = b.clone().requiresGrad_();
        const opt = new optim.SGD([p, q], { lr: 0.1, momentum: 0.9, weightDecay: 0.1 });
        for (let k = 0; k < 3; k++) {
          p.grad = g.clone();
          opt.step();
        }
        return [p.detach(), q.detach()];
      },
      'p = a.clone().requires_grad_(); q = b.clone().requires_grad_(); opt = torch.optim.SGD([p, q], lr=0.1, momentum=0.9, weight_decay=0.1)\nfor k in range(3):\n    p.grad = c.clone(); opt.step()\nout = [p.detach(), q.detach()]',
      [X('float32', [3]), X('float32', [2]), X('float32', [3])],
    ],
    [
      'Adam.lr0.decay',
      (a, g) => {
        const p = a.clone().requiresGrad_();
        const opt = new optim.AdamW([p], { lr: 0, weightDecay: 0.5 });
        p.grad = g.clone();
        opt.step();
        return p.detach();
      },
      'p = a.clone().requires_grad_(); opt = torch.optim.AdamW([p], lr=0, weight_decay=0.5); p.grad = b.clone(); opt.step(); out = p.detach()',
      [X('float32', [3], 'edge'), X('float32', [3])],
    ],
    [
      'Adam.badLr',
      (a) => new optim.Adam([a.clone().requiresGrad_()], { lr: -1 }) && 0,
      'torch.optim.Adam([a.clone().requires_grad_()], lr=-1) and 0',
      [X('float32', [2])],
    ],
    [
      'Adam.badBetas',
      (a) => new optim.Adam([a.clone().requiresGrad_()], { betas: [1, 0.9] }) && 0,
      'torch.optim.Adam([a.clone().requires_grad_()], betas=(1.0, 0.9)) and 0',
      [X('float32', [2])],
    ],
    [
      'SGD.nesterovNoMomentum',
      (a) => new optim.SGD([a.clone().requiresGrad_()], { lr: 0.1, nesterov: true }) && 0,
      'torch.optim.SGD([a.clone().requires_grad_()], lr=0.1, nesterov=True) and 0',
      [X('float32', [2])],
    ],
    [
      'duplicateParams',
      (a) => {
        const p = a.clone().requiresGrad_();
        return new optim.SGD([{ params: [p] }, { params: [p] }] as any, { lr: 0.1 }) && 0;
      },
      "p = a.clone().requires_grad_(); out = torch.optim.SGD([{'params': [p]}, {'params': [p]}], lr=0.1) and 0",
      [X('float32', [2])],
    ],
    [
      'clipGradValue.nan',
      (a, g) => {
        const p = a.clone().requiresGrad_();
        p.grad = g.clone();
        optim.clipGradValue([p], 1);
        return p.grad;
      },
      'p = a.clone().requires_grad_(); p.grad = b.clone(); torch.nn.utils.clip_grad_value_([p], 1); out = p.grad',
      [X('float32', [6]), X('float32', [6], 'edge')],
    ],
  );
  for (const [name, js, py, inputs, known] of O2) {
    const tol = name.startsWith('sched') ? { rtol: 1e-15, atol: 1e-17 } : undefined;
    add({ id: `optim.${name}`, category: 'optim', inputs, js, py, tol, known });
  }

  // ---- the newer optimizers: ten steps on seeded gradients that depend on the parameters, bit for bit ----
  // Two parameters p, q (one group unless the case makes two); the gradients change sign between
  // steps so Rprop's step sizes shrink as well as grow.
  const O3: [string, (p: Tensor, q: Tensor) => optim.Optimizer, string, PDType?, 'edge'?, string?][] = [
    [
      'Adadelta.decay.maximize',
      (p, q) => new optim.Adadelta([p, q], { lr: 0.5, rho: 0.8, eps: 1e-4, weightDecay: 0.1, maximize: true }),
      'torch.optim.Adadelta([p, q], lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1, maximize=True)',
    ],
    [
      'Adadelta.groups',
      (p, q) => new optim.Adadelta([{ params: [p] }, { params: [q], lr: 0.1, rho: 0.5 }], { weightDecay: 0.01 }),
      "torch.optim.Adadelta([{'params': [p]}, {'params': [q], 'lr': 0.1, 'rho': 0.5}], weight_decay=0.01)",
      'float64',
    ],
    [
      'Adagrad.options',
      (p, q) =>
        new optim.Adagrad([p, q], {
          lr: 0.1,
          lrDecay: 0.05,
          weightDecay: 0.2,
          initialAccumulatorValue: 0.5,
          eps: 1e-6,
        }),
      'torch.optim.Adagrad([p, q], lr=0.1, lr_decay=0.05, weight_decay=0.2, initial_accumulator_value=0.5, eps=1e-6)',
    ],
    [
      'Adagrad.maximize.f64',
      (p, q) => new optim.Adagrad([p, q], { lr: 0.05, maximize: true }),
      'torch.optim.Adagrad([p, q], lr=0.05, maximize=True)',
      'float64',
    ],
    [
      'Adagrad.edge',
      (p, q) => new optim.Adagrad([p, q], { lr: 0.1, lrDecay: 0.1 }),
      'torch.optim.Adagrad([p, q], lr=0.1, lr_decay=0.1)',
      'float32',
      'edge',
    ],
    [
      'ASGD.averaging',
      (p, q) => new optim.ASGD([p, q], { lr: 0.05, lambd: 0.01, alpha: 0.6, t0: 3, weightDecay: 0.1 }),
      'torch.optim.ASGD([p, q], lr=0.05, lambd=0.01, alpha=0.6, t0=3, weight_decay=0.1)',
    ],
    [
      'ASGD.maximize.f64',
      (p, q) => new optim.ASGD([p, q], { lr: 0.02, t0: 0, maximize: true }),
      'torch.optim.ASGD([p, q], lr=0.02, t0=0, maximize=True)',
      'float64',
    ],
    [
      'NAdam.momentumDecay',
      (p, q) => new optim.NAdam([p, q], { lr: 0.01, betas: [0.8, 0.95], momentumDecay: 0.05, weightDecay: 0.1 }),
      'torch.optim.NAdam([p, q], lr=0.01, betas=(0.8, 0.95), momentum_decay=0.05, weight_decay=0.1)',
    ],
    [
      'NAdam.groups.f64',
      (p, q) =>
        new optim.NAdam(
          [
            { params: [p], eps: 1e-3 },
            { params: [q], lr: 0.05, momentumDecay: 0.01 },
          ],
          {},
        ),
      "torch.optim.NAdam([{'params': [p], 'eps': 1e-3}, {'params': [q], 'lr': 0.05, 'momentum_decay': 0.01}])",
      'float64',
    ],
    [
      'NAdam.beta2.f64',
      (p, q) => new optim.NAdam([p, q], { lr: 0.01, betas: [0.9, 0.7] }),
      'torch.optim.NAdam([p, q], lr=0.01, betas=(0.9, 0.7))',
      'float64',
    ],
    [
      'Adam.tenSteps.f64',
      (p, q) => new optim.Adam([p, q], { lr: 0.01 }),
      'torch.optim.Adam([p, q], lr=0.01)',
      'float64',
    ],
    [
      'Adamax.tenSteps.f64',
      (p, q) => new optim.Adamax([p, q], { lr: 0.01 }),
      'torch.optim.Adamax([p, q], lr=0.01)',
      'float64',
    ],
    ['RAdam.default', (p, q) => new optim.RAdam([p, q], { lr: 0.01 }), 'torch.optim.RAdam([p, q], lr=0.01)'],
    [
      'RAdam.rectified.decay',
      (p, q) => new optim.RAdam([p, q], { lr: 0.02, betas: [0.7, 0.8], eps: 1e-5, weightDecay: 0.3 }),
      'torch.optim.RAdam([p, q], lr=0.02, betas=(0.7, 0.8), eps=1e-5, weight_decay=0.3)',
    ],
    [
      'RAdam.groups.f64',
      (p, q) => new optim.RAdam([{ params: [p] }, { params: [q], betas: [0.5, 0.7], weightDecay: 0.1 }], { lr: 0.1 }),
      "torch.optim.RAdam([{'params': [p]}, {'params': [q], 'betas': (0.5, 0.7), 'weight_decay': 0.1}], lr=0.1)",
      'float64',
      undefined,
      'pow-ulp-radam',
    ],
    [
      'Rprop.options',
      (p, q) => new optim.Rprop([p, q], { lr: 0.05, etas: [0.3, 1.5], stepSizes: [0.01, 0.1] }),
      'torch.optim.Rprop([p, q], lr=0.05, etas=(0.3, 1.5), step_sizes=(0.01, 0.1))',
    ],
    [
      'Rprop.maximize.f64',
      (p, q) => new optim.Rprop([p, q], { lr: 0.1, maximize: true }),
      'torch.optim.Rprop([p, q], lr=0.1, maximize=True)',
      'float64',
    ],
    [
      'Rprop.groups.edge',
      (p, q) => new optim.Rprop([{ params: [p] }, { params: [q], lr: 0.2, etas: [0.6, 1.1] }], { lr: 0.01 }),
      "torch.optim.Rprop([{'params': [p]}, {'params': [q], 'lr': 0.2, 'etas': (0.6, 1.1)}], lr=0.01)",
      'float32',
      'edge',
    ],
  ];
  for (const [name, make, pyMake, d = 'float32', fill, known] of O3) {
    add({
      id: `optim.${name}`,
      category: 'optim',
      inputs: [X(d, [2, 3]), X(d, [3]), X(d, [2, 3], fill ?? 'normal'), X(d, [2, 3]), X(d, [3])],
      known,
      js: (a: Tensor, b: Tensor, g: Tensor, h: Tensor, u: Tensor) => {
        const p = a.clone().requiresGrad_();
        const q = b.clone().requiresGrad_();
        const opt = make(p, q);
        for (let k = 0; k < 10; k++) {
          p.grad = g.mul(k + 1).add(p.detach().mul(h));
          q.grad = u.mul(1 - k).sub(q.detach().mul(0.5));
          opt.step();
        }
        const ax = opt instanceof optim.ASGD ? [(opt.state.get(p) as optim.ASGDState).ax] : [];
        return [p.detach(), q.detach(), ...ax];
      },
      py: `p = a.clone().requires_grad_()
q = b.clone().requires_grad_()
opt = ${pyMake}
for k in range(10):
    p.grad = c.mul(k + 1).add(p.detach().mul(d))
    q.grad = e.mul(1 - k).sub(q.detach().mul(0.5))
    opt.step()
out = [p.detach(), q.detach()] + ([opt.state[p]['ax']] if isinstance(opt, torch.optim.ASGD) else [])`,
    });
  }

  // LBFGS without a line search, through step(closure): the parameters, the loss each step()
  // returns and the counters, on a least-squares problem with a quartic term.
  const LB: [string, PDType, Partial<optim.LBFGSOptions>, string, number][] = [
    ['LBFGS.history', 'float32', { lr: 0.5, maxIter: 4, historySize: 2 }, 'lr=0.5, max_iter=4, history_size=2', 4],
    ['LBFGS.default.f64', 'float64', { lineSearchFn: null }, 'line_search_fn=None', 2],
    [
      'LBFGS.maxEval',
      'float64',
      { lr: 0.8, maxIter: 10, maxEval: 6, toleranceChange: 1e-6 },
      'lr=0.8, max_iter=10, max_eval=6, tolerance_change=1e-6',
      3,
    ],
  ];
  for (const [name, d, opts, pyOpts, steps] of LB) {
    add({
      id: `optim.${name}`,
      category: 'optim',
      inputs: [X(d, [3]), X(d, [2]), X(d, [4, 3]), X(d, [4, 2]), X(d, [4])],
      js: (a: Tensor, b: Tensor, m: Tensor, n: Tensor, t: Tensor) => {
        const p = a.clone().requiresGrad_();
        const q = b.clone().requiresGrad_();
        const opt = new optim.LBFGS([p, q], opts);
        const closure = () => {
          opt.zeroGrad();
          const loss = m.matmul(p).add(n.matmul(q)).sub(t).pow(2).sum().add(p.pow(4).sum().mul(0.1));
          loss.backward();
          return loss;
        };
        const losses: number[] = [];
        for (let k = 0; k < steps; k++) losses.push((opt.step(closure) as Tensor).item());
        const s = opt.state.get(p)!;
        return [p.detach(), q.detach(), losses, s.funcEvals as number, s.nIter as number];
      },
      py: `p = a.clone().requires_grad_()
q = b.clone().requires_grad_()
opt = torch.optim.LBFGS([p, q], ${pyOpts})
def closure():
    opt.zero_grad()
    loss = torch.matmul(c, p).add(torch.matmul(d, q)).sub(e).pow(2).sum().add(p.pow(4).sum().mul(0.1))
    loss.backward()
    return loss
losses = [opt.step(closure).item() for k in range(${steps})]
s = opt.state[p]
out = [p.detach(), q.detach(), losses, s['func_evals'], s['n_iter']]`,
    });
  }

  // ---- the newer schedules: the rates (and cycled momenta) of every group over many steps, bit for bit ----
  // make(opt) builds the schedule on SGD with momentum (two groups: lr 0.5 and 0.1); each step
  // records every group's lr and momentum after optimizer.step() and scheduler.step().
  const S2: [string, (o: optim.SGD) => optim.LRScheduler, string, number, boolean?][] = [
    [
      'MultiplicativeLR',
      (o) => new optim.MultiplicativeLR(o, (e: number) => 0.9 + 0.01 * e),
      'torch.optim.lr_scheduler.MultiplicativeLR(opt, lambda e: 0.9 + 0.01 * e)',
      12,
    ],
    [
      'MultiplicativeLR.perGroup',
      (o) => new optim.MultiplicativeLR(o, [() => 0.95, (e: number) => (e % 2 === 0 ? 1.1 : 0.8)]),
      'torch.optim.lr_scheduler.MultiplicativeLR(opt, [lambda e: 0.95, lambda e: 1.1 if e % 2 == 0 else 0.8])',
      12,
    ],
    [
      'ConstantLR',
      (o) => new optim.ConstantLR(o, { factor: 0.3, totalIters: 4 }),
      'torch.optim.lr_scheduler.ConstantLR(opt, factor=0.3, total_iters=4)',
      10,
    ],
    ['ConstantLR.default', (o) => new optim.ConstantLR(o), 'torch.optim.lr_scheduler.ConstantLR(opt)', 10],
    [
      'PolynomialLR',
      (o) => new optim.PolynomialLR(o, { totalIters: 8, power: 2 }),
      'torch.optim.lr_scheduler.PolynomialLR(opt, total_iters=8, power=2.0)',
      12,
    ],
    [
      'PolynomialLR.frac',
      (o) => new optim.PolynomialLR(o, { totalIters: 7, power: 0.7 }),
      'torch.optim.lr_scheduler.PolynomialLR(opt, total_iters=7, power=0.7)',
      10,
    ],
    [
      'CosineAnnealingWarmRestarts',
      (o) => new optim.CosineAnnealingWarmRestarts(o, { t0: 4, etaMin: 0.01 }),
      'torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, 4, eta_min=0.01)',
      20,
    ],
    [
      'CosineAnnealingWarmRestarts.tMult',
      (o) => new optim.CosineAnnealingWarmRestarts(o, { t0: 2, tMult: 2 }),
      'torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, 2, T_mult=2)',
      30,
    ],
    [
      'CyclicLR.triangular',
      (o) => new optim.CyclicLR(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 3 }),
      'torch.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_up=3)',
      20,
    ],
    [
      'CyclicLR.triangular2.perGroup',
      (o) =>
        new optim.CyclicLR(o, {
          baseLr: [0.01, 0.02],
          maxLr: [0.1, 0.3],
          stepSizeUp: 2,
          stepSizeDown: 4,
          mode: 'triangular2',
          baseMomentum: [0.7, 0.6],
          maxMomentum: [0.95, 0.9],
        }),
      "torch.optim.lr_scheduler.CyclicLR(opt, [0.01, 0.02], [0.1, 0.3], step_size_up=2, step_size_down=4, mode='triangular2', base_momentum=[0.7, 0.6], max_momentum=[0.95, 0.9])",
      25,
    ],
    [
      'CyclicLR.expRange',
      (o) => new optim.CyclicLR(o, { baseLr: 0.05, maxLr: 0.2, stepSizeUp: 4, mode: 'expRange', gamma: 0.9 }),
      "torch.optim.lr_scheduler.CyclicLR(opt, 0.05, 0.2, step_size_up=4, mode='exp_range', gamma=0.9)",
      20,
    ],
    [
      'CyclicLR.noMomentum',
      (o) => new optim.CyclicLR(o, { baseLr: 0.05, maxLr: 0.2, stepSizeUp: 5, cycleMomentum: false }),
      'torch.optim.lr_scheduler.CyclicLR(opt, 0.05, 0.2, step_size_up=5, cycle_momentum=False)',
      15,
    ],
    [
      'OneCycleLR.cos',
      (o) => new optim.OneCycleLR(o, { maxLr: 0.5, totalSteps: 20 }),
      'torch.optim.lr_scheduler.OneCycleLR(opt, 0.5, total_steps=20)',
      20,
    ],
    [
      'OneCycleLR.linear.threePhase',
      (o) =>
        new optim.OneCycleLR(o, {
          maxLr: [0.4, 0.2],
          epochs: 3,
          stepsPerEpoch: 8,
          pctStart: 0.25,
          annealStrategy: 'linear',
          threePhase: true,
          divFactor: 10,
          finalDivFactor: 100,
          baseMomentum: 0.8,
          maxMomentum: 0.9,
        }),
      "torch.optim.lr_scheduler.OneCycleLR(opt, [0.4, 0.2], epochs=3, steps_per_epoch=8, pct_start=0.25, anneal_strategy='linear', three_phase=True, div_factor=10, final_div_factor=100, base_momentum=0.8, max_momentum=0.9)",
      24,
    ],
    [
      'ChainedScheduler',
      (o) =>
        new optim.ChainedScheduler([
          new optim.ConstantLR(o, { factor: 0.5, totalIters: 3 }),
          new optim.ExponentialLR(o, { gamma: 0.9 }),
          new optim.StepLR(o, { stepSize: 4, gamma: 0.5 }),
        ]),
      'torch.optim.lr_scheduler.ChainedScheduler([torch.optim.lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=3), torch.optim.lr_scheduler.ExponentialLR(opt, 0.9), torch.optim.lr_scheduler.StepLR(opt, 4, 0.5)])',
      15,
    ],
    [
      'ChainedScheduler.cosine',
      (o) =>
        new optim.ChainedScheduler([
          new optim.CosineAnnealingLR(o, { tMax: 6, etaMin: 0.01 }),
          new optim.MultiplicativeLR(o, () => 0.97),
        ]),
      'torch.optim.lr_scheduler.ChainedScheduler([torch.optim.lr_scheduler.CosineAnnealingLR(opt, 6, 0.01), torch.optim.lr_scheduler.MultiplicativeLR(opt, lambda e: 0.97)])',
      15,
    ],
    [
      'CosineAnnealingLR.pastTMax.long',
      (o) => new optim.CosineAnnealingLR(o, { tMax: 4, etaMin: 0.05 }),
      'torch.optim.lr_scheduler.CosineAnnealingLR(opt, 4, 0.05)',
      20,
    ],
    [
      'CosineAnnealingLR.pastTMax.etaMin0',
      (o) => new optim.CosineAnnealingLR(o, { tMax: 5 }),
      'torch.optim.lr_scheduler.CosineAnnealingLR(opt, 5)',
      30,
    ],
  ];
  for (const [name, make, pyMake, steps] of S2) {
    add({
      id: `optim.sched.${name}`,
      category: 'optim',
      inputs: [X('float32', [3]), X('float32', [2]), X('float32', [3]), X('float32', [2])],
      js: (a: Tensor, b: Tensor, g: Tensor, h: Tensor) => {
        const p = a.clone().requiresGrad_();
        const q = b.clone().requiresGrad_();
        const opt = new optim.SGD([{ params: [p] }, { params: [q], lr: 0.1 }], { lr: 0.5, momentum: 0.9 });
        const s = make(opt);
        const lrs: number[] = [];
        const momenta: number[] = [];
        for (let k = 0; k < steps; k++) {
          p.grad = g.mul((k % 3) - 1);
          q.grad = h.clone();
          opt.step();
          s.step();
          lrs.push(...s.getLastLr());
          momenta.push(...opt.paramGroups.map((pg) => pg.momentum));
        }
        return [lrs, momenta, p.detach(), q.detach()];
      },
      py: `import warnings
warnings.simplefilter('ignore')
p = a.clone().requires_grad_()
q = b.clone().requires_grad_()
opt = torch.optim.SGD([{'params': [p]}, {'params': [q], 'lr': 0.1}], lr=0.5, momentum=0.9)
s = ${pyMake}
lrs = []
momenta = []
for k in range(${steps}):
    p.grad = c.mul(k % 3 - 1)
    q.grad = d.clone()
    opt.step()
    s.step()
    lrs += s.get_last_lr()
    momenta += [g['momentum'] for g in opt.param_groups]
out = [lrs, momenta, p.detach(), q.detach()]`,
    });
  }
  // OneCycleLR and CyclicLR cycling Adam's first beta instead of a momentum.
  add({
    id: 'optim.sched.OneCycleLR.adamBetas',
    category: 'optim',
    inputs: [X('float32', [4]), X('float32', [4])],
    js: (a: Tensor, g: Tensor) => {
      const p = a.clone().requiresGrad_();
      const opt = new optim.Adam([p], { lr: 0.1, betas: [0.9, 0.99] });
      const s = new optim.OneCycleLR(opt, { maxLr: 0.05, totalSteps: 12, pctStart: 0.4 });
      const out: number[] = [];
      for (let k = 0; k < 12; k++) {
        p.grad = g.mul(2 - k);
        opt.step();
        s.step();
        out.push(s.getLastLr()[0], ...opt.paramGroups[0].betas);
      }
      return [out, p.detach()];
    },
    py: `p = a.clone().requires_grad_()
opt = torch.optim.Adam([p], lr=0.1, betas=(0.9, 0.99))
s = torch.optim.lr_scheduler.OneCycleLR(opt, 0.05, total_steps=12, pct_start=0.4)
out = []
for k in range(12):
    p.grad = b.mul(2 - k)
    opt.step()
    s.step()
    out += [s.get_last_lr()[0], *opt.param_groups[0]['betas']]
out = [out, p.detach()]`,
  });

  // ---- more Tensor and torch functions ----
  const T2: [string, string, (...x: any[]) => any, string, InputSpec[], string?][] = [
    [
      'binary',
      'where.numbers',
      (c) => torch.where(c, 1, 0),
      'torch.where(a, 1.0, 0.0)',
      [X('bool', [4], 'bool')],
      'int-times-float',
    ],
    [
      'binary',
      'where.numbers.frac',
      (c) => torch.where(c, 1.5, -0.5),
      'torch.where(a, 1.5, -0.5)',
      [X('bool', [4], 'bool')],
    ],
    [
      'binary',
      'where.tensor_number',
      (c, x) => torch.where(c, x, 2),
      'torch.where(a, b, 2)',
      [X('bool', [4], 'bool'), X('int64', [4], 'small')],
    ],
    ['binary', 'pow.intExp', (a, b) => a.pow(b), 'a.pow(b)', [X('float32', [4], 'edge'), X('int64', [4], 'small')]],
    ['binary', 'pow.scalarBase', (a) => torch.ops.pow_Scalar(2, a), 'torch.pow(2, a)', [X('float32', [4], 'edge')]],
    ['reduce', 'tensor.norm(0)', (a) => a.norm(0), 'a.norm(0)', [X('float32', [6], 'edge')]],
    ['reduce', 'tensor.norm(-inf,1)', (a) => a.norm(-Infinity, 1), "a.norm(float('-inf'), 1)", [X('float64', [2, 3])]],
    [
      'reduce',
      'tensor.norm(3,keep)',
      (a) => a.norm(3, 1, { keepdim: true }),
      'a.norm(3, 1, keepdim=True)',
      [G('float32', [2, 3])],
    ],
    [
      'reduce',
      'mean.dtype',
      (a) => a.mean(0, { dtype: 'float64' }),
      'a.mean(0, dtype=torch.float64)',
      [G('float32', [3, 2])],
    ],
    ['reduce', 'sum.emptyDims', (a) => a.sum([]), 'a.sum([])', [G('float32', [2, 3])]],
    ['reduce', 'max(0).bool', (a) => a.max(0), 'list(a.max(0))', [X('bool', [3, 2], 'bool')]],
    ['reduce', 'prod.all.bool', (a) => a.prod(), 'a.prod()', [X('bool', [3], 'bool')]],
    [
      'reduce',
      'allclose.nan',
      (a) => a.allclose(a),
      'a.allclose(a)',
      [X('float32', [3], { values: [1, Number.NaN, 2] })],
    ],
    [
      'reduce',
      'equal.dtypes',
      (a, b) => a.equal(b),
      'a.equal(b)',
      [X('float32', [3], 'small'), X('int64', [3], 'small')],
    ],
    ['shape', 'roll.multi', (a) => a.roll([1, -1], [0, 1]), 'a.roll([1, -1], [0, 1])', [G('float32', [2, 3])]],
    ['shape', 'split.0', (a) => a.split(0), 'list(a.split(0))', [X('float32', [3])]],
    ['shape', 'chunk.0', (a) => a.chunk(0), 'list(a.chunk(0))', [X('float32', [3])]],
    ['shape', 'chunk.uneven', (a) => a.chunk(4), 'list(a.chunk(4))', [G('float32', [6])]],
    ['shape', 'topk.0', (a) => a.topk(0), 'list(a.topk(0))', [X('float32', [3])]],
    ['shape', 'unflatten.-1', (a) => a.unflatten(1, [-1, 2]), 'a.unflatten(1, [-1, 2])', [G('float32', [2, 6])]],
    ['shape', 'cat.none', () => torch.cat([]), 'torch.cat([])', []],
    ['shape', 'stack.none', () => torch.stack([]), 'torch.stack([])', []],
    [
      'shape',
      'cat.legacyEmpty',
      (a, b) => torch.cat([a, b]),
      'torch.cat([a, b])',
      [X('float32', [0]), X('float32', [2, 3])],
    ],
    ['shape', 'index.i32', (a, i) => a.index([i]), 'a[b]', [X('float32', [4]), X('int32', [2], { idx: 4 })]],
    ['shape', 'flatten.0d', (a) => a.flatten(), 'a.flatten()', [X('float32', [], { values: [3] })]],
    ['shape', 'squeeze.0d', (a) => a.squeeze(0), 'a.squeeze(0)', [X('float32', [], { values: [3] })]],
    ['shape', 'diag.2d', (a) => a.diag(-1), 'a.diag(-1)', [G('float32', [3, 3])]],
    [
      'linalg',
      'einsum.ellipsis',
      (a, b) => torch.einsum('...ij,...jk->...ik', a, b),
      "torch.einsum('...ij,...jk->...ik', a, b)",
      [G('float32', [2, 2, 3]), G('float32', [3, 2])],
    ],
    ['linalg', 'einsum.bad', (a) => torch.einsum('ij->k', a), "torch.einsum('ij->k', a)", [X('float32', [2, 2])]],
    [
      'nn.F',
      'crossEntropy.floatIdx',
      (a, t) => F.crossEntropy(a, t),
      'F.cross_entropy(a, b)',
      [X('float32', [2, 3]), X('float32', [2], { values: [0, 2] })],
    ],
    [
      'nn.F',
      'crossEntropy.probs_ignore',
      (a, t) => F.crossEntropy(a, t, { ignoreIndex: 1 }),
      'F.cross_entropy(a, b, ignore_index=1)',
      [G('float32', [2, 3]), X('float32', [2, 3], 'unit')],
    ],
    [
      'nn.F',
      'nllLoss.4d',
      (a, t) => F.nllLoss(a, t),
      'F.nll_loss(a, b)',
      [G('float32', [2, 3, 2, 2]), X('int64', [2, 2, 2], { idx: 3 })],
    ],
    [
      'nn.F',
      'nllLoss.weight_mean',
      (a, t, w) => F.nllLoss(a, t, { weight: w }),
      'F.nll_loss(a, b, c)',
      [G('float64', [4, 3]), X('int64', [4], { idx: 3 }), X('float64', [3], 'pos')],
    ],
    [
      'nn.F',
      'bceWithLogits.weight',
      (z, t, w) => F.binaryCrossEntropyWithLogits(z, t, { weight: w }),
      'F.binary_cross_entropy_with_logits(a, b, c)',
      [G('float32', [2, 3], 'edge'), X('float32', [2, 3], 'unit'), X('float32', [3], 'pos')],
    ],
    [
      'nn.F',
      'bceWithLogits.targetSize',
      (z, t) => F.binaryCrossEntropyWithLogits(z, t),
      'F.binary_cross_entropy_with_logits(a, b)',
      [X('float32', [2, 3]), X('float32', [3], 'unit')],
    ],
    [
      'nn.F',
      'l1Loss.targetSize',
      (a, b) => F.l1Loss(a, b),
      'F.l1_loss(a, b)',
      [G('float32', [2, 3]), G('float32', [3])],
    ],
    [
      'nn.F',
      'klDiv.targetSize',
      (a, b) => F.klDiv(a, b),
      'F.kl_div(a, b)',
      [G('float32', [2, 3]), X('float32', [3], 'unit')],
    ],
    [
      'nn.F',
      'interpolate.scaleFrac',
      (a) => F.interpolate(a, { scaleFactor: 1.7, mode: 'bilinear' }),
      "F.interpolate(a, scale_factor=1.7, mode='bilinear')",
      [G('float32', [1, 1, 3, 4])],
    ],
    [
      'nn.F',
      'interpolate.5d',
      (a) => F.interpolate(a, { scaleFactor: 2 }),
      'F.interpolate(a, scale_factor=2)',
      [X('float32', [1, 1, 2, 2, 2])],
      'interpolate-4d-only',
    ],
    [
      'nn.F',
      'pad.reflect2d_3dinput',
      (a) => F.pad(a, [1, 1, 1, 1], { mode: 'reflect' }),
      "F.pad(a, [1, 1, 1, 1], mode='reflect')",
      [G('float32', [2, 3, 3])],
    ],
    [
      'nn.F',
      'pad.tooMany',
      (a) => F.pad(a, [1, 1, 1, 1, 1, 1]),
      'F.pad(a, [1, 1, 1, 1, 1, 1])',
      [X('float32', [2, 3])],
    ],
    ['nn.F', 'pad.odd', (a) => F.pad(a, [1]), 'F.pad(a, [1])', [X('float32', [2, 3])]],
    ['nn.F', 'softmax.0d', (a) => F.softmax(a, 0), 'F.softmax(a, 0)', [G('float32', [], { values: [2] })]],
    [
      'nn.F',
      'linear.int',
      (x, w) => F.linear(x, w),
      'F.linear(a, b)',
      [X('int64', [2, 3], 'small'), X('int64', [2, 3], 'small')],
    ],
    ['nn.F', 'layerNorm.int', (x) => F.layerNorm(x, [3]), 'F.layer_norm(a, [3])', [X('int64', [2, 3], 'small')]],
    ['nn.F', 'gelu.int', (x) => F.gelu(x), 'F.gelu(a)', [X('int64', [3], 'small')]],
    ['nn.F', 'relu.bool', (x) => F.relu(x), 'F.relu(a)', [X('bool', [3], 'bool')]],
  ];
  for (const [category, name, js, py, inputs, known] of T2) {
    add({ id: `${category}.${name}`, category, inputs, js, py, grad: inputs.some((i) => i.grad), known });
  }

  // ---- modules ----
  for (const d of FLOATS) {
    const s = short(d);
    const o = `dtype=${PYDT[d]}`;
    const M: [string, (...x: any[]) => any, string, InputSpec[], Case['tol']?][] = [
      [
        'Linear',
        (x, w, b) => {
          const m = load(new nn.Linear(3, 2, { dtype: d }), [w, b]);
          return { out: m.forward(x), extra: m.parameters() };
        },
        `m = load(nn.Linear(3, 2, ${o}), [b, c]); out = m(a); extra = list(m.parameters())`,
        [G(d, [4, 3], 'normal', { view: 'T' }), X(d, [2, 3]), X(d, [2])],
      ],
      [
        'Linear.nobias',
        (x, w) => {
          const m = load(new nn.Linear(3, 2, { dtype: d, bias: false }), [w]);
          return { out: m.forward(x), extra: m.parameters() };
        },
        `m = load(nn.Linear(3, 2, bias=False, ${o}), [b]); out = m(a); extra = list(m.parameters())`,
        [G(d, [4, 3], 'edge'), X(d, [2, 3])],
      ],
      [
        'Conv2d',
        (x, w, b) => {
          const m = load(new nn.Conv2d(2, 3, 3, { dtype: d, padding: 1, stride: 2 }), [w, b]);
          return { out: m.forward(x), extra: m.parameters() };
        },
        `m = load(nn.Conv2d(2, 3, 3, padding=1, stride=2, ${o}), [b, c]); out = m(a); extra = list(m.parameters())`,
        [G(d, [2, 2, 5, 5]), X(d, [3, 2, 3, 3]), X(d, [3])],
      ],
      [
        'Conv2d.reflect',
        (x, w, b) => {
          const m = load(new nn.Conv2d(2, 2, [3, 2], { dtype: d, padding: 1, paddingMode: 'reflect' }), [w, b]);
          return { out: m.forward(x), extra: m.parameters() };
        },
        `m = load(nn.Conv2d(2, 2, (3, 2), padding=1, padding_mode='reflect', ${o}), [b, c]); out = m(a); extra = list(m.parameters())`,
        [G(d, [1, 2, 4, 4]), X(d, [2, 2, 3, 2]), X(d, [2])],
      ],
      [
        'Conv2d.circular',
        (x, w, b) => {
          const m = load(new nn.Conv2d(1, 2, 3, { dtype: d, padding: 1, paddingMode: 'circular' }), [w, b]);
          return { out: m.forward(x), extra: m.parameters() };
        },
        `m = load(nn.Conv2d(1, 2, 3, padding=1, padding_mode='circular', ${o}), [b, c]); out = m(a); extra = list(m.parameters())`,
        [G(d, [1, 1, 4, 3]), X(d, [2, 1, 3, 3]), X(d, [2])],
      ],
      [
        'ConvTranspose2d',
        (x, w, b) => {
          const m = load(new nn.ConvTranspose2d(2, 3, 3, { dtype: d, stride: 2 }), [w, b]);
          return { out: m.forward(x), extra: m.parameters() };
        },
        `m = load(nn.ConvTranspose2d(2, 3, 3, stride=2, ${o}), [b, c]); out = m(a); extra = list(m.parameters())`,
        [G(d, [1, 2, 3, 3]), X(d, [2, 3, 3, 3]), X(d, [3])],
      ],
      [
        'LayerNorm',
        (x, w, b) => {
          const m = load(new nn.LayerNorm(4, { dtype: d }), [w, b]);
          return { out: m.forward(x), extra: m.parameters() };
        },
        `m = load(nn.LayerNorm(4, ${o}), [b, c]); out = m(a); extra = list(m.parameters())`,
        [G(d, [2, 3, 4]), X(d, [4]), X(d, [4])],
      ],
      [
        'GroupNorm',
        (x, w, b) => {
          const m = load(new nn.GroupNorm(2, 4, { dtype: d }), [w, b]);
          return { out: m.forward(x), extra: m.parameters() };
        },
        `m = load(nn.GroupNorm(2, 4, ${o}), [b, c]); out = m(a); extra = list(m.parameters())`,
        [G(d, [3, 4, 2, 2]), X(d, [4]), X(d, [4])],
      ],
      [
        'BatchNorm1d.train',
        (x, w, b) => {
          const m = load(new nn.BatchNorm1d(3, { dtype: d }), [w, b]);
          const out = m.forward(x);
          return { out: [out, m.runningMean!, m.runningVar!], extra: m.parameters() };
        },
        `m = load(nn.BatchNorm1d(3, ${o}), [b, c]); out = [m(a), m.running_mean, m.running_var]; extra = list(m.parameters())`,
        [G(d, [4, 3]), X(d, [3]), X(d, [3])],
      ],
      [
        'BatchNorm2d.train_eval',
        (x, w, b) => {
          const m = load(new nn.BatchNorm2d(2, { dtype: d, momentum: null }), [w, b]);
          m.forward(x);
          m.forward(x.mul(2));
          m.eval();
          return { out: [m.forward(x), m.runningMean!, m.runningVar!], extra: m.parameters() };
        },
        `m = load(nn.BatchNorm2d(2, momentum=None, ${o}), [b, c]); m(a); m(a * 2); m.eval(); out = [m(a), m.running_mean, m.running_var]; extra = list(m.parameters())`,
        [G(d, [2, 2, 3, 3]), X(d, [2]), X(d, [2])],
      ],
      [
        'BatchNorm1d.oneValue',
        (x) => new nn.BatchNorm1d(2, { dtype: d }).forward(x),
        `nn.BatchNorm1d(2, ${o})(a)`,
        [G(d, [1, 2])],
      ],
      [
        'Embedding',
        (i, w) => {
          const m = load(new nn.Embedding(5, 3, { dtype: d, paddingIdx: 0 }), [w]);
          return { out: m.forward(i), extra: m.parameters() };
        },
        `m = load(nn.Embedding(5, 3, padding_idx=0, ${o}), [b]); out = m(a); extra = list(m.parameters())`,
        [X('int64', [2, 4], { idx: 5 }), X(d, [5, 3])],
      ],
      [
        'Embedding.badPad',
        () => new nn.Embedding(5, 3, { dtype: d, paddingIdx: 5 }) && 0,
        `nn.Embedding(5, 3, padding_idx=5) and 0`,
        [],
      ],
      [
        'Sequential',
        (x, w1, b1, w2, b2) => {
          const m = load(
            new nn.Sequential(new nn.Linear(3, 4, { dtype: d }), new nn.Tanh(), new nn.Linear(4, 2, { dtype: d })),
            [w1, b1, w2, b2],
          );
          return { out: m.forward(x), extra: m.parameters() };
        },
        `m = load(nn.Sequential(nn.Linear(3, 4, ${o}), nn.Tanh(), nn.Linear(4, 2, ${o})), [b, c, d, e]); out = m(a); extra = list(m.parameters())`,
        [G(d, [5, 3]), X(d, [4, 3]), X(d, [4]), X(d, [2, 4]), X(d, [2])],
      ],
      ['ReLU', (x) => new nn.ReLU().forward(x), 'nn.ReLU()(a)', [G(d, [6], 'edge')]],
      [
        'LeakyReLU',
        (x) => new nn.LeakyReLU({ negativeSlope: 0.1 }).forward(x),
        'nn.LeakyReLU(0.1)(a)',
        [G(d, [6], 'edge')],
      ],
      ['SiLU', (x) => new nn.SiLU().forward(x), 'nn.SiLU()(a)', [G(d, [6], 'edge')]],
      [
        'GELU',
        (x) => new nn.GELU({ approximate: 'tanh' }).forward(x),
        "nn.GELU(approximate='tanh')(a)",
        [G(d, [6], 'edge')],
      ],
      ['Tanh', (x) => new nn.Tanh().forward(x), 'nn.Tanh()(a)', [G(d, [6], 'edge')]],
      ['Sigmoid', (x) => new nn.Sigmoid().forward(x), 'nn.Sigmoid()(a)', [G(d, [6], 'edge')]],
      ['Softplus', (x) => new nn.Softplus({ beta: 0.5 }).forward(x), 'nn.Softplus(0.5)(a)', [G(d, [6], 'edge')]],
      ['ELU', (x) => new nn.ELU({ alpha: 2 }).forward(x), 'nn.ELU(2.0)(a)', [G(d, [6], 'edge')]],
      ['Softmax', (x) => new nn.Softmax(0).forward(x), 'nn.Softmax(0)(a)', [G(d, [3, 2])]],
      [
        'MaxPool2d',
        (x) => new nn.MaxPool2d(2, { stride: 1 }).forward(x),
        'nn.MaxPool2d(2, 1)(a)',
        [G(d, [1, 1, 3, 3])],
      ],
      [
        'AvgPool2d',
        (x) => new nn.AvgPool2d(2, { padding: 1 }).forward(x),
        'nn.AvgPool2d(2, padding=1)(a)',
        [G(d, [1, 2, 3, 3])],
      ],
      [
        'AdaptiveAvgPool2d',
        (x) => new nn.AdaptiveAvgPool2d([1, 2]).forward(x),
        'nn.AdaptiveAvgPool2d((1, 2))(a)',
        [G(d, [2, 1, 3, 5])],
      ],
      [
        'Upsample',
        (x) => new nn.Upsample({ scaleFactor: 2, mode: 'bilinear' }).forward(x),
        "nn.Upsample(scale_factor=2, mode='bilinear')(a)",
        [G(d, [1, 1, 2, 3])],
      ],
      ['Dropout.eval', (x) => new nn.Dropout(0.5).eval().forward(x), 'nn.Dropout(0.5).eval()(a)', [G(d, [6], 'edge')]],
      ['Flatten', (x) => new nn.Flatten().forward(x), 'nn.Flatten()(a)', [G(d, [2, 3, 2])]],
      ['Identity', (x) => new nn.Identity().forward(x), 'nn.Identity()(a)', [G(d, [3])]],
    ];
    for (const [name, js, py, inputs, tol] of M) {
      add({ id: `nn.${name}.${s}`, category: 'nn', inputs, js, py, grad: inputs.some((i) => i.grad), tol });
    }
  }
  add({
    id: 'nn.BatchNorm1d.oneValue.train',
    category: 'nn',
    inputs: [G('float32', [1, 3])],
    js: (x: Tensor) => new nn.BatchNorm1d(3).forward(x),
    py: 'nn.BatchNorm1d(3)(a)',
    grad: true,
    known: 'norm-one-value',
  });
  add({
    id: 'nn.GroupNorm.onePerGroup',
    category: 'nn',
    inputs: [G('float32', [2, 3, 1])],
    js: (x: Tensor) => new nn.GroupNorm(3, 3).forward(x),
    py: 'nn.GroupNorm(3, 3)(a)',
    grad: true,
    known: 'norm-one-value',
  });
  add({
    id: 'nn.Embedding.padIdx.grad',
    category: 'nn',
    inputs: [X('int64', [4], { values: [1, 2, 1, 0] }), X('float32', [3, 2])],
    js: (i: Tensor, w: Tensor) => {
      const m = load(new nn.Embedding(3, 2, { paddingIdx: -2 }), [w]);
      m.forward(i).sum().backward();
      return m.parameters()[0].grad;
    },
    py: 'm = load(nn.Embedding(3, 2, padding_idx=-2), [b]); m(a).sum().backward(); out = m.weight.grad',
  });
  add({
    id: 'nn.zeroGrad.module',
    category: 'nn',
    inputs: [X('float32', [2, 3])],
    js: (x: Tensor) => {
      const m = new nn.Linear(3, 1);
      m.forward(x).sum().backward();
      m.zeroGrad();
      return m.parameters().map((p) => p.grad);
    },
    py: 'm = nn.Linear(3, 1); m(a).sum().backward(); m.zero_grad(); out = [p.grad for p in m.parameters()]',
    known: 'zerograd-none',
  });

  // ---- autograd ----
  const A: [string, (...x: any[]) => any, string, InputSpec[], string?][] = [
    [
      'gradFn.add',
      (a, b) => a.add(b).gradFn,
      'type(a.add(b).grad_fn).__name__',
      [G('float32', [2]), G('float32', [2])],
    ],
    [
      'gradFn.mul',
      (a, b) => a.mul(b).gradFn,
      'type(a.mul(b).grad_fn).__name__',
      [G('float32', [2]), G('float32', [2])],
    ],
    [
      'gradFn.mulScalar',
      (a) => a.mul(2).gradFn,
      'type(a.mul(2).grad_fn).__name__',
      [G('float32', [2])],
      'gradfn-names',
    ],
    ['gradFn.sum', (a) => a.sum().gradFn, 'type(a.sum().grad_fn).__name__', [G('float32', [2])]],
    ['gradFn.exp', (a) => a.exp().gradFn, 'type(a.exp().grad_fn).__name__', [G('float32', [2])]],
    [
      'gradFn.addScalar',
      (a) => a.add(1).gradFn,
      'type(a.add(1).grad_fn).__name__',
      [G('float32', [2])],
      'gradfn-names',
    ],
    [
      'gradFn.divScalar',
      (a) => a.div(2).gradFn,
      'type(a.div(2).grad_fn).__name__',
      [G('float32', [2])],
      'gradfn-names',
    ],
    [
      'gradFn.subScalar',
      (a) => a.sub(0.5).gradFn,
      'type(a.sub(0.5).grad_fn).__name__',
      [G('float32', [2])],
      'gradfn-names',
    ],
    [
      'gradFn.sub',
      (a, b) => a.sub(b).gradFn,
      'type(a.sub(b).grad_fn).__name__',
      [G('float32', [2]), G('float32', [2])],
    ],
    ['gradFn.leaf', (a) => a.gradFn, 'a.grad_fn', [G('float32', [2])]],
    [
      'isLeaf',
      (a) => [a.isLeaf, a.mul(2).isLeaf, a.detach().isLeaf],
      '[a.is_leaf, a.mul(2).is_leaf, a.detach().is_leaf]',
      [G('float32', [2])],
    ],
    [
      'requiresGrad',
      (a, b) => [a.requiresGrad, b.requiresGrad, a.add(b).requiresGrad],
      '[a.requires_grad, b.requires_grad, a.add(b).requires_grad]',
      [G('float32', [2]), X('float32', [2])],
    ],
    [
      'backward.twice',
      (a) => {
        const y = a.mul(a).sum();
        y.backward();
        y.backward();
        return a.grad;
      },
      'y = (a * a).sum(); y.backward(); y.backward(); out = a.grad',
      [G('float32', [3])],
    ],
    [
      'backward.retain',
      (a) => {
        const y = a.mul(a).sum();
        y.backward(undefined, { retainGraph: true });
        y.backward();
        return a.grad;
      },
      'y = (a * a).sum(); y.backward(retain_graph=True); y.backward(); out = a.grad',
      [G('float32', [3])],
    ],
    [
      'backward.nonscalar',
      (a) => {
        a.mul(2).backward();
        return a.grad;
      },
      'a.mul(2).backward(); out = a.grad',
      [G('float32', [3])],
    ],
    [
      'backward.noGrad',
      (a) => {
        a.mul(2).sum().backward();
        return a.grad;
      },
      'a.mul(2).sum().backward(); out = a.grad',
      [X('float32', [3])],
    ],
    [
      'retainGrad',
      (a) => {
        const h = a.mul(3).retainGrad();
        h.square().sum().backward();
        return [h.grad, a.grad];
      },
      'h = a.mul(3); h.retain_grad(); h.square().sum().backward(); out = [h.grad, a.grad]',
      [G('float64', [3])],
    ],
    [
      'grad.nonleaf',
      (a) => {
        const h = a.mul(3);
        h.sum().backward();
        return h.grad;
      },
      'h = a.mul(3); h.sum().backward(); out = h.grad',
      [G('float32', [3])],
    ],
    [
      'autograd.grad',
      (a) => torch.grad(a.pow(3).sum(), a, { createGraph: true }),
      'list(torch.autograd.grad(a.pow(3).sum(), a, create_graph=True))',
      [G('float64', [3])],
    ],
    [
      'autograd.gradgrad',
      (a) => {
        const [g] = torch.grad(a.pow(3).sum(), a, { createGraph: true });
        return torch.grad(g!.sum(), a);
      },
      'g, = torch.autograd.grad(a.pow(3).sum(), a, create_graph=True); out = list(torch.autograd.grad(g.sum(), a))',
      [G('float64', [3])],
    ],
    [
      'autograd.unused',
      (a, b) => torch.grad(a.sum(), [a, b]),
      'list(torch.autograd.grad(a.sum(), [a, b]))',
      [G('float32', [2]), G('float32', [2])],
    ],
    [
      'autograd.allowUnused',
      (a, b) => torch.grad(a.sum(), [a, b], { allowUnused: true }),
      'list(torch.autograd.grad(a.sum(), [a, b], allow_unused=True))',
      [G('float32', [2]), G('float32', [2])],
    ],
    [
      'grad.setter.shape',
      (a) => {
        a.grad = torch.zeros([5]);
        return a.grad!.shape;
      },
      'a.grad = torch.zeros([5]); out = list(a.grad.shape)',
      [G('float32', [3])],
      'grad-setter',
    ],
    [
      'grad.setter.dtype',
      (a) => {
        a.grad = torch.zeros([3], { dtype: 'float64' });
        return a.grad!.dtype;
      },
      'a.grad = torch.zeros([3], dtype=torch.float64); out = str(a.grad.dtype)',
      [G('float32', [3])],
      'grad-setter',
    ],
    [
      'grad.setter.ok',
      (a) => {
        a.grad = torch.ones([3]);
        a.mul(2).sum().backward();
        return a.grad;
      },
      'a.grad = torch.ones([3]); a.mul(2).sum().backward(); out = a.grad',
      [G('float32', [3])],
    ],
    ['inplace.leaf', (a) => a.add_(1), 'a.add_(1)', [G('float32', [3])]],
    [
      'sgn.grad',
      (a) => {
        torch.ops.sgn(a).sum().backward();
        const g = a.grad;
        return g === null ? null : g.toArray();
      },
      'torch.sgn(a).sum().backward(); g = a.grad; out = None if g is None else g.tolist()',
      [G('float32', [3])],
      'storageless-grad-read',
    ],
    [
      'sgn.grad.shape',
      (a) => {
        torch.ops.sgn(a).sum().backward();
        const g = a.grad;
        return g === null ? null : [g.shape, g.dtype];
      },
      "torch.sgn(a).sum().backward(); g = a.grad; out = None if g is None else [list(g.shape), str(g.dtype).replace('torch.', '')]",
      [G('float32', [3])],
      'storageless-grad',
    ],
    [
      'sign.grad',
      (a) => {
        a.sign().sum().backward();
        return a.grad;
      },
      'a.sign().sum().backward(); out = a.grad',
      [G('float32', [3])],
    ],
    [
      'noGrad',
      (a) => noGrad(() => a.mul(2)).requiresGrad,
      'with torch.no_grad():\n    out = a.mul(2).requires_grad',
      [G('float32', [2])],
    ],
    [
      'gradcheck.pow',
      (a) => torch.gradcheck((x: Tensor) => x.pow(3), [a]).ok,
      'torch.autograd.gradcheck(lambda x: x.pow(3), [a])',
      [G('float64', [3])],
    ],
  ];
  for (const [name, js, py, inputs, known] of A)
    add({ id: `autograd.${name}`, category: 'autograd', inputs, js, py, known });

  // ---- optim ----
  const O: [string, (p: Tensor) => optim.Optimizer, string][] = [
    ['SGD', (p) => new optim.SGD([p], { lr: 0.1 }), 'torch.optim.SGD([p], lr=0.1)'],
    [
      'SGD.momentum',
      (p) => new optim.SGD([p], { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 }),
      'torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)',
    ],
    [
      'SGD.maximize',
      (p) => new optim.SGD([p], { lr: 0.1, momentum: 0.5, dampening: 0.5, maximize: true }),
      'torch.optim.SGD([p], lr=0.1, momentum=0.5, dampening=0.5, maximize=True)',
    ],
    ['Adam', (p) => new optim.Adam([p], { lr: 0.01 }), 'torch.optim.Adam([p], lr=0.01)'],
    [
      'Adam.amsgrad',
      (p) => new optim.Adam([p], { lr: 0.01, amsgrad: true, weightDecay: 0.1 }),
      'torch.optim.Adam([p], lr=0.01, amsgrad=True, weight_decay=0.1)',
    ],
    ['AdamW', (p) => new optim.AdamW([p], { lr: 0.01 }), 'torch.optim.AdamW([p], lr=0.01)'],
    ['Adamax', (p) => new optim.Adamax([p], { lr: 0.01 }), 'torch.optim.Adamax([p], lr=0.01)'],
    [
      'RMSprop',
      (p) => new optim.RMSprop([p], { lr: 0.01, centered: true, momentum: 0.3 }),
      'torch.optim.RMSprop([p], lr=0.01, centered=True, momentum=0.3)',
    ],
  ];
  for (const [name, make, pyMake] of O) {
    for (const d of FLOATS) {
      for (const fill of ['normal', 'edge'] as const) {
        add({
          id: `optim.${name}.${short(d)}.${fill}`,
          category: 'optim',
          inputs: [X(d, [2, 3]), X(d, [2, 3], fill)],
          js: (a: Tensor, g: Tensor) => {
            const p = a.clone().requiresGrad_();
            const opt = make(p);
            for (let k = 1; k <= 3; k++) {
              p.grad = g.mul(k);
              opt.step();
            }
            return p.detach();
          },
          py: `p = a.clone().requires_grad_()
opt = ${pyMake}
for k in range(1, 4):
    p.grad = b.mul(k)
    opt.step()
out = p.detach()`,
        });
      }
    }
  }
  add({
    id: 'optim.zeroGrad',
    category: 'optim',
    inputs: [X('float32', [3])],
    js: (a: Tensor) => {
      const p = a.clone().requiresGrad_();
      const opt = new optim.SGD([p], { lr: 0.1 });
      p.mul(2).sum().backward();
      opt.zeroGrad();
      return p.grad;
    },
    py: 'p = a.clone().requires_grad_(); opt = torch.optim.SGD([p], lr=0.1); p.mul(2).sum().backward(); opt.zero_grad(); out = p.grad',
    known: 'zerograd-none',
  });
  add({
    id: 'optim.clipGradNorm',
    category: 'optim',
    inputs: [X('float32', [4]), X('float32', [4])],
    js: (a: Tensor, g: Tensor) => {
      const p = a.clone().requiresGrad_();
      p.grad = g.mul(10);
      const n = optim.clipGradNorm([p], 1);
      return [n, p.grad];
    },
    py: 'p = a.clone().requires_grad_(); p.grad = b.mul(10); n = torch.nn.utils.clip_grad_norm_([p], 1); out = [n, p.grad]',
    known: 'clipgradnorm-number',
  });
  add({
    id: 'optim.clipGradNorm.grads',
    category: 'optim',
    inputs: [X('float64', [4]), X('float64', [4], 'edge')],
    js: (a: Tensor, g: Tensor) => {
      const p = a.clone().requiresGrad_();
      p.grad = g.clone();
      optim.clipGradNorm([p], 1, Infinity);
      return p.grad;
    },
    py: "p = a.clone().requires_grad_(); p.grad = b.clone(); torch.nn.utils.clip_grad_norm_([p], 1, float('inf')); out = p.grad",
  });
  add({
    id: 'optim.clipGradValue',
    category: 'optim',
    inputs: [X('float32', [4]), X('float32', [6], 'edge')],
    js: (a: Tensor, g: Tensor) => {
      const p = a.clone().requiresGrad_();
      p.grad = g.narrow(0, 0, 4).clone();
      optim.clipGradValue([p], 0.5);
      return p.grad;
    },
    py: 'p = a.clone().requires_grad_(); p.grad = b.narrow(0, 0, 4).clone(); torch.nn.utils.clip_grad_value_([p], 0.5); out = p.grad',
  });
  const S: [string, (o: optim.Optimizer) => optim.LRScheduler, string, string?][] = [
    ['StepLR', (o) => new optim.StepLR(o, { stepSize: 2, gamma: 0.5 }), 'torch.optim.lr_scheduler.StepLR(opt, 2, 0.5)'],
    [
      'MultiStepLR',
      (o) => new optim.MultiStepLR(o, { milestones: [1, 4], gamma: 0.1 }),
      'torch.optim.lr_scheduler.MultiStepLR(opt, [1, 4], 0.1)',
    ],
    [
      'ExponentialLR',
      (o) => new optim.ExponentialLR(o, { gamma: 0.9 }),
      'torch.optim.lr_scheduler.ExponentialLR(opt, 0.9)',
    ],
    [
      'LinearLR',
      (o) => new optim.LinearLR(o, { startFactor: 0.25, endFactor: 1, totalIters: 4 }),
      'torch.optim.lr_scheduler.LinearLR(opt, 0.25, 1.0, 4)',
    ],
    [
      'CosineAnnealingLR',
      (o) => new optim.CosineAnnealingLR(o, { tMax: 10, etaMin: 0.01 }),
      'torch.optim.lr_scheduler.CosineAnnealingLR(opt, 10, 0.01)',
    ],
    [
      'CosineAnnealingLR.pastTMax',
      (o) => new optim.CosineAnnealingLR(o, { tMax: 3, etaMin: 0.01 }),
      'torch.optim.lr_scheduler.CosineAnnealingLR(opt, 3, 0.01)',
      'cosine-after-tmax',
    ],
  ];
  for (const [name, make, pyMake, known] of S) {
    add({
      id: `optim.sched.${name}`,
      category: 'optim',
      inputs: [],
      js: () => {
        const p = torch.zeros([1]).requiresGrad_();
        const opt = new optim.SGD([p], { lr: 0.5 });
        const s = make(opt);
        const lrs: number[] = [];
        for (let k = 0; k < 8; k++) {
          opt.step();
          s.step();
          lrs.push(s.getLastLr()[0]);
        }
        return lrs;
      },
      py: `import warnings
warnings.simplefilter('ignore')
p = torch.zeros([1]).requires_grad_()
opt = torch.optim.SGD([p], lr=0.5)
s = ${pyMake}
out = []
for k in range(8):
    opt.step()
    s.step()
    out.append(s.get_last_lr()[0])`,
      tol: { rtol: 1e-15, atol: 1e-17 },
      known,
    });
  }
  return cases;
}

function rc(r: 'mean' | 'sum' | 'none'): number {
  return { none: 0, mean: 1, sum: 2 }[r];
}
