// Part 2, idle pick-up latency: an idle pool (every worker asleep for --interval), jobs put one
// at a time; for each, put → handler start. The put time is taken just before the put is sent;
// the start time is stamped by bench/handlers/stamp.ts into the job's data and read back from
// Redis. The next job is put only after the previous one completed and a short pause, so the
// worker is asleep again (not still in its after-job poll) when the put arrives.
import { join } from 'node:path';
import { ChannelWaiter, completedEvent } from './channel-waiter.ts';
import { newJid, type BenchRedis } from './bench-redis.ts';
import { epochMs } from './clock.ts';
import { BenchPool } from './pool.ts';
import { mean, median, percentile } from './statistics.ts';
import type { IdlePartSettings } from './options.ts';

const LATENCY_POOLS: readonly number[] = [1, 2];

const QUEUE = 'bench-latency';
/** Pause after each completion before the next put. */
const GAP_MS = 20;
const JOB_TIMEOUT_MS = 30_000;
/** Rounds of warm-up jobs at most, until every worker has loaded the handler. */
const WARM_UP_ROUNDS = 20;

export interface LatencyResult {
  workers: number;
  jobs: number;
  medianMs: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
  /** Jobs started by each slot's worker (a check that the whole pool took part). */
  jobsPerWorker: number[];
}

interface LatencySettings extends IdlePartSettings {
  jobs: number;
}

interface Stamp {
  startedAt: number;
  pid: number;
}

async function readStamp(bench: BenchRedis, jid: string): Promise<Stamp> {
  const data = await bench.redis.hget(`ql:j:${jid}`, 'data');
  const parsed = JSON.parse(data ?? 'null') as Partial<Stamp> | null;
  if (typeof parsed?.startedAt !== 'number' || typeof parsed.pid !== 'number')
    throw new Error(`job ${jid} has no start stamp in its data: ${data}`);
  return { startedAt: parsed.startedAt, pid: parsed.pid };
}

/** Runs stamp jobs until every worker of the pool has run one (its handler module is loaded). */
async function warmUp(bench: BenchRedis, waiter: ChannelWaiter, pool: BenchPool): Promise<void> {
  const pending = new Set(pool.slotPids());
  for (let round = 0; round < WARM_UP_ROUNDS && pending.size > 0; round++) {
    const jids = Array.from({ length: pool.settings.workers }, () => newJid());
    const done = jids.map((jid) =>
      waiter.next(completedEvent(jid), JOB_TIMEOUT_MS, `completion of warm-up job ${jid}`),
    );
    await bench.put(
      QUEUE,
      jids.map((jid) => ({ jid, klass: 'stamp' })),
    );
    await Promise.all(done);
    for (const jid of jids) pending.delete((await readStamp(bench, jid)).pid);
  }
}

async function measurePool(bench: BenchRedis, workers: number, settings: LatencySettings): Promise<LatencyResult> {
  await bench.reset(settings.jobs);
  const waiter = await ChannelWaiter.open(bench.subscriber(), ['ql:log']);
  const pool = BenchPool.startIdle(bench.url, settings, {
    queue: QUEUE,
    workers,
    dir: join(settings.dir, `latency-w${workers}`),
  });
  try {
    await pool.waitUntilPolling(bench.redis);
    await warmUp(bench, waiter, pool);
    const puts: { jid: string; putAt: number }[] = [];
    for (let i = 0; i < settings.jobs; i++) {
      await new Promise((resolve) => setTimeout(resolve, GAP_MS));
      const jid = newJid();
      const done = waiter.next(completedEvent(jid), JOB_TIMEOUT_MS, `completion of job ${jid}`);
      const putAt = epochMs();
      await bench.client.call('put', bench.client.workerName, QUEUE, jid, 'stamp', '{}', 0);
      await done;
      puts.push({ jid, putAt });
    }
    const slotOf = new Map(pool.slotPids().map((pid, slot) => [pid, slot]));
    const jobsPerWorker = Array.from({ length: workers }, () => 0);
    const latencies: number[] = [];
    for (const { jid, putAt } of puts) {
      const stamp = await readStamp(bench, jid);
      latencies.push(stamp.startedAt - putAt);
      const slot = slotOf.get(stamp.pid);
      if (slot !== undefined) jobsPerWorker[slot]++;
    }
    return {
      workers,
      jobs: latencies.length,
      medianMs: median(latencies),
      p99Ms: percentile(latencies, 99),
      meanMs: mean(latencies),
      maxMs: Math.max(...latencies),
      jobsPerWorker,
    };
  } finally {
    waiter.close();
    await pool.stop();
  }
}

export async function measureLatency(bench: BenchRedis, settings: LatencySettings): Promise<LatencyResult[]> {
  const results: LatencyResult[] = [];
  for (const workers of LATENCY_POOLS) {
    settings.progress(
      `latency: ${settings.jobs} jobs put one at a time into an idle pool of ${workers} worker(s), ` +
        `--interval ${settings.interval}`,
    );
    const result = await measurePool(bench, workers, settings);
    settings.progress(`  median ${result.medianMs.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms`);
    results.push(result);
  }
  return results;
}
