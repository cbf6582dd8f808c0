// Errors a user can act on. Lower layers know settings by their API names (`root`, `resume`); only
// the command line knows them as flags, so a hint names settings in braces and each caller spells them.

/** What kind of thing went wrong, for callers that react by kind rather than by message. */
export type ErrorKind =
  | 'usage' // a bad argument or option value
  | 'config' // a config.json / state.json field that is missing, of the wrong type or inconsistent
  | 'data' // a data file or folder that is missing, truncated or malformed
  | 'run' // a run folder in the wrong state: already used, locked, not resumable, another family's
  | 'asset'; // a file the project needs but does not ship, e.g. a feature network not yet trained

const SETTING = /\{([A-Za-z][\w-]*)\}/g;

/**
 * An error with a one-line message and an optional hint, e.g. `pass {resume} to continue it`. The
 * plain message spells each `{setting}` (in the detail or the hint) as `'setting'`; `messageWith`
 * spells it as the caller likes, e.g. the CLI as `--resume`.
 */
export class GenlabError extends Error {
  override name = 'GenlabError';
  constructor(
    readonly kind: ErrorKind,
    readonly detail: string,
    readonly hint?: string,
  ) {
    super(GenlabError.compose(detail, hint, (s) => `'${s}'`));
  }

  /** The settings the message names, in order. */
  get settings(): string[] {
    return [...`${this.detail} ${this.hint ?? ''}`.matchAll(SETTING)].map((m) => m[1]);
  }

  /** The message with the hint's settings spelled by `spell`. */
  messageWith(spell: (setting: string) => string): string {
    return GenlabError.compose(this.detail, this.hint, spell);
  }

  private static compose(detail: string, hint: string | undefined, spell: (s: string) => string): string {
    // One line: file names and parser messages may bring their own newlines.
    const one = (s: string) => s.replace(/\s*\n\s*/g, ' ').replace(SETTING, (_, name: string) => spell(name));
    return hint ? `${one(detail)}; ${one(hint)}` : one(detail);
  }
}

/** libtorch's messages name PyTorch's Python options; these are genlab's names for them. */
const PYTHON_SPELLINGS: [RegExp, string][] = [
  [/retain_graph=True/g, '{retainGraph: true}'],
  [/create_graph=True/g, '{createGraph: true}'],
  [/allow_unused=True/g, '{allowUnused: true}'],
  [/\.retain_grad\(\)/g, '.retainGrad()'],
  [/\.requires_grad_\(\)/g, '.requiresGrad_()'],
];

/** Rethrows an error of libtorch's with genlab's option names in place of Python's. */
export function inGenlabTerms(e: unknown): never {
  if (e instanceof Error) {
    for (const [python, genlab] of PYTHON_SPELLINGS) e.message = e.message.replace(python, genlab);
  }
  throw e;
}
