// Several script calls sent in one round trip (a Redis pipeline): e.g. the completes of every
// job a worker finished meanwhile. Each call succeeds or fails on its own.
import {
  type CompleteOptions,
  completeCall,
  completePopCall,
  failCall,
  type HeldJobRef,
  type RetryOptions,
  retryCall,
} from './commands.ts';
import type { BatchResult, ScriptCall, ScriptCaller } from './script-caller.ts';
import type { ScriptArg } from './types.ts';

export type { BatchResult };

export class Batch {
  readonly #caller: ScriptCaller;
  readonly #workerName: string;
  readonly #calls: ScriptCall[] = [];

  constructor(caller: ScriptCaller, workerName: string) {
    this.#caller = caller;
    this.#workerName = workerName;
  }

  /** Number of calls collected so far. */
  get length(): number {
    return this.#calls.length;
  }

  /** Adds a raw script call (`command` and its arguments after `now`). */
  call(command: string, ...args: ScriptArg[]): this {
    this.#calls.push({ command, args });
    return this;
  }

  /** Adds `job.complete(next, options)`; its result is the state the job is in afterwards. */
  complete(job: HeldJobRef, next?: string, options?: CompleteOptions): this {
    this.#calls.push(completeCall(job, this.#workerName, next, options));
    return this;
  }

  /**
   * Adds `job.completeAndPop(popQueue, count, next, options)`: the complete and the next pop in
   * one script call. Its result is the raw `[state, pop JSON]` reply (`parseCompletePopReply`).
   */
  completeAndPop(job: HeldJobRef, popQueue: string, count = 1, next?: string, options?: CompleteOptions): this {
    this.#calls.push(completePopCall(job, this.#workerName, popQueue, count, next, options));
    return this;
  }

  /** Adds `job.fail(group, message, data)`; its result is the jid. */
  fail(job: HeldJobRef, group: string, message: string, data?: unknown): this {
    this.#calls.push(failCall(job, this.#workerName, group, message, data));
    return this;
  }

  /** Adds `job.retry(options)`; its result is the number of retries left. */
  retry(job: HeldJobRef, options?: RetryOptions): this {
    this.#calls.push(retryCall(job, this.#workerName, options));
    return this;
  }

  /**
   * Sends every collected call in one pipeline and empties the batch. Results are in the order
   * the calls were added; a failed call has a typed error (e.g. LostLockError) and does not stop
   * the others.
   */
  exec(): Promise<BatchResult[]> {
    const calls = this.#calls.splice(0, this.#calls.length);
    if (calls.length === 0) return Promise.resolve([]);
    return this.#caller.exec(calls);
  }
}
