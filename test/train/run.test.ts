// Run folders: typed configs, checkpoints committed by one rename, state checks, the lock, path checks.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { torch } from '../../src/index.js';
import { Linear } from '../../src/nn/layers/linear.js';
import { GenlabError } from '../../src/torch/errors.js';
import { manualSeed } from '../../src/torch/random.js';
import { loadSafetensors, saveSafetensors } from '../../src/torch/safetensors.js';
import { tidy } from '../../src/torch/scope.js';
import { captureCheckpoint, restoreCheckpoint } from '../../src/train/checkpoint.js';
import { checkWritableFolder, removeTemporaryFiles, writeFileAtomic } from '../../src/train/files.js';
import { type Checkpoint, LOCK_FILE, Run, STATE_METADATA_KEY } from '../../src/train/run.js';

const root = mkdtempSync(join(tmpdir(), 'genlab-run-'));
let count = 0;
const fresh = () => join(root, `run${count++}`);
const quietly = { notify: () => {} };

/** A GenlabError of `kind` whose message matches `pattern` and is one line. */
function genlabError(kind: string, pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof GenlabError, `not a GenlabError: ${e}`);
    assert.equal(e.kind, kind, e.message);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  };
}

test('Run.load validates config.json with the given parser and keeps the typed config', () => {
  const dir = fresh();
  Run.open(dir, { family: 'toy', steps: 5 }, quietly).close();
  const seen: string[] = [];
  const run = Run.load(dir, (raw, file) => {
    seen.push(file);
    const r = raw as { steps: unknown };
    if (typeof r.steps !== 'number') throw new GenlabError('config', `${file}: field steps: not a number`);
    return { steps: r.steps, twice: r.steps * 2 };
  });
  assert.deepEqual(seen, [join(dir, 'config.json')]);
  assert.equal(run.config.twice, 10, 'the parser result is the config');
  assert.equal(Run.load(dir).config.family, 'toy', 'without a parser the JSON object is returned');

  writeFileSync(join(dir, 'config.json'), '{"family": "toy", "steps": "five"}');
  assert.throws(
    () => Run.load(dir, (raw, file) => (typeof (raw as any).steps === 'number' ? raw : undefined) ?? fail(file)),
    genlabError('config', /config\.json: field steps/),
  );
  function fail(file: string): never {
    throw new GenlabError('config', `${file}: field steps: not a number`);
  }
  writeFileSync(join(dir, 'config.json'), 'null');
  assert.throws(() => Run.load(dir), genlabError('config', /config\.json holds null, not an object/));
  writeFileSync(join(dir, 'config.json'), '{"steps": ');
  assert.throws(() => Run.load(dir), genlabError('config', /config\.json is not valid JSON/));
  assert.throws(
    () => Run.load(join(dir, 'nope')),
    genlabError('run', /nope is not a run folder \(config\.json is missing\)/),
  );
  // Under resume, Run.open validates the saved config with the same parser.
  writeFileSync(join(dir, 'config.json'), '{"family": "toy", "steps": 7}');
  const resumed = Run.open(
    dir,
    { steps: 0, twice: 0 },
    {
      resume: true,
      parse: (raw) => ({ steps: (raw as { steps: number }).steps, twice: (raw as { steps: number }).steps * 2 }),
      ...quietly,
    },
  );
  assert.equal(resumed.config.twice, 14);
  resumed.close();
});

