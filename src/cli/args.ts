// Declarative command-line options: each option is declared once, with its type, range and default,
// and the parser, the typed values and the help text all come from that one declaration.
// Built on node:util's parseArgs (see CONTRIBUTING.md for why not commander).
import { parseArgs } from 'node:util';

/** An error in how the command was called: shown on one line, exit code 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
}

interface Common<T> {
  help: string;
  /** Shown in help instead of `default`, for defaults that depend on other options or on the run. */
  defaultText?: string;
  default?: T;
}
export interface IntOption extends Common<number> {
  kind: 'int';
  min: number;
  max: number;
}
export interface FloatOption extends Common<number> {
  kind: 'float';
  min: number;
  max: number;
}
/** Comma-separated numbers; `none` (when allowed) is the empty list. */
export interface ListOption extends Common<number[]> {
  kind: 'ints' | 'floats';
  min: number;
  max: number;
  allowNone?: boolean;
}
export interface ChoiceOption<C extends string = string> extends Common<C> {
  kind: 'choice';
  choices: readonly C[];
}
export interface TextOption extends Common<string> {
  kind: 'string' | 'path';
}
export interface FlagOption {
  kind: 'flag';
  help: string;
  short?: string;
}
export type OptionDef = IntOption | FloatOption | ListOption | ChoiceOption | TextOption | FlagOption;
export type OptionTable = Record<string, OptionDef>;

type WithDefault<O, T, D> = O & { default: D extends undefined ? undefined : T };
type Extra<T> = { default?: T; defaultText?: string };

// ---- builders: the value type, and whether it can be absent, follow from the arguments

export function int<D extends number | undefined = undefined>(
  help: string,
  o: { min: number; max: number; default?: D; defaultText?: string },
): WithDefault<IntOption, number, D> {
  return { kind: 'int', help, ...o } as WithDefault<IntOption, number, D>;
}
export function float<D extends number | undefined = undefined>(
  help: string,
  o: { min: number; max: number; default?: D; defaultText?: string },
): WithDefault<FloatOption, number, D> {
  return { kind: 'float', help, ...o } as WithDefault<FloatOption, number, D>;
}
export function ints<D extends number[] | undefined = undefined>(
  help: string,
  o: { min: number; max: number; allowNone?: boolean; default?: D; defaultText?: string },
): WithDefault<ListOption, number[], D> {
  return { kind: 'ints', help, ...o } as WithDefault<ListOption, number[], D>;
}
export function floats<D extends number[] | undefined = undefined>(
  help: string,
  o: { min: number; max: number; default?: D; defaultText?: string },
): WithDefault<ListOption, number[], D> {
  return { kind: 'floats', help, ...o } as WithDefault<ListOption, number[], D>;
}
export function choice<const C extends string, D extends C | undefined = undefined>(
  help: string,
  choices: readonly C[],
  o: Extra<D> = {},
): WithDefault<ChoiceOption<C>, C, D> {
  return { kind: 'choice', help, choices, ...o } as WithDefault<ChoiceOption<C>, C, D>;
}
export function text<D extends string | undefined = undefined>(
  help: string,
  o: Extra<D> = {},
): WithDefault<TextOption, string, D> {
  return { kind: 'string', help, ...o } as WithDefault<TextOption, string, D>;
}
/** A file or folder name; an empty value is refused. */
export function path<D extends string | undefined = undefined>(
  help: string,
  o: Extra<D> = {},
): WithDefault<TextOption, string, D> {
  return { kind: 'path', help, ...o } as WithDefault<TextOption, string, D>;
}
export function flag(help: string, short?: string): FlagOption {
  return short ? { kind: 'flag', help, short } : { kind: 'flag', help };
}

type BaseValue<O> = O extends FlagOption
  ? boolean
  : O extends { kind: 'int' | 'float' }
    ? number
    : O extends { kind: 'ints' | 'floats' }
      ? number[]
      : O extends { kind: 'choice'; choices: readonly (infer C)[] }
        ? C
        : O extends { kind: 'string' | 'path' }
          ? string
          : never;
/** Flags are booleans; options declared without a default may be absent. */
type ValueOf<O> = O extends FlagOption
  ? boolean
  : O extends { default: undefined }
    ? BaseValue<O> | undefined
    : O extends { default: unknown }
      ? BaseValue<O>
      : BaseValue<O> | undefined;

/** The parsed values of an option table, typed from its declarations. */
export type Values<S extends OptionTable> = { -readonly [K in keyof S]: ValueOf<S[K]> };

/** Options every command takes. */
export const globalOptions = {
  json: flag('print one JSON object of results on stdout, nothing else'),
  quiet: flag('no progress output'),
  debug: flag('show stack traces on errors'),
  help: flag('show this help', 'h'),
} satisfies OptionTable;

/** `batchSize` → `batch-size`: option keys are the config's camelCase names, flags are kebab-case. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

const INT = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** 1e9 rather than 1000000000. */
function shortNumber(n: number): string {
  return Math.abs(n) >= 1e5 ? n.toExponential().replace('e+', 'e') : String(n);
}

function range(o: { min: number; max: number }): string {
  return `${shortNumber(o.min)}…${shortNumber(o.max)}`;
}

function parseNumber(name: string, o: IntOption | FloatOption | ListOption, raw: string, integer: boolean): number {
  const v = Number(raw);
  const ok = (integer ? INT : DECIMAL).test(raw.trim()) && Number.isFinite(v) && (!integer || Number.isSafeInteger(v));
  const what = integer ? 'an integer' : 'a number';
  if (!ok) throw new UsageError(`--${name} must be ${what} in ${range(o)}, got '${raw}'`);
  if (v < o.min || v > o.max) throw new UsageError(`--${name} must be in ${range(o)}, got ${raw}`);
  return v;
}

