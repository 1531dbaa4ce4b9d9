// Part 4, memory at rest: RSS of the supervisor and of each worker of an idle pool, once every
// worker has started polling and had a moment to settle. (RSS after a throughput run is taken
// by the throughput part, right after its last completion.) The defaults part samples its idle
// pools the same way (idlePoolMemory), with PSS beside RSS.
import { join } from 'node:path';
import type { BenchRedis } from './bench-redis.ts';
import { BenchPool } from './pool.ts';
import type { PoolPss, PoolRss } from './proc-stats.ts';
import type { IdlePartSettings } from './options.ts';

const QUEUE = 'bench-memory';
const WORKERS = 2;
const SETTLE_MS = 2_000;

type MemorySettings = IdlePartSettings;

export interface MemoryResult {
  workers: number;
  idle: PoolRss;
  idlePss: PoolPss;
}

/** What an idle pool holds, per process. */
export interface IdlePoolMemory {
  rss: PoolRss;
  pss: PoolPss;
}

/**
 * Starts a pool (--concurrency 1) on an empty database, waits until every worker polls and then
 * `settleMs` more (default SETTLE_MS), and samples each process's RSS and PSS. `bin` runs another
 * tree's qless-worker.
 */
export async function idlePoolMemory(
  bench: BenchRedis,
  settings: MemorySettings,
  pool: { workers: number; dir: string; bin?: string; watch?: boolean },
  settleMs = SETTLE_MS,
): Promise<IdlePoolMemory> {
  await bench.reset(0);
  const run = BenchPool.startIdle(bench.url, settings, { queue: QUEUE, ...pool });
  try {
    await run.waitUntilPolling(bench.redis);
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    return { rss: run.rss(), pss: run.pss() };
  } finally {
    await run.stop();
  }
}

export async function measureIdleMemory(bench: BenchRedis, settings: MemorySettings): Promise<MemoryResult> {
  settings.progress(`memory: RSS of an idle pool of ${WORKERS} workers`);
  const { rss, pss } = await idlePoolMemory(bench, settings, { workers: WORKERS, dir: join(settings.dir, 'memory') });
  return { workers: WORKERS, idle: rss, idlePss: pss };
}
