// Part 7, the pool at its defaults (issue 12): what a user gets from `qless-worker` with
// `--workers 2 --concurrency 1` and nothing else that changes speed. Each round drains
// --defaults-jobs no-op jobs once with each pool of --pools (as part 1 does: bench/throughput.ts),
// counted from the pool's spawn, and samples an idle pool at the defaults (as part 4 does:
// bench/memory.ts). With --baseline, every measurement is made with the work tree and then with
// the other commit's tree (its own bin/qless-worker, our bench/handlers, the same redis-server
// flushed before each run), one after the other, so the machine's load meets both alike.
import { join } from 'node:path';
import type { BaselineTree } from './baseline-tree.ts';
import type { BenchRedis } from './bench-redis.ts';
import { idlePoolMemory, type IdlePoolMemory } from './memory.ts';
import type { PartSettings, PoolShape } from './options.ts';
import { poolTotalMb } from './proc-stats.ts';
import { measuredRevision, type Revision } from './revision.ts';
import { median } from './statistics.ts';
import { runOnce, type ThroughputResult } from './throughput.ts';

/** qless-worker's own defaults. */
export const DEFAULT_POOL: PoolShape = { workers: 2, concurrency: 1 };
export const DEFAULT_INTERVAL_S = 5;
/**
 * An idle pool is sampled this long after every worker polled: V8's memory reducer trims each
 * process's heap about 8 s after it starts, which an idle pool reaches and keeps (part 4 samples
 * at 2 s, before it).
 */
export const IDLE_SETTLE_MS = 10_000;
/**
 * Jobs of the uncounted drain each side runs first: a tree's first run pays for building its
 * bundles (or, before src/launch/, for tsx compiling its files; cached afterwards) and for reading
 * them from disk, which later runs do not.
 */
const WARM_UP_JOBS = 200;

export interface DefaultsSettings extends PartSettings {
  jobs: number;
  pools: PoolShape[];
  rounds: number;
  baseline: BaselineTree | undefined;
}

/** The work tree's figures and the baseline's (empty without --baseline), each round's. */
interface Sides<T> {
  ours: T[];
  baseline: T[];
}

/** One figure, ours beside the baseline's. */
export interface Comparison {
  /** The field it comes from (stable, for machines). */
  key: string;
  /** What it is, for people. */
  figure: string;
  unit: 'jobs/s' | 'ms' | 'µs/job' | 'MiB';
  /** Each round's value, in the order run. */
  ours: number[];
  baseline: number[];
  oursMedian: number;
  baselineMedian?: number;
  /** oursMedian ÷ baselineMedian. */
  ratio?: number;
}

export interface DefaultsDrains extends PoolShape, Sides<ThroughputResult> {}

export interface DefaultsResult {
  jobs: number;
  rounds: number;
  ours: Revision;
  baseline?: { commit: string; short: string };
  /** Every run, per pool. */
  drains: DefaultsDrains[];
  /** Every idle sample (pool at the defaults). */
  idle: Sides<IdlePoolMemory>;
  /** The figures of the pool at the defaults (when --pools has it). */
  atDefaults?: Comparison[];
  /** jobs/s from the spawn, per pool. */
  byPool: (PoolShape & { jobsPerSecondFromSpawn: Comparison })[];
  idleMemory: Comparison[];
}

function compare(key: string, figure: string, unit: Comparison['unit'], values: Sides<number>): Comparison {
  const oursMedian = median(values.ours);
  if (values.baseline.length === 0) return { key, figure, unit, ...values, oursMedian };
  const baselineMedian = median(values.baseline);
  return { key, figure, unit, ...values, oursMedian, baselineMedian, ratio: oursMedian / baselineMedian };
}

const each = <T>(sides: Sides<T>, value: (sample: T) => number): Sides<number> => ({
  ours: sides.ours.map(value),
  baseline: sides.baseline.map(value),
});

type DrainFigure = Exclude<keyof ThroughputResult, 'rssAfter'>;

/** The drain figures of issue 12, item 3, in report order. */
const DRAIN_FIGURES: readonly [DrainFigure, string, Comparison['unit']][] = [
  ['jobsPerSecondFromSpawn', 'jobs/s, spawn → last completion', 'jobs/s'],
  ['jobsPerSecond', 'jobs/s, first pop → last completion', 'jobs/s'],
  ['startupMs', 'start-up, spawn → first pop', 'ms'],
  ['redisCpuUsPerJob', 'Redis CPU, spawn → last completion', 'µs/job'],
  ['workerCpuUsPerJobFromSpawn', 'workers CPU (together), spawn → last completion', 'µs/job'],
  ['workerCpuUsPerJob', 'workers CPU (together), first pop → last completion', 'µs/job'],
  ['supervisorCpuUsPerJobFromSpawn', 'supervisor CPU, spawn → last completion', 'µs/job'],
  ['supervisorCpuUsPerJob', 'supervisor CPU, first pop → last completion', 'µs/job'],
];

