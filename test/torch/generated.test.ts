import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { generateOps } from '../../scripts/gen-ops.js';
import { N } from '../../src/torch/native.js';

test('the committed op wrappers match what the generator makes from this libtorch', () => {
  const fresh = generateOps(N.listSchemas(), N.runtimeInfo().builtAgainst);
  const committed = readFileSync(new URL('../../src/torch/generated/ops.ts', import.meta.url), 'utf8');
  assert.ok(committed === fresh, 'src/torch/generated/ops.ts is stale: run `npm run gen:ops` and commit it');
});

test('the wrappers cover the operators the model families use', () => {
  const text = readFileSync(new URL('../../src/torch/generated/ops.ts', import.meta.url), 'utf8');
  const count = Number(/OP_COUNT = (\d+)/.exec(text)?.[1]);
  assert.ok(count > 1500, `only ${count} wrappers`);
  for (const fn of [
    'conv2d',
    'convTranspose2d_input',
    'groupNorm',
    'layerNorm',
    'linalgSlogdet',
    'logsumexp',
    'einsum',
  ]) {
    assert.match(text, new RegExp(`export function ${fn}\\(`));
  }
});
