// The script's argument order and reply shapes for the calls made from more than one place: by
// the client's own classes (Queue, Job, Jobs, Workers, Batch) and by the worker and supervisor
// processes, which batch their calls themselves. Each builder checks its input before anything is
// sent, so a refused call changes nothing; each parser turns a raw reply into its typed shape.
// Outside src/client nothing spells a command name or an argument position.
import { InvalidInputError, QlessError } from './errors.ts';
import { encodeJson, requireCount, requireFinite, requireName, requireNames, requireNonNegative } from './input.ts';
import { asList, parseReply } from './reply.ts';
import type { QlessCaller, ScriptCall } from './script-caller.ts';
import type { JobJson, ScriptReply, WorkerJobs } from './types.ts';

/** What identifies a held job: enough to complete, fail or retry it. */
export interface HeldJobRef {
  readonly jid: string;
  readonly queue: string;
  readonly data: unknown;
}

/** How a job is placed into a queue, by a put or a move. */
export interface MoveOptions {
  /** Seconds before the job becomes waiting (scheduled until then). */
  delay?: number;
  /** Higher pops first. Default 0 (or the job's current value when re-putting a jid). */
  priority?: number;
  tags?: string[];
  /** Retries allowed before the job fails. Default 5 (or the current value). */
  retries?: number;
  /** Jids that must complete before this job can run. */
  depends?: string[];
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

/** The state a `complete` left the job in. */
export type CompletedState = 'complete' | 'waiting' | 'scheduled' | 'depends';

/** Sends one built call. */
export function sendCall(caller: QlessCaller, call: ScriptCall): Promise<ScriptReply> {
  return caller.call(call.command, ...call.args);
}

/** `put`: `job` (new, or moved when the jid exists) into `queue`, sent under `worker`'s name. */
export function putCall(
  worker: string,
  queue: string,
  job: { jid: string; klass: string; data: unknown },
  options: MoveOptions = {},
): ScriptCall {
  const args = [
    worker,
    requireName(queue, 'queue'),
    job.jid,
    requireName(job.klass, 'klass'),
    encodeJson(job.data, 'data'),
  ];
  args.push(String(options.delay === undefined ? 0 : requireNonNegative(options.delay, 'delay')));
  if (options.priority !== undefined) args.push('priority', String(requireFinite(options.priority, 'priority')));
  if (options.tags !== undefined) args.push('tags', encodeJson(requireNames(options.tags, 'tags'), 'tags'));
  if (options.retries !== undefined) args.push('retries', String(requireCount(options.retries, 'retries')));
  if (options.depends !== undefined)
    args.push('depends', encodeJson(requireNames(options.depends, 'depends'), 'depends'));
  return { command: 'put', args };
}

/** `pop`: up to `count` (≥ 1) jobs of `queue`, locked for `worker`. */
export function popCall(queue: string, worker: string, count: number): ScriptCall {
  return {
    command: 'pop',
    args: [requireName(queue, 'queue'), worker, String(requireCount(count, 'count', { min: 1 }))],
  };
}

/** The jobs a `pop` handed out (none: an empty list). */
export function parsePopReply(reply: ScriptReply): JobJson[] {
  return asList(parseReply<JobJson[]>(reply, 'pop'));
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

export function failCall(
  job: Pick<HeldJobRef, 'jid'>,
  worker: string,
  group: string,
  message: string,
  data?: unknown,
): ScriptCall {
  requireName(group, 'group');
  if (typeof message !== 'string') throw new InvalidInputError('fail: message must be a string');
  const args = [job.jid, worker, group, message];
  if (data !== undefined) args.push(encodeJson(data, 'data'));
  return { command: 'fail', args };
}

/** `retry`: the job back to its queue (or failed once its retries run out), as `worker` holding it. */
export function retryCall(
  job: Pick<HeldJobRef, 'jid' | 'queue'>,
  worker: string,
  options: RetryOptions = {},
): ScriptCall {
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

export function heartbeatCall(job: Pick<HeldJobRef, 'jid'>, worker: string, data?: unknown): ScriptCall {
  const args = [job.jid, worker];
  if (data !== undefined) args.push(encodeJson(data, 'data'));
  return { command: 'heartbeat', args };
}

export const COMPLETE_POP = 'complete.pop';

/**
 * `complete.pop <pop-queue> <count> <complete's arguments>`: the script's extension that completes
 * `job` (with `next` and `options` as for complete), then pops up to `count` (≥ 1) jobs of
 * `popQueue` for `worker`, in one script call, leaving exactly what `complete` then `pop` leave.
 * Checked like complete and pop before anything is sent.
 */
export function completePopCall(
  job: HeldJobRef,
  worker: string,
  popQueue: string,
  count = 1,
  next?: string,
  options?: CompleteOptions,
): ScriptCall {
  const queue = requireName(popQueue, 'pop queue');
  const wanted = requireCount(count, 'count', { min: 1 });
  const complete = completeCall(job, worker, next, options);
  return { command: COMPLETE_POP, args: [queue, String(wanted), ...complete.args] };
}

/**
 * A `completeCall` and a `popCall` of the same worker as one `complete.pop` call, or undefined
 * when the two are not such a pair.
 */
export function fuseCompletePop(complete: ScriptCall, pop: ScriptCall): ScriptCall | undefined {
  if (complete.command !== 'complete' || pop.command !== 'pop' || pop.args.length !== 3) return undefined;
  const [queue, worker, count] = pop.args;
  if (complete.args[1] !== worker || !(Number(count) >= 1)) return undefined;
  return { command: COMPLETE_POP, args: [queue, String(count), ...complete.args] };
}

/** A `complete.pop` reply split into complete's reply and pop's (still as the script encodes it). */
export function splitCompletePopReply(reply: ScriptReply): [complete: ScriptReply, pop: ScriptReply] {
  if (!Array.isArray(reply) || reply.length !== 2) {
    throw new QlessError(`unexpected reply to ${COMPLETE_POP}: ${JSON.stringify(reply)}`, COMPLETE_POP);
  }
  return reply as [ScriptReply, ScriptReply];
}

/** What `complete.pop` answers: complete's reply, then the jobs pop handed out. */
export interface CompletePopReply {
  /** The state the completed job is in (`complete`, or waiting/scheduled/depends after `next`). */
  state: CompletedState;
  /** The popped jobs as the script encodes them (the same objects `pop` returns). */
  jobs: JobJson[];
}

/** The `[state, pop JSON]` reply decoded. */
export function parseCompletePopReply(reply: ScriptReply): CompletePopReply {
  const [state, popped] = splitCompletePopReply(reply);
  if (typeof state !== 'string') {
    throw new QlessError(`unexpected reply to ${COMPLETE_POP}: ${JSON.stringify(reply)}`, COMPLETE_POP);
  }
  return { state: state as CompletedState, jobs: asList(parseReply<JobJson[]>(popped, COMPLETE_POP)) };
}

/** `get`: one job as the script encodes it. */
export function getCall(jid: string): ScriptCall {
  return { command: 'get', args: [requireName(jid, 'jid')] };
}

/** The job a `get` found, or null. */
export function parseGetReply(reply: ScriptReply): JobJson | null {
  return parseReply<JobJson>(reply, 'get');
}

/** `workers <name>`: the jids one worker holds. */
export function workerJobsCall(worker: string): ScriptCall {
  return { command: 'workers', args: [requireName(worker, 'worker')] };
}

export function parseWorkerJobsReply(reply: ScriptReply): WorkerJobs {
  const held = parseReply<{ jobs: string[] | Record<string, never>; stalled: string[] | Record<string, never> }>(
    reply,
    'workers',
  );
  return { jobs: asList(held?.jobs), stalled: asList(held?.stalled) };
}

/** `worker.deregister`: forgets workers (their jobs stay theirs until the locks expire). */
export function deregisterCall(workers: readonly string[]): ScriptCall {
  if (workers.length === 0) throw new InvalidInputError('deregister: give at least one worker name');
  return { command: 'worker.deregister', args: requireNames(workers, 'workers') };
}
