// Option parsing, without starting the command.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CliError, floatOption, type OptionSpec, parse } from '../../src/cli/args.js';

const options: Record<string, OptionSpec> = {
  'gamma-min': { type: 'string', description: 'a number' },
  alphas: { type: 'string', description: 'a list' },
  attention: { type: 'boolean', description: 'a flag' },
};

test('a negative number after an option that takes a value is that value, with or without =', () => {
  for (const argv of [['--gamma-min', '-7.8'], ['--gamma-min=-7.8']]) {
    assert.equal(floatOption(parse(argv, options), 'gamma-min', 0), -7.8, argv.join(' '));
  }
  assert.equal(parse(['--gamma-min', '-.5'], options).values['gamma-min'], '-.5');
  assert.equal(parse(['--gamma-min', '-1e-3'], options).values['gamma-min'], '-1e-3');
  assert.equal(parse(['--alphas', '-1,0,1'], options).values.alphas, '-1,0,1');
  const p = parse(['run', '--gamma-min', '-10', '--attention', '--json'], options);
  assert.deepEqual(p.positionals, ['run']);
  assert.equal(p.values['gamma-min'], '-10');
  assert.equal(p.values.attention, true);
  assert.equal(p.values.json, true);
});

test('a negative number is not taken as the value of a flag, nor after --', () => {
  // After a boolean option, '-3' is an unknown short option, as before.
  assert.throws(
    () => parse(['--attention', '-3'], options),
    (e: unknown) => e instanceof CliError && e.exitCode === 2 && /Unknown option '-3'/.test(e.message),
  );
  assert.deepEqual(parse(['--', '--gamma-min', '-7.8'], options).positionals, ['--gamma-min', '-7.8']);
  // An option name after a value-taking option is still refused as its value.
  assert.throws(() => parse(['--gamma-min', '--attention'], options), /ambiguous/);
});
