// The two pub/sub channels a worker listens to (through the client's Events, on a connection
// of their own):
// - `ql:w:<worker>`: lock_lost / canceled for jobs this worker holds → abort them at once;
// - `ql:log`: `put` (and `advanced`) into one of its queues → an idle worker polls at once
//   instead of sleeping out --interval.
import type { Client } from '../client/client.ts';
import type { Events, LogEvent } from '../client/events.ts';

export type LockEvent = 'lock_lost' | 'canceled';

export interface WorkEventHandlers {
  /** The worker lost the job (lock expired and taken, timed out, moved away) or it was cancelled. */
  onLockLost(jid: string, event: LockEvent): void;
  /** New work may be waiting in one of the worker's queues. */
  onWork(queue: string): void;
  onError(error: Error): void;
}

export class WorkEvents {
  private readonly events: Events;
  private readonly queues: ReadonlySet<string>;

  constructor(
    client: Client,
    private readonly worker: string,
    queues: readonly string[],
    private readonly handlers: WorkEventHandlers,
  ) {
    this.events = client.events();
    this.queues = new Set(queues);
    this.events.on('error', (error) => handlers.onError(error));
    this.events.on('worker', (event, name) => {
      if (name !== this.worker) return;
      if (event.event === 'lock_lost' || event.event === 'canceled') handlers.onLockLost(event.jid, event.event);
    });
    this.events.on('log', (event) => {
      const target = targetQueue(event);
      if (target !== undefined && this.queues.has(target)) handlers.onWork(target);
    });
  }

  /** Resolves once both channels are subscribed (so nothing published afterwards is missed). */
  async start(): Promise<void> {
    await this.events.watchWorker(this.worker);
    await this.events.ready();
  }

  async close(): Promise<void> {
    await this.events.close();
  }
}

/** The queue a `ql:log` event brings new work to, if any. */
function targetQueue(event: LogEvent): string | undefined {
  if (event.event === 'put') return event.queue;
  if (event.event === 'advanced') return event.to;
  return undefined;
}
