// Waits for a pub/sub message (e.g. `completed` on ql:log for one jid) without polling Redis.
// Register the wait before doing what publishes it, so the message cannot slip past.
import type { Redis } from 'ioredis';
import { epochMs } from './clock.ts';

type Match = (channel: string, message: string) => boolean;

interface Waiter {
  match: Match;
  resolve: (receivedAt: number) => void;
}

export class ChannelWaiter {
  private waiters: Waiter[] = [];

  private constructor(private readonly connection: Redis) {
    connection.on('message', (channel: string, message: string) => {
      if (this.waiters.length === 0) return;
      const receivedAt = epochMs();
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.match(channel, message)) return true;
        waiter.resolve(receivedAt);
        return false;
      });
    });
  }

  /** Subscribes a fresh connection to the channels; resolves once the subscription holds. */
  static async open(connection: Redis, channels: string[]): Promise<ChannelWaiter> {
    const waiter = new ChannelWaiter(connection);
    await connection.subscribe(...channels);
    return waiter;
  }

  /** Resolves with the epoch ms at which the first matching message arrived; rejects after `timeoutMs`. */
  next(match: Match, timeoutMs: number, what: string): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (receivedAt) => {
          clearTimeout(timer);
          resolve(receivedAt);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((other) => other !== waiter);
        reject(new Error(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  close(): void {
    this.connection.disconnect();
  }
}

/** Matches the `completed` event of one job on ql:log. */
export function completedEvent(jid: string): Match {
  return (channel, message) => {
    if (channel !== 'ql:log' || !message.includes(jid)) return false;
    const event = JSON.parse(message) as { jid?: string; event?: string };
    return event.jid === jid && event.event === 'completed';
  };
}
