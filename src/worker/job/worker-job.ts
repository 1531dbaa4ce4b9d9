// The job object a handler receives: the client's Job, plus its sandbox, an AbortSignal and a
// logger. It notes when the handler itself ends the job (complete, fail, retry, move, cancel,
// timeout), so the runner does not complete it a second time, and when the handler renews the
// lock itself, so the automatic heartbeats follow.
import {
  Job,
  type CompletedState,
  type CompleteOptions,
  type MoveOptions,
  type RetryOptions,
} from '../../client/job.ts';
import type { QlessCaller } from '../../client/script-caller.ts';
import type { JobJson, JsonValue } from '../../client/types.ts';
import type { Logger } from '../../log.ts';

/** The Job methods after which the job is no longer this worker's to complete. */
export type SettlingCall = 'complete' | 'fail' | 'retry' | 'move' | 'cancel' | 'timeout';

/** What the job object needs from the run it belongs to. */
export interface WorkerJobContext {
  readonly sandbox: string;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** The handler called one of the settling methods (called before the call is sent); fail gives its group. */
  settle(call: SettlingCall, group?: string): void;
  /** The handler renewed the lock itself through `heartbeat`. */
  heartbeatRenewed(expires: number): void;
}

export class WorkerJob<D = JsonValue> extends Job<D> {
  readonly #context: WorkerJobContext;

  constructor(client: QlessCaller, json: JobJson, context: WorkerJobContext) {
    super(client, json);
    this.#context = context;
  }

  /** Absolute path of this job's own emptied directory. */
  get sandbox(): string {
    return this.#context.sandbox;
  }

  /** Aborts when the lock is lost, the job is cancelled, or the worker is stopping. */
  get signal(): AbortSignal {
    return this.#context.signal;
  }

  /** pino child logger carrying jid, queue, klass and worker. */
  get logger(): Logger {
    return this.#context.logger;
  }

  override complete(next?: string, options?: CompleteOptions): Promise<CompletedState> {
    this.#context.settle('complete');
    return super.complete(next, options);
  }

  override fail(group: string, message: string, data?: unknown): Promise<string> {
    this.#context.settle('fail', group);
    return super.fail(group, message, data);
  }

  override retry(options?: RetryOptions): Promise<number> {
    this.#context.settle('retry');
    return super.retry(options);
  }

  override move(queue: string, options?: MoveOptions): Promise<string> {
    this.#context.settle('move');
    return super.move(queue, options);
  }

  override cancel(): Promise<void> {
    this.#context.settle('cancel');
    return super.cancel();
  }

  override timeout(): Promise<void> {
    this.#context.settle('timeout');
    return super.timeout();
  }

  override async heartbeat(data?: unknown): Promise<number> {
    const expires = await super.heartbeat(data);
    this.#context.heartbeatRenewed(expires);
    return expires;
  }

  /** The automatic heartbeat: renews the lock without telling the hooks (the renewer knows). */
  renewLock(): Promise<number> {
    return super.heartbeat();
  }
}
