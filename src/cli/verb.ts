// A verb of the `genlab` command: its options, what it computes, and how a person reads the result.
// The verb returns its result; main.ts prints it (or its JSON) and turns it into an exit code.
import type { ArgHelp, OptionTable, Values } from './args.js';

export interface VerbContext {
  /** Notes for people (config, resume, progress messages), on stderr unless --quiet. */
  log(message: string): void;
  quiet: boolean;
  /** A setting as this command spells it: `resume` → `--resume`. */
  spell(setting: string): string;
}

export interface Verb<S extends OptionTable = OptionTable, R = unknown> {
  /** One line for the command overview. */
  summary: string;
  /** What follows `genlab <family> <verb>` in the usage line, e.g. '<run> [options]'. */
  usage: string;
  /** A sentence or two for the verb's own help. */
  description: string;
  /** Required positional arguments, in order. */
  args?: ArgHelp[];
  options: S;
  run(opts: Values<S>, args: string[], ctx: VerbContext): R | Promise<R>;
  /** The result as lines for people; --json prints the result object itself. */
  show(result: R): string[];
}

export interface Family {
  summary: string;
  /** Each verb has its own option table and result type. */
  verbs: Record<string, Verb<any, any>>;
}

/** Declares a verb, inferring its option values and result type. */
export function verb<S extends OptionTable, R>(v: Verb<S, R>): Verb<S, R> {
  return v;
}
