// The bench's private redis-server and what every part asks of it: a clean slate per run, jobs
// put in bulk, completion events, and Redis's own accounting (process CPU, script time).
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Client } from '../src/client/client.ts';
import { startRedis, type RedisServer } from '../scripts/private-redis.ts';

const PUT_BATCH = 1_000;

/** Redis-side totals of the qless script calls (INFO commandstats since the last reset). */
interface ScriptTotals {
  calls: number;
  usec: number;
}

export interface PutSpec {
  jid: string;
  klass: string;
  priority?: number;
}

export const newJid = (): string => randomUUID().replaceAll('-', '');

export class BenchRedis {
  private constructor(
    private readonly server: RedisServer,
    readonly redis: Redis,
    readonly client: Client,
  ) {}

  static async start(): Promise<BenchRedis> {
    const server = await startRedis();
    const redis = new Redis(server.url);
    const client = new Client({ redis, workerName: 'bench-producer' });
    return new BenchRedis(server, redis, client);
  }

  get url(): string {
    return this.server.url;
  }

  /** Empties the database; keeps every completed job of a run of `jobs` (qless trims at 50,000 by default). */
  async reset(jobs: number): Promise<void> {
    await this.redis.flushall();
    await this.client.call('config.set', 'jobs-history-count', Math.max(50_000, jobs + 1_000));
  }

  /** Puts the jobs in pipelines of PUT_BATCH calls, each with `{}` as data. */
  async put(queue: string, jobs: readonly PutSpec[]): Promise<void> {
    for (let start = 0; start < jobs.length; start += PUT_BATCH) {
      const batch = this.client.batch();
      for (const job of jobs.slice(start, start + PUT_BATCH)) {
        const args: (string | number)[] = [this.client.workerName, queue, job.jid, job.klass, '{}', 0];
        if (job.priority !== undefined) args.push('priority', job.priority);
        batch.call('put', ...args);
      }
      const failed = (await batch.exec()).find((result) => !result.ok);
      if (failed && !failed.ok) throw failed.error;
    }
  }

  /** A subscriber connection of its own (pub/sub takes the connection over). */
  subscriber(): Redis {
    return this.redis.duplicate();
  }

  /** used_cpu_sys + used_cpu_user of the redis-server process, in seconds. */
  async cpuSeconds(): Promise<number> {
    const info = await this.redis.info('cpu');
    const field = (name: string): number => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN);
    return field('used_cpu_sys') + field('used_cpu_user');
  }

  /** Zeroes INFO commandstats. */
  async resetCommandStats(): Promise<void> {
    await this.redis.config('RESETSTAT');
  }

  /** Script calls (EVALSHA, EVAL, FCALL and their _ro forms) since the last reset. */
  async scriptTotals(): Promise<ScriptTotals> {
    const info = await this.redis.info('commandstats');
    const totals: ScriptTotals = { calls: 0, usec: 0 };
    for (const match of info.matchAll(
      /cmdstat_(evalsha|eval|fcall|evalsha_ro|eval_ro|fcall_ro):calls=(\d+),usec=(\d+)/g,
    )) {
      totals.calls += Number(match[2]);
      totals.usec += Number(match[3]);
    }
    return totals;
  }

  async stop(): Promise<void> {
    this.redis.disconnect();
    await this.server.stop();
  }
}
