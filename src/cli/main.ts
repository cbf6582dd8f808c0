// The `genlab` command: one sub-command group per family. Parses, calls the verb, prints what it
// returns (or its JSON) and maps it to an exit code.
import { GenlabError } from '../torch/errors.js';
import { setNumThreads } from '../torch/runtime.js';
import { isInterrupted } from '../train/session.js';
import { flagName, helpText, parseOptions, UsageError } from './args.js';
import type { Family, Verb } from './verb.js';

/** Exit code of a training run stopped by a signal once its checkpoint was saved (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

/** The families, each loaded only when asked for: a command pays for its own family alone. */
const FAMILIES: Record<string, () => Promise<Family>> = {
  diffusion: async () => (await import('./diffusion.js')).diffusion,
  distill: async () => (await import('./distill.js')).distill,
  flows: async () => (await import('./flows.js')).flows,
  vae: async () => (await import('./vae.js')).vae,
  bayes: async () => (await import('./bayes.js')).bayes,
  nas: async () => (await import('./nas.js')).nas,
  causal: async () => (await import('./causal.js')).causal,
  poses: async () => (await import('./poses.js')).poses,
  classifier: async () => (await import('./classifier.js')).classifier,
  data: async () => (await import('./data.js')).data,
  runs: async () => (await import('./runs.js')).runs,
};

async function families(): Promise<Record<string, Family>> {
  const loaded = await Promise.all(Object.entries(FAMILIES).map(async ([name, load]) => [name, await load()]));
  return Object.fromEntries(loaded);
}

/** Commands without verbs. `build-native` is run by bin/genlab.js itself, before the addon loads. */
async function commands(): Promise<Record<string, Verb>> {
  const { doctor } = await import('./doctor.js');
  const { launchVerb } = await import('./launch.js');
  const buildNative = {
    summary: 'compile the native addon from source (for LIBTORCH, or where the prebuild does not load)',
  } as Verb;
  return { doctor, 'build-native': buildNative, launch: launchVerb };
}

function topHelp(all: Record<string, Family>, single: Record<string, Verb> = {}): string {
  const rows = Object.entries(all).flatMap(([name, f]): [string, string][] => [
    [`  ${name}`, f.summary],
    ...Object.entries(f.verbs).map(([verb, c]): [string, string] => [`      ${verb}`, c.summary]),
  ]);
  rows.push(...Object.entries(single).map(([name, c]): [string, string] => [`  ${name}`, c.summary]));
  // One summary column for families and verbs, two spaces after the longest indented name.
  const width = Math.max(...rows.map(([name]) => name.length)) + 2;
  const lines = rows.map(([name, summary]) => `${name.padEnd(width)}${summary}`);
  return `genlab: probabilistic deep learning on libtorch\n\nUsage: genlab <family> <verb> [options]\n\n${lines.join('\n')}\n\nRun 'genlab <family> <verb> --help' for a command's options.\n`;
}

/** Spells the settings an error's hint names as this command's flags. */
function messageOf(e: unknown): string {
  if (e instanceof GenlabError) return e.messageWith((s) => `--${flagName(s)}`);
  return (e as Error).message.split('\n')[0];
}

/** Parses argv for one verb, runs it and prints its result; returns the exit code. */
export async function runVerb(name: string, v: Verb, argv: string[]): Promise<number> {
  const { opts, global, positionals } = parseOptions(argv, v.options);
  if (global.help) {
    process.stdout.write(helpText(`genlab ${name} ${v.usage}`, v.description, v.options, v.args));
    return 0;
  }
  const expected = v.args ?? [];
  const missing = expected.slice(positionals.length);
  if (missing.length && missing[0].default === undefined) throw new UsageError(`missing ${missing[0].help}`);
  if (positionals.length > expected.length) {
    throw new UsageError(`unexpected argument '${positionals[expected.length]}' (see --help)`);
  }
  positionals.push(...missing.map((a) => a.default as string));
  const threads = (opts as { threads?: number }).threads;
  if (threads !== undefined) setNumThreads(threads);
  const quiet = global.quiet || global.json;
  const log = (m: string) => {
    if (!global.quiet) process.stderr.write(`${m}\n`);
  };
  const spell = (s: string) => `--${flagName(s)}`;
  const result = await v.run(opts, positionals, { log, quiet, spell });
  if (global.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  if (isInterrupted(result)) {
    if (!global.json) {
      process.stdout.write(
        `stopped at step ${result.step}; continue with: genlab ${name} --out ${result.run} --resume\n`,
      );
    }
    return EXIT_INTERRUPTED;
  }
  if (!global.json) process.stdout.write(`${v.show(result).join('\n')}\n`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    const single = await commands();
    const [family, verbName, ...rest] = argv;
    if (!family || family === '--help' || family === '-h' || family === 'help') {
      process.stdout.write(topHelp(await families(), single));
      return 0;
    }
    if (family === 'launch') return await (await import('./launch.js')).launchMain(argv.slice(1));
    if (single[family]) return await runVerb(family, single[family], argv.slice(1));
    if (!Object.hasOwn(FAMILIES, family)) {
      const known = [...Object.keys(FAMILIES), ...Object.keys(single)].join(', ');
      throw new UsageError(`unknown command '${family}'; one of: ${known}`);
    }
    const f = await FAMILIES[family]();
    if (!verbName || verbName === '--help' || verbName === '-h') {
      process.stdout.write(topHelp({ [family]: f }));
      return verbName ? 0 : 2;
    }
    const v = f.verbs[verbName];
    if (!v) throw new UsageError(`unknown verb '${family} ${verbName}'; one of: ${Object.keys(f.verbs).join(', ')}`);
    const launch = await import('./launch.js');
    if (launch.isLaunchedRank()) return await launch.asLaunchedRank(() => runVerb(`${family} ${verbName}`, v, rest));
    return await runVerb(`${family} ${verbName}`, v, rest);
  } catch (e) {
    if (debug) process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    else process.stderr.write(`genlab: ${messageOf(e)}\n`);
    const usage = e instanceof UsageError || (e instanceof GenlabError && e.kind === 'usage');
    return usage ? 2 : 1;
  }
}
