// Part 6, failover: a Redis Sentinel set-up of real processes (primary, replica, three sentinels,
// down-after-milliseconds 1000; test/helpers/sentinel.ts) under a pool of 2 workers that runs
// no-op jobs through the Sentinel URL; the primary gets kill -9, `--failovers` times (the dead node
// rejoins as a replica after each). Times come from one clock: the bench's. The replica's own
// `ql:log` subscription hears every completion replicated from the primary and, once promoted,
// every completion it runs itself. Completions still in the replication stream arrive after the
// kill, so the first completion of the new primary is the first one heard after the replica
// reported the primary role (polled every 5 ms; clients cannot reach it before Sentinel names
// it, which is after that).
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Client } from '../src/client/client.ts';
import { SentinelCluster } from '../test/helpers/sentinel.ts';
import { epochMs } from './clock.ts';
import { newJid } from './bench-redis.ts';
import type { PartSettings } from './options.ts';
import { BenchPool } from './pool.ts';
import { median } from './statistics.ts';

const QUEUE = 'bench-failover';
const WORKERS = 2;
/** Waiting jobs kept ahead of the pool at each kill (it must never run dry in a round). */
const BACKLOG = 40_000;
const PUT_BATCH = 1_000;
/** Completions counted before the kill, and after the first one on the new primary. */
const WINDOW_MS = 2_000;
const RESUME_TIMEOUT_MS = 60_000;
/** The goal: working again within this long of Sentinel's promotion. */
export const FAILOVER_RESUME_TARGET_MS = 2_000;

export interface FailoverSample {
  /** kill → a sentinel names the replica as primary (polled every 20 ms). */
  promotionMs: number;
  /** promotion → the first job completed on the new primary. */
  resumedAfterPromotionMs: number;
  /** kill → that completion. */
  resumedAfterKillMs: number;
  /** Completions per second over the WINDOW_MS before the kill, and after the first one on the new primary. */
  jobsPerSecondBefore: number;
  jobsPerSecondAfter: number;
}

export interface FailoverResult {
  workers: number;
  windowMs: number;
  samples: FailoverSample[];
  medianPromotionMs: number;
  medianResumedAfterPromotionMs: number;
  medianResumedAfterKillMs: number;
  maxResumedAfterPromotionMs: number;
}

export interface FailoverSettings extends PartSettings {
  failovers: number;
}

async function topUp(client: Client): Promise<void> {
  const missing = BACKLOG - (await client.queue(QUEUE).length());
  for (let start = 0; start < missing; start += PUT_BATCH) {
    const batch = client.batch();
    for (let i = start; i < Math.min(missing, start + PUT_BATCH); i++)
      batch.call('put', client.workerName, QUEUE, newJid(), 'noop', '{}', 0);
    const failed = (await batch.exec()).find((result) => !result.ok);
    if (failed && !failed.ok) throw failed.error;
  }
}

/** Arrival times (bench clock) of the `completed` events on a node's ql:log. */
async function listenForCompletions(port: number, password?: string): Promise<{ times: number[]; close(): void }> {
  const subscriber = new Redis(port, '127.0.0.1', { password });
  subscriber.on('error', () => undefined);
  const times: number[] = [];
  subscriber.on('message', (_channel: string, message: string) => {
    if (message.includes('"completed"')) times.push(epochMs());
  });
  await subscriber.subscribe('ql:log');
  return { times, close: () => subscriber.disconnect() };
}

/** Resolves with the time (bench clock) a node first reports the primary role. */
async function whenPrimary(port: number, timeoutMs: number): Promise<number> {
  const redis = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const [role] = (await redis.call('ROLE')) as [string];
      if (role === 'master') return epochMs();
      if (Date.now() > deadline) throw new Error(`bench failover: the replica was not promoted within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    redis.disconnect();
  }
}

async function until(what: string, probe: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`bench failover: no ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const rate = (times: number[], from: number, to: number): number =>
  times.filter((time) => time >= from && time < to).length / ((to - from) / 1000);

export async function measureFailover(settings: FailoverSettings): Promise<FailoverResult> {
  settings.progress(`failover: kill -9 of the primary under a pool of ${WORKERS} workers, ${settings.failovers} times`);
  const cluster = await SentinelCluster.start();
  const producer = new Client({
    url: cluster.url(),
    workerName: 'bench-producer',
    redisOptions: { maxRetriesPerRequest: null },
  });
  producer.redis.on('error', () => undefined);
  const samples: FailoverSample[] = [];
  let pool: BenchPool | undefined;
  try {
    await producer.call('config.set', 'jobs-history-count', 1_000_000);
    await topUp(producer);
    pool = BenchPool.start({
      redisUrl: cluster.url(),
      queue: QUEUE,
      workers: WORKERS,
      concurrency: 1,
      interval: 1,
      logLevel: settings.logLevel,
      dir: join(settings.dir, 'failover'),
      name: 'bench',
    });
    await pool.waitUntilPolling(producer.redis);
    for (let round = 0; round < settings.failovers; round++) {
      await topUp(producer);
      const primary = await cluster.primary();
      const replica = cluster.nodes.find((node) => node !== primary);
      if (!replica) throw new Error('bench failover: no replica');
      const completions = await listenForCompletions(replica.port);
      try {
        // A full window of completions heard from the replica before the kill.
        const listeningSince = epochMs();
        await pool.guard(until('completions', () => epochMs() - listeningSince > WINDOW_MS + 200, WINDOW_MS + 1_000));
        const { node, at: killedAt } = await cluster.killPrimary();
        const [promotion, primaryAt] = await Promise.all([
          cluster.waitForPromotion(node.port),
          whenPrimary(replica.port, RESUME_TIMEOUT_MS),
        ]);
        const firstAfter = (): number | undefined => completions.times.find((time) => time > primaryAt);
        await pool.guard(until('completion on the new primary', () => firstAfter() !== undefined, RESUME_TIMEOUT_MS));
        const resumedAt = firstAfter() as number;
        await new Promise((resolve) => setTimeout(resolve, WINDOW_MS + 200));
        const sample: FailoverSample = {
          promotionMs: promotion.at - killedAt,
          resumedAfterPromotionMs: resumedAt - promotion.at,
          resumedAfterKillMs: resumedAt - killedAt,
          jobsPerSecondBefore: rate(completions.times, killedAt - WINDOW_MS, killedAt),
          jobsPerSecondAfter: rate(completions.times, resumedAt, resumedAt + WINDOW_MS),
        };
        samples.push(sample);
        settings.progress(
          `  failover ${round + 1}: promoted ${sample.promotionMs.toFixed(0)} ms after the kill, first completion ` +
            `${sample.resumedAfterPromotionMs.toFixed(0)} ms after the promotion; ` +
            `${sample.jobsPerSecondBefore.toFixed(0)} → ${sample.jobsPerSecondAfter.toFixed(0)} jobs/s`,
        );
        // The dead node comes back as a replica of the new primary, for the next round.
        await cluster.rejoin(node);
      } finally {
        completions.close();
      }
    }
  } finally {
    await pool?.stop();
    await producer.close().catch(() => undefined);
    await cluster.stop();
  }
  const resumed = samples.map((sample) => sample.resumedAfterPromotionMs);
  return {
    workers: WORKERS,
    windowMs: WINDOW_MS,
    samples,
    medianPromotionMs: median(samples.map((sample) => sample.promotionMs)),
    medianResumedAfterPromotionMs: median(resumed),
    medianResumedAfterKillMs: median(samples.map((sample) => sample.resumedAfterKillMs)),
    maxResumedAfterPromotionMs: Math.max(...resumed),
  };
}
