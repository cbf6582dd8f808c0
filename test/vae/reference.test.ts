// The reference preset against ilkhem/iVAE's own files (../shared/data/ivae-reference, or
// GENLAB_IVAE_REFERENCE): every value is read from the runner's configs and code, not from memory.
// The plateau schedule against PyTorch's ReduceLROnPlateau (/usr/bin/python3), and --data ica:<file.npz>.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isInterrupted } from '../../src/train/session.js';
import { loadRunData, trainVaeRun, vaeConfig } from '../../src/vae/experiment.js';
import { EpochPlateau } from '../../src/vae/reference.js';
import { assertResumeMatchesInProcess } from '../cli/helpers.js';

const REF =
  process.env.GENLAB_IVAE_REFERENCE ?? join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'ivae-reference');
const noReference = existsSync(join(REF, 'configs', 'ivae.yaml')) ? false : `no reference code at ${REF}; skipped`;
const PYTHON = process.env.GENLAB_PYTHON ?? '/usr/bin/python3';
const dir = mkdtempSync(join(tmpdir(), 'genlab-ivae-ref-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The flat `key: value` lines of the reference's YAML configs, as numbers, booleans or strings. */
function yamlConfig(name: string): Record<string, number | boolean | string> {
  const out: Record<string, number | boolean | string> = {};
  for (const line of readFileSync(join(REF, 'configs', name), 'utf8').split('\n')) {
    const m = /^(\w+):\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    const v = m[2].replace(/^'(.*)'$/, '$1');
    out[m[1]] = v === 'true' ? true : v === 'false' ? false : Number.isNaN(Number(v)) ? v : Number(v);
  }
  return out;
}

const source = (file: string) => readFileSync(join(REF, file), 'utf8');
/** A number in the reference's code, found by a pattern with one group. */
function codeNumber(file: string, pattern: RegExp): number {
  const m = pattern.exec(source(file));
  assert.ok(m, `${pattern} not found in ${file}`);
  return Number(m[1]);
}

for (const [model, file] of [
  ['ivae', 'ivae.yaml'],
  ['vae', 'vae.yaml'],
] as const) {
  test(`preset reference (${model}) reproduces configs/${file} and the runner's code`, { skip: noReference }, () => {
    const c = yamlConfig(file);
    const cfg = vaeConfig(model, 'ica', { preset: 'reference' });
    // The model: ica selects cleanIVAE; an n_layers MLP has n_layers − 1 hidden layers of hidden_dim.
    assert.equal(c.ica, model === 'ivae');
    assert.equal(cfg.model, model);
    assert.deepEqual(cfg.hidden, Array(Number(c.n_layers) - 1).fill(c.hidden_dim));
    assert.equal(cfg.activation, c.activation);
    assert.equal(
      cfg.slope,
      codeNumber('runners/ivae.py', /n_layers=config\.n_layers, activation=config\.activation, slope=([.\d]+)\)/),
    );
    assert.equal(cfg.variance, codeNumber('models/nets.py', /self\.decoder_var = ([.\d]+) \* torch\.ones/));
    // Separate networks g and logv for the encoder; no init call anywhere in the model (PyTorch's default).
    assert.match(
      source('models/nets.py'),
      /self\.g = MLP\(data_dim \+ aux_dim[^\n]*\n\s*self\.logv = MLP\(data_dim \+ aux_dim/,
    );
    assert.equal(cfg.splitEncoder, true);
    assert.doesNotMatch(source('runners/ivae.py'), /weights_init|initialize/);
    assert.equal(cfg.xavier, false);
    // The objective: constant a, b, c, d (no annealing), the plain ELBO estimator of the runner.
    assert.equal(c.anneal, false);
    assert.equal(cfg.anneal, false);
    assert.deepEqual(cfg.weights, { a: c.a, b: c.b, c: c.c, d: c.d });
    assert.equal(c.gamma, 0);
    // The optimiser: Adam at lr, ReduceLROnPlateau(factor, patience) on each epoch's mean loss.
    assert.match(source('runners/ivae.py'), /optim\.Adam\(model\.parameters\(\), lr=config\.lr\)/);
    assert.equal(cfg.lr, c.lr);
    assert.equal(c.no_scheduler, false);
    assert.equal(cfg.lrSchedule, 'plateau');
    assert.equal(cfg.plateau?.factor, codeNumber('runners/ivae.py', /ReduceLROnPlateau\(optimizer, factor=([.\d]+)/));
    assert.equal(cfg.plateau?.patience, codeNumber('runners/ivae.py', /ReduceLROnPlateau\([^)]*patience=(\d+)/));
    assert.match(source('runners/ivae.py'), /scheduler\.step\(train_loss\)/);
    // Batches of batch_size with drop_last, for `epochs` epochs.
    assert.match(source('runners/ivae.py'), /batch_size=config\.batch_size, shuffle=True, drop_last=True/);
    assert.equal(cfg.batchSize, c.batch_size);
    const n = Number(c.nps) * Number(c.ns);
    assert.equal(cfg.steps, Number(c.epochs) * Math.floor(n / Number(c.batch_size)));
    assert.equal(cfg.steps, 12500);
    // The data: nps points × ns segments, dl sources, dd observed, nl layers of act, p sources,
    // scales U(var_bounds) and the repeated matrix SyntheticDataset asks for.
    const ica = cfg.ica!;
    assert.equal(ica.perSegment, c.nps);
    assert.equal(ica.segments, c.ns);
    assert.equal(ica.dim, c.dl);
    assert.equal(ica.dataDim, c.dd);
    assert.equal(ica.layers, c.nl);
    assert.equal(ica.activation, c.act);
    assert.equal(ica.source, c.p === 'gauss' ? 'gauss' : c.p);
    assert.equal(c.uncentered, false);
    assert.equal(c.noisy, false);
    assert.equal(ica.repeatMatrix, /"repeat_linearity": True/.test(source('data/data.py')));
    const bounds = /def generate_nonstationary_sources\([^)]*var_bounds=np\.array\(\[([.\d]+), ([.\d]+)\]\)/.exec(
      source('data/data.py'),
    );
    assert.deepEqual(ica.scaleRange, [Number(bounds?.[1]), Number(bounds?.[2])]);
    assert.equal(ica.slope, codeNumber('data/data.py', /def generate_data\([^)]*slope=([.\d]+)/));
    // The seed s of numpy's generator has no counterpart in genlab's; --data ica:<file.npz> gives the identical data.
  });
}

test('preset: explicit settings override it, and it refuses other models', () => {
  const cfg = vaeConfig('ivae', 'ica', { preset: 'reference', steps: 5000, variance: 0.01, hidden: [50, 50] });
  assert.equal(cfg.steps, 5000);
  assert.equal(cfg.variance, 0.01);
  assert.deepEqual(cfg.hidden, [50, 50]);
  assert.equal(cfg.lrSchedule, 'plateau');
  assert.equal(vaeConfig('ivae', 'ica', { preset: 'reference', epochs: 8 }).steps, 5000);
  assert.throws(() => vaeConfig('beta-vae', 'ica', { preset: 'reference' }), /reference preset/);
  // The defaults without the preset are unchanged.
  const d = vaeConfig('ivae', 'ica');
  assert.deepEqual(
    [d.hidden, d.activation, d.variance, d.anneal, d.xavier, d.lrSchedule],
    [[50, 50], 'lrelu', 0.01, true, true, undefined],
  );
});

const torchMissing = (() => {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  return r.error || r.status !== 0 ? `${PYTHON} cannot import torch; comparison skipped` : false;
})();

test('EpochPlateau follows PyTorch ReduceLROnPlateau epoch by epoch (and resumes)', { skip: torchMissing }, () => {
  // Epoch mean losses with improvements, ties, tiny (below threshold) gains and negative values.
  const epochLosses = [5, 4, 4, 3.9999, 3, -1, -1.00001, -2, -1.5, -1.5, -3];
  const perEpoch = 3;
  for (const patience of [0, 1]) {
    const script = `
import torch, json
p = torch.nn.Parameter(torch.zeros(1))
opt = torch.optim.Adam([p], lr=0.01)
s = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.1, patience=${patience})
out = []
for l in ${JSON.stringify(epochLosses)}:
    s.step(l)
    out.append(opt.param_groups[0]['lr'])
print(json.dumps(out))`;
    const r = spawnSync(PYTHON, ['-c', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const want = JSON.parse(r.stdout) as number[];
    let opt = { paramGroups: [{ lr: 0.01 }] };
    let sched = new EpochPlateau(opt, perEpoch, { factor: 0.1, patience, threshold: 1e-4 });
    const got: number[] = [];
    epochLosses.forEach((l, e) => {
      // Each epoch's steps have losses whose mean is l.
      for (const d of [-0.5, 0, 0.5]) {
        sched.observe(l + d);
        sched.step();
      }
      got.push(opt.paramGroups[0].lr);
      if (e === 4) {
        // Resume from a checkpoint half-way through.
        const sd = JSON.parse(JSON.stringify(sched.stateDict()));
        opt = { paramGroups: [{ lr: 123 }] };
        sched = new EpochPlateau(opt, perEpoch, { factor: 0.1, patience, threshold: 1e-4 });
        sched.loadStateDict(sd);
      }
    });
    for (const [i, lr] of got.entries()) {
      assert.ok(Math.abs(lr - want[i]) <= 1e-12 * want[i], `patience ${patience}, epoch ${i}: ${lr} vs ${want[i]}`);
    }
    // The sequence does reduce (a schedule that never acts would pass the comparison only by luck).
    assert.ok(new Set(want).size >= 3, `PyTorch's rates ${want}`);
  }
});

test('--data ica:<file.npz>: x, one-hot u and s as the reference saves them', { skip: torchMissing }, () => {
  const file = join(dir, 'tiny.npz');
  const r = spawnSync(
    PYTHON,
    [
      '-c',
      `import numpy as np
rng = np.random.default_rng(0)
s = rng.standard_normal((300, 3)).astype(np.float32)
x = np.tanh(s @ rng.uniform(-1, 1, (3, 4))).astype(np.float32)
u = np.eye(6, dtype=np.float32)[np.repeat(np.arange(6), 50)]
np.savez_compressed(${JSON.stringify(file)}, s=s, x=x, u=u, m=np.zeros((6, 3)), L=np.ones((6, 3)))
print(float(x[123, 2]), float(s[299, 1]))`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const [x123, s299] = r.stdout.trim().split(' ').map(Number);
  const cfg = vaeConfig('ivae', 'ica', { preset: 'reference', icaFile: file, epochs: 2 });
  assert.equal(cfg.latent, 3);
  assert.equal(cfg.steps, 2 * Math.floor(300 / 64));
  const data = loadRunData(cfg);
  try {
    assert.equal(data.dataDim, 4);
    assert.equal(data.classes, 6);
    assert.equal(data.train.length, 300);
    assert.deepEqual(data.sources?.shape, [300, 3]);
    assert.equal(data.test.x.select(0, 123).select(0, 2).item(), Math.fround(x123));
    assert.equal(data.sources?.select(0, 299).select(0, 1).item(), Math.fround(s299));
    assert.deepEqual(
      Array.from(data.test.y.toTypedArray() as BigInt64Array, Number).filter((_, i) => i % 50 === 0),
      [0, 1, 2, 3, 4, 5],
    );
  } finally {
    data.dispose();
  }
});

test('a preset run with the plateau schedule resumes bit-identically across epoch boundaries', async () => {
  const cfg = vaeConfig('ivae', 'ica', {
    preset: 'reference',
    ica: { segments: 4, perSegment: 50 },
    hidden: [8, 8],
    batchSize: 16,
    steps: 30,
    k: 2,
  });
  // 200 rows in batches of 16: epochs end at steps 12 and 24, after the interruption at step 3.
  assert.equal(cfg.lrSchedule, 'plateau');
  const stopped = await assertResumeMatchesInProcess(
    (d, resume) => trainVaeRun(cfg, d, { quiet: true, resume }),
    join(dir, 'whole'),
    join(dir, 'cut'),
  );
  assert.ok(isInterrupted(stopped));
});