/** Converts one raw string to the option's type, or throws a UsageError naming the flag. */
export function convert(name: string, o: OptionDef, raw: string | boolean): unknown {
  switch (o.kind) {
    case 'flag':
      return raw === true;
    case 'int':
    case 'float':
      return parseNumber(name, o, String(raw), o.kind === 'int');
    case 'ints':
    case 'floats': {
      const s = String(raw).trim();
      if (o.allowNone && (s === 'none' || s === '')) return [];
      return s.split(',').map((part) => parseNumber(name, o, part.trim(), o.kind === 'ints'));
    }
    case 'choice':
      if (!o.choices.includes(String(raw))) {
        throw new UsageError(`--${name} must be one of ${o.choices.join(', ')}, got '${raw}'`);
      }
      return String(raw);
    case 'path':
      if (String(raw) === '') throw new UsageError(`--${name} needs a file or folder name`);
      return String(raw);
    case 'string':
      return String(raw);
  }
}

/** Option names start with a letter, so '-7.8' or '-1,0,1' can only be a value, never an option. */
const NEGATIVE_NUMBER = /^-\.?\d/;

/** Joins `--name -7.8` into `--name=-7.8` for valued options: parseArgs would call it ambiguous. */
function joinNegativeValues(argv: string[], takesValue: (flag: string) => boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') return [...out, ...argv.slice(i)];
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : undefined;
    const next = argv[i + 1];
    if (name && takesValue(name) && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

export interface ParsedArgs<S extends OptionTable> {
  opts: Values<S>;
  global: Values<typeof globalOptions>;
  positionals: string[];
}

/** Parses argv against an option table (plus the global options); defaults are filled in. */
export function parseOptions<S extends OptionTable>(argv: string[], spec: S): ParsedArgs<S> {
  const all: OptionTable = { ...spec, ...globalOptions };
  const byFlag = new Map(Object.entries(all).map(([k, o]) => [flagName(k), [k, o] as const]));
  const config: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [flagKey, [, o]] of byFlag) {
    const type = o.kind === 'flag' ? 'boolean' : 'string';
    config[flagKey] = o.kind === 'flag' && o.short ? { type, short: o.short } : { type };
  }
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    const args = joinNegativeValues(argv, (f) => byFlag.get(f)?.[1].kind !== 'flag' && byFlag.has(f));
    ({ values, positionals } = parseArgs({ args, options: config, allowPositionals: true, strict: true }));
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0].replace(/\. To specify a positional.*$/, '');
    throw new UsageError(`${msg} (see --help)`);
  }
  const out: Record<string, unknown> = {};
  for (const [flagKey, [key, o]] of byFlag) {
    const raw = values[flagKey];
    out[key] = raw === undefined ? (o.kind === 'flag' ? false : o.default) : convert(flagKey, o, raw);
  }
  const global = {} as Record<string, unknown>;
  for (const k of Object.keys(globalOptions)) {
    global[k] = out[k];
    if (!(k in spec)) delete out[k];
  }
  return { opts: out as Values<S>, global: global as Values<typeof globalOptions>, positionals };
}

function describeDefault(o: OptionDef): string {
  if (o.kind === 'flag') return '';
  if (o.defaultText !== undefined) return ` (default ${o.defaultText})`;
  if (o.default === undefined) return '';
  const v = Array.isArray(o.default) ? (o.default.length ? o.default.join(',') : 'none') : String(o.default);
  return ` (default ${v})`;
}

function placeholder(o: OptionDef): string {
  switch (o.kind) {
    case 'flag':
      return '';
    case 'int':
    case 'float':
      return ` <${range(o)}>`;
    case 'ints':
    case 'floats':
      return ` <${o.kind === 'ints' ? 'n' : 'x'},…>`;
    case 'choice':
      return ` <${o.choices.join('|')}>`;
    case 'path':
      return ' <path>';
    case 'string':
      return ' <text>';
  }
}

/** The help of one verb, generated from its declarations so that it cannot disagree with them. */
export function helpText(usage: string, summary: string, spec: OptionTable, args: ArgHelp[] = []): string {
  const rows = (table: OptionTable) =>
    Object.entries(table).map(([k, o]) => [`--${flagName(k)}${placeholder(o)}`, `${o.help}${describeDefault(o)}`]);
  const own = rows(spec);
  const global = rows(globalOptions);
  const argRows = args.map((a) => [
    `<${a.name}>`,
    a.default === undefined ? a.help : `${a.help} (default ${a.default})`,
  ]);
  const width = Math.min(40, Math.max(...[...own, ...global, ...argRows].map(([f]) => f.length))) + 2;
  const fmt = (rs: string[][]) =>
    rs.map(([f, h]) => `  ${f.padEnd(width)}${f.length >= width ? `\n  ${''.padEnd(width)}` : ''}${h}`);
  const sections = [`Usage: ${usage}`, summary];
  if (argRows.length) sections.push(`Arguments:\n${fmt(argRows).join('\n')}`);
  if (own.length) sections.push(`Options:\n${fmt(own).join('\n')}`);
  sections.push(`Global options:\n${fmt(global).join('\n')}`);
  return `${sections.join('\n\n')}\n`;
}

export interface ArgHelp {
  name: string;
  help: string;
  /** Given when the argument is left out; an argument with a default may only be followed by others with one. */
  default?: string;
}
