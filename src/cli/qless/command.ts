// The shape of one `qless` subcommand: its yargs definition, examples, and what it does.
import type { Argv } from 'yargs';
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

/** --offset/--limit for commands that list many things. */
export function pagingOptions(yargs: Argv, defaultLimit: number | undefined): Argv {
  return yargs
    .option('offset', {
      type: 'string',
      requiresArg: true,
      description: 'Skip this many entries',
      defaultDescription: '0',
    })
    .option('limit', {
      type: 'string',
      requiresArg: true,
      description: 'Show at most this many entries',
      defaultDescription: defaultLimit === undefined ? 'all' : String(defaultLimit),
    });
}
