// Module mechanics: registration, dotted names, modes, state dicts, dtype moves and memory.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { torch } from '../../src/index.js';
import * as nn from '../../src/nn/index.js';
import type { Tensor } from '../../src/torch/tensor.js';
import { assertClose, values } from './helpers.js';

/** A conv block with a norm, as the down path of a small U-Net. */
class Block extends nn.Module<[Tensor], Tensor> {
  conv: nn.Conv2d;
  norm: nn.BatchNorm2d;
  constructor(cin: number, cout: number) {
    super();
    this.conv = this.registerModule('conv', new nn.Conv2d(cin, cout, 3, { padding: 1 }));
    this.norm = this.registerModule('norm', new nn.BatchNorm2d(cout));
  }
  forward(x: Tensor): Tensor {
    return this.norm.forward(this.conv.forward(x)).relu();
  }
}

class Net extends nn.Module<[Tensor], Tensor> {
  down = this.registerModule('down', new nn.ModuleList([new Block(1, 2), new Block(2, 3)]));
  head = this.registerModule(
    'head',
    new nn.Sequential(new nn.Flatten(), new nn.Dropout(0.5), new nn.Linear(3 * 4 * 4, 2)),
  );
  scale = this.registerParameter('scale', new nn.Parameter(torch.ones([1])));
  table = this.registerBuffer('table', torch.arange(3), { persistent: false });
  forward(x: Tensor): Tensor {
    let h = x;
    for (const b of this.down) h = b.forward(h);
    return this.head.forward(h).mul(this.scale);
  }
}

const input = () => torch.randn([2, 1, 4, 4], { generator: new torch.Generator(9) });

