#!/usr/bin/env node
// In a checkout (tsconfig.json beside src/), runs the TypeScript sources through tsx, so the command
// always matches the code; in an installed package, runs the compiled JavaScript of dist/.
import { existsSync } from 'node:fs';

// bin/genlab preloaded a malloc for this process alone: the programs it runs get the LD_PRELOAD the
// user had (genlab launch hands the preload on to its ranks itself).
if (process.env.GENLAB_LD_PRELOAD_BEFORE !== undefined) {
  if (process.env.GENLAB_LD_PRELOAD_BEFORE === '') delete process.env.LD_PRELOAD;
  else process.env.LD_PRELOAD = process.env.GENLAB_LD_PRELOAD_BEFORE;
  delete process.env.GENLAB_LD_PRELOAD_BEFORE;
}

// GENLAB_CLI_DIST=1 runs dist/ in a checkout too: the test script sets it after set-up has rebuilt dist/
// from the sources, so the suite's hundreds of command-line runs skip compiling TypeScript each time.
const checkout =
  existsSync(new URL('../tsconfig.json', import.meta.url)) &&
  !(process.env.GENLAB_CLI_DIST === '1' && existsSync(new URL('../dist/cli/main.js', import.meta.url)));
if (checkout) (await import('tsx/esm/api')).register();
const entry = (name) => new URL(checkout ? `../src/cli/${name}.ts` : `../dist/cli/${name}.js`, import.meta.url).href;

const argv = process.argv.slice(2);
let main;
try {
  // Building the addon must work when the addon cannot load, so it runs before anything imports torch.
  ({ main } = await import(entry(argv[0] === 'build-native' ? 'build-native' : 'main')));
} catch (e) {
  // Loading the addon failed: its message is one line that names the cause and the fix.
  if (argv.includes('--debug')) throw e;
  process.stderr.write(`${String(e?.message ?? e).split('\n')[0]}\n`);
  process.exit(1);
}
process.exitCode = await main(argv);