test('a checkpoint is one file: the state is in its metadata and state.json is a copy', () => {
  const run = Run.open(fresh(), { toy: true }, quietly);
  const state = { step: 3, rng: { default: 'AAAA' }, loaders: { train: { epoch: 1, index: 5 } } };
  run.saveCheckpoint({ tensors: { a: torch.tensor([1, 2]) }, state });
  const { tensors, metadata } = loadSafetensors(run.path('checkpoint.safetensors'));
  assert.deepEqual(JSON.parse(metadata[STATE_METADATA_KEY]), state);
  assert.equal(metadata.step, '3');
  assert.deepEqual(tensors.a.toArray(), [1, 2]);
  assert.deepEqual(JSON.parse(readFileSync(run.path('state.json'), 'utf8')), state);
  const back = run.loadCheckpoint();
  assert.deepEqual(back.state, state);
  assert.equal(back.source, run.path('checkpoint.safetensors'));
  assert.deepEqual(
    readdirSync(run.dir).sort(),
    ['checkpoint.safetensors', 'config.json', 'log.jsonl', 'state.json', LOCK_FILE].sort(),
    'no temporary file is left',
  );
  run.close();
});

const PY_READER = `
import json, struct, sys, torch
data = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', data[:8])[0]
header = json.loads(data[8:8 + n])
meta = header.pop('__metadata__')
kinds = {'F32': torch.float32, 'F64': torch.float64, 'I64': torch.int64}
out = {'step': meta['step'], 'state': json.loads(meta['genlab.state']), 'tensors': {}}
for name, e in header.items():
    a, b = e['data_offsets']
    t = torch.frombuffer(bytearray(data[8 + n + a:8 + n + b]), dtype=kinds[e['dtype']]).reshape(e['shape'])
    out['tensors'][name] = {'shape': list(t.shape), 'values': t.flatten().tolist()}
print(json.dumps(out))
`;
const pythonTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch']).status === 0;

test('PyTorch reads a run checkpoint with a plain safetensors reader, state included', {
  skip: !pythonTorch && "Debian's python3-torch is not installed",
}, () => {
  const run = Run.open(fresh(), {}, quietly);
  const state = { step: 12, rng: { default: 'AAAA' } };
  run.saveCheckpoint({
    tensors: {
      'model.w': torch.tensor([
        [0.5, -1.25],
        [3, 4],
      ]),
      'optimizer.step': torch.tensor([12], { dtype: 'int64' }),
    },
    state,
  });
  run.close();
  const r = spawnSync('/usr/bin/python3', ['-c', PY_READER, run.path('checkpoint.safetensors')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    step: '12',
    state,
    tensors: {
      'model.w': { shape: [2, 2], values: [0.5, -1.25, 3, 4] },
      'optimizer.step': { shape: [1], values: [12] },
    },
  });
});

test('state.json left missing or behind by a crash is rewritten from the checkpoint, with a notice', () => {
  const notes: string[] = [];
  const dir = fresh();
  const run = Run.open(dir, {}, { notify: (m) => notes.push(m) });
  run.saveCheckpoint({ tensors: {}, state: { step: 2, x: 'old' } });
  const older = readFileSync(run.path('state.json'), 'utf8');
  run.saveCheckpoint({ tensors: {}, state: { step: 4, x: 'new' } });
  writeFileSync(run.path('state.json'), older); // killed between the two renames
  assert.equal(run.loadCheckpoint().state.x, 'new');
  assert.match(
    notes.pop() ?? '',
    /state\.json was left at step 2 by an interrupted checkpoint; rewrote it from checkpoint\.safetensors \(step 4\)/,
  );
  assert.equal(JSON.parse(readFileSync(run.path('state.json'), 'utf8')).step, 4);
  rmSync(run.path('state.json'));
  assert.equal(run.hasCheckpoint(), true);
  assert.equal(run.loadCheckpoint().state.step, 4);
  assert.match(notes.pop() ?? '', /state\.json was missing; rewrote it/);
  assert.ok(existsSync(run.path('state.json')));
  run.close();
  // A read-only look does not write into the folder.
  rmSync(join(dir, 'state.json'));
  assert.equal(Run.load(dir).loadCheckpoint().state.step, 4);
  assert.ok(!existsSync(join(dir, 'state.json')));
});