function idleFigures(idle: Sides<IdlePoolMemory>, workers: number): Comparison[] {
  return [
    compare(
      'supervisorRss',
      'supervisor RSS',
      'MiB',
      each(idle, (s) => s.rss.supervisorMb ?? Number.NaN),
    ),
    ...Array.from({ length: workers }, (_, slot) =>
      compare(
        `worker${slot}Rss`,
        `worker ${slot} RSS`,
        'MiB',
        each(idle, (s) => s.rss.workersMb[slot] ?? Number.NaN),
      ),
    ),
    compare(
      'totalRss',
      'total RSS',
      'MiB',
      each(idle, (s) => poolTotalMb(s.rss)),
    ),
    compare(
      'totalPss',
      'total PSS',
      'MiB',
      each(idle, (s) => poolTotalMb(s.pss)),
    ),
  ];
}

/** `2x1`: workers x concurrency. */
const shapeName = (shape: PoolShape): string => `${shape.workers}x${shape.concurrency}`;

const isDefaultPool = (shape: PoolShape): boolean =>
  shape.workers === DEFAULT_POOL.workers && shape.concurrency === DEFAULT_POOL.concurrency;

export async function measureDefaults(bench: BenchRedis, settings: DefaultsSettings): Promise<DefaultsResult> {
  const { baseline, rounds, jobs } = settings;
  const sides: { side: keyof Sides<unknown>; bin?: string }[] = [{ side: 'ours' }];
  if (baseline) sides.push({ side: 'baseline', bin: baseline.workerBin });
  const drains: DefaultsDrains[] = settings.pools.map((shape) => ({ ...shape, ours: [], baseline: [] }));
  const idle: Sides<IdlePoolMemory> = { ours: [], baseline: [] };
  settings.progress(
    `defaults: ${jobs} no-op jobs per drain, pools ${settings.pools.map(shapeName).join(', ')}, ` +
      `${rounds} round(s)${baseline ? `, ours and ${baseline.short} in turns` : ''}`,
  );
  for (const { side, bin } of sides) {
    settings.progress(`  warm-up ${side}: a drain of ${WARM_UP_JOBS} jobs at ${shapeName(DEFAULT_POOL)}, not counted`);
    await runOnce(
      bench,
      DEFAULT_POOL.workers,
      DEFAULT_POOL.concurrency,
      { ...settings, jobs: Math.min(jobs, WARM_UP_JOBS) },
      { name: `-defaults-${side}-warm-up`, args: [], bin, watch: true },
    );
  }
  for (let round = 1; round <= rounds; round++) {
    for (const drain of drains) {
      for (const { side, bin } of sides) {
        const result = await runOnce(
          bench,
          drain.workers,
          drain.concurrency,
          { ...settings, jobs },
          {
            name: `-defaults-${side}-r${round}`,
            args: [],
            bin,
            watch: true,
          },
        );
        drain[side].push(result);
        settings.progress(
          `  round ${round} ${shapeName(drain)} ${side}: ` +
            `${Math.round(result.jobsPerSecondFromSpawn)} jobs/s from spawn ` +
            `(start-up ${Math.round(result.startupMs)} ms, ${Math.round(result.jobsPerSecond)} jobs/s from first pop)`,
        );
      }
    }
    for (const { side, bin } of sides) {
      const sample = await idlePoolMemory(
        bench,
        { ...settings, interval: DEFAULT_INTERVAL_S },
        { workers: DEFAULT_POOL.workers, dir: join(settings.dir, `defaults-idle-${side}-r${round}`), bin, watch: true },
        IDLE_SETTLE_MS,
      );
      idle[side].push(sample);
      settings.progress(
        `  round ${round} idle pool ${side}: ${poolTotalMb(sample.rss).toFixed(1)} MiB RSS, ` +
          `${poolTotalMb(sample.pss).toFixed(1)} MiB PSS in all`,
      );
    }
  }
  const atDefaults = drains.find(isDefaultPool);
  return {
    jobs,
    rounds,
    ours: measuredRevision(),
    baseline: baseline && { commit: baseline.commit, short: baseline.short },
    drains,
    idle,
    atDefaults:
      atDefaults &&
      DRAIN_FIGURES.map(([key, figure, unit]) =>
        compare(
          key,
          figure,
          unit,
          each(atDefaults, (run) => run[key]),
        ),
      ),
    byPool: drains.map((drain) => ({
      workers: drain.workers,
      concurrency: drain.concurrency,
      jobsPerSecondFromSpawn: compare(
        'jobsPerSecondFromSpawn',
        shapeName(drain),
        'jobs/s',
        each(drain, (run) => run.jobsPerSecondFromSpawn),
      ),
    })),
    idleMemory: idleFigures(idle, DEFAULT_POOL.workers),
  };
}
