// Porting from PyTorch, tried as a new user would (issue 23): the two examples run as scripts, their
// training loops keep memory flat, checkpoints round-trip through torch.save/torch.load (and to and
// from PyTorch), the top-level maths agrees with the Tensor methods, and the tsconfig template makes
// tsc report a call of a module as a function.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as nn from '../src/nn/index.js';
import * as optim from '../src/optim/index.js';
import * as torch from '../src/torch/index.js';
import * as maths from '../src/torch/maths.js';
import { loadSafetensors, saveSafetensors } from '../src/torch/safetensors.js';
import { load, save } from '../src/torch/serialization.js';
import { readPng } from '../src/train/png.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const TSC = join(root, 'node_modules', '.bin', 'tsc');
const PYTHON = '/usr/bin/python3';
const FIXTURES = join(root, 'test', 'fixtures');
const dir = mkdtempSync(join(tmpdir(), 'genlab-examples-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs an example as a user would: `node --import tsx examples/<name>.ts ...`, from the package root. */
function runExample(name: string, args: string[]): Run {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join('examples', `${name}.ts`), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface MemoryLine {
  epoch: number;
  tensors: number;
  bytes: number;
  rss: number;
}
function memoryLines(stdout: string): MemoryLine[] {
  return [...stdout.matchAll(/^memory (\{.*\})$/gm)].map((m) => JSON.parse(m[1]) as MemoryLine);
}

/**
 * Live tensors and their bytes equal after epochs 1 and 2 (a batch or an activation leaked per step
 * would add tensors every step), and RSS within 16 MiB (RSS is noisier: allocator pools and V8's heap
 * move by a few MiB; measured growth was under 0.1 MiB for both examples).
 */
function assertFlat(stdout: string): void {
  const lines = memoryLines(stdout);
  assert.deepEqual(
    lines.map((l) => l.epoch),
    [1, 2],
  );
  const [one, two] = lines;
  assert.equal(two.tensors, one.tensors, `live tensors after epoch 1: ${one.tensors}, after epoch 2: ${two.tensors}`);
  assert.equal(two.bytes, one.bytes, 'tensor bytes after epoch 1 and 2');
  const grown = two.rss - one.rss;
  assert.ok(grown < 16 * 2 ** 20, `RSS grew by ${(grown / 2 ** 20).toFixed(1)} MiB from epoch 1 to epoch 2`);
}

const fashion = existsSync('/usr/share/datasets/fashion-mnist')
  ? false
  : 'Fashion-MNIST is not installed (Debian package dataset-fashion-mnist)';

describe('examples/cnn.ts', { skip: fashion }, () => {
  const out = join(dir, 'cnn');
  let run: Run;
  before(() => {
    run = runExample('cnn', [
      '--epochs',
      '2',
      '--subset',
      '600',
      '--batch-size',
      '32',
      '--test-subset',
      '500',
      '--out',
      out,
      '--report-memory',
    ]);
  });

  test('trains 2 short epochs to a test accuracy well above chance', () => {
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^fashion-mnist: 600 training and 500 test images; seed 1$/m);
    const epochs = [
      ...run.stdout.matchAll(/^epoch (\d): train loss ([\d.]+), test loss ([\d.]+), test accuracy ([\d.]+)%/gm),
    ];
    assert.equal(epochs.length, 2, run.stdout);
    const [acc1, acc2] = epochs.map((m) => Number(m[4]));
    const [loss1, loss2] = epochs.map((m) => Number(m[3]));
    // Chance is 10% (a loss of ln 10 = 2.30); measured 67.4% then 73.6% (test losses 1.03, 0.69) with seed 1.
    assert.ok(acc2 > 65, `test accuracy after 2 epochs ${acc2}%`);
    assert.ok(acc2 > acc1 - 2, `accuracy ${acc1}% then ${acc2}%`);
    assert.ok(loss2 < loss1 && loss2 < 1, `test loss ${loss1} then ${loss2}`);
  });

  test('writes a checkpoint that reloads to the same accuracy, and a PNG grid', () => {
    assert.equal(run.status, 0, run.stderr);
    const last = [...run.stdout.matchAll(/test accuracy ([\d.]+)%/g)].map((m) => m[1]);
    assert.equal(last.length, 3);
    assert.equal(last[2], last[1], 'the reloaded model scores what the trained one did');
    torch.tidy(() => {
      const sd = load(join(out, 'cnn.safetensors'));
      assert.deepEqual(Object.keys(sd).sort(), [
        'conv1.bias',
        'conv1.weight',
        'conv2.bias',
        'conv2.weight',
        'fc1.bias',
        'fc1.weight',
        'fc2.bias',
        'fc2.weight',
      ]);
      assert.deepEqual(sd['fc1.weight'].shape, [128, 9216]);
    });
    const wrote = /wrote (\d+) misclassified test images/.exec(run.stdout);
    assert.ok(wrote, run.stdout);
    assert.equal(Number(wrote[1]), 64);
    const png = readPng(join(out, 'mistakes.png'));
    // 8 × 8 tiles of 56 pixels (28 × 2) with 2 pixels of padding around each.
    assert.deepEqual([png.width, png.height, png.channels], [8 * 58 + 2, 8 * 58 + 2, 1]);
  });

  test('memory: live tensors and RSS stay flat from epoch 1 to epoch 2', () => {
    assert.equal(run.status, 0, run.stderr);
    assertFlat(run.stdout);
  });
});

describe('examples/vae.ts', { skip: fashion }, () => {
  const out = join(dir, 'vae');
  let run: Run;
  before(() => {
    run = runExample('vae', [
      '--epochs',
      '2',
      '--subset',
      '5000',
      '--test-subset',
      '2000',
      '--out',
      out,
      '--report-memory',
    ]);
  });

  test('the test loss falls between epochs and beats a decoder that always says ½', () => {
    assert.equal(run.status, 0, run.stderr);
    const epochs = [...run.stdout.matchAll(/^epoch (\d): train loss ([\d.]+), test loss ([\d.]+)/gm)];
    assert.equal(epochs.length, 2, run.stdout);
    const [test1, test2] = epochs.map((m) => Number(m[3]));
    // Predicting ½ for every pixel costs 784 ln 2 = 543.4 nats per image, before any KL term.
    assert.ok(test1 < 784 * Math.LN2, `test loss after epoch 1: ${test1}`);
    assert.ok(test2 < test1 - 5, `test loss ${test1} then ${test2}`);
    assert.ok(test2 > 150, `test loss ${test2} is implausibly low for 2 short epochs`);
  });

  test('writes reconstructions, samples and a checkpoint that reloads exactly', () => {
    assert.equal(run.status, 0, run.stderr);
    for (const epoch of [1, 2]) {
      const rec = readPng(join(out, `reconstruction_${epoch}.png`));
      assert.deepEqual([rec.width, rec.height], [8 * 58 + 2, 2 * 58 + 2]);
      const sample = readPng(join(out, `sample_${epoch}.png`));
      assert.deepEqual([sample.width, sample.height], [8 * 58 + 2, 8 * 58 + 2]);
    }
    assert.match(run.stdout, /decoder identical/);
    torch.tidy(() => {
      const sd = load(join(out, 'vae.safetensors'));
      assert.deepEqual(Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, t.shape])), {
        'fc1.weight': [400, 784],
        'fc1.bias': [400],
        'fc21.weight': [20, 400],
        'fc21.bias': [20],
        'fc22.weight': [20, 400],
        'fc22.bias': [20],
        'fc3.weight': [400, 20],
        'fc3.bias': [400],
        'fc4.weight': [784, 400],
        'fc4.bias': [784],
      });
    });
  });

  test('memory: live tensors and RSS stay flat from epoch 1 to epoch 2', () => {
    assert.equal(run.status, 0, run.stderr);
    assertFlat(run.stdout);
  });
});