test('a state.json edited away from the checkpoint is refused', () => {
  const run = Run.open(fresh(), {}, quietly);
  run.saveCheckpoint({ tensors: { a: torch.ones([1]) }, state: { step: 3 } });
  const state = JSON.parse(readFileSync(run.path('state.json'), 'utf8'));
  state.step = 9;
  writeFileSync(run.path('state.json'), JSON.stringify(state));
  assert.throws(
    () => run.loadCheckpoint(),
    genlabError(
      'run',
      /state\.json \(step 9\) does not match the state saved in checkpoint\.safetensors \(step 3\); state\.json is only a readable copy/,
    ),
  );
  run.close();
});

test('a run folder from before the state moved inside still loads; a half-written one is refused', () => {
  const run = Run.open(fresh(), {}, quietly);
  saveSafetensors(run.path('checkpoint.safetensors'), { a: torch.ones([2]) }, { step: '6' });
  writeFileSync(run.path('state.json'), `${JSON.stringify({ step: 6, rng: {} })}\n`);
  assert.equal(run.loadCheckpoint().state.step, 6);
  assert.equal(run.loadCheckpoint().source, run.path('state.json'));
  writeFileSync(run.path('state.json'), `${JSON.stringify({ step: 3 })}\n`);
  assert.throws(
    () => run.loadCheckpoint(),
    genlabError('run', /checkpoint \(step 6\) and state\.json \(step 3\) disagree/),
  );
  rmSync(run.path('state.json'));
  assert.equal(run.hasCheckpoint(), true, 'a checkpoint without its state is not "no checkpoint"');
  assert.throws(
    () => run.loadCheckpoint(),
    genlabError('run', /state\.json is missing and checkpoint\.safetensors .* holds no state/),
  );
  writeFileSync(run.path('state.json'), `${JSON.stringify({ step: 6 })}\n`);
  rmSync(run.path('checkpoint.safetensors'));
  assert.throws(
    () => run.loadCheckpoint(),
    genlabError('run', /checkpoint\.safetensors is missing, though state\.json says/),
  );
  run.close();
});

test('a damaged state gives one line naming the field', () => {
  const cases: [unknown, RegExp][] = [
    [null, /the checkpoint state is null, not an object/],
    [{ step: null }, /'step' is null, not a non-negative integer/],
    [{ step: -1 }, /'step' is -1, not a non-negative integer/],
    [{ step: 2.5 }, /'step' is 2\.5/],
    [{ step: 1, rng: null }, /'rng' is null, not an object/],
    [{ step: 1, stateful: [] }, /'stateful' is a list, not an object/],
    [{ step: 1, loaders: 'x' }, /'loaders' is "x", not an object/],
    [{ step: 1, stateful: { optimizer: null } }, /'stateful\.optimizer' is null/],
    [{ step: 1, rng: { default: 'not base64!' } }, /'rng\.default' is "not base64!", not a base64 generator state/],
  ];
  const run = Run.open(fresh(), {}, quietly);
  for (const [state, pattern] of cases) {
    saveSafetensors(run.path('checkpoint.safetensors'), {}, { [STATE_METADATA_KEY]: JSON.stringify(state) });
    rmSync(run.path('state.json'), { force: true });
    assert.throws(() => Run.load(run.dir).loadCheckpoint(), genlabError('config', pattern), JSON.stringify(state));
  }
  run.close();
});

function toyParts() {
  manualSeed(1);
  const model = new Linear(3, 2);
  const gen = new torch.Generator().manualSeed(5);
  return { model, generators: { noise: gen } };
}

