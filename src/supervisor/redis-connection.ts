// The supervisor's own Redis connection (used to hand back the jobs of dead workers, to ask what
// a silent worker holds and to deregister names; the calls themselves are in redis-calls.ts).
// An unreachable Redis is logged once per retry step and retried with backoff; commands wait for
// the connection instead of failing, and nothing here throws on connection errors, so Redis
// trouble never brings the supervisor down.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Client, redactPassword } from '../client/index.ts';
import { openRedis } from '../client/open-redis.ts';
import { waitForWorkerAccess } from '../client/access-check.ts';
import { describeConnectionError } from '../client/connection-errors.ts';
import { SupervisorCalls } from './redis-calls.ts';

const FIRST_RETRY_MS = 200;
const MAX_RETRY_MS = 10_000;

export class SupervisorRedis {
  private readonly redis: Redis;
  /** Every call the supervisor makes, over this connection. */
  readonly calls: SupervisorCalls;
  private readonly client: Client;
  private lastError = 'connection closed';
  private wasDown = false;
  private readyWaiters: (() => void)[] = [];
  private readonly closing = new AbortController();

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
  ) {
    const shown = redactPassword(url);
    this.redis = openRedis(url, {
      lazyConnect: true,
      // Wait for the connection rather than failing a hand-back: it is retried until Redis answers.
      maxRetriesPerRequest: null,
      connectionName: 'qless-worker-supervisor',
      retryStrategy: (attempt) => {
        const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(attempt - 1, 10));
        // Logged once per step of the backoff (at most every MAX_RETRY_MS once it is reached).
        this.logger.error(
          { event: 'redis-unreachable', redis: shown, attempt, retryInMs: delay, error: this.lastError },
          `Redis at ${shown} is unreachable (${this.lastError}); retrying in ${delay} ms`,
        );
        this.wasDown = true;
        return delay;
      },
    });
    this.client = new Client({ redis: this.redis, workerName: 'qless-worker-supervisor' });
    this.calls = new SupervisorCalls(this.client);
    this.redis.on('error', (error: Error) => {
      this.lastError = describeConnectionError(error);
    });
    this.redis.on('ready', () => {
      this.lastError = 'connection closed';
      if (this.wasDown)
        this.logger.info({ event: 'redis-reachable', redis: shown }, `Redis at ${shown} is reachable again`);
      this.wasDown = false;
      for (const resolve of this.readyWaiters.splice(0)) resolve();
    });
  }

  private get isReady(): boolean {
    return this.redis.status === 'ready';
  }

  /**
   * Starts connecting; resolves once Redis answered (possibly after many retries) and its user may
   * run a pool (an ACL refusal is logged and checked again, not fatal).
   */
  whenReady(): Promise<void> {
    const ready = this.isReady ? Promise.resolve() : new Promise<void>((resolve) => this.readyWaiters.push(resolve));
    if (this.redis.status === 'wait') this.redis.connect().catch(() => undefined);
    return ready.then(() =>
      waitForWorkerAccess(this.client, this.url, {
        signal: this.closing.signal,
        onRefused: (problem, user, retryInMs) =>
          this.logger.error(
            { user, problem, retryInMs },
            `Redis user ${user} may not do what qless-worker needs (${problem}); no worker starts until it may: ` +
              `see "ACL users" in the README for the rule. Checking again in ${retryInMs} ms`,
          ),
        onAllowed: (user) => this.logger.info({ user }, `Redis user ${user} may now run the pool`),
      }),
    );
  }

  async close(): Promise<void> {
    this.closing.abort();
    for (const resolve of this.readyWaiters.splice(0)) resolve();
    if (!this.isReady) {
      this.redis.disconnect();
      return;
    }
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}