describe('torch.save / torch.load', () => {
  function model(): nn.Sequential {
    return new nn.Sequential(new nn.Linear(3, 4), new nn.BatchNorm1d(4), new nn.Tanh(), new nn.Linear(4, 2));
  }

  test('a module state dict round-trips through save and load, buffers and int64 included', () => {
    torch.manualSeed(3);
    const a = model();
    const b = model();
    const path = join(dir, 'roundtrip.safetensors');
    torch.tidy(() => {
      a.forward(torch.randn([8, 3])); // moves BatchNorm's running statistics and its int64 counter
      save(a.stateDict(), path, { epoch: '3' });
    });
    torch.tidy(() => {
      const sd = load(path);
      assert.equal(sd['1.num_batches_tracked'].dtype, 'int64');
      assert.equal(sd['1.num_batches_tracked'].item(), 1);
      const result = b.loadStateDict(sd);
      assert.deepEqual(result, { missingKeys: [], unexpectedKeys: [] });
      const mine = a.stateDict();
      for (const [k, t] of Object.entries(b.stateDict())) assert.ok(t.equal(mine[k]), k);
      a.eval();
      b.eval();
      const x = torch.randn([5, 3]);
      assert.ok(a.forward(x).equal(b.forward(x)));
      assert.deepEqual(loadSafetensors(path).metadata, { epoch: '3' });
    });
    a.dispose();
    b.dispose();
  });

  test('what made the obvious route fail: loadSafetensors returns {tensors, metadata}', () => {
    const path = join(dir, 'obvious.safetensors');
    const m = new nn.Linear(2, 2);
    torch.tidy(() => saveSafetensors(path, m.stateDict()));
    torch.tidy(() => {
      assert.throws(() => m.loadStateDict(loadSafetensors(path) as never), /unexpected key\(s\): tensors, metadata/);
      m.loadStateDict(load(path));
    });
    m.dispose();
  });

  test('refuses what is not a dict of tensors, saying what to pass', () => {
    const m = new nn.Linear(2, 2);
    const path = join(dir, 'refused.safetensors');
    assert.throws(() => save(m as never, path), /got a Linear, not a state dict.*pass model\.stateDict\(\)/);
    assert.throws(() => save(m.weight as never, path), /got a single Tensor/);
    const opt = new optim.SGD(m.parameters(), { lr: 0.1, momentum: 0.9 });
    assert.throws(() => save(opt.stateDict() as never, path), /'tensors' is object, not a Tensor.*\.tensors here/);
    torch.tidy(() => {
      assert.throws(() => save(m.stateDict(), path, { epoch: 3 } as never), /metadata 'epoch' is number/);
    });
    assert.equal(existsSync(path), false);
    m.dispose();
  });

  const python = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  const noPython = python.status === 0 ? false : `${PYTHON} with torch is needed`;

  // PyTorch's side writes and reads safetensors by hand (test/fixtures/safetensors_interop.py), as
  // Debian's python3-torch has no safetensors package.
  const pyPrelude = `import sys, json, torch\nsys.path.insert(0, ${JSON.stringify(FIXTURES)})\nfrom safetensors_interop import read, write\n`;
  function py(code: string, ...args: string[]): any {
    const r = spawnSync(PYTHON, ['-c', pyPrelude + code, ...args], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  }

  test('a PyTorch state dict loads into the same genlab module, which then computes what PyTorch did', {
    skip: noPython,
  }, () => {
    const path = join(dir, 'from-pytorch.safetensors');
    const want = py(
      `torch.manual_seed(0)
m = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
write(sys.argv[1], m.state_dict(), {"producer": "pytorch"})
x = torch.linspace(-1, 1, 12).reshape(4, 3)
print(json.dumps(m(x).tolist()))`,
      path,
    );
    const m = new nn.Sequential(new nn.Linear(3, 5), new nn.Tanh(), new nn.Linear(5, 2));
    torch.tidy(() => {
      m.loadStateDict(load(path));
      const got = m.forward(torch.linspace(-1, 1, 12).reshape(4, 3));
      assert.ok(got.allclose(torch.tensor(want), { rtol: 1e-6, atol: 1e-6 }), `${got} vs ${JSON.stringify(want)}`);
    });
    m.dispose();
  });

  test('PyTorch loads a genlab checkpoint into its own module and computes what genlab did', { skip: noPython }, () => {
    const path = join(dir, 'to-pytorch.safetensors');
    torch.manualSeed(5);
    const m = new nn.Sequential(new nn.Linear(3, 5), new nn.Tanh(), new nn.Linear(5, 2));
    const mine = torch.tidy(() => {
      save(m.stateDict(), path);
      return m.forward(torch.linspace(-1, 1, 12).reshape(4, 3)).toArray();
    });
    const theirs = py(
      `m = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
tensors, _ = read(sys.argv[1])
m.load_state_dict(tensors)
with torch.no_grad():
    print(json.dumps(m(torch.linspace(-1, 1, 12).reshape(4, 3)).tolist()))`,
      path,
    );
    torch.tidy(() => {
      assert.ok(torch.tensor(theirs).allclose(torch.tensor(mine), { rtol: 1e-6, atol: 1e-6 }));
    });
    m.dispose();
  });
});

describe('top-level maths', () => {
  test("clashes with no name of the torch namespace (so `export * from './maths.js'` is clean)", () => {
    const ns = torch as unknown as Record<string, unknown>;
    const own = Object.entries(maths) as [string, unknown][];
    if (ns.exp === maths.exp) {
      // Exported: every name is maths' own (an ambiguous `export *` name would be missing).
      assert.deepEqual(
        own.filter(([k, f]) => ns[k] !== f).map(([k]) => k),
        [],
      );
    } else {
      assert.deepEqual(
        own.filter(([k]) => k in ns).map(([k]) => k),
        [],
      );
    }
  });

  test('agrees with hand-computed values', () => {
    torch.tidy(() => {
      const x = torch.tensor([
        [1, 2],
        [3, 4],
      ]);
      const v = (t: torch.Tensor) => t.toArray();
      const close = (t: torch.Tensor, want: number[], tol = 1e-6) => {
        const got = t.toTypedArray() as Float32Array;
        assert.equal(got.length, want.length);
        for (const [i, w] of want.entries()) {
          assert.ok(Math.abs(got[i] - w) <= tol * Math.max(1, Math.abs(w)), `${got[i]} vs ${w}`);
        }
      };
      close(maths.exp(torch.tensor([0, 1])), [1, Math.E]);
      close(maths.log(torch.tensor([1, Math.E])), [0, 1]);
      close(maths.sigmoid(torch.tensor([0, Math.log(3)])), [0.5, 0.75]);
      close(maths.tanh(torch.tensor([0, 1])), [0, Math.tanh(1)]);
      assert.deepEqual(v(maths.relu(torch.tensor([-1, 0, 2]))), [0, 0, 2]);
      assert.deepEqual(v(maths.abs(torch.tensor([-1.5, 2]))), [1.5, 2]);
      assert.deepEqual(v(maths.sqrt(torch.tensor([4, 9]))), [2, 3]);
      assert.equal(maths.sum(x).item(), 10);
      assert.deepEqual(v(maths.sum(x, 1)), [3, 7]);
      assert.deepEqual(v(maths.sum(x, 0, { keepdim: true })), [[4, 6]]);
      assert.equal(maths.mean(x).item(), 2.5);
      assert.deepEqual(v(maths.mean(x, [0, 1])), 2.5);
      assert.deepEqual(v(maths.pow(x, 2)), [
        [1, 4],
        [9, 16],
      ]);
      assert.deepEqual(v(maths.pow(2, torch.tensor([1, 2, 3]))), [2, 4, 8]);
      // torch.max's three forms.
      assert.equal(maths.max(x).item(), 4);
      const [values, indices] = maths.max(x, 1);
      assert.deepEqual([v(values), v(indices), indices.dtype], [[2, 4], [1, 1], 'int64']);
      assert.deepEqual(v(maths.max(torch.tensor([1, 5]), torch.tensor([3, 2]))), [3, 5]);
      assert.equal(maths.min(x).item(), 1);
      assert.deepEqual(v(maths.min(x, 0)[0]), [1, 2]);
      assert.deepEqual(v(maths.min(torch.tensor([1, 5]), torch.tensor([3, 2]))), [1, 2]);
      close(maths.softmax(torch.tensor([0, Math.log(3)]), 0), [0.25, 0.75]);
      close(maths.logSoftmax(torch.tensor([0, Math.log(3)]), 0), [Math.log(0.25), Math.log(0.75)]);
      close(maths.var(torch.tensor([1, 2, 3, 4])), [5 / 3]);
      close(maths.std(torch.tensor([1, 2, 3, 4]), null, { correction: 0 }), [Math.sqrt(1.25)]);
      close(maths.logsumexp(torch.tensor([0, Math.log(3)]), 0), [Math.log(4)]);
      assert.deepEqual(v(maths.argmax(torch.tensor([1, 7, 3]))), 1);
      assert.deepEqual(v(maths.mm(x, torch.eye(2))), v(x));
      assert.deepEqual(v(maths.add(x, 1, { alpha: 2 })), [
        [3, 4],
        [5, 6],
      ]);
    });
  });

  test('gives what the Tensor methods give, gradients included', () => {
    torch.manualSeed(11);
    torch.tidy(() => {
      const a = torch.randn([3, 4]);
      const b = torch.randn([3, 4]);
      const pairs: [string, torch.Tensor, torch.Tensor][] = [
        ['exp', maths.exp(a), a.exp()],
        ['log', maths.log(a.abs()), a.abs().log()],
        ['sigmoid', maths.sigmoid(a), a.sigmoid()],
        ['clamp', torch.clamp(a, -0.5, 0.5), a.clamp(-0.5, 0.5)],
        ['pow', maths.pow(a.abs(), b), a.abs().pow(b)],
        ['sum', maths.sum(a, [0, 1]), a.sum([0, 1])],
        ['mean', maths.mean(a, -1), a.mean(-1)],
        ['maximum', maths.max(a, b), a.maximum(b)],
        ['softmax', maths.softmax(a, 1), a.softmax(1)],
        ['logSoftmax', maths.logSoftmax(a, 0), a.logSoftmax(0)],
        ['sort', maths.sort(a, 1, { descending: true })[0], a.sort(1, { descending: true })[0]],
        ['transpose', maths.transpose(a, 0, 1), a.t()],
      ];
      for (const [name, got, want] of pairs) assert.ok(got.equal(want), name);

      const x = torch.randn([4], { requiresGrad: true });
      maths.sum(maths.mul(maths.tanh(x), x)).backward();
      const t = x.detach().tanh();
      const want = t.add(x.detach().mul(t.square().rsub(1))); // d/dx x·tanh x = tanh x + x(1 − tanh² x)
      assert.ok((x.grad as torch.Tensor).allclose(want, { rtol: 1e-5, atol: 1e-6 }));
    });
  });
});

/** The ts blocks of the README's "Porting from PyTorch" section, joined into one program. */
function portingProgram(): { code: string } {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Porting from PyTorch\n');
  assert.ok(start >= 0, 'README has no "Porting from PyTorch" section');
  const end = readme.indexOf('\n## ', start + 1);
  const blocks = [...readme.slice(start, end).matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.ok(blocks.length >= 5, `${blocks.length} ts blocks`);
  return { code: blocks.join('\n') };
}

describe("the README's Porting from PyTorch section", { skip: fashion }, () => {
  test('its blocks run as one program: training, evaluation, a checkpoint and a PNG', (_t) => {
    const { code } = portingProgram();
    const file = join(root, `.readme-porting-${process.pid}.ts`);
    const cwd = mkdtempSync(join(dir, 'porting-'));
    writeFileSync(file, code);
    try {
      // Run from an empty folder, where the program writes its files; tsx comes from the package.
      const r = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [file], {
        cwd,
        encoding: 'utf8',
        timeout: 120_000,
      });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /\[ 'conv\.weight', 'conv\.bias', 'fc\.weight', 'fc\.bias' \]/);
      const epochs = [...r.stdout.matchAll(/^epoch (\d): loss ([\d.]+), (\d+) tensors$/gm)];
      assert.equal(epochs.length, 2, r.stdout);
      const [l1, l2] = epochs.map((m) => Number(m[2]));
      assert.ok(l2 < l1, `loss ${l1} then ${l2}`);
      assert.equal(epochs[1][3], epochs[0][3], 'live tensors after each epoch');
      const acc = /test accuracy ([\d.]+)%/.exec(r.stdout);
      assert.ok(acc && Number(acc[1]) > 65, r.stdout); // measured 78.1%
      assert.deepEqual(Object.keys(load(join(cwd, 'net.safetensors'))).sort(), [
        'conv.bias',
        'conv.weight',
        'fc.bias',
        'fc.weight',
      ]);
      const png = readPng(join(cwd, 'first.png'));
      assert.deepEqual([png.width, png.height], [8 * 58 + 2, 4 * 58 + 2]);
    } finally {
      rmSync(file, { force: true });
    }
  });
});

