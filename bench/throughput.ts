// Part 1, throughput: N no-op jobs are put first, then a pool is started on them; jobs per second
// from the first pop to the last completion, both taken from Redis:
// - first pop: the first job put has priority 1 (so it is the first any worker pops) and is
//   tracked, so its pop publishes on `ql:popped`; the bench, idle at that moment, notes it;
// - last completion: the highest score in `ql:completed` (the script's fractional `now`).
// Redis's cost per job comes from INFO cpu (process CPU) and INFO commandstats (script time).
// The same run also gives the figures counted from the pool's spawn (what a user who starts a pool
// on a backlog waits for): the spawn time is the bench's, on the same wall clock as Redis's.
import { join } from 'node:path';
import { ChannelWaiter } from './channel-waiter.ts';
import { newJid, type BenchRedis, type PutSpec } from './bench-redis.ts';
import { BenchPool } from './pool.ts';
import type { PoolCpu, PoolRss } from './proc-stats.ts';
import type { PartSettings } from './options.ts';

const THROUGHPUT_RUNS: readonly { workers: number; concurrency: number }[] = [
  { workers: 1, concurrency: 1 },
  { workers: 1, concurrency: 8 },
  { workers: 2, concurrency: 1 },
  { workers: 2, concurrency: 8 },
];

const QUEUE = 'bench-throughput';
const POLL_MS = 100;
/** A run that completes nothing for this long is reported as stuck. */
const STALL_MS = 30_000;

export interface ThroughputResult {
  workers: number;
  concurrency: number;
  jobs: number;
  /** First pop to last completion. */
  seconds: number;
  jobsPerSecond: number;
  /**
   * Jobs per second from the completion of the first quarter of the jobs to the last: the pool's
   * pace once its code is compiled (a fresh worker compiles its job path in its first thousands of
   * jobs).
   */
  jobsPerSecondAfterFirstQuarter: number;
  /** Spawn of bin/qless-worker to last completion (start-up included). */
  secondsFromSpawn: number;
  jobsPerSecondFromSpawn: number;
  /** Redis process CPU (user + sys) from pool start to the last completion, per job. */
  redisCpuUsPerJob: number;
  /** The jobs per second at which Redis alone would use one whole core (1e6 / redisCpuUsPerJob). */
  redisCapJobsPerSecond: number;
  /** Time Redis spent inside script calls, per job. */
  scriptUsPerJob: number;
  scriptCallsPerJob: number;
  /** CPU of all worker processes together from the first pop to the last completion, per job. */
  workerCpuUsPerJob: number;
  /** CPU of the supervisor over the same span, per job. */
  supervisorCpuUsPerJob: number;
  /** The same two from the spawn (each process's whole life) to the last completion, per job. */
  workerCpuUsPerJobFromSpawn: number;
  supervisorCpuUsPerJobFromSpawn: number;
  /** Spawn of bin/qless-worker to the first pop. */
  startupMs: number;
  /** Right after the last completion. */
  rssAfter: PoolRss;
}

export interface ThroughputSettings extends PartSettings {
  jobs: number;
}

/**
 * CPU seconds of every worker together. A slot without a process counts as `missing`: NaN at the
 * end (a worker died meanwhile), 0 at the first pop (a worker of a larger pool not forked yet).
 */
function sumWorkers(cpu: PoolCpu, missing = Number.NaN): number {
  return cpu.workersSeconds.reduce<number>((sum, seconds) => sum + (seconds ?? missing), 0);
}

