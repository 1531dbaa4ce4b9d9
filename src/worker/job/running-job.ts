// The state of one job while this worker runs it: how it ended (first ending wins), whether the
// handler settled it itself, and its AbortSignal and logger, both made only when first needed
// (most handlers never look at either, and a worker may run thousands of jobs a second).
import type { JobJson } from '../../client/types.ts';
import type { Logger } from '../../log.ts';
import type { LockRenewer } from './lock-renewer.ts';
import type { LockEvent } from '../work-events.ts';
import type { SettlingCall, WorkerJobContext } from './worker-job.ts';

/** Why a job's signal fired: `signal.reason` is one of these. */
export class JobAbortError extends Error {
  override name = 'JobAbortError';
  constructor(
    readonly why: 'lock-lost' | 'canceled' | 'stopping' | 'abandoned',
    message: string,
  ) {
    super(message);
  }
}

export type Ending =
  | { kind: 'returned' }
  | { kind: 'threw'; error: unknown }
  | { kind: 'lost'; event: LockEvent | 'heartbeat-refused'; error?: Error }
  | { kind: 'abandoned' };

export class RunningJob implements WorkerJobContext {
  /** The job's own directory (set once it is prepared). */
  sandbox: string;
  /** Set by the first settling call the handler makes (complete, fail, retry, move, cancel, timeout). */
  settledBy: SettlingCall | undefined;
  /** The group the job was failed with (by the worker, or by the handler's own fail). */
  failureGroup: string | undefined;
  abortReason: JobAbortError | undefined;
  renewer: LockRenewer | undefined;
  /** Resolves with the first ending that came from outside the handler's own promise. */
  readonly ended: Promise<Ending>;
  #resolveEnded!: (ending: Ending) => void;
  #finished = false;
  #controller: AbortController | undefined;
  #logger: Logger | undefined;

  constructor(
    readonly json: JobJson,
    private readonly baseLogger: Logger,
    sandbox: string,
  ) {
    this.sandbox = sandbox;
    this.ended = new Promise<Ending>((resolve) => {
      this.#resolveEnded = resolve;
    });
  }

  get jid(): string {
    return this.json.jid;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.abortReason) this.#controller.abort(this.abortReason);
    }
    return this.#controller.signal;
  }

  /** pino child with jid, queue and klass (the worker name is on the base logger). */
  get logger(): Logger {
    this.#logger ??= this.baseLogger.child({ jid: this.json.jid, queue: this.json.queue, klass: this.json.klass });
    return this.#logger;
  }

  get finished(): boolean {
    return this.#finished;
  }

  abort(reason: JobAbortError): void {
    if (this.abortReason) return;
    this.abortReason = reason;
    this.#controller?.abort(reason);
  }

  end(ending: Ending): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#resolveEnded(ending);
  }

  /** The handler ended the job itself: no automatic complete, no more heartbeats. */
  settle(call: SettlingCall, group?: string): void {
    if (this.settledBy === undefined && group !== undefined) this.failureGroup = group;
    this.settledBy ??= call;
    this.renewer?.stop();
  }

  /** The handler renewed the lock itself: the automatic heartbeats follow. */
  heartbeatRenewed(expires: number): void {
    this.renewer?.renewed(expires);
  }
}