test('restoreCheckpoint refuses a relabelled dtype, another shape and missing or short RNG states, naming each', () => {
  const parts = toyParts();
  const good = tidy(() => {
    // Copies: the captured tensors share storage with the parameters, which the cases below zero.
    const c = captureCheckpoint(7, parts);
    for (const [k, t] of Object.entries(c.tensors)) c.tensors[k] = t.clone().keep();
    return c;
  });
  const weight = parts.model.weight.clone().keep();
  const variant = (f: (c: Checkpoint) => void): Checkpoint => {
    const c: Checkpoint = structuredClone({ state: good.state, source: 'ckpt.safetensors' }) as Checkpoint;
    c.tensors = { ...good.tensors };
    f(c);
    return c;
  };
  const cases: [Checkpoint, string, RegExp][] = [
    [
      variant((c) => {
        c.tensors['model.weight'] = good.tensors['model.weight'].double();
      }),
      'run',
      /ckpt\.safetensors: tensor 'model\.weight' is float64 \[2, 3\] in the checkpoint but float32 \[2, 3\] in the model/,
    ],
    [
      variant((c) => {
        c.tensors['model.bias'] = torch.zeros([3]);
      }),
      'run',
      /tensor 'model\.bias' is float32 \[3\] in the checkpoint but float32 \[2\]/,
    ],
    [
      variant((c) => {
        delete c.tensors['model.bias'];
      }),
      'run',
      /has no tensor 'model\.bias' that the model needs/,
    ],
    [
      variant((c) => {
        delete c.state.rng;
      }),
      'config',
      /ckpt\.safetensors: 'rng' is missing/,
    ],
    [
      variant((c) => {
        delete (c.state.rng as Record<string, string>).noise;
      }),
      'config',
      /'rng\.noise' is missing/,
    ],
    [
      variant((c) => {
        (c.state.rng as Record<string, string>).default = 'AAAA';
      }),
      'config',
      /'rng\.default' is not a generator state \(3 bytes of base64, expected \d+\)/,
    ],
  ];
  for (const [ckpt, kind, pattern] of cases) {
    torch.noGrad(() => parts.model.weight.zero_());
    assert.throws(() => restoreCheckpoint(ckpt, parts), genlabError(kind, pattern));
    assert.equal(parts.model.weight.abs().sum().item(), 0, 'nothing is restored from a refused checkpoint');
  }
  // The good one restores weights and both generators: the next draws repeat.
  const next = () => [torch.rand([2]).toArray(), torch.rand([2], { generator: parts.generators.noise }).toArray()];
  assert.equal(restoreCheckpoint(good, parts), 7);
  const first = next();
  assert.ok(parts.model.weight.equal(weight));
  restoreCheckpoint(good, parts);
  assert.deepEqual(next(), first);
});

test('--resume with no checkpoint yet starts again from step 0, drops the log and says so', () => {
  const dir = fresh();
  const run = Run.open(dir, { a: 1 }, quietly);
  run.log({ step: 1, loss: 3 });
  run.log({ step: 2, loss: 2 });
  writeFileSync(run.path('log.jsonl'), `${readFileSync(run.path('log.jsonl'), 'utf8')}{"step":3,"lo`); // a torn line
  run.close();
  const notes: string[] = [];
  const again = Run.open(dir, {}, { resume: true, notify: (m) => notes.push(m) });
  assert.deepEqual(again.config, { a: 1 }, 'the saved config');
  assert.deepEqual(again.readLog(), []);
  assert.match(
    notes.join('\n'),
    /no checkpoint was written yet, so the run starts again from step 0 \(2 log lines dropped\)/,
  );
  again.close();
  assert.throws(() => Run.open(fresh(), {}, { resume: true, ...quietly }), genlabError('run', /is not a run folder/));
});

test('stray temporary files are removed when a run is opened', () => {
  const dir = fresh();
  Run.open(dir, {}, quietly).close();
  for (const f of ['checkpoint.safetensors.123.abcd1234.tmp', 'state.json.tmp-123', 'samples.png'])
    writeFileSync(join(dir, f), 'x');
  const notes: string[] = [];
  const run = Run.open(dir, {}, { resume: true, notify: (m) => notes.push(m) });
  assert.ok(!existsSync(join(dir, 'state.json.tmp-123')));
  assert.ok(!existsSync(join(dir, 'checkpoint.safetensors.123.abcd1234.tmp')));
  assert.ok(existsSync(join(dir, 'samples.png')));
  assert.match(
    notes[0],
    /removed checkpoint\.safetensors\.123\.abcd1234\.tmp, state\.json\.tmp-123, left by an interrupted write/,
  );
  run.close();
  assert.deepEqual(removeTemporaryFiles(dir), []);
});

