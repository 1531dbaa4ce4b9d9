// Why a `qless` command stopped, and the exit code each reason maps to (documented in --help).
// The refusals are the client's errors: InvalidInputError (the UsageError of the command line is
// one) before anything is sent, QlessError (JobNotFoundError is one) for what qless refuses or
// does not have, whether the script or the command found it out.
import { InvalidInputError, QlessError } from '../../client/errors.ts';

export const EXIT = {
  /** Done. */
  ok: 0,
  /** qless refused the operation (the script's message), or the job/queue/group does not exist. */
  refused: 1,
  /** Bad usage: refused before anything was sent to Redis. */
  usage: 2,
  /** Redis could not be reached, or failed outside the qless script. */
  redis: 3,
  /** A bug in this command. */
  internal: 4,
} as const;

/** Redis did not answer, or answered with an error that is not qless's. */
export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

interface Outcome {
  code: number;
  /** One line for stderr. */
  message: string;
}

/**
 * The exit code and the line to print for an error. `redisReady` tells whether the connection
 * was still up: an ioredis error raised after it went down is a connection problem, not a bug.
 */
export function outcomeOf(error: unknown, redisReady: boolean): Outcome {
  if (error instanceof InvalidInputError) return { code: EXIT.usage, message: error.message };
  if (error instanceof QlessError) return { code: EXIT.refused, message: error.message };
  if (error instanceof RedisUnavailableError) return { code: EXIT.redis, message: error.message };
  if (error instanceof Error && (isRedisError(error) || !redisReady))
    return { code: EXIT.redis, message: `Redis: ${error.message}` };
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { code: EXIT.internal, message: `internal error (please report it): ${text}` };
}

/** ioredis's errors from the server (ReplyError) and from the socket (errno codes). */
function isRedisError(error: Error): boolean {
  if (error.name === 'ReplyError' || error.name === 'MaxRetriesPerRequestError') return true;
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}
