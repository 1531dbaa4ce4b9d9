// The job object a handler receives: the client's Job, plus its sandbox, an AbortSignal and a
// logger. It notes when the handler itself ends the job (complete, fail, retry, move, cancel,
// timeout), so the runner does not complete it a second time, and when the handler renews the
// lock itself, so the automatic heartbeats follow.
import { Job, type CompletedState, type CompleteOptions, type MoveOptions, type RetryOptions } from '../client/job.ts';
import type { QlessCaller } from '../client/script-caller.ts';
import type { JobJson, JsonValue } from '../client/types.ts';
import type { Logger } from '../log.ts';

/** The Job methods after which the job is no longer this worker's to complete. */
export type SettlingCall = 'complete' | 'fail' | 'retry' | 'move' | 'cancel' | 'timeout';

export interface WorkerJobHooks {
  /** The handler called one of the settling methods (called before the call is sent). */
  onSettle(call: SettlingCall): void;
  /** The lock was renewed through `heartbeat`, by the handler. */
  onHeartbeat(expires: number): void;
}

export class WorkerJob<D = JsonValue> extends Job<D> {
  /** Absolute path of this job's own emptied directory. */
  readonly sandbox: string;
  /** Aborts when the lock is lost, the job is cancelled, or the worker is stopping. */
  readonly signal: AbortSignal;
  /** pino child logger carrying jid, queue, klass and worker. */
  readonly logger: Logger;
  readonly #hooks: WorkerJobHooks;

  constructor(client: QlessCaller, json: JobJson, context: { sandbox: string; signal: AbortSignal; logger: Logger; hooks: WorkerJobHooks }) {
    super(client, json);
    this.sandbox = context.sandbox;
    this.signal = context.signal;
    this.logger = context.logger;
    this.#hooks = context.hooks;
  }

  override complete(next?: string, options?: CompleteOptions): Promise<CompletedState> {
    this.#hooks.onSettle('complete');
    return super.complete(next, options);
  }

  override fail(group: string, message: string, data?: unknown): Promise<string> {
    this.#hooks.onSettle('fail');
    return super.fail(group, message, data);
  }

  override retry(options?: RetryOptions): Promise<number> {
    this.#hooks.onSettle('retry');
    return super.retry(options);
  }

  override move(queue: string, options?: MoveOptions): Promise<string> {
    this.#hooks.onSettle('move');
    return super.move(queue, options);
  }

  override cancel(): Promise<void> {
    this.#hooks.onSettle('cancel');
    return super.cancel();
  }

  override timeout(): Promise<void> {
    this.#hooks.onSettle('timeout');
    return super.timeout();
  }

  override async heartbeat(data?: unknown): Promise<number> {
    const expires = await super.heartbeat(data);
    this.#hooks.onHeartbeat(expires);
    return expires;
  }

  /** The automatic heartbeat: renews the lock without telling the hooks (the renewer knows). */
  renewLock(): Promise<number> {
    return super.heartbeat();
  }
}
