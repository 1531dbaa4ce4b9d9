// `npm run bench`: the worker pool's figures against issue 3's targets, measured with the real
// bin/qless-worker on a private redis-server (see bench/README.md). Progress goes to stderr, the
// report to stdout (tables, or one JSON document with --json).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BaselineTree, prepareBaselineTree } from './baseline-tree.ts';
import { BenchRedis } from './bench-redis.ts';
import { formatDashboard, measureDashboard } from './dashboard.ts';
import { measureDefaults } from './defaults.ts';
import { measureLatency } from './latency.ts';
import { measureMetrics } from './metrics.ts';
import { currentLoad, describeMachine } from './machine.ts';
import { measureIdleMemory } from './memory.ts';
import { BenchUsageError, parseBenchOptions, USAGE, type BenchOptions } from './options.ts';
import { measureFailover } from './failover.ts';
import { measureReloads } from './reload.ts';
import { measureReplacement } from './replacement.ts';
import { measuredRevision } from './revision.ts';
import { formatReport, judge, type BenchReport } from './report.ts';
import { measureThroughput } from './throughput.ts';

/** A part that failed: main prints one line naming it, with where its logs and stack trace are kept. */
class BenchFailure extends Error {
  override name = 'BenchFailure';
  constructor(
    readonly part: string,
    readonly dir: string,
    cause: unknown,
  ) {
    // Its first line only: e.g. playwright's messages go on with a call log.
    super((cause instanceof Error ? cause.message : String(cause)).split('\n')[0], { cause });
  }
}

async function bench(options: BenchOptions): Promise<BenchReport> {
  const progress = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  // Before anything is measured: a --baseline that cannot be built fails the run at once.
  const baseline: BaselineTree | undefined = options.baseline
    ? await prepareBaselineTree(options.baseline, progress)
    : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'qless-bench-'));
  let redis: BenchRedis | undefined;
  let current = 'start-up';
  let failed = true;
  try {
    redis = await BenchRedis.start();
    const machine = await describeMachine(redis.redis);
    const common = { interval: options.interval, logLevel: options.logLevel, dir, progress };
    const report: Omit<BenchReport, 'met' | 'targets'> = {
      machine,
      revision: measuredRevision(),
      loadAverageAtEnd: Number.NaN,
      settings: {
        jobs: options.jobs,
        latencyJobs: options.latencyJobs,
        kills: options.kills,
        reloads: options.reloads,
        interval: options.interval,
        logLevel: options.logLevel,
        defaultsJobs: options.defaultsJobs,
        pools: options.pools,
        rounds: options.rounds,
        baseline: options.baseline,
      },
    };
    for (const part of options.parts) {
      current = part;
      switch (part) {
        case 'throughput':
          report.throughput = await measureThroughput(redis, {
            jobs: options.jobs,
            logLevel: options.logLevel,
            dir,
            progress,
          });
          break;
        case 'latency':
          report.latency = await measureLatency(redis, { ...common, jobs: options.latencyJobs });
          break;
        case 'replacement':
          report.replacement = await measureReplacement(redis, { ...common, kills: options.kills });
          break;
        case 'memory':
          report.memory = await measureIdleMemory(redis, common);
          break;
        case 'reload':
          report.reload = await measureReloads(redis, { ...common, reloads: options.reloads });
          break;
        case 'dashboard':
          report.dashboard = await measureDashboard(redis, {
            ...common,
            jobs: options.dashboardJobs,
            rate: options.dashboardRate,
          });
          break;
        case 'failover':
          report.failover = await measureFailover({ ...common, failovers: options.failovers });
          break;
        case 'metrics':
          report.metrics = await measureMetrics(redis, {
            jobs: options.jobs,
            rounds: options.metricsRounds,
            logLevel: options.logLevel,
            dir,
            progress,
          });
          break;
        case 'defaults':
          report.defaults = await measureDefaults(redis, {
            jobs: options.defaultsJobs,
            pools: options.pools,
            rounds: options.rounds,
            baseline,
            logLevel: options.logLevel,
            dir,
            progress,
          });
          break;
      }
    }
    report.loadAverageAtEnd = currentLoad();
    failed = false;
    return judge(report);
  } catch (error) {
    if (error instanceof BenchUsageError) throw error;
    // The logs of a failed run, and its stack trace, say why it failed.
    writeFileSync(join(dir, 'error.txt'), `${error instanceof Error ? (error.stack ?? error.message) : error}\n`);
    throw new BenchFailure(current, dir, error);
  } finally {
    await redis?.stop();
    if (options.keep && !failed) progress(`qless-worker logs kept in ${dir}`);
    else if (!failed) rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  let options: BenchOptions | undefined;
  try {
    options = parseBenchOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    process.stderr.write(`${error.message}\n${USAGE}\n`);
    return 2;
  }
  if (!options) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let report: BenchReport;
  try {
    report = await bench(options);
  } catch (error) {
    if (error instanceof BenchFailure) {
      process.stderr.write(
        `bench: failed in ${error.part}: ${error.message} (logs and the stack trace kept in ${error.dir})\n`,
      );
      return 1;
    }
    // A --baseline that names no usable commit is found only once git is asked.
    if (!(error instanceof BenchUsageError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  const text = `${formatReport(report)}${report.dashboard ? `\n${formatDashboard(report.dashboard)}` : ''}`;
  process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${text}\n`);
  return 0;
}

process.exitCode = await main();
