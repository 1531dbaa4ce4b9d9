// The live status of qless-worker pools, published by each pool's supervisor for dashboards and
// `qless workers`. It lives under a key prefix of our own, outside `ql:`: other qless clients
// never read it and the qless script never touches it.
//
//   qless-worker:pool:<prefix>   a string: one pool's record (JSON below), with a TTL of a few
//                                refresh periods, so a pool that dies leaves nothing behind
//   qless-worker:pools           a sorted set: every pool prefix, scored by when its record
//                                expires (ms since the epoch); readers skip and prune the past
import type { Redis } from 'ioredis';

export const POOL_KEY_PREFIX = 'qless-worker:pool:';
export const POOLS_INDEX_KEY = 'qless-worker:pools';
/** The version of the record's shape; a reader skips records of another version. */
export const POOL_STATUS_SCHEMA = 1;

/** How a worker slot is doing. */
export type PoolSlotState = 'running' | 'starting' | 'backing-off' | 'stopping';

/** A job a worker process is running now. */
export interface PoolJob {
  jid: string;
  queue: string;
  klass: string;
  /** When the worker started running it, ms since the epoch. */
  startedAt: number;
}

/** One worker slot of a pool: the process in it now (if any) and what it runs. */
export interface PoolSlot {
  slot: number;
  /** The qless worker name, `<prefix>-<slot>`. */
  worker: string;
  /** The process in the slot now; null while the slot is empty (backing off, or between processes). */
  pid: number | null;
  state: PoolSlotState;
  /** When the current process started, ms since the epoch; null when there is none. */
  startedAt: number | null;
  /** How many times this slot's process was replaced (for any reason). */
  restarts: number;
  /** Resident memory of the current process in bytes, as last sampled; null when unknown. */
  rssBytes: number | null;
  jobs: PoolJob[];
}

/** The options a pool runs with, as a reader may show them (never the Redis URL or a password). */
export interface PoolOptions {
  queues: string[];
  workers: number;
  concurrency: number;
  /** Seconds between polls of an idle worker. */
  interval: number;
  /** The handler project. */
  path: string;
  reserver: string;
}

/** One pool's record (`qless-worker:pool:<prefix>`). */
export interface PoolStatus {
  schema: typeof POOL_STATUS_SCHEMA;
  /** The pool's worker name prefix (`--name`); its workers are `<prefix>-<slot>`. */
  prefix: string;
  host: string;
  /** The supervisor's pid. */
  pid: number;
  /** qless-worker's version. */
  version: string;
  /** When the supervisor started, ms since the epoch. */
  startedAt: number;
  /** When this record was written, ms since the epoch. */
  updatedAt: number;
  options: PoolOptions;
  /** Polling paused (USR2) until CONT. Absent in records of versions before it was added. */
  paused?: boolean;
  /** Shutting down (TERM/INT/QUIT): its workers take no new job. Absent in records of versions before it was added. */
  stopping?: boolean;
  slots: PoolSlot[];
}

export function poolKey(prefix: string): string {
  return `${POOL_KEY_PREFIX}${prefix}`;
}

/** Writes (or refreshes) a pool's record, expiring `ttlMs` from now unless written again. */
export async function publishPool(redis: Redis, status: PoolStatus, ttlMs: number): Promise<void> {
  const expiresAt = Date.now() + ttlMs;
  await redis
    .multi()
    .set(poolKey(status.prefix), JSON.stringify(status), 'PX', ttlMs)
    .zadd(POOLS_INDEX_KEY, expiresAt, status.prefix)
    .zremrangebyscore(POOLS_INDEX_KEY, '-inf', Date.now())
    .exec();
}

/** Removes a pool's record at once (a clean shutdown). */
export async function unpublishPool(redis: Redis, prefix: string): Promise<void> {
  await redis.multi().del(poolKey(prefix)).zrem(POOLS_INDEX_KEY, prefix).exec();
}

function parseStatus(text: string | null): PoolStatus | undefined {
  if (text === null) return undefined;
  try {
    const status = JSON.parse(text) as PoolStatus;
    return status?.schema === POOL_STATUS_SCHEMA ? status : undefined;
  } catch {
    return undefined;
  }
}

/** Reads the published status of live pools. */
export class Pools {
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  /** Every live pool, by prefix. */
  async list(): Promise<PoolStatus[]> {
    const prefixes = await this.#redis.zrangebyscore(POOLS_INDEX_KEY, Date.now(), '+inf');
    if (prefixes.length === 0) return [];
    const texts = await this.#redis.mget(...prefixes.map(poolKey));
    return texts
      .map(parseStatus)
      .filter((status): status is PoolStatus => status !== undefined)
      .sort((a, b) => a.prefix.localeCompare(b.prefix));
  }

  /** One pool's status, if it is live. */
  async get(prefix: string): Promise<PoolStatus | undefined> {
    return parseStatus(await this.#redis.get(poolKey(prefix)));
  }

  /** The live pool slot that a qless worker name belongs to, with its pool. */
  async findWorker(name: string): Promise<{ pool: PoolStatus; slot: PoolSlot } | undefined> {
    for (const pool of await this.list()) {
      const slot = pool.slots.find((candidate) => candidate.worker === name);
      if (slot) return { pool, slot };
    }
    return undefined;
  }
}
