import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deriveCell, type Genotype, genotypeToJson, parseGenotype } from '../../src/nas/genotype.js';
import { EvalNetwork } from '../../src/nas/model.js';
import { DARTS_OPS } from '../../src/nas/ops.js';
import { SearchNetwork } from '../../src/nas/search.js';
import { noGrad } from '../../src/torch/autograd.js';
import { randn } from '../../src/torch/creation.js';
import { GenlabError } from '../../src/torch/errors.js';
import { manualSeed } from '../../src/torch/random.js';

test('derivation keeps the two strongest inputs per node, by their strongest op other than none', () => {
  const ops = DARTS_OPS;
  const row = (best: string, w: number, none = 0) => ops.map((o) => (o === best ? w : o === 'none' ? none : 0.01));
  // Node 2 (inputs 0, 1), node 3 (inputs 0, 1, 2); 'none' is strongest on edge 3→0 but never kept.
  const w = [
    row('sep_conv_3x3', 0.5),
    row('max_pool_3x3', 0.4),
    row('skip_connect', 0.2, 0.9),
    row('dil_conv_5x5', 0.3),
    row('avg_pool_3x3', 0.6),
  ];
  const cell = deriveCell(w, ops, 2);
  assert.deepEqual(cell.nodes, [
    [
      ['sep_conv_3x3', 0],
      ['max_pool_3x3', 1],
    ],
    [
      ['dil_conv_5x5', 1],
      ['avg_pool_3x3', 2],
    ],
  ]);
  assert.deepEqual(cell.concat, [2, 3]);
});

test('a derived genotype rebuilds the same network after a JSON round trip', () => {
  manualSeed(1);
  const search = new SearchNetwork({ c: 4, layers: 3, classes: 10, inChannels: 1, ops: 'pib' });
  noGrad(() => {
    for (const a of search.archParameters()) a.copy_(randn(a.shape));
  });
  const g = search.genotype();
  const back = parseGenotype(JSON.parse(genotypeToJson(g)), 'genotype.json');
  assert.deepEqual(back, g);
  const spec = { c: 4, layers: 5, classes: 10, inChannels: 1, auxiliary: true };
  manualSeed(7);
  const a = new EvalNetwork(g, spec);
  manualSeed(7);
  const b = new EvalNetwork(back, spec);
  assert.equal(b.numParameters(), a.numParameters());
  assert.deepEqual(
    b.namedParameters().map(([k, p]) => [k, p.shape]),
    a.namedParameters().map(([k, p]) => [k, p.shape]),
  );
  // Same seed, same weights; and a's weights load strictly into a network rebuilt from the file.
  const x = randn([3, 1, 8, 8]);
  a.eval();
  b.eval();
  const ya = noGrad(() => a.forward(x));
  assert.equal(
    noGrad(() => b.forward(x))
      .sub(ya)
      .abs()
      .max()
      .item(),
    0,
  );
  manualSeed(99);
  const c = new EvalNetwork(back, spec).eval();
  c.loadStateDict(a.stateDict());
  assert.equal(
    noGrad(() => c.forward(x))
      .sub(ya)
      .abs()
      .max()
      .item(),
    0,
  );
  for (const n of [search, a, b, c]) n.dispose();
});

const base = (): Record<string, unknown> => {
  const cell = [
    [
      ['sep_conv_3x3', 0],
      ['skip_connect', 1],
    ],
    [
      ['pib_conv_5x5', 2],
      ['max_pool_3x3', 0],
    ],
  ];
  return { normal: cell, normal_concat: [2, 3], reduce: structuredClone(cell), reduce_concat: [2, 3] };
};

function failsWith(raw: unknown, pattern: RegExp): void {
  assert.throws(
    () => parseGenotype(raw, 'g.json'),
    (e: unknown) => {
      assert.ok(e instanceof GenlabError);
      assert.ok(!e.message.includes('\n'), 'one line');
      assert.match(e.message, pattern);
      return true;
    },
  );
}

test('malformed genotype JSON gives a one-line error naming the entry', () => {
  assert.ok(parseGenotype(base()) satisfies Genotype);
  const unknown = base();
  (unknown.normal as unknown[][][])[1][0][0] = 'sep_conv_9x9';
  failsWith(unknown, /^g\.json: normal node 3 input 1: unknown op 'sep_conv_9x9'/);
  const range = base();
  (range.reduce as unknown[][][])[0][1][1] = 7;
  failsWith(range, /^g\.json: reduce node 2 input 2: input 7 is out of range 0…3/);
  const cycle = base();
  (cycle.normal as unknown[][][])[0][1] = ['skip_connect', 3];
  failsWith(cycle, /^g\.json: normal node 2 input 2: 'skip_connect' from node 3 closes the cycle 2 → 3 → 2/);
  const self = base();
  (self.reduce as unknown[][][])[1][0] = ['avg_pool_3x3', 3];
  failsWith(self, /^g\.json: reduce node 3 input 1: 'avg_pool_3x3' from node 3 closes the cycle 3 → 3/);
  const concat = base();
  concat.normal_concat = [2, 9];
  failsWith(concat, /^g\.json: normal_concat entry 2: state 9 is out of range/);
  failsWith({ ...base(), extra: 1 }, /unknown entry 'extra'/);
});
