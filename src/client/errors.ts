// The client's error types, and the translation of Redis script errors into them.

/** Something qless refused or reported; `message` is the script's own text. */
export class QlessError extends Error {
  override name = 'QlessError';
  /** The script command that failed (empty for errors raised before any command). */
  readonly command: string;

  constructor(message: string, command = '', options?: { cause?: unknown }) {
    super(message, options);
    this.command = command;
  }
}

/**
 * A worker-side call (heartbeat, complete, fail, retry) on a job this worker no longer holds:
 * another worker owns it, it is no longer running, or it is gone.
 */
export class LostLockError extends QlessError {
  override name = 'LostLockError';
}

/** The job (or recurring job) named in the call does not exist. */
export class JobNotFoundError extends QlessError {
  override name = 'JobNotFoundError';
}

/** Refused by the client before anything was sent to Redis. */
export class InvalidInputError extends QlessError {
  override name = 'InvalidInputError';
}

// Redis 7: `ERR user_script:12: <message> script: <sha>, on @user_script:12.`
const REDIS7_SCRIPT = /^(?:ERR )?user_script:\d+: (.*?) script: [0-9a-f]+, on @user_script:\d+\.?$/s;
// Redis 7, an error from a Redis command called by the script: `ERR <message> script: <sha>, on @user_script:12.`
const REDIS7_COMMAND = /^(?:ERR )?(.*?) script: [0-9a-f]+, on @user_script:\d+\.?$/s;
// Redis 6: `ERR Error running script (call to f_<sha>): @user_script:12: user_script:12: <message>`
const REDIS6_SCRIPT =
  /^(?:ERR )?Error running script \(call to f_[0-9a-f]+\): @user_script:\d+: (?:user_script:\d+: )?(.*)$/s;

/** The message as the script raised it, without Redis's wrapping; undefined if `raw` is not a script error. */
export function scriptErrorText(raw: string): string | undefined {
  for (const pattern of [REDIS7_SCRIPT, REDIS7_COMMAND, REDIS6_SCRIPT]) {
    const match = pattern.exec(raw);
    if (match) return match[1];
  }
  return undefined;
}

const WORKER_SIDE = new Set(['heartbeat', 'complete', 'fail', 'retry', 'complete.pop']);
// Every refusal of a worker-side call that means "you do not hold this job (any more)".
const LOST_LOCK = /Job .*(does not exist|not currently running|another worker|another queue)/;
const NOT_FOUND = /does not exist|^Recur\(\): No recurring job /;

/** Whether a Redis error says the script is not loaded. */
export function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/**
 * The typed error for a failed script call. Errors that did not come from the script
 * (connection loss, NOAUTH, OOM, READONLY…) are returned unchanged: they say nothing about qless.
 */
export function toQlessError(error: unknown, command: string): Error {
  if (!(error instanceof Error)) return new Error(String(error));
  const text = error.name === 'ReplyError' ? scriptErrorText(error.message) : undefined;
  if (text === undefined) return error;
  if (WORKER_SIDE.has(command) && LOST_LOCK.test(text)) return new LostLockError(text, command, { cause: error });
  if (NOT_FOUND.test(text)) return new JobNotFoundError(text, command, { cause: error });
  return new QlessError(text, command, { cause: error });
}
