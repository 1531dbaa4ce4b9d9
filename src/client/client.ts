// The entry point: one Redis connection, the script, and the objects that speak qless over it.
import { hostname } from 'node:os';
import type { Redis, RedisOptions } from 'ioredis';
import { Batch } from './batch.ts';
import { Config } from './config.ts';
import { closeRedis, resolveRedisUrl } from './connection.ts';
import { openRedis } from './open-redis.ts';
import { Events } from './events.ts';
import { requireName } from './input.ts';
import { Jobs } from './jobs.ts';
import { Pools } from './pools.ts';
import { Queue } from './queue.ts';
import { asList, parseReply } from './reply.ts';
import { type QlessCaller, ScriptCaller } from './script-caller.ts';
import type { QueueCounts, ScriptArg, ScriptReply } from './types.ts';
import { Workers } from './workers.ts';

export interface ClientOptions {
  /**
   * Default: QLESS_REDIS_URL, else REDIS_URL, else redis://127.0.0.1:6379. Also rediss:// (TLS files as
   * URL parameters) and redis+sentinel://host1:26379,host2:26379/<master-name>[/db] (see redis-url.ts).
   */
  url?: string;
  /** Extra ioredis options for the connection made from `url` (e.g. `tls: { ca }`). */
  redisOptions?: RedisOptions;
  /** An existing connection to use instead of `url`; the client does not close it. */
  redis?: Redis;
  /** Name this client pops, heartbeats and completes under. Default `<hostname>-<pid>`. */
  workerName?: string;
  /** Clock in seconds since the epoch (fractions allowed). Default the system clock. */
  now?: () => number;
}

export class Client implements QlessCaller {
  /** The ioredis connection every script call goes through. */
  readonly redis: Redis;
  readonly workerName: string;
  readonly config: Config;
  readonly jobs: Jobs;
  readonly workers: Workers;
  /** The live status that qless-worker pools publish (their processes and the jobs they run). */
  readonly pools: Pools;
  readonly #caller: ScriptCaller;
  readonly #clock: () => number;
  readonly #ownsRedis: boolean;
  readonly #events = new Set<Events>();

  constructor(options: ClientOptions = {}) {
    this.workerName =
      options.workerName === undefined ? `${hostname()}-${process.pid}` : requireName(options.workerName, 'workerName');
    this.#clock = options.now ?? (() => Date.now() / 1000);
    if (options.redis) {
      this.redis = options.redis;
      this.#ownsRedis = false;
    } else {
      this.redis = openRedis(resolveRedisUrl(options.url), options.redisOptions);
      this.#ownsRedis = true;
    }
    this.#caller = new ScriptCaller(this.redis, this.#clock);
    this.config = new Config(this);
    this.jobs = new Jobs(this);
    this.workers = new Workers(this);
    this.pools = new Pools(this.redis);
  }

  /** Seconds since the epoch by this client's clock: the `now` every call sends. */
  now(): number {
    return this.#clock();
  }

  /** Raw script call: `EVALSHA sha 0 <command> <now> ...args`. Errors are typed (QlessError & co). */
  call(command: string, ...args: ScriptArg[]): Promise<ScriptReply> {
    return this.#caller.call(requireName(command, 'command'), args);
  }

  /** Collects calls to send in one round trip with `exec()`. */
  batch(): Batch {
    return new Batch(this.#caller, this.workerName);
  }

  queue(name: string): Queue {
    return new Queue(this, name);
  }

  /** Counts of every known queue, in the order they were first seen. */
  async queues(): Promise<QueueCounts[]> {
    return asList(parseReply<QueueCounts[]>(await this.call('queues'), 'queues'));
  }

  /** A new event listener with its own subscriber connection (opened on first subscription). */
  events(): Events {
    const events: Events = new Events(
      () => this.redis.duplicate(),
      () => this.#events.delete(events),
    );
    this.#events.add(events);
    return events;
  }

  /** Closes every Events object made here, then the connection if this client opened it. */
  async close(): Promise<void> {
    await Promise.all([...this.#events].map((events) => events.close()));
    if (this.#ownsRedis) await closeRedis(this.redis);
  }
}