test('a new run refuses a folder that holds one', () => {
  const run = Run.open(fresh(), {}, quietly);
  run.saveCheckpoint({ tensors: {}, state: { step: 1 } });
  run.close();
  assert.throws(
    () => Run.open(run.dir, {}, quietly),
    genlabError('run', /already holds a run; pass 'resume' to continue it, or choose another 'out'/),
  );
  assert.ok(!existsSync(run.path(LOCK_FILE)), 'the refused open released the lock');
});

const TSX = fileURLToPath(new URL('../../node_modules/tsx/dist/esm/index.mjs', import.meta.url));
const RUN_TS = fileURLToPath(new URL('../../src/train/run.ts', import.meta.url));

/** A child Node process that opens `dir` for training and then runs `then` (JS). */
function childOpening(dir: string, then: string) {
  const script = `const { Run } = await import(${JSON.stringify(RUN_TS)}); const run = Run.open(${JSON.stringify(dir)}, {}, { notify() {} }); process.stdout.write('open\\n'); ${then}`;
  return spawn(process.execPath, ['--import', TSX, '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

test('a second training into a folder is refused while the first runs; the lock goes when it exits', async () => {
  const dir = fresh();
  const child = childOpening(dir, 'setTimeout(() => {}, 60_000);');
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => resolve());
    child.on('exit', (c) => reject(new Error(`child exited (${c})`)));
  });
  const lock = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'));
  assert.equal(lock.pid, child.pid);
  assert.equal(lock.host, hostname());
  for (const resume of [false, true]) {
    assert.throws(
      () => Run.open(dir, {}, { resume, ...quietly }),
      genlabError(
        'run',
        new RegExp(
          `is in use by another training \\(pid ${child.pid}, since .*\\); wait for it to end, or choose another 'out'`,
        ),
      ),
    );
  }
  // SIGKILL leaves the lock behind; its process is gone, so the next training takes it over.
  const gone = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGKILL');
  await gone;
  assert.ok(existsSync(join(dir, LOCK_FILE)), 'a killed process leaves its lock');
  const run = Run.open(dir, {}, { resume: true, ...quietly });
  assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, process.pid);
  run.close();
  assert.ok(!existsSync(join(dir, LOCK_FILE)), 'close() releases it');

  // A process that ends normally, or by process.exit, releases it without close().
  for (const then of ['', 'process.exit(3);', 'throw new Error("boom");']) {
    const c = childOpening(dir, then);
    await new Promise((resolve) => c.on('exit', resolve));
    assert.ok(!existsSync(join(dir, LOCK_FILE)), `released after: ${then || 'a normal end'}`);
  }
});

test('a lock whose pid was reused by another process is stale; one on another host is not', () => {
  const dir = fresh();
  Run.open(dir, {}, quietly).close();
  // pid 1 is alive, but it did not start when this lock says.
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: hostname(), since: 'then', start: '1' }));
  Run.open(dir, {}, { resume: true, ...quietly }).close();
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: 'elsewhere', since: 'then' }));
  assert.throws(
    () => Run.open(dir, {}, { resume: true, ...quietly }),
    genlabError('run', /\(pid 1 on elsewhere, since then\)/),
  );
  rmSync(join(dir, LOCK_FILE));
});

test('this process may open a folder again, but not while a training loop runs in it', () => {
  const dir = fresh();
  const first = Run.open(dir, {}, quietly);
  const second = Run.open(dir, {}, { resume: true, ...quietly });
  assert.equal(first.isLocked, false, 'the lock passed to the newer Run');
  assert.equal(second.isLocked, true);
  first.close();
  assert.ok(existsSync(join(dir, LOCK_FILE)), 'closing the older Run leaves the newer one locked');
  second.training = true;
  assert.throws(
    () => Run.open(dir, {}, { resume: true, ...quietly }),
    genlabError('run', /in use by a training in this process/),
  );
  second.training = false;
  second[Symbol.dispose]();
  assert.ok(!existsSync(join(dir, LOCK_FILE)));
});

