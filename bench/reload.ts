// Part 5, hot reload: an idle pool of 2 workers watching its handler project (the one bench part
// that runs with the watcher on); the handler file is rewritten `--reloads` times, each time with
// a new version number that the handler stores in its job's data. After each change, jobs are put
// one at a time until one completes with the new version: the time from the write to that
// completion is the reload time. The supervisor's and the workers' RSS and the supervisor's open
// file descriptors are read before the first change and after the last, to show whether
// reloads leave anything behind.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChannelWaiter, completedEvent } from './channel-waiter.ts';
import { newJid, type BenchRedis } from './bench-redis.ts';
import { epochMs } from './clock.ts';
import { BenchPool } from './pool.ts';
import type { PoolRss } from './proc-stats.ts';
import { median, percentile } from './statistics.ts';
import type { IdlePartSettings } from './options.ts';

const QUEUE = 'bench-reload';
const WORKERS = 2;
const JOB_TIMEOUT_MS = 30_000;
/** Pause between the jobs put while waiting for the new code. */
const GAP_MS = 20;
/** Let the pool settle before the figures at rest are read. */
const SETTLE_MS = 2_000;
/** A change that has not reached a job in this long counts as a failed run. */
const RELOAD_TIMEOUT_MS = 60_000;

interface ReloadSettings extends IdlePartSettings {
  reloads: number;
}

export interface ReloadResult {
  workers: number;
  reloads: number;
  /** Handler file written → first job on the new code completed. */
  medianMs: number;
  p99Ms: number;
  maxMs: number;
  /** Jobs that ran an older version after the file had been rewritten (put before the pool noticed). */
  staleJobs: number;
  /** The latest start of such a job after its write, ms (0 when none ran): how long the old code kept taking jobs. */
  staleWindowMaxMs: number;
  /** Worker processes that ran at least one job. */
  workerProcesses: number;
  before: PoolRss & { supervisorFds: number | undefined };
  after: PoolRss & { supervisorFds: number | undefined };
}

function handlerSource(version: number): string {
  return `// Written by the bench's reload part: version ${version}.
export default function reload(job: { data: { version?: number; pid?: number; startedAt?: number } }): void {
  job.data.startedAt = performance.timeOrigin + performance.now();
  job.data.version = ${version};
  job.data.pid = process.pid;
}
`;
}

function openFds(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

interface Ran {
  version: number;
  pid: number;
  /** Epoch ms at which the handler started. */
  startedAt: number;
}

async function runOne(bench: BenchRedis, waiter: ChannelWaiter, pool: BenchPool): Promise<Ran> {
  const jid = newJid();
  const done = waiter.next(completedEvent(jid), JOB_TIMEOUT_MS, `completion of job ${jid}`);
  await bench.put(QUEUE, [{ jid, klass: 'reload' }]);
  await pool.guard(done);
  const data = JSON.parse((await bench.redis.hget(`ql:j:${jid}`, 'data')) ?? 'null') as Partial<
    Record<keyof Ran, unknown>
  > | null;
  if (typeof data?.version !== 'number' || typeof data.pid !== 'number' || typeof data.startedAt !== 'number') {
    throw new Error(`job ${jid} completed without the handler's version, pid and start time in its data`);
  }
  return { version: data.version, pid: data.pid, startedAt: data.startedAt };
}

export async function measureReloads(bench: BenchRedis, settings: ReloadSettings): Promise<ReloadResult> {
  settings.progress(`reload: ${settings.reloads} handler changes under an idle pool of ${WORKERS} workers (watching)`);
  await bench.reset(0);
  const dir = join(settings.dir, 'reload');
  const handlers = join(dir, 'handlers');
  mkdirSync(handlers, { recursive: true });
  const handlerFile = join(handlers, 'reload.ts');
  writeFileSync(handlerFile, handlerSource(0));
  const waiter = await ChannelWaiter.open(bench.subscriber(), ['ql:log']);
  const pool = BenchPool.startIdle(bench.url, settings, {
    queue: QUEUE,
    workers: WORKERS,
    dir,
    path: handlers,
    watch: true,
  });
  try {
    await pool.waitUntilPolling(bench.redis);
    const pids = new Set<number>();
    for (let i = 0; i < WORKERS * 2; i++) pids.add((await runOne(bench, waiter, pool)).pid);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const before = { ...pool.rss(), supervisorFds: openFds(pool.pid) };

    const samples: number[] = [];
    let staleJobs = 0;
    let staleWindowMaxMs = 0;
    for (let version = 1; version <= settings.reloads; version++) {
      const writtenAt = epochMs();
      writeFileSync(handlerFile, handlerSource(version));
      for (;;) {
        const ran = await runOne(bench, waiter, pool);
        pids.add(ran.pid);
        if (ran.version === version) break;
        if (ran.version > version)
          throw new Error(`a job ran version ${ran.version}, newer than the ${version} just written`);
        staleJobs++;
        staleWindowMaxMs = Math.max(staleWindowMaxMs, ran.startedAt - writtenAt);
        if (epochMs() - writtenAt > RELOAD_TIMEOUT_MS)
          throw new Error(
            `version ${version} of the handler did not reach a job within ${RELOAD_TIMEOUT_MS} ms; see ${pool.logFile}`,
          );
        await new Promise((resolve) => setTimeout(resolve, GAP_MS));
      }
      samples.push(epochMs() - writtenAt);
      if (version % 25 === 0) settings.progress(`  ${version} reloads, median ${median(samples).toFixed(0)} ms`);
    }
    // The last change's old workers are still draining; let them go before reading the figures.
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const after = { ...pool.rss(), supervisorFds: openFds(pool.pid) };
    return {
      workers: WORKERS,
      reloads: samples.length,
      medianMs: median(samples),
      p99Ms: percentile(samples, 99),
      maxMs: Math.max(...samples),
      staleJobs,
      staleWindowMaxMs,
      workerProcesses: pids.size,
      before,
      after,
    };
  } finally {
    waiter.close();
    await pool.stop();
  }
}
