// Command-line parsing shared by every family: `genlab <family> <verb> [positionals] [options]`.
import { parseArgs } from 'node:util';

/** An error whose message is shown as is, on one line, with exit code 2 (usage) or 1. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export type OptionSpec = {
  type: 'string' | 'boolean';
  short?: string;
  description: string;
  default?: string | boolean;
};

/** Options every training verb understands. */
export const commonOptions: Record<string, OptionSpec> = {
  data: { type: 'string', description: 'data set: digits, fashion-mnist, mnist, cifar10, or a 2-D toy' },
  root: { type: 'string', description: 'folder holding mnist/cifar10 files' },
  steps: { type: 'string', description: 'optimisation steps' },
  'batch-size': { type: 'string', description: 'examples per step' },
  lr: { type: 'string', description: 'learning rate' },
  seed: { type: 'string', description: 'random seed (default 0)' },
  out: { type: 'string', description: 'run folder to write' },
  threads: { type: 'string', description: 'libtorch intra-op threads' },
  resume: { type: 'boolean', description: 'continue the run in --out from its last checkpoint' },
};

/** Options of every command. */
export const globalOptions: Record<string, OptionSpec> = {
  json: { type: 'boolean', description: 'print one JSON object of results on stdout, nothing else' },
  debug: { type: 'boolean', description: 'show stack traces on errors' },
  quiet: { type: 'boolean', description: 'no progress output' },
  help: { type: 'boolean', short: 'h', description: 'show help' },
};

export interface Parsed {
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
}

/** Option names start with a letter, so '-7.8' or '-1,0,1' can only be a value, never an option. */
const NEGATIVE_NUMBER = /^-\.?\d/;

/**
 * Joins `--name -7.8` into `--name=-7.8` for options that take a value: parseArgs would otherwise
 * call the value ambiguous and refuse it.
 */
function joinNegativeValues(argv: string[], spec: Record<string, { type: 'string' | 'boolean' }>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') return [...out, ...argv.slice(i)];
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : undefined;
    const next = argv[i + 1];
    if (name && spec[name]?.type === 'string' && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

export function parse(argv: string[], options: Record<string, OptionSpec>): Parsed {
  const spec: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, o] of Object.entries({ ...options, ...globalOptions })) {
    spec[name] = o.short ? { type: o.type, short: o.short } : { type: o.type };
  }
  try {
    const args = joinNegativeValues(argv, spec);
    const { values, positionals } = parseArgs({ args, options: spec, allowPositionals: true, strict: true });
    return { positionals, values: values as Parsed['values'] };
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0].replace(/\. To specify a positional.*$/, '');
    throw new CliError(`${msg} (see --help)`, 2);
  }
}

export function intOption(p: Parsed, name: string, fallback: number, min = 0): number {
  const raw = p.values[name];
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new CliError(`--${name} must be an integer ≥ ${min}, got '${raw}'`, 2);
  return v;
}

export function floatOption(p: Parsed, name: string, fallback: number): number {
  const raw = p.values[name];
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v)) throw new CliError(`--${name} must be a number, got '${raw}'`, 2);
  return v;
}

export function stringOption(p: Parsed, name: string, fallback: string): string {
  const raw = p.values[name];
  return typeof raw === 'string' ? raw : fallback;
}

/** A string option that must be one of `allowed`. */
export function choice<T extends string>(p: Parsed, name: string, allowed: readonly T[], fallback: T): T {
  const v = stringOption(p, name, fallback);
  if (!(allowed as readonly string[]).includes(v)) {
    throw new CliError(`--${name} must be one of ${allowed.join(', ')}, got '${v}'`, 2);
  }
  return v as T;
}

export function helpText(usage: string, summary: string, options: Record<string, OptionSpec>): string {
  const all = { ...options, ...globalOptions };
  const width = Math.max(...Object.keys(all).map((k) => k.length)) + 4;
  const lines = Object.entries(all).map(([k, o]) => {
    const flag = `--${k}${o.type === 'string' ? ' <v>' : ''}`;
    return `  ${flag.padEnd(width + 4)} ${o.description}`;
  });
  return `${usage}\n\n${summary}\n\nOptions:\n${lines.join('\n')}\n`;
}

/**
 * Parses a verb's arguments; with --help, prints its help instead and returns null, for the verb to
 * return at once.
 */
export function parseOrHelp(
  argv: string[],
  options: Record<string, OptionSpec>,
  usage: string,
  summary: string,
): Parsed | null {
  const p = parse(argv, options);
  if (!p.values.help) return p;
  process.stdout.write(helpText(usage, summary, options));
  return null;
}
