// Runs `genlab flows <verb> …` as main.ts would, for tests and benchmarks, whether or not the
// flows family is registered in src/cli/main.ts yet: node --import tsx test/flows/cli.ts <verb> [args].
import { CliError } from '../../src/cli/args.js';
import { flows } from '../../src/cli/flows.js';

const [verb, ...rest] = process.argv.slice(2);
try {
  const cmd = flows.verbs[verb];
  if (!cmd) throw new CliError(`unknown verb 'flows ${verb}'; one of: ${Object.keys(flows.verbs).join(', ')}`, 2);
  await cmd.run(rest);
  process.exitCode = Number(process.exitCode ?? 0);
} catch (e) {
  const err = e as Error;
  if (rest.includes('--debug')) process.stderr.write(`${err.stack ?? err.message}\n`);
  else process.stderr.write(`genlab: ${err.message.split('\n')[0]}\n`);
  process.exitCode = e instanceof CliError ? e.exitCode : 1;
}
