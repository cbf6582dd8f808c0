import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type NasSearchResult, nasSearchSettings, searchNasRun } from '../../src/nas/experiment.js';
import { readGenotype } from '../../src/nas/genotype.js';
import { assertResumeMatchesInProcess, genlab } from '../cli/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'genlab-nas-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

// A tiny search: 3 cells of 2 nodes, 2 channels, 4 steps with a checkpoint after each.
const tiny = nasSearchSettings('digits', { steps: 4, c: 2, layers: 3, nodes: 2, batchSize: 8, trainSize: 200 });

test('a search run resumes bit for bit (weights, α, both optimizers, both loaders) and writes its genotype and α plots', async () => {
  const search = (dir: string, resume: boolean) => searchNasRun(tiny, dir, { quiet: true, resume });
  await assertResumeMatchesInProcess(search, join(tmp, 'whole'), join(tmp, 'cut'));
  const r = (await search(join(tmp, 'again'), false)) as NasSearchResult;
  assert.equal(r.steps, 4);
  assert.deepEqual(readGenotype(join(tmp, 'again', 'genotype.json')), r.genotype);
  assert.equal(r.genotype.normal.nodes.length, 2);
  for (const f of ['alpha-normal.svg', 'alpha-reduce.svg', 'results.json'])
    assert.ok(existsSync(join(tmp, 'again', f)), f);
});

test('genlab nas train | eval | gradcam on a search run, and a malformed genotype as a one-line error', () => {
  const searchDir = join(tmp, 'whole');
  const run = join(tmp, 'net');
  const t = genlab([
    'nas',
    'train',
    searchDir,
    '--steps',
    '2',
    '--layers',
    '2',
    '--c',
    '4',
    '--batch-size',
    '8',
    '--train-size',
    '64',
    '--out',
    run,
    '--json',
    '--threads',
    '1',
  ]);
  assert.equal(t.status, 0, t.stderr);
  const tr = JSON.parse(t.stdout);
  assert.equal(tr.steps, 2);
  assert.ok(tr.params > 0 && tr.macs > tr.params, JSON.stringify(tr));
  const e = genlab(['nas', 'eval', run, '--json', '--threads', '1']);
  assert.equal(e.status, 0, e.stderr);
  const ev = JSON.parse(e.stdout);
  assert.equal(ev.testAccuracy, tr.testAccuracy);
  assert.equal(ev.macs, tr.macs);
  const g = genlab(['nas', 'gradcam', run, '--n', '4', '--json', '--threads', '1']);
  assert.equal(g.status, 0, g.stderr);
  const gc = JSON.parse(g.stdout);
  assert.equal(gc.layer, 'cells.1');
  assert.ok(existsSync(gc.file));
  const bad = join(tmp, 'bad.json');
  writeFileSync(
    bad,
    JSON.stringify({
      normal: [
        [
          ['sep_conv_9x9', 0],
          ['skip_connect', 1],
        ],
      ],
      normal_concat: [2],
      reduce: [
        [
          ['skip_connect', 0],
          ['skip_connect', 1],
        ],
      ],
      reduce_concat: [2],
    }),
  );
  const b = genlab(['nas', 'train', bad, '--steps', '1', '--out', join(tmp, 'bad-run')]);
  assert.equal(b.status, 1, b.stderr);
  const lines = b.stderr.trim().split('\n');
  assert.equal(lines.length, 1, b.stderr);
  assert.match(lines[0], /bad\.json: normal node 2 input 1: unknown op 'sep_conv_9x9'/);
});
