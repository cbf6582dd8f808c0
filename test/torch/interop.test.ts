// safetensors both ways with Debian's PyTorch (/usr/bin/python3), whose reader and writer here are
// independent of genlab's (test/fixtures/safetensors_interop.py). Skips when that Python is absent.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { formatTensor } from '../../src/torch/format.js';
import * as torch from '../../src/torch/index.js';
import { loadSafetensors, saveSafetensors } from '../../src/torch/safetensors.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../fixtures/safetensors_interop.py', import.meta.url));

function pythonMissing(): string | false {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} is not available (${r.error.message}); install python3-torch to run the interop tests`;
  if (r.status !== 0) return `${PYTHON} cannot import torch; install Debian's python3-torch to run the interop tests`;
  return false;
}
const skip = pythonMissing();
if (skip) console.log(`# skipping safetensors interop: ${skip}`);

const dir = mkdtempSync(join(tmpdir(), 'genlab-interop-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function runPython(...args: string[]): any {
  const r = spawnSync(PYTHON, [SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `python failed:\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** JSON has no NaN, infinities or 64-bit integers: those travel as strings. */
function encode(v: number | bigint): number | string {
  if (typeof v === 'bigint') return String(v);
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return v;
}

function decode(v: number | string | boolean): number | boolean {
  return typeof v === 'string' ? Number(v.replace('inf', 'Infinity').replace('nan', 'NaN')) : v;
}

function flatten(v: unknown): unknown[] {
  return Array.isArray(v) ? v.flatMap(flatten) : [v];
}

test('PyTorch reads a file genlab wrote, with the same values and bytes', { skip }, () => {
  torch.manualSeed(7);
  const f16bits = new Uint16Array([0x3c00, 0x8000, 0x7c00, 0x0001, 0xc2aa, 0x7bff]);
  const tensors: Record<string, torch.Tensor> = {
    randn_f32: torch.randn([3, 4]),
    randn_f64: torch.randn([2, 3], { dtype: 'float64' }),
    f16: torch.tensor(f16bits, { dtype: 'float16', shape: [2, 3] }),
    bf16: torch.tensor(f16bits, { dtype: 'bfloat16', shape: [3, 2] }),
    specials: torch.tensor(new Float32Array([Number.NaN, Infinity, -Infinity, -0, 1e-45])),
    i64: torch.tensor(new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 0n, -5n])),
    i32: torch.randint(-(2 ** 31), 2 ** 31 - 1, [2, 2], { dtype: 'int32' }),
    i16: torch.tensor(new Int16Array([-32768, 32767, 12])),
    i8: torch.tensor(new Int8Array([-128, 127, 3])),
    u8: torch.randint(0, 256, [5], { dtype: 'uint8' }),
    bool: torch.randn([2, 3]).gt(0),
    transposed: torch.randn([3, 5]).t(),
    permuted_i64: torch.arange(24, undefined, 1, { dtype: 'int64' }).reshape(2, 3, 4).permute(2, 0, 1),
    half_t: torch.randn([4, 2]).half().t(),
    scalar: torch.scalarTensor(-2.75, { dtype: 'float64' }),
    scalar_i32: torch.scalarTensor(-9, { dtype: 'int32' }),
    empty: torch.zeros([0, 4]),
  };
  assert.equal(tensors.transposed.isContiguous(), false);
  const metadata = { format: 'pt', producer: 'genlab' };
  const path = join(dir, 'from-genlab.safetensors');
  saveSafetensors(path, tensors, metadata);

  const expected: Record<string, unknown> = {};
  for (const [name, t] of Object.entries(tensors)) {
    expected[name] = {
      dtype: t.dtype,
      shape: t.shape,
      values: Array.from(t.toTypedArray() as ArrayLike<number | bigint>, encode),
      hex: Buffer.from(t.toBytes()).toString('hex'),
    };
  }
  const expectedPath = join(dir, 'expected.json');
  writeFileSync(expectedPath, JSON.stringify({ tensors: expected, metadata }));

  const report = runPython('check', path, expectedPath);
  assert.deepEqual(report.problems, []);
  assert.deepEqual(report.names, Object.keys(tensors).sort());
});

test('genlab reads a file PyTorch wrote, with the same values and the same repr', { skip }, () => {
  const path = join(dir, 'from-python.safetensors');
  const written = runPython('write', path);
  const { tensors, metadata } = loadSafetensors(path);
  assert.deepEqual(metadata, written.metadata);
  assert.deepEqual(Object.keys(tensors).sort(), Object.keys(written.tensors).sort());

  // Python wraps a suffix onto a new line by the length of `dtype=torch.float64`; ours is shorter.
  const unwrap = (s: string) => s.replaceAll('torch.', '').replace(/,\s*\n\s*(dtype=|size=)/g, ', $1');
  for (const [name, want] of Object.entries<any>(written.tensors)) {
    const t = tensors[name];
    assert.equal(t.dtype, want.dtype, name);
    assert.deepEqual(t.shape, want.shape, name);
    const got = Array.from(t.toTypedArray() as ArrayLike<number | bigint>, (v) =>
      t.dtype === 'bool' ? v !== 0 : Number(v),
    );
    const values = flatten(want.values).map((v) => decode(v as number | string | boolean));
    assert.equal(got.length, values.length, name);
    for (const [i, v] of got.entries()) assert.ok(Object.is(v, values[i]), `${name}[${i}]: ${v} != ${values[i]}`);
    assert.equal(unwrap(formatTensor(t)), unwrap(want.repr), `${name}: repr`);
  }

  // Same libtorch, same generator: genlab's seeded draws are PyTorch's.
  torch.manualSeed(0);
  assert.ok(torch.randn([3, 4]).equal(tensors.randn_f32));
  assert.ok(torch.randn([2, 3], { dtype: 'float64' }).equal(tensors.randn_f64));
});
