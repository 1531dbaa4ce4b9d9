// The calls a worker makes about a job it holds, checked and built in one place so that
// Job's methods and a Batch send exactly the same arguments.
import { InvalidInputError } from './errors.ts';
import { encodeJson, requireName, requireNames, requireNonNegative } from './input.ts';
import type { ScriptCall } from './script-caller.ts';

/** What identifies a held job: enough to complete, fail or retry it. */
export interface HeldJobRef {
  readonly jid: string;
  readonly queue: string;
  readonly data: unknown;
}

export interface CompleteOptions {
  /** Seconds before the job becomes waiting in the next queue (needs `next`). */
  delay?: number;
  /** Jids the job waits for in the next queue (needs `next`). */
  depends?: string[];
}

export interface RetryOptions {
  /** Seconds before it is waiting again. */
  delay?: number;
  /** Failure group recorded (with `message`), and used if retries run out. */
  group?: string;
  message?: string;
}

export function completeCall(
  job: HeldJobRef,
  worker: string,
  next?: string,
  options: CompleteOptions = {},
): ScriptCall {
  const args = [job.jid, worker, job.queue, encodeJson(job.data, 'data')];
  if (next === undefined) {
    if (options.delay !== undefined) throw new InvalidInputError('complete: delay cannot be used without a next queue');
    if (options.depends !== undefined)
      throw new InvalidInputError('complete: depends cannot be used without a next queue');
    return { command: 'complete', args };
  }
  args.push('next', requireName(next, 'next queue'));
  if (options.delay !== undefined) args.push('delay', String(requireNonNegative(options.delay, 'delay')));
  if (options.depends !== undefined)
    args.push('depends', encodeJson(requireNames(options.depends, 'depends'), 'depends'));
  return { command: 'complete', args };
}

export function failCall(job: HeldJobRef, worker: string, group: string, message: string, data?: unknown): ScriptCall {
  requireName(group, 'group');
  if (typeof message !== 'string') throw new InvalidInputError('fail: message must be a string');
  const args = [job.jid, worker, group, message];
  if (data !== undefined) args.push(encodeJson(data, 'data'));
  return { command: 'fail', args };
}

export function retryCall(job: HeldJobRef, worker: string, options: RetryOptions = {}): ScriptCall {
  const delay = options.delay === undefined ? 0 : requireNonNegative(options.delay, 'delay');
  const args = [job.jid, job.queue, worker, String(delay)];
  if (options.message !== undefined && options.group === undefined) {
    throw new InvalidInputError('retry: a message needs a group');
  }
  if (options.group !== undefined) args.push(requireName(options.group, 'group'));
  if (options.message !== undefined) {
    if (typeof options.message !== 'string') throw new InvalidInputError('retry: message must be a string');
    args.push(options.message);
  }
  return { command: 'retry', args };
}

export function heartbeatCall(job: HeldJobRef, worker: string, data?: unknown): ScriptCall {
  const args = [job.jid, worker];
  if (data !== undefined) args.push(encodeJson(data, 'data'));
  return { command: 'heartbeat', args };
}
