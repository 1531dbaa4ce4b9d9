// The shape of one `qless` subcommand: its yargs definition, examples, and what it does.
import type { Argv, Options } from 'yargs';
import type { Args } from './args.ts';
import type { Context } from './context.ts';

export interface CommandSpec {
  /** yargs command string, e.g. `put <queue> <klass>`. */
  command: string;
  describe: string;
  /** Positionals and options (all read as text; see Args). */
  build?: (yargs: Argv) => Argv;
  /** Shown by `qless <command> --help`; at least one. */
  examples: readonly (readonly [string, string])[];
  run(args: Args, context: Context): Promise<void>;
}

/**
 * An option that takes a value. Every value is read as text and checked by Args, so the option
 * only names it; `shownDefault` is what --help gives as its default.
 */
export function valueOption(description: string, shownDefault?: string): Options {
  return { type: 'string', requiresArg: true, description, defaultDescription: shownDefault };
}

/** What --offset/--limit select of a list read whole, with the figures its JSON document carries. */
export function pageOf<T>(
  all: readonly T[],
  { offset, limit }: { offset: number; limit: number | undefined },
): { total: number; offset: number; limit: number | null; items: T[] } {
  const items = all.slice(offset, limit === undefined ? undefined : offset + limit);
  return { total: all.length, offset, limit: limit ?? null, items };
}

/** --offset/--limit for commands that list many things. */
export function pagingOptions(yargs: Argv, defaultLimit: number | undefined): Argv {
  return yargs
    .option('offset', valueOption('Skip this many entries', '0'))
    .option(
      'limit',
      valueOption('Show at most this many entries', defaultLimit === undefined ? 'all' : String(defaultLimit)),
    );
}
