// Part 4, memory at rest: RSS of the supervisor and of each worker of an idle pool, once every
// worker has started polling and had a moment to settle. (RSS after a throughput run is taken
// by the throughput part, right after its last completion.)
import { join } from 'node:path';
import type { BenchRedis } from './bench-redis.ts';
import { BenchPool } from './pool.ts';
import type { PoolRss } from './proc-stats.ts';
import type { IdlePartSettings } from './options.ts';

const QUEUE = 'bench-memory';
const WORKERS = 2;
const SETTLE_MS = 2_000;

type MemorySettings = IdlePartSettings;

export interface MemoryResult {
  workers: number;
  idle: PoolRss;
}

export async function measureIdleMemory(bench: BenchRedis, settings: MemorySettings): Promise<MemoryResult> {
  settings.progress(`memory: RSS of an idle pool of ${WORKERS} workers`);
  await bench.reset(0);
  const pool = BenchPool.startIdle(bench.url, settings, {
    queue: QUEUE,
    workers: WORKERS,
    dir: join(settings.dir, 'memory'),
  });
  try {
    await pool.waitUntilPolling(bench.redis);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    return { workers: WORKERS, idle: pool.rss() };
  } finally {
    await pool.stop();
  }
}