async function waitForAll(bench: BenchRedis, jobs: number, pool: BenchPool): Promise<void> {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const [[, completed], [, failures]] = ((await bench.redis
      .pipeline()
      .zcard('ql:completed')
      .scard('ql:failures')
      .exec()) ?? []) as [[Error | null, number], [Error | null, number]];
    if (failures > 0) {
      const groups = await bench.redis.smembers('ql:failures');
      throw new Error(`jobs failed (groups ${groups.join(', ')}); see ${pool.logFile}`);
    }
    if (completed >= jobs) return;
    if (pool.exited)
      throw new Error(`qless-worker exited with ${completed} of ${jobs} jobs completed; see ${pool.logFile}`);
    if (completed !== last) {
      last = completed;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > STALL_MS) {
      throw new Error(`stuck at ${completed} of ${jobs} completed jobs; see ${pool.logFile}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** What sets a run apart from a plain one: more qless-worker options, or another tree's launcher. */
export interface RunVariant {
  /** Appended to the run's directory name. */
  name: string;
  args: string[];
  /** Another bin/qless-worker (default this tree's). */
  bin?: string;
  /** Hot reload on, as qless-worker's default (default off here: --no-watch). */
  watch?: boolean;
}

/** CPU seconds of the supervisor (NaN if it is unknown). */
const supervisorOf = (cpu: PoolCpu): number => cpu.supervisorSeconds ?? Number.NaN;

/** One run; `variant` adds qless-worker options (and names the run's directory after them). */
export async function runOnce(
  bench: BenchRedis,
  workers: number,
  concurrency: number,
  settings: ThroughputSettings,
  variant: RunVariant = { name: '', args: [] },
): Promise<ThroughputResult> {
  const { jobs } = settings;
  await bench.reset(jobs);
  const first = newJid();
  const specs: PutSpec[] = [{ jid: first, klass: 'noop', priority: 1 }];
  for (let i = 1; i < jobs; i++) specs.push({ jid: newJid(), klass: 'noop' });
  await bench.put(QUEUE, specs);
  await bench.client.call('track', 'track', first);

  const popped = await ChannelWaiter.open(bench.subscriber(), ['ql:popped']);
  try {
    const firstPop = popped.next((_, jid) => jid === first, 60_000, `pop of the first job`);
    await bench.resetCommandStats();
    const cpuBefore = await bench.cpuSeconds();
    const run = BenchPool.start({
      redisUrl: bench.url,
      queue: QUEUE,
      workers,
      concurrency,
      interval: 5,
      logLevel: settings.logLevel,
      dir: join(settings.dir, `throughput-w${workers}-c${concurrency}${variant.name}`),
      name: 'bench',
      args: variant.args,
      bin: variant.bin,
      watch: variant.watch,
    });
    try {
      const firstPopAt = await run.guard(firstPop);
      const cpuAtFirstPop = run.cpu();
      await waitForAll(bench, jobs, run);
      const rssAfter = run.rss();
      const cpuAtEnd = run.cpu();
      const cpuAfter = await bench.cpuSeconds();
      const script = await bench.scriptTotals();
      const newest = await bench.redis.zrevrange('ql:completed', 0, 0, 'WITHSCORES');
      const lastCompletionAt = Number(newest[1]) * 1000;
      const quarter = Math.max(1, Math.floor(jobs / 4));
      const quarterDone = await bench.redis.zrange('ql:completed', quarter - 1, quarter - 1, 'WITHSCORES');
      const quarterAt = Number(quarterDone[1]) * 1000;
      const seconds = (lastCompletionAt - firstPopAt) / 1000;
      const secondsFromSpawn = (lastCompletionAt - run.spawnedAt) / 1000;
      const redisCpuUsPerJob = ((cpuAfter - cpuBefore) * 1e6) / jobs;
      const perJob = (cpuSeconds: number): number => (cpuSeconds * 1e6) / jobs;
      return {
        workers,
        concurrency,
        jobs,
        seconds,
        jobsPerSecond: jobs / seconds,
        jobsPerSecondAfterFirstQuarter: (jobs - quarter) / ((lastCompletionAt - quarterAt) / 1000),
        secondsFromSpawn,
        jobsPerSecondFromSpawn: jobs / secondsFromSpawn,
        redisCpuUsPerJob,
        redisCapJobsPerSecond: 1e6 / redisCpuUsPerJob,
        scriptUsPerJob: script.usec / jobs,
        scriptCallsPerJob: script.calls / jobs,
        workerCpuUsPerJob: perJob(sumWorkers(cpuAtEnd) - sumWorkers(cpuAtFirstPop, 0)),
        supervisorCpuUsPerJob: perJob(supervisorOf(cpuAtEnd) - supervisorOf(cpuAtFirstPop)),
        workerCpuUsPerJobFromSpawn: perJob(sumWorkers(cpuAtEnd)),
        supervisorCpuUsPerJobFromSpawn: perJob(supervisorOf(cpuAtEnd)),
        startupMs: firstPopAt - run.spawnedAt,
        rssAfter,
      };
    } finally {
      await run.stop();
    }
  } finally {
    popped.close();
  }
}

export async function measureThroughput(bench: BenchRedis, settings: ThroughputSettings): Promise<ThroughputResult[]> {
  const results: ThroughputResult[] = [];
  for (const { workers, concurrency } of THROUGHPUT_RUNS) {
    settings.progress(`throughput: ${settings.jobs} no-op jobs, ${workers} worker(s) at concurrency ${concurrency}`);
    const result = await runOnce(bench, workers, concurrency, settings);
    settings.progress(`  ${Math.round(result.jobsPerSecond)} jobs/s over ${result.seconds.toFixed(2)} s`);
    results.push(result);
  }
  return results;
}
