// What `npm run bench` prints: the figures beside their targets (issue 3) and the machine they
// were measured on, as aligned tables for people or one JSON document for machines.
import type { DashboardResult } from './dashboard.ts';
import type { DefaultsResult } from './defaults.ts';
import { DEFAULTS_TARGETS, type DefaultsMet, defaultsMet, formatDefaults } from './defaults-report.ts';
import type { FailoverResult } from './failover.ts';
import { failoverMet, formatFailover } from './failover-report.ts';
import type { LatencyResult } from './latency.ts';
import { INTERVAL_LEVEL, type MetricsResult } from './metrics.ts';
import type { Machine } from './machine.ts';
import type { MemoryResult } from './memory.ts';
import type { PoolShape } from './options.ts';
import type { ReloadResult } from './reload.ts';
import type { ReplacementResult } from './replacement.ts';
import type { Revision } from './revision.ts';
import type { ThroughputResult } from './throughput.ts';
import { fixed, mb, table, verdict } from './report-table.ts';

const TARGETS = {
  /** No-op jobs per second with 2 workers (the better concurrency counts). */
  throughputJobsPerSecondWith2Workers: 6_000,
  /** Idle pick-up latency, median. */
  idleLatencyMedianMs: 50,
  /** Killed worker replaced and popping again, median; strictly below. */
  replacementMs: 1_000,
  /** RSS of each idle worker; strictly below. */
  idleWorkerRssMb: 70,
  /** Throughput with --metrics-port at most this much below without (median of the rounds, each concurrency). */
  metricsThroughputLossPercent: 3,
  /** A scrape of /metrics after 100 queues × 20 klasses, median; strictly below. */
  scrapeMs: 50,
  ...DEFAULTS_TARGETS,
} as const;

export interface BenchReport {
  machine: Machine;
  revision: Revision;
  /** 1-minute load average when the last part ended. */
  loadAverageAtEnd: number;
  settings: {
    jobs: number;
    latencyJobs: number;
    kills: number;
    reloads: number;
    interval: number;
    logLevel: string;
    defaultsJobs: number;
    pools: PoolShape[];
    rounds: number;
    baseline: string | undefined;
  };
  throughput?: ThroughputResult[];
  latency?: LatencyResult[];
  replacement?: ReplacementResult;
  memory?: MemoryResult;
  reload?: ReloadResult;
  dashboard?: DashboardResult;
  failover?: FailoverResult;
  metrics?: MetricsResult;
  defaults?: DefaultsResult;
  targets: typeof TARGETS;
  /** Per measured part: whether its target was met. */
  met: Partial<DefaultsMet> & {
    throughput?: boolean;
    latency?: boolean;
    replacement?: boolean;
    memory?: boolean;
    metricsThroughput?: boolean;
    scrape?: boolean;
    failover?: boolean;
  };
}

/** Which targets the measured figures meet (parts not run are left out). */
export function judge(report: Omit<BenchReport, 'met' | 'targets'>): BenchReport {
  const met: BenchReport['met'] = {};
  const withTwo = report.throughput?.filter((result) => result.workers === 2) ?? [];
  if (withTwo.length > 0)
    met.throughput =
      Math.max(...withTwo.map((result) => result.jobsPerSecond)) >= TARGETS.throughputJobsPerSecondWith2Workers;
  if (report.latency) met.latency = report.latency.every((result) => result.medianMs <= TARGETS.idleLatencyMedianMs);
  if (report.replacement) met.replacement = report.replacement.medianMs < TARGETS.replacementMs;
  if (report.memory)
    met.memory = report.memory.idle.workersMb.every((mb) => mb !== undefined && mb < TARGETS.idleWorkerRssMb);
  if (report.failover) met.failover = failoverMet(report.failover);
  if (report.metrics) {
    met.metricsThroughput = report.metrics.throughput.every(
      (result) => result.pairedChangePercent >= -TARGETS.metricsThroughputLossPercent,
    );
    met.scrape = report.metrics.scrape.medianMs < TARGETS.scrapeMs;
  }
  if (report.defaults) Object.assign(met, defaultsMet(report.defaults));
  return { ...report, targets: TARGETS, met };
}

