// Keeps the pool's status record in Redis (qless-worker:pool:<prefix>, src/client/pools.ts) for
// dashboards and `qless workers`: written every REFRESH_MS, and soon after a change (a fork, an
// exit, a held-jobs report), at most once every MIN_GAP_MS. It expires TTL_MS after the last
// write, so a pool that dies leaves nothing behind for long; a clean shutdown deletes it. One
// write at a time: while Redis is away the next one waits for the last instead of piling up.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { POOL_STATUS_SCHEMA, type PoolStatus } from '../client/pools.ts';
import type { WorkerOptions } from '../protocol/options.ts';
import { packageVersion } from '../version.ts';
import type { SlotView } from './pool-view.ts';
import type { SupervisorCalls } from './redis-calls.ts';
import { withTimeout } from './time-limit.ts';

export const REFRESH_MS = 2_000;
/** Three refreshes: a record older than that belongs to a pool that is gone. */
export const TTL_MS = 3 * REFRESH_MS;
const MIN_GAP_MS = 500;
const UNPUBLISH_WAIT_MS = 2_000;

/** What changes from one write to the next. */
export interface PoolMoment {
  /** Wanted workers (--workers, changed by TTIN/TTOU). */
  target: number;
  paused: boolean;
  stopping: boolean;
  slots: SlotView[];
}

/** The record, from the options and the moment. Never the Redis URL: it may hold a password. */
export function poolStatus(options: WorkerOptions, startedAt: number, moment: PoolMoment, now: number): PoolStatus {
  return {
    schema: POOL_STATUS_SCHEMA,
    prefix: options.name,
    host: hostname(),
    pid: process.pid,
    version: packageVersion(),
    startedAt,
    updatedAt: now,
    options: {
      queues: options.queues,
      workers: moment.target,
      concurrency: options.concurrency,
      interval: options.interval,
      path: options.path,
      reserver: options.reserver,
    },
    paused: moment.paused,
    stopping: moment.stopping,
    slots: moment.slots.map(({ polling: _, ...slot }) => slot),
  };
}

export class PoolStatusPublisher {
  private readonly startedAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private lastWriteAt = -Infinity;
  private dirty = false;
  private stopped = false;
  private failing = false;

  constructor(
    private readonly options: WorkerOptions,
    private readonly moment: () => PoolMoment,
    private readonly calls: SupervisorCalls,
    private readonly logger: Logger,
  ) {}

  /** Writes now, then every REFRESH_MS. */
  start(): void {
    this.schedule(0);
  }

  /** Something shown changed: written soon. */
  changed(): void {
    if (this.stopped) return;
    this.dirty = true;
    if (this.writing !== undefined) return;
    this.schedule(Math.max(0, this.lastWriteAt + MIN_GAP_MS - Date.now()));
  }

  /** No more writes; the record is deleted (a clean shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    try {
      await withTimeout(
        (this.writing ?? Promise.resolve()).then(() => this.calls.unpublishPool(this.options.name)),
        UNPUBLISH_WAIT_MS,
      );
    } catch (error) {
      this.logger.warn({ err: error }, 'could not delete the pool status record; it expires on its own');
    }
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.write(), delayMs);
    this.timer.unref();
  }

  private write(): void {
    if (this.stopped || this.writing !== undefined) return;
    this.dirty = false;
    this.lastWriteAt = Date.now();
    const status = poolStatus(this.options, this.startedAt, this.moment(), this.lastWriteAt);
    this.writing = this.calls
      .publishPool(status, TTL_MS)
      .then(
        () => {
          if (this.failing) this.logger.info({ event: 'pool-status-written' }, 'pool status written again');
          this.failing = false;
        },
        (error: unknown) => {
          if (!this.failing) this.logger.warn({ err: error }, 'could not write the pool status; retrying');
          this.failing = true;
        },
      )
      .finally(() => {
        this.writing = undefined;
        if (this.stopped) return;
        const sinceWrite = Date.now() - this.lastWriteAt;
        this.schedule(this.dirty ? Math.max(0, MIN_GAP_MS - sinceWrite) : Math.max(0, REFRESH_MS - sinceWrite));
      });
  }
}
