// The declarative option tables: parsing, ranges, defaults and the help generated from them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  choice,
  flag,
  flagName,
  float,
  floats,
  helpText,
  int,
  ints,
  parseOptions,
  path,
  UsageError,
} from '../../src/cli/args.js';
import { classifier } from '../../src/cli/classifier.js';
import { data } from '../../src/cli/data.js';
import { diffusion } from '../../src/cli/diffusion.js';
import { flows } from '../../src/cli/flows.js';
import { runs } from '../../src/cli/runs.js';
import { vae } from '../../src/cli/vae.js';
import { verb } from '../../src/cli/verb.js';

const spec = {
  gammaMin: float('a number', { min: -30, max: 30, default: -13.3 }),
  steps: int('steps', { min: 1, max: 1e9 }),
  alphas: floats('a list', { min: -10, max: 10, default: [0, 1] }),
  mults: ints('widths', { min: 1, max: 8, allowNone: true }),
  coupling: choice('coupling', ['affine', 'additive'], { default: 'affine' }),
  out: path('folder'),
  attention: flag('a flag'),
};

const usage = (argv: string[], pattern: RegExp) =>
  assert.throws(
    () => parseOptions(argv, spec),
    (e: unknown) => e instanceof UsageError && e.exitCode === 2 && pattern.test(e.message),
    argv.join(' '),
  );

test('values are typed, defaults filled in, and flags are the kebab-case of the keys', () => {
  const p = parseOptions(['run', '--steps', '20', '--mults', '1,2', '--attention', '--json'], spec);
  assert.deepEqual(p.positionals, ['run']);
  assert.equal(p.opts.steps, 20);
  assert.equal(p.opts.gammaMin, -13.3);
  assert.deepEqual(p.opts.alphas, [0, 1]);
  assert.deepEqual(p.opts.mults, [1, 2]);
  assert.equal(p.opts.coupling, 'affine');
  assert.equal(p.opts.out, undefined);
  assert.equal(p.opts.attention, true);
  assert.equal(p.global.json, true);
  assert.deepEqual(parseOptions(['--mults', 'none'], spec).opts.mults, []);
  assert.equal(flagName('batchSize'), 'batch-size');
  assert.equal(flagName('initBatch'), 'init-batch');
});

test('a negative number after a valued option is its value, with or without =', () => {
  for (const argv of [['--gamma-min', '-7.8'], ['--gamma-min=-7.8']]) {
    assert.equal(parseOptions(argv, spec).opts.gammaMin, -7.8, argv.join(' '));
  }
  assert.equal(parseOptions(['--gamma-min', '-.5'], spec).opts.gammaMin, -0.5);
  assert.equal(parseOptions(['--gamma-min', '-1e-3'], spec).opts.gammaMin, -0.001);
  assert.deepEqual(parseOptions(['--alphas', '-1,0,1'], spec).opts.alphas, [-1, 0, 1]);
  // After a flag, '-3' is an unknown short option; after --, everything is positional.
  usage(['--attention', '-3'], /Unknown option '-3'/);
  assert.deepEqual(parseOptions(['--', '--gamma-min', '-7.8'], spec).positionals, ['--gamma-min', '-7.8']);
  usage(['--gamma-min', '--attention'], /ambiguous/);
});

test('every number has a range: huge, fractional, non-finite and malformed values are refused', () => {
  usage(['--steps', '1e300'], /--steps must be an integer in 1…1e9, got '1e300'/);
  usage(['--steps', '2000000000'], /--steps must be in 1…1e9, got 2000000000/);
  usage(['--steps', '2.5'], /--steps must be an integer/);
  usage(['--steps', '0'], /--steps must be in 1…1e9/);
  usage(['--steps', '0x10'], /--steps must be an integer/);
  usage(['--gamma-min', 'Infinity'], /--gamma-min must be a number in -30…30/);
  usage(['--gamma-min', 'NaN'], /--gamma-min must be a number/);
  usage(['--gamma-min', '31'], /--gamma-min must be in -30…30, got 31/);
  usage(['--alphas', '1,,2'], /--alphas must be a number/);
  usage(['--mults', '1,9'], /--mults must be in 1…8, got 9/);
  usage(['--coupling', 'spline'], /--coupling must be one of affine, additive, got 'spline'/);
  usage(['--out', ''], /--out needs a file or folder name/);
  usage(['--bogus'], /Unknown option '--bogus'/);
});

test('help is generated from the declarations: every option, its range and its default', () => {
  const help = helpText('genlab x y [options]', 'Does y.', spec, [{ name: 'run', help: 'run folder' }]);
  assert.match(help, /^Usage: genlab x y \[options\]\n\nDoes y\.\n\nArguments:\n {2}<run> +run folder\n/);
  assert.match(help, /--gamma-min <-30…30> +a number \(default -13\.3\)/);
  assert.match(help, /--steps <1…1e9> +steps\n/);
  assert.match(help, /--alphas <x,…> +a list \(default 0,1\)/);
  assert.match(help, /--coupling <affine\|additive> +coupling \(default affine\)/);
  assert.match(help, /--attention +a flag\n/);
  assert.match(help, /Global options:\n(.*\n)*? {2}--json /);
});

test("every verb's help renders, and each of its options appears in it once", () => {
  for (const [name, family] of Object.entries({ classifier, data, diffusion, flows, runs, vae })) {
    for (const [verbName, v] of Object.entries(family.verbs)) {
      const help = helpText(`genlab ${name} ${verbName} ${v.usage}`, v.description, v.options, v.args);
      for (const key of Object.keys(v.options)) {
        const hits = help
          .split('\n')
          .filter((l) => l.trimStart().startsWith(`--${flagName(key)} `) || l.trim() === `--${flagName(key)}`);
        assert.equal(hits.length, 1, `${name} ${verbName}: --${flagName(key)}`);
      }
      for (const [key, o] of Object.entries(v.options as Record<string, { min?: number; max?: number }>)) {
        if (o.min !== undefined && o.max !== undefined)
          assert.ok(o.min <= o.max, `${name} ${verbName} --${key}: min ≤ max`);
      }
    }
  }
});

test('a positional argument with a default may be left out; a required one may not', async () => {
  const { runVerb } = await import('../../src/cli/main.js');
  const seen: string[][] = [];
  const v = verb({
    summary: 's',
    usage: '<a> [<b>]',
    description: 'd',
    args: [
      { name: 'a', help: 'first' },
      { name: 'b', help: 'second', default: '.' },
    ],
    options: {},
    run: (_o, args) => {
      seen.push(args);
      return {};
    },
    show: () => [],
  });
  assert.equal(await runVerb('x y', v, ['one', '--quiet']), 0);
  assert.equal(await runVerb('x y', v, ['one', 'two', '--quiet']), 0);
  assert.deepEqual(seen, [
    ['one', '.'],
    ['one', 'two'],
  ]);
  await assert.rejects(runVerb('x y', v, []), /missing first/);
  await assert.rejects(runVerb('x y', v, ['1', '2', '3']), /unexpected argument '3'/);
});