test('output paths that cannot hold a run are refused at once, before anything is created', () => {
  const t0 = performance.now();
  assert.throws(
    () => Run.open('/proc/x', {}, quietly),
    genlabError('run', /cannot write a run into \/proc\/x: \/proc is a virtual file system/),
  );
  assert.throws(
    () => checkWritableFolder('/sys/kernel/x/y'),
    genlabError('run', /\/sys is a virtual file system.*choose another 'out'/),
  );
  assert.ok(performance.now() - t0 < 1000, 'no spinning');
  const file = join(root, 'a-file');
  writeFileSync(file, 'x');
  assert.throws(
    () => checkWritableFolder(join(file, 'sub', 'run')),
    genlabError('run', /a-file is a file, not a folder/),
  );
  assert.throws(() => checkWritableFolder(file), genlabError('run', /it is a file, not a folder/));
  assert.throws(() => checkWritableFolder(file, 'dir'), genlabError('run', /choose another 'dir'/));
  const deep = join(root, 'deep', 'er', 'run');
  checkWritableFolder(deep);
  assert.ok(!existsSync(join(root, 'deep')), 'checking creates nothing');
  Run.open(deep, {}, quietly).close();
  assert.ok(existsSync(join(deep, 'config.json')));
});

test('writeFileAtomic replaces a file whole and leaves no temporary file, even when the write fails', () => {
  const dir = fresh();
  const file = join(dir, 'sub', 'a.txt');
  writeFileAtomic(file, 'one');
  writeFileAtomic(file, new Uint8Array([116, 119, 111]));
  assert.equal(readFileSync(file, 'utf8'), 'two');
  assert.deepEqual(readdirSync(join(dir, 'sub')), ['a.txt']);
  // The target is a folder: the rename fails, and the temporary file goes.
  assert.throws(() => writeFileAtomic(join(dir, 'sub'), 'x'), /EISDIR|EEXIST|ENOTEMPTY|EISNAM/);
  assert.deepEqual(readdirSync(dir), ['sub']);
});

test('fsync before the rename, and of the folder after it (strace)', {
  skip: !hasStrace() && 'strace is not installed',
}, () => {
  const dir = fresh();
  mkdirSync(dir);
  const file = join(dir, 'a.txt');
  const script = `const { writeFileAtomic } = await import(${JSON.stringify(fileURLToPath(new URL('../../src/train/files.ts', import.meta.url)))}); writeFileAtomic(${JSON.stringify(file)}, 'hello');`;
  const r = spawnSync(
    'strace',
    [
      '-f',
      '-qq',
      '-y',
      '-e',
      'trace=write,pwrite64,fsync,rename',
      '-o',
      join(dir, 'trace'),
      process.execPath,
      '--import',
      TSX,
      '--input-type=module',
      '-e',
      script,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const calls = readFileSync(join(dir, 'trace'), 'utf8')
    .split('\n')
    .filter((l) => l.includes(dir) && !l.includes('/trace'))
    .map((l) =>
      l
        .replace(/^\d+\s+/, '')
        .replace(/\(\d+</, '(<')
        .replace(/\s*=[^=]*$/, '')
        .replaceAll(dir, 'D')
        .replace(/tmp-\d+/g, 'tmp-'),
    );
  assert.deepEqual(calls, [
    'pwrite64(<D/a.txt.tmp->, "hello", 5, 0)',
    'fsync(<D/a.txt.tmp->)',
    'rename("D/a.txt.tmp-", "D/a.txt")',
    'fsync(<D>)',
  ]);
});

function hasStrace(): boolean {
  return spawnSync('strace', ['-V']).status === 0;
}
