// The two pub/sub channels a worker listens to (through the client's Events, on a connection
// of their own):
// - `ql:w:<worker>`: lock_lost / canceled for jobs this worker holds → abort them at once;
// - `ql:log`: `put` (and `advanced`) into one of its queues → an idle worker polls at once
//   instead of sleeping out --interval. Only while the worker is idle: ql:log carries every put
//   and completion of the whole pool, which a busy worker would receive and decode for nothing
//   (and Redis send to every worker). The fetcher watches before it sleeps and polls once more
//   after the subscription is active, so a put in between is not missed.
import type { Client } from '../client/client.ts';
import { Events, type LogEvent } from '../client/events.ts';

export type LockEvent = 'lock_lost' | 'canceled';

export interface WorkEventHandlers {
  /** The worker lost the job (lock expired and taken, timed out, moved away) or it was cancelled. */
  onLockLost(jid: string, event: LockEvent): void;
  /** New work may be waiting in one of the worker's queues. */
  onWork(queue: string): void;
  onError(error: Error): void;
}

export class WorkEvents {
  private events: Events | undefined;
  private readonly queues: ReadonlySet<string>;
  private readonly onLog = (event: LogEvent): void => {
    const target = targetQueue(event);
    if (target !== undefined && this.queues.has(target)) this.handlers.onWork(target);
  };
  private watching = false;

  constructor(
    private readonly client: Client,
    private readonly worker: string,
    queues: readonly string[],
    private readonly handlers: WorkEventHandlers,
  ) {
    this.queues = new Set(queues);
  }

  /** Resolves once the worker's own channel is subscribed (so nothing published afterwards is missed). */
  async start(): Promise<void> {
    const { handlers } = this;
    // Connected before the first SUBSCRIBE: ioredis 5 sends SUBSCRIBE on a connection that is
    // still in its handshake, and its ready check (INFO) then fails in subscriber mode.
    const connection = this.client.redis.duplicate({ lazyConnect: true });
    connection.on('error', (error: Error) => handlers.onError(error));
    // Not events.once: that rejects on the first 'error', and connection errors are retried here.
    const ready = new Promise<void>((resolve) => connection.once('ready', () => resolve()));
    // A Redis that is down now is retried by ioredis (with its backoff) until it answers.
    connection.connect().catch(() => undefined);
    await ready;
    const events = new Events(() => connection);
    this.events = events;
    events.on('error', (error) => handlers.onError(error));
    events.on('worker', (event, name) => {
      if (name !== this.worker) return;
      if (event.event === 'lock_lost' || event.event === 'canceled') handlers.onLockLost(event.jid, event.event);
    });
    await events.watchWorker(this.worker);
    await events.ready();
  }

  /** Whether new work in ql:log wakes the worker (or is being set up to). */
  get watchingForWork(): boolean {
    return this.watching;
  }

  /** Resolves once `put`s into the worker's queues wake it (rejects if Redis refused). */
  async watchForWork(): Promise<void> {
    const { events } = this;
    if (!events) throw new Error('work events not started');
    if (!this.watching) {
      this.watching = true;
      events.on('log', this.onLog);
    }
    await events.ready();
  }

  /** The worker is busy: stop receiving the pool's ql:log traffic. */
  unwatchForWork(): void {
    if (!this.watching) return;
    this.watching = false;
    this.events?.off('log', this.onLog);
  }

  async close(): Promise<void> {
    await this.events?.close();
  }
}

/** The queue a `ql:log` event brings new work to, if any. */
function targetQueue(event: LogEvent): string | undefined {
  if (event.event === 'put') return event.queue;
  if (event.event === 'advanced') return event.to;
  return undefined;
}