describe('type-checking user code with templates/tsconfig.json', () => {
  test("tsc reports model(x) for model.forward(x), and nothing in correct code, the README's or genlab", () => {
    // Inside the package, so that `import … from 'genlab'` resolves to this checkout, as it would from node_modules.
    const work = mkdtempSync(join(root, '.typecheck-'));
    try {
      copyFileSync(join(root, 'templates', 'tsconfig.json'), join(work, 'tsconfig.json'));
      const net = `import { nn, torch } from 'genlab';

export class Net extends nn.Module<[torch.Tensor], torch.Tensor> {
  fc = new nn.Linear(4, 2);
  forward(x: torch.Tensor): torch.Tensor {
    return this.fc.forward(x);
  }
}
`;
      writeFileSync(join(work, 'good.ts'), `${net}console.log(new Net().forward(torch.randn([3, 4])).shape);\n`);
      writeFileSync(
        join(work, 'bad.ts'),
        "import { torch } from 'genlab';\nimport { Net } from './good.js';\n\nconst model = new Net();\nconsole.log(model(torch.randn([3, 4])));\n",
      );
      // The README's porting program type-checks too.
      writeFileSync(join(work, 'porting.ts'), portingProgram().code);
      const r = spawnSync(TSC, ['--noEmit', '-p', work], { cwd: work, encoding: 'utf8', timeout: 120_000 });
      const errors = r.stdout.split('\n').filter((l) => /error TS/.test(l));
      assert.notEqual(r.status, 0, 'tsc should fail');
      assert.equal(errors.length, 1, r.stdout);
      assert.match(errors[0], /^bad\.ts\(5,13\): error TS2349: This expression is not callable/);
      assert.match(r.stdout, /Type 'Net' has no call signatures/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  test('the examples type-check with the template', () => {
    const r = spawnSync(TSC, ['--noEmit', '-p', join(root, 'examples')], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});
