// How a job that failed is named in Redis: the failure group after what the handler threw, and
// the message (its stack, cut to a length Redis is happy to keep per job).
import { HandlerResolutionError } from '../handler/resolve.ts';

/** The longest failure message stored (the stack is cut beyond this). */
const MAX_FAILURE_MESSAGE = 10_000;

/** The failure group suffix for something a handler threw (`<queue>-<this>`). */
export function errorGroupName(error: unknown): string {
  if (error instanceof HandlerResolutionError) return error.group;
  if (error instanceof Error) {
    // `class MyError extends Error {}` keeps name "Error": its class name says more.
    if (error.name && error.name !== 'Error') return error.name;
    const ctor = (error as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof ctor === 'string' && ctor !== '' ? ctor : 'Error';
  }
  return 'NonError';
}

/** The failure message: the stack (or a description of a non-Error), at most MAX_FAILURE_MESSAGE characters. */
export function errorMessage(error: unknown): string {
  let text: string;
  if (error instanceof Error) text = error.stack ?? `${error.name}: ${error.message}`;
  else {
    let shown: string;
    try {
      shown = typeof error === 'string' ? JSON.stringify(error) : (JSON.stringify(error) ?? String(error));
    } catch {
      shown = String(error);
    }
    text = `the handler threw a value that is not an Error: ${shown}`;
  }
  return text.length > MAX_FAILURE_MESSAGE ? text.slice(0, MAX_FAILURE_MESSAGE) : text;
}
