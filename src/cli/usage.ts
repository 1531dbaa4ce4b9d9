// What both commands (`qless-worker` and `qless`) share: the usage error, the package version,
// and the end of their yargs definitions (--help, --version, strict options, one-line failures).
import type { Argv } from 'yargs';
import { InvalidInputError } from '../client/errors.ts';
import { packageVersion } from '../version.ts';

/**
 * Bad input on the command line (or in QLESS_* variables): refused before anything is sent to
 * Redis, shown as one line, exit code 2. It is the client's InvalidInputError, caught earlier.
 */
export class UsageError extends InvalidInputError {
  override name = 'UsageError';

  constructor(message: string) {
    // yargs' messages may span lines.
    super(message.replace(/\s*\n\s*/g, ' ').trim());
  }
}

/**
 * Strict options, --version, -h/--help wrapped at `width` columns (null: not wrapped); whatever
 * yargs refuses becomes a UsageError instead of a printout and an exit.
 */
export function withUsage<T>(parser: Argv<T>, width: number | null): Argv<T> {
  return parser
    .strict()
    .version(packageVersion())
    .help()
    .alias('help', 'h')
    .wrap(width)
    .fail((message, error) => {
      throw new UsageError(message ?? error?.message ?? 'invalid arguments');
    });
}