describe('registration and names', () => {
  test('namedParameters uses dotted paths through ModuleList and Sequential', () => {
    torch.manualSeed(0);
    const net = new Net();
    assert.deepEqual(
      net.namedParameters().map(([n]) => n),
      [
        'scale',
        'down.0.conv.weight',
        'down.0.conv.bias',
        'down.0.norm.weight',
        'down.0.norm.bias',
        'down.1.conv.weight',
        'down.1.conv.bias',
        'down.1.norm.weight',
        'down.1.norm.bias',
        'head.2.weight',
        'head.2.bias',
      ],
    );
    assert.deepEqual(
      net.namedBuffers().map(([n]) => n),
      [
        'table',
        'down.0.norm.running_mean',
        'down.0.norm.running_var',
        'down.0.norm.num_batches_tracked',
        'down.1.norm.running_mean',
        'down.1.norm.running_var',
        'down.1.norm.num_batches_tracked',
      ],
    );
    assert.deepEqual(
      net.namedModules().map(([n]) => n),
      [
        '',
        'down',
        'down.0',
        'down.0.conv',
        'down.0.norm',
        'down.1',
        'down.1.conv',
        'down.1.norm',
        'head',
        'head.0',
        'head.1',
        'head.2',
      ],
    );
    assert.deepEqual(
      net.namedChildren().map(([n]) => n),
      ['down', 'head'],
    );
    assert.deepEqual(
      net.namedParameters({ recurse: false }).map(([n]) => n),
      ['scale'],
    );
    assert.equal(net.getSubmodule('down.1.conv'), net.down.at(1).conv);
    assert.equal(net.getParameter('head.2.bias'), (net.head.at(-1) as nn.Linear).bias);
    assert.equal(net.getBuffer('down.0.norm.running_var'), net.down.at(0).norm.runningVar);
    assert.throws(() => net.getSubmodule('down.7'), /no sub-module '7'/);
    // 1 + 2·(2·1·9 + 2 + 2 + 2) + ... counted by hand: conv(18+2) + bn(4) + conv(54+3) + bn(6) + linear(96+2).
    assert.equal(net.numParameters(), 1 + 20 + 4 + 57 + 6 + 98);
    net.dispose();
  });

  test('a shared parameter or module is listed once', () => {
    const lin = new nn.Linear(2, 2);
    const seq = new nn.Sequential(lin, new nn.Tanh(), lin);
    assert.equal(seq.parameters().length, 2);
    assert.equal(seq.modules().length, 3);
    // The state dict still names every path, as PyTorch's does.
    assert.deepEqual(Object.keys(seq.stateDict()), ['0.weight', '0.bias', '2.weight', '2.bias']);
    seq.dispose();
  });

  test('registration rejects bad names and kinds', () => {
    class M extends nn.Module {
      forward() {
        return null;
      }
    }
    const m = new M();
    assert.throws(() => m.registerParameter('a.b', null), /can't contain "."/);
    assert.throws(() => m.registerParameter('', null), /non-empty/);
    m.registerBuffer('x', torch.zeros([1]));
    assert.throws(() => m.registerParameter('x', null), /already registered/);
    assert.throws(() => m.registerParameter('w', torch.zeros([1]) as never), /expected a Parameter/);
    assert.throws(() => m.registerModule('y', {} as never), /expected a Module/);
    m.dispose();
  });

  test('toString prints the tree', () => {
    const seq = new nn.Sequential(new nn.Linear(3, 2, { bias: false }), new nn.GELU({ approximate: 'tanh' }));
    assert.equal(
      seq.toString(),
      "Sequential(\n  (0): Linear(inFeatures=3, outFeatures=2, bias=false)\n  (1): GELU(approximate='tanh')\n)",
    );
    seq.dispose();
  });
});

describe('modes', () => {
  test('train() and eval() reach every sub-module and change Dropout and BatchNorm', () => {
    torch.manualSeed(1);
    const net = new Net();
    assert.ok(net.modules().every((m) => m.training));
    const x = input();
    const a = net.forward(x);
    assert.equal(values(net.down.at(0).norm.numBatchesTracked!)[0], 1);
    net.eval();
    assert.ok(net.modules().every((m) => !m.training));
    const b1 = values(net.forward(x));
    const b2 = values(net.forward(x));
    // Eval mode is deterministic and leaves the running statistics alone.
    assert.deepEqual(b1, b2);
    assert.equal(values(net.down.at(0).norm.numBatchesTracked!)[0], 1);
    assert.notDeepEqual(values(a), b1);
    net.train();
    assert.ok(net.head.at(1).training);
    net.dispose();
  });

  test('apply visits children before parents; requiresGrad_ freezes parameters', () => {
    const seq = new nn.Sequential(new nn.Linear(1, 1), new nn.Sequential(new nn.ReLU()));
    const seen: string[] = [];
    seq.apply((m) => seen.push(m.constructor.name));
    assert.deepEqual(seen, ['Linear', 'ReLU', 'Sequential', 'Sequential']);
    seq.requiresGrad_(false);
    assert.ok(seq.parameters().every((p) => !p.requiresGrad));
    assert.equal(seq.numParameters({ trainableOnly: true }), 0);
    seq.dispose();
  });

  test('zeroGrad clears or zeroes gradients', () => {
    const lin = new nn.Linear(2, 1);
    lin
      .forward(torch.ones([1, 2]))
      .sum()
      .backward();
    assert.deepEqual(values(lin.weight.grad!), [1, 1]);
    lin.zeroGrad({ setToNone: false });
    assert.deepEqual(values(lin.weight.grad!), [0, 0]);
    lin.zeroGrad();
    assert.equal(lin.weight.grad, null);
    assert.equal(lin.bias!.grad, null);
    lin.dispose();
  });
});

describe('state dicts', () => {
  test('round trip: a second model loads the first and computes the same outputs', () => {
    torch.manualSeed(2);
    const a = new Net();
    a.forward(input()); // moves the running statistics away from their initial values
    torch.manualSeed(3);
    const b = new Net();
    a.eval();
    b.eval();
    const x = input();
    assert.notDeepEqual(values(a.forward(x)), values(b.forward(x)));
    const sd = a.stateDict();
    assert.ok(!('table' in sd), 'non-persistent buffers stay out');
    assert.equal(Object.keys(sd).length, 11 + 6);
    assert.ok(Object.values(sd).every((t) => !t.requiresGrad));
    const bWeight = b.down.at(0).conv.weight;
    const result = b.loadStateDict(sd);
    assert.deepEqual(result, { missingKeys: [], unexpectedKeys: [] });
    assert.equal(b.down.at(0).conv.weight, bWeight, 'parameters are updated in place');
    assert.deepEqual(values(b.forward(x)), values(a.forward(x)));
    assert.deepEqual(values(b.down.at(1).norm.runningVar!), values(a.down.at(1).norm.runningVar!));
    assert.equal(values(b.down.at(0).norm.numBatchesTracked!)[0], 1);
    // The dict holds separate handles: freeing it leaves the model intact.
    torch.dispose(sd);
    assert.equal(a.down.at(0).conv.weight.isDisposed, false);
    a.dispose();
    b.dispose();
  });

  test('state dict values share storage with the parameters', () => {
    const lin = new nn.Linear(2, 2);
    const sd = lin.stateDict();
    torch.noGrad(() => lin.weight.fill_(3));
    assert.deepEqual(values(sd.weight), [3, 3, 3, 3]);
    assert.equal(lin.stateDict({ keepVars: true }).weight, lin.weight);
    lin.dispose();
  });

  test('loadStateDict reports missing, unexpected and mis-shaped entries and copies nothing then', () => {
    const lin = new nn.Linear(3, 2);
    const before = values(lin.weight);
    const good = { weight: torch.zeros([2, 3]), bias: torch.zeros([2]) };
    assert.throws(() => lin.loadStateDict({ weight: good.weight }), /missing key\(s\): bias/);
    assert.throws(() => lin.loadStateDict({ ...good, extra: torch.zeros([1]) }), /unexpected key\(s\): extra/);
    assert.throws(
      () => lin.loadStateDict({ weight: torch.zeros([3, 2]), bias: good.bias }),
      /size mismatch for 'weight': the checkpoint has shape \[3, 2\], the module has \[2, 3\]/,
    );
    assert.deepEqual(values(lin.weight), before);
    // Shape mismatches fail even when not strict; missing/unexpected keys are then only reported.
    assert.throws(() => lin.loadStateDict({ bias: torch.zeros([5]) }, { strict: false }), /size mismatch for 'bias'/);
    const r = lin.loadStateDict(
      new Map([
        ['bias', torch.ones([2])],
        ['other', torch.ones([1])],
      ]),
      { strict: false },
    );
    assert.deepEqual(r, { missingKeys: ['weight'], unexpectedKeys: ['other'] });
    assert.deepEqual(values(lin.bias!), [1, 1]);
    assert.deepEqual(values(lin.weight), before);
    lin.dispose();
  });

  test('loadStateDict refuses dtype mismatches, naming every key on one line, and copies nothing', () => {
    const lin = new nn.Linear(1, 1);
    const before = lin.weight.item();
    const dict = {
      weight: torch.tensor([[0.5]], { dtype: 'float64' }),
      bias: torch.tensor([2], { dtype: 'float64' }),
      extra: torch.zeros([1]),
    };
    let message = '';
    try {
      lin.loadStateDict(dict);
    } catch (e) {
      message = (e as Error).message;
    }
    assert.ok(!message.includes('\n'), `one line: ${message}`);
    assert.match(message, /unexpected key\(s\): extra; /);
    assert.match(message, /dtype mismatch for 'weight': the checkpoint has float64, the module has float32/);
    assert.match(message, /dtype mismatch for 'bias': the checkpoint has float64, the module has float32/);
    assert.equal(lin.weight.item(), before, 'nothing was copied');
    // Converted first, the same values load.
    lin.loadStateDict({ weight: dict.weight.float(), bias: dict.bias.float() });
    assert.equal(lin.weight.dtype, 'float32');
    assertClose(lin.forward(torch.tensor([[4]])), 4, 1e-7);
    lin.dispose();
  });
});

describe('dtype moves and memory', () => {
  test('to(float64) swaps data in place: same Parameter objects, gradients follow, counters stay int64', () => {
    const bn = new nn.BatchNorm1d(2);
    const lin = new nn.Linear(2, 2);
    const seq = new nn.Sequential(lin, bn);
    const w = lin.weight;
    const before = values(w);
    seq
      .forward(torch.randn([3, 2]))
      .sum()
      .backward();
    seq.to('float64');
    assert.equal(lin.weight, w);
    assert.equal(w.dtype, 'float64');
    assert.equal(w.requiresGrad, true);
    assert.equal(w.grad!.dtype, 'float64');
    assertClose(values(w), before, 1e-7);
    assert.equal(bn.runningMean!.dtype, 'float64');
    assert.equal(bn.numBatchesTracked!.dtype, 'int64');
    const y = seq.forward(torch.randn([3, 2], { dtype: 'float64' }));
    assert.equal(y.dtype, 'float64');
    seq.float();
    assert.equal(w.dtype, 'float32');
    seq.dispose();
  });

  test('parameters and buffers survive tidy(); dispose() frees them', () => {
    const start = torch.memory().tensors;
    const net = torch.tidy(() => {
      const m = new Net();
      m.forward(input());
      return m;
    });
    const owned = net.parameters().length + net.buffers().length;
    assert.equal(torch.memory().tensors, start + owned);
    assert.ok(net.parameters().every((p) => !p.isDisposed));
    torch.tidy(() => {
      net.forward(input());
    });
    assert.equal(torch.memory().tensors, start + owned);
    net.dispose();
    assert.equal(torch.memory().tensors, start);
    assert.ok(net.parameters().every((p) => p.isDisposed));
  });

  test('training steps inside tidy() keep the live tensor count flat', () => {
    torch.manualSeed(4);
    const net = new Net();
    const x = input();
    const target = torch.tensor([0, 1], { dtype: 'int64' });
    const step = () =>
      torch.tidy(() => {
        net.zeroGrad();
        const loss = nn.F.crossEntropy(net.forward(x), target);
        loss.backward();
        torch.noGrad(() => {
          for (const p of net.parameters()) p.sub_(p.grad!.mul(0.01));
        });
        return loss.item();
      });
    step();
    const live = torch.memory().tensors;
    const losses: number[] = [];
    for (let i = 0; i < 20; i++) losses.push(step());
    assert.equal(torch.memory().tensors, live);
    assert.ok(losses.every(Number.isFinite));
    net.dispose();
  });

  test('Parameter is a detached leaf sharing storage with its source', () => {
    const src = torch.ones([2]).mul(2).requiresGrad_(true);
    const derived = src.mul(1);
    const p = new nn.Parameter(derived);
    assert.ok(p instanceof nn.Parameter);
    assert.ok(p.isLeaf && p.requiresGrad);
    torch.noGrad(() => p.fill_(5));
    assert.deepEqual(values(derived), [5, 5]);
    assert.equal(new nn.Parameter(torch.zeros([1]), false).requiresGrad, false);
    const adopted = nn.Parameter.adopt(derived);
    assert.ok(derived.isDisposed);
    assert.deepEqual(values(adopted), [5, 5]);
    p.dispose();
    adopted.dispose();
  });
});

describe('fields registered without registerModule', () => {
  class Mlp extends nn.Module<[Tensor], Tensor> {
    fc1 = new nn.Linear(4, 3);
    act = new nn.Tanh();
    fc2 = new nn.Linear(3, 2);
    temperature = new nn.Parameter(torch.ones([1]));
    width = 3;
    forward(x: Tensor): Tensor {
      return this.fc2.forward(this.act.forward(this.fc1.forward(x))).div(this.temperature);
    }
  }

  test('Module and Parameter fields register under their names, in declaration order, and train', () => {
    torch.manualSeed(0);
    const m = new Mlp();
    assert.deepEqual(
      m.namedParameters().map(([k]) => k),
      ['temperature', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias'],
    );
    assert.equal(m.numParameters(), 4 * 3 + 3 + 3 * 2 + 2 + 1);
    assert.deepEqual(Object.keys(m.stateDict({ keepVars: true })), [
      'temperature',
      'fc1.weight',
      'fc1.bias',
      'fc2.weight',
      'fc2.bias',
    ]);
    assert.deepEqual(
      m.namedModules().map(([k]) => k),
      ['', 'fc1', 'act', 'fc2'],
    );
    // The gradient reaches fc1, which was silently dropped before.
    const x = torch.ones([5, 4]);
    m.forward(x).sum().backward();
    assert.ok(m.fc1.weight.grad !== null && m.fc1.weight.grad.abs().sum().item() > 0);
    // A state dict round-trips into a fresh model.
    const n = new Mlp();
    n.loadStateDict(m.stateDict());
    assert.ok(n.forward(x).allclose(m.forward(x)));
    m.dispose();
    n.dispose();
  });

  test('explicit registrations keep their names; shortcuts and tied weights are not registered twice', () => {
    class Tied extends nn.Module<[Tensor], Tensor> {
      body = this.registerModule('net', new nn.Sequential(new nn.Linear(2, 2), new nn.Linear(2, 2)));
      last = this.body.at(1); // a shortcut to a registered descendant
      w = (this.body.at(0) as nn.Linear).weight; // a tied weight
      extra = new nn.Linear(2, 1);
      forward(x: Tensor): Tensor {
        return this.extra.forward(this.body.forward(x));
      }
    }
    const t = new Tied();
    assert.deepEqual(Object.keys(t.stateDict({ keepVars: true })), [
      'net.0.weight',
      'net.0.bias',
      'net.1.weight',
      'net.1.bias',
      'extra.weight',
      'extra.bias',
    ]);
    t.dispose();
  });

  test('modules in an array are refused with the field name', () => {
    class Arr extends nn.Module<[Tensor], Tensor> {
      layers = [new nn.Linear(2, 2), new nn.Linear(2, 2)];
      forward(x: Tensor): Tensor {
        return this.layers.reduce((h, l) => l.forward(h), x);
      }
    }
    const a = new Arr();
    assert.throws(() => a.parameters(), /Arr: field 'layers' holds a Module inside an array.*nn\.ModuleList/);
    assert.throws(() => a.stateDict(), /field 'layers'/);
    for (const l of a.layers) l.dispose();
  });
});
