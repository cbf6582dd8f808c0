import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { assertResumeMatches, genlab } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'genlab-cli-'));

function oneLineError(r: { status: number | null; stderr: string; stdout: string }, pattern: RegExp): void {
  assert.notEqual(r.status, 0, 'exit code must be non-zero');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
  assert.match(lines[0], /^genlab: /);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace without --debug');
}

test('--help lists the families; --json prints one JSON object and nothing else', () => {
  const help = genlab(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /classifier\s+the classifier/);
  const r = genlab(['data', 'show', 'moons', '--n', '50', '--out', join(tmp, 'moons.svg'), '--json']);
  assert.equal(r.status, 0, r.stderr);
  const obj = JSON.parse(r.stdout);
  assert.equal(obj.n, 50);
  assert.equal(r.stdout.trim().split('\n').length, 1);
  assert.match(readFileSync(join(tmp, 'moons.svg'), 'utf8'), /<svg/);
});

test('--help puts every family and verb summary in one column, after the longest name', () => {
  for (const args of [['--help'], ['flows', '--help']]) {
    const r = genlab(args);
    assert.equal(r.status, 0, r.stderr);
    const rows = r.stdout.split('\n').filter((l) => /^( {2}| {6})\S/.test(l));
    assert.ok(
      rows.some((l) => l.trimStart().startsWith('interpolate ')),
      'the longest verb is listed',
    );
    const columns = new Set(rows.map((l) => (l.match(/^ +\S+ +/) as RegExpMatchArray)[0].length));
    assert.equal(columns.size, 1, `summaries start in columns ${[...columns].join(', ')}:\n${r.stdout}`);
    for (const l of rows) assert.match(l, /^ +\S+ {2,}\S/, 'two spaces at least between name and summary');
  }
});

test('an unknown option gives a one-line error and exit code 2', () => {
  const r = genlab(['classifier', 'train', '--bogus', '3']);
  oneLineError(r, /Unknown option '--bogus'/);
  assert.equal(r.status, 2);
  oneLineError(genlab(['nonsense']), /unknown command 'nonsense'/);
  oneLineError(genlab(['classifier', 'train', '--steps', 'many']), /--steps must be an integer/);
  // Out-of-range numbers are refused before anything runs, instead of never ending.
  oneLineError(genlab(['classifier', 'train', '--steps', '1e300']), /--steps must be an integer in 1…1e9, got '1e300'/);
  oneLineError(genlab(['classifier', 'train', '--threads', '1000000000']), /--threads must be in 1…1024/);
  oneLineError(genlab(['classifier', 'eval']), /missing run folder/);
  oneLineError(genlab(['classifier', 'train', 'digits']), /unexpected argument 'digits' \(see --help\)/);
});

test('runs plot refuses a series the log does not have, naming the ones it has', () => {
  const run = join(tmp, 'plotted');
  const r = genlab(['classifier', 'train', '--data', 'digits', '--steps', '10', '--out', run, '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  oneLineError(
    genlab(['runs', 'plot', run, '--keys', 'nosuchkey']),
    /no values for nosuchkey; --keys takes some of: loss, testAccuracy/,
  );
  const ok = genlab(['runs', 'plot', run, '--keys', 'loss', '--json']);
  assert.equal(ok.status, 0, ok.stderr);
  const out = JSON.parse(ok.stdout);
  assert.equal(out.points.loss, 10, 'one point per logged step');
  assert.match(readFileSync(out.file, 'utf8'), /<svg/);
});

test('a missing data folder gives a one-line error naming it', () => {
  const r = genlab([
    'classifier',
    'train',
    '--data',
    'mnist',
    '--root',
    join(tmp, 'no-such-folder'),
    '--out',
    join(tmp, 'x'),
  ]);
  oneLineError(r, /no-such-folder/);
});

test('a corrupt IDX file gives a one-line error naming the file', () => {
  const dir = join(tmp, 'bad-mnist');
  mkdirSync(dir, { recursive: true });
  const header = Buffer.alloc(16);
  header.writeUInt32BE(0x00000801, 0); // a labels magic where images belong
  writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(header));
  const labels = Buffer.alloc(8);
  labels.writeUInt32BE(0x00000801, 0);
  writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(labels));
  const r = genlab(['classifier', 'train', '--data', 'mnist', '--root', dir, '--out', join(tmp, 'y')]);
  oneLineError(r, /train-images-idx3-ubyte\.gz/);
  const d = genlab(['classifier', 'train', '--data', 'mnist', '--root', dir, '--out', join(tmp, 'y'), '--debug']);
  assert.match(d.stderr, /\n\s+at /, '--debug shows the stack');
});

test('a truncated checkpoint gives a one-line error naming the file', () => {
  const run = join(tmp, 'short');
  const r = genlab(['classifier', 'train', '--data', 'digits', '--steps', '4', '--out', run, '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  const file = join(run, 'checkpoint.safetensors');
  truncateSync(file, 100);
  oneLineError(genlab(['classifier', 'eval', run]), /checkpoint\.safetensors/);
});

test("another family's run folder gives a one-line error naming the family", () => {
  const run = join(tmp, 'not-a-classifier');
  const r = genlab(['classifier', 'train', '--data', 'digits', '--steps', '2', '--out', run, '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  const config = join(run, 'config.json');
  writeFileSync(config, readFileSync(config, 'utf8').replace('"family": "classifier"', '"family": "vae"'));
  for (const verb of ['eval', 'export']) {
    oneLineError(genlab(['classifier', verb, run]), /config\.json: not a classifier run \(family 'vae'\)/);
  }
});

test('SIGINT saves a checkpoint and --resume ends bit-identical to an uninterrupted run', async () => {
  const args = ['classifier', 'train', '--data', 'digits', '--steps', '300', '--batch-size', '32', '--seed', '5'];
  const [whole, cut] = [join(tmp, 'whole'), join(tmp, 'cut')];
  // Interrupted once training is under way (the first checkpoint is written at step 30).
  const stderr = await assertResumeMatches(args, whole, cut);
  assert.match(stderr, /stopped by SIGINT at step \d+; continue it with --resume/);
  const lastLoss = (dir: string) =>
    readFileSync(join(dir, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.loss !== undefined)
      .pop().loss;
  assert.equal(lastLoss(cut), lastLoss(whole));
});