export function formatReport(report: BenchReport): string {
  const { machine, settings, met } = report;
  const out: string[] = [];
  out.push(`qless-worker bench: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, Redis ${machine.redis}`);
  out.push(
    `1-min load average ${machine.loadAverage.toFixed(2)} at start, ${report.loadAverageAtEnd.toFixed(2)} at end ` +
      '(above 0 = others were using the CPUs too)',
  );
  const dirty = report.revision.dirty ? ' with uncommitted changes under src/ or bin/' : '';
  const code = `commit ${report.revision.commit}${dirty}`;
  out.push(
    `${code}; qless-worker --log-level ${settings.logLevel}, JSON logs to a file, --no-watch (but in the reload part)`,
  );

  if (report.throughput) {
    out.push('', `1. Throughput: ${settings.jobs} no-op jobs, first pop → last completion (Redis times)`);
    out.push(
      ...table(
        [
          'workers',
          'conc.',
          'jobs/s',
          'seconds',
          'start-up ms',
          'Redis CPU µs/job',
          '→ Redis cap jobs/s',
          'script µs/job',
          'script calls/job',
          'workers CPU µs/job',
          'supervisor CPU µs/job',
        ],
        report.throughput.map((result) => [
          String(result.workers),
          String(result.concurrency),
          fixed(result.jobsPerSecond, 0),
          fixed(result.seconds, 2),
          fixed(result.startupMs, 0),
          fixed(result.redisCpuUsPerJob, 1),
          fixed(result.redisCapJobsPerSecond, 0),
          fixed(result.scriptUsPerJob, 1),
          fixed(result.scriptCallsPerJob, 2),
          fixed(result.workerCpuUsPerJob, 1),
          fixed(result.supervisorCpuUsPerJob, 1),
        ]),
      ),
    );
    out.push(
      `target: ≥ ${TARGETS.throughputJobsPerSecondWith2Workers} jobs/s with 2 workers: ${verdict(met.throughput)}`,
    );
  }

  if (report.latency) {
    out.push(
      '',
      '2. Idle pick-up latency: put → handler start, jobs put one at a time into an idle pool ' +
        `(--interval ${settings.interval})`,
    );
    out.push(
      ...table(
        ['workers', 'jobs', 'median ms', 'p99 ms', 'mean ms', 'max ms', 'jobs per worker'],
        report.latency.map((result) => [
          String(result.workers),
          String(result.jobs),
          fixed(result.medianMs, 2),
          fixed(result.p99Ms, 2),
          fixed(result.meanMs, 2),
          fixed(result.maxMs, 2),
          result.jobsPerWorker.join(', '),
        ]),
      ),
    );
    out.push(`target: median ≤ ${TARGETS.idleLatencyMedianMs} ms: ${verdict(met.latency)}`);
  }

  if (report.replacement) {
    const { replacement } = report;
    out.push(
      '',
      `3. Replacement: kill -9 of a worker of an idle pool of ${replacement.workers} → ` +
        "the slot's new worker pops (ql:workers score)",
    );
    out.push(
      ...table(
        ['kill', 'slot', 'killed pid', 'new pid', 'ms'],
        replacement.samples.map((sample, index) => [
          String(index + 1),
          String(sample.slot),
          String(sample.killedPid),
          String(sample.newPid ?? '?'),
          fixed(sample.ms, 0),
        ]),
      ),
    );
    out.push(
      `median ${fixed(replacement.medianMs, 0)} ms, max ${fixed(replacement.maxMs, 0)} ms; ` +
        `target: median < ${TARGETS.replacementMs} ms: ${verdict(met.replacement)}`,
    );
  }

  if (report.memory || report.throughput) {
    out.push('', '4. Memory: RSS in MB (VmRSS)');
    const rows: string[][] = [];
    if (report.memory)
      rows.push([
        `idle pool of ${report.memory.workers}`,
        mb(report.memory.idle.supervisorMb),
        report.memory.idle.workersMb.map(mb).join(', '),
      ]);
    for (const result of report.throughput ?? []) {
      rows.push([
        `after ${result.jobs} jobs, ${result.workers} worker(s) × conc. ${result.concurrency}`,
        mb(result.rssAfter.supervisorMb),
        result.rssAfter.workersMb.map(mb).join(', '),
      ]);
    }
    out.push(...table(['when', 'supervisor', 'workers'], rows));
    if (report.memory) out.push(`target: each idle worker < ${TARGETS.idleWorkerRssMb} MB: ${verdict(met.memory)}`);
  }

  if (report.reload) {
    const { reload } = report;
    out.push(
      '',
      `5. Hot reload: ${reload.reloads} changes of the handler file under an idle pool of ${reload.workers} workers ` +
        '(watching)',
    );
    out.push(
      `handler written → first job on the new code completed: median ${fixed(reload.medianMs, 0)} ms, ` +
        `p99 ${fixed(reload.p99Ms, 0)} ms, max ${fixed(reload.maxMs, 0)} ms`,
      `jobs put after a write that still ran older code: ${reload.staleJobs} ` +
        `(the latest started ${fixed(reload.staleWindowMaxMs, 0)} ms after its write); ` +
        `worker processes that ran jobs: ${reload.workerProcesses}`,
    );
    const fds = (value: number | undefined): string => (value === undefined ? '-' : String(value));
    out.push(
      ...table(
        ['when', 'supervisor MB', 'supervisor fds', 'workers MB'],
        [
          [
            'before the first change',
            mb(reload.before.supervisorMb),
            fds(reload.before.supervisorFds),
            reload.before.workersMb.map(mb).join(', '),
          ],
          [
            `after change ${reload.reloads}`,
            mb(reload.after.supervisorMb),
            fds(reload.after.supervisorFds),
            reload.after.workersMb.map(mb).join(', '),
          ],
        ],
      ),
    );
  }
  if (report.failover) out.push(...formatFailover(report.failover));
  if (report.metrics) {
    const { throughput, scrape } = report.metrics;
    out.push(
      '',
      `6. Metrics: ${settings.jobs} no-op jobs, 2 workers, without and with --metrics-port, the two runs of a ` +
        'round back to back (as in part 1); change per round = with ÷ without − 1',
    );
    out.push(
      ...table(
        [
          'conc.',
          'without jobs/s',
          'with jobs/s',
          'change % of medians',
          'median change % of rounds',
          `${INTERVAL_LEVEL * 100} % interval of that median`,
          'median change % after the first quarter',
          'workers CPU µs/job without / with',
          'supervisor CPU µs/job without / with',
          'rounds without',
          'rounds with',
          'change % per round',
        ],
        throughput.map((result) => [
          String(result.concurrency),
          fixed(result.medianWithout, 0),
          fixed(result.medianWith, 0),
          fixed(result.changePercent, 1),
          fixed(result.pairedChangePercent, 1),
          result.pairedIntervalPercent
            ? `${fixed(result.pairedIntervalPercent.low, 1)} … ${fixed(result.pairedIntervalPercent.high, 1)}`
            : '–',
          fixed(result.pairedChangeAfterFirstQuarterPercent, 1),
          `${fixed(result.workerCpuUsPerJobWithout, 1)} / ${fixed(result.workerCpuUsPerJobWith, 1)}`,
          `${fixed(result.supervisorCpuUsPerJobWithout, 1)} / ${fixed(result.supervisorCpuUsPerJobWith, 1)}`,
          result.withoutMetrics.map((value) => fixed(value, 0)).join(', '),
          result.withMetrics.map((value) => fixed(value, 0)).join(', '),
          result.roundChangesPercent.map((value) => fixed(value, 1)).join(', '),
        ]),
      ),
    );
    out.push(
      `target: median change of the rounds ≥ −${TARGETS.metricsThroughputLossPercent} %: ` +
        verdict(met.metricsThroughput),
      `GET /metrics after ${scrape.jobs} jobs in ${scrape.queues} queues × ${scrape.klasses} klasses ` +
        `(${scrape.startedLabelSets} label sets in qless_jobs_started_total, ${scrape.lines} lines, ` +
        `${scrape.bytes} bytes), ${scrape.scrapes} scrapes: median ${fixed(scrape.medianMs, 1)} ms, ` +
        `p99 ${fixed(scrape.p99Ms, 1)} ms, max ${fixed(scrape.maxMs, 1)} ms`,
      `target: median < ${TARGETS.scrapeMs} ms: ${verdict(met.scrape)}`,
    );
  }
  if (report.defaults) out.push(...formatDefaults(report.defaults, met));
  return out.join('\n');
}
