// Flag parsing for meshd's commands: node's parseArgs in strict mode, with `-h/--help` on every command
// and one-line messages for mistakes (exit status 2, as for any usage error).
import { parseArgs, type ParseArgsConfig } from 'node:util';

export type FlagSpec = NonNullable<ParseArgsConfig['options']>;
export type Flags = Record<string, string | boolean | undefined>;

/** A mistake on the command line: reported in one line, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Flags meshd does not have, with what to do instead. */
export type FlagHints = Record<string, string>;

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ').trim();

/** True when `args` ask for help (before a `--` that ends the flags). */
export function wantsHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '-h' || a === '--help');
}

/** Parses `args` for `command`; throws UsageError with a one-line message for anything it cannot take. */
export function parseFlags(command: string, args: string[], spec: FlagSpec, hints: FlagHints = {}): Flags {
  try {
    return parseArgs({ args, options: spec, strict: true, allowPositionals: false }).values as Flags;
  } catch (e) {
    const err = e as Error & { code?: string };
    const quoted = /'([^']+)'/.exec(err.message)?.[1] ?? '';
    const see = `see 'meshd ${command} --help'`;
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const name = quoted.replace(/=.*$/, '');
      const hint = hints[name.replace(/^-+/, '')];
      throw new UsageError(`meshd ${command}: unknown flag ${name}${hint ? `: ${hint}` : ''} (${see})`);
    }
    if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      throw new UsageError(`meshd ${command}: unexpected argument "${quoted}" (${see})`);
    }
    const missing = /^Option '(.+?)(?: <value>)?' argument missing$/.exec(err.message);
    if (missing) throw new UsageError(`meshd ${command}: flag ${missing[1]} needs a value (${see})`);
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      throw new UsageError(`meshd ${command}: ${oneLine(err.message)} (${see})`);
    }
    throw err;
  }
}

/**
 * A setting with two flag names (meshd's and istioctl's): the value of whichever was given (they must
 * agree when both are) and the name it was given as, for messages.
 */
export function either(flags: Flags, command: string, names: string[]): { value?: string; flag: string } {
  const given = names.filter((n) => typeof flags[n] === 'string');
  const values = new Set(given.map((n) => flags[n] as string));
  if (values.size > 1) {
    const both = given.map((n) => `--${n}`).join(' and ');
    throw new UsageError(`meshd ${command}: ${both} name the same setting; give one`);
  }
  const name = given[0] ?? names[0]!;
  return { value: given.length > 0 ? (flags[name] as string) : undefined, flag: `--${name}` };
}
