// The two pub/sub channels a worker listens to (through the client's Events, on a connection
// of their own):
// - `ql:w:<worker>`: lock_lost / canceled for jobs this worker holds → abort them at once;
// - `ql:log`: `put` (and `advanced`) into one of its queues → an idle worker polls at once
//   instead of sleeping out --interval.
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

  constructor(
    private readonly client: Client,
    private readonly worker: string,
    queues: readonly string[],
    private readonly handlers: WorkEventHandlers,
  ) {
    this.queues = new Set(queues);
  }

  /** Resolves once both channels are subscribed (so nothing published afterwards is missed). */
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
    events.on('log', (event) => {
      const target = targetQueue(event);
      if (target !== undefined && this.queues.has(target)) handlers.onWork(target);
    });
    await events.watchWorker(this.worker);
    await events.ready();
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
