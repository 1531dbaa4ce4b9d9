// `npm run bench`: the worker pool's figures against issue 3's targets, measured with the real
// bin/qless-worker on a private redis-server (see bench/README.md). Progress goes to stderr, the
// report to stdout (tables, or one JSON document with --json).
import { mkdtempSync, rmSync } from 'node:fs';
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

async function bench(options: BenchOptions): Promise<BenchReport> {
  const progress = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  // Before anything is measured: a --baseline that cannot be built fails the run at once.
  const baseline: BaselineTree | undefined = options.baseline
    ? await prepareBaselineTree(options.baseline, progress)
    : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'qless-bench-'));
  const redis = await BenchRedis.start();
  let failed = true;
  try {
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
          report.dashboard = await measureDashboard(redis, { ...common, jobs: options.dashboardJobs });
          break;
        case 'failover':
          report.failover = await measureFailover({ ...common, failovers: options.failovers });
          break;
        case 'metrics':
          report.metrics = await measureMetrics(redis, {
            jobs: options.jobs,
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
  } finally {
    await redis.stop();
    // The logs of a failed run say why it failed.
    if (options.keep || failed) progress(`qless-worker logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
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
