// The pool's Prometheus metrics, held by the supervisor (prom-client, a registry of our own with
// the supervisor's default process metrics). Job counts and durations come from the workers'
// reports and are only ever added to here, so a worker that is replaced can neither reset nor
// double them; restarts and the hand-backs of dead workers are the supervisor's own; the gauges
// (workers by state, their memory, jobs in flight, Redis) are read from the pool when scraped.
// The histograms arrive counted into their buckets (counted-histogram.ts).
import type { Logger } from 'pino';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { type BucketCounts, DURATION_BUCKETS, SCRIPT_CALL_BUCKETS, WAIT_BUCKETS } from '../../protocol/histogram.ts';
import type { WorkerMetricsReport } from '../../protocol/ipc.ts';
import { type HandBackReason, RESTART_REASONS, type RestartReason } from '../departure.ts';
import { SLOT_STATES } from '../pool-view.ts';
import { CountedHistogram } from './counted-histogram.ts';
import { DEFAULT_LABEL_SETS, LabelBudget, type Labels } from './label-budget.ts';
import type { JobLabels, PoolMetricsSink, PoolReadings } from './sources.ts';

/**
 * How often the event loop lag (nodejs_eventloop_lag_*) is sampled. prom-client's default, 10 ms,
 * wakes the supervisor 100 times a second: an idle pool's supervisor used about 18 ms of CPU a
 * second with the metrics on (7 ms off), 14 ms at 100 ms, for a lag that still shows any stall
 * longer than a tenth of a second.
 */
const EVENT_LOOP_SAMPLE_MS = 100;

export interface PoolMetricsSettings {
  /** Distinct label sets per job-labelled metric. */
  labelSets?: number;
}

/** A counter whose label sets are bounded. */
class BoundedCounter<L extends Labels> {
  private readonly counter: Counter<keyof L & string>;
  private readonly budget: LabelBudget<L>;

  constructor(
    registry: Registry,
    config: { name: string; help: string; labelNames: readonly (keyof L & string)[] },
    fallbacks: readonly (readonly (keyof L & string)[])[],
    cap: number,
    onOverflow: (metric: string) => void,
  ) {
    this.counter = new Counter({ ...config, registers: [registry] });
    this.budget = new LabelBudget(config.labelNames, fallbacks, cap, () => onOverflow(config.name));
  }

  inc(labels: L, count: number): void {
    if (count > 0) this.counter.inc(this.budget.admit(labels), count);
  }
}

/** A histogram whose label sets are bounded. */
class BoundedHistogram<L extends Labels> {
  private readonly histogram: CountedHistogram<L>;
  private readonly budget: LabelBudget<L>;

  constructor(
    registry: Registry,
    config: { name: string; help: string; labelNames: readonly (keyof L & string)[]; buckets: readonly number[] },
    fallbacks: readonly (readonly (keyof L & string)[])[],
    cap: number,
    onOverflow: (metric: string) => void,
  ) {
    this.histogram = new CountedHistogram<L>(registry, config, config.buckets);
    this.budget = new LabelBudget(config.labelNames, fallbacks, cap, () => onOverflow(config.name));
  }

  add(labels: L, counted: BucketCounts): void {
    if (this.histogram.countOf(counted) > 0) this.histogram.add(this.budget.admit(labels), counted);
  }
}

type QueueKlass = { queue: string; klass: string };

export class PoolMetrics implements PoolMetricsSink {
  readonly registry = new Registry();
  private readonly started: BoundedCounter<QueueKlass>;
  private readonly completed: BoundedCounter<QueueKlass>;
  private readonly failed: BoundedCounter<QueueKlass & { group: string }>;
  private readonly retried: BoundedCounter<QueueKlass>;
  private readonly handedBackCounter: BoundedCounter<QueueKlass & { reason: HandBackReason }>;
  private readonly lockLost: BoundedCounter<{ queue: string; why: 'lock-lost' | 'canceled' }>;
  private readonly duration: BoundedHistogram<QueueKlass>;
  private readonly wait: BoundedHistogram<{ queue: string }>;
  private readonly scriptCalls: CountedHistogram<{ command: string }>;
  private readonly restarts: Counter<'reason'>;

  constructor(readings: PoolReadings, redisUp: () => boolean, logger: Logger, settings: PoolMetricsSettings = {}) {
    const registry = this.registry;
    const cap = settings.labelSets ?? DEFAULT_LABEL_SETS;
    const overflow = (metric: string): void =>
      logger.warn(
        { event: 'metric-labels-capped', metric, cap },
        `${metric} has ${cap} label sets: new klasses (then queues) are counted as "other" from now on`,
      );
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    const byJob = [['klass'], ['queue']] as const;
    // Every job-labelled metric shares the registry, the cap and the overflow warning.
    const counter = <L extends Labels>(
      name: string,
      help: string,
      labelNames: readonly (keyof L & string)[],
      fallbacks: readonly (readonly (keyof L & string)[])[],
    ): BoundedCounter<L> => new BoundedCounter<L>(registry, { name, help, labelNames }, fallbacks, cap, overflow);
    const histogram = <L extends Labels>(
      name: string,
      help: string,
      labelNames: readonly (keyof L & string)[],
      buckets: readonly number[],
      fallbacks: readonly (readonly (keyof L & string)[])[],
    ): BoundedHistogram<L> =>
      new BoundedHistogram<L>(registry, { name, help, labelNames, buckets }, fallbacks, cap, overflow);
    this.started = counter('qless_jobs_started_total', 'Jobs a worker of the pool started', ['queue', 'klass'], byJob);
    this.completed = counter('qless_jobs_completed_total', 'Jobs completed', ['queue', 'klass'], byJob);
    this.failed = counter(
      'qless_jobs_failed_total',
      'Jobs failed, by failure group',
      ['queue', 'klass', 'group'],
      [['klass', 'group'], ['queue']],
    );
    this.retried = counter(
      'qless_jobs_retried_total',
      'Jobs whose handler gave them back with job.retry()',
      ['queue', 'klass'],
      byJob,
    );
    this.handedBackCounter = counter(
      'qless_jobs_handed_back_total',
      'Jobs given back to their queue unfinished: their worker died, or was stopping',
      ['queue', 'klass', 'reason'],
      byJob,
    );
    this.lockLost = counter(
      'qless_lock_lost_total',
      'Jobs taken from their worker while they ran: lock lost, or cancelled',
      ['queue', 'why'],
      [['queue']],
    );
    this.duration = histogram(
      'qless_job_duration_seconds',
      'Handler run time of jobs that completed, failed or were settled by their handler',
      ['queue', 'klass'],
      DURATION_BUCKETS,
      byJob,
    );
    this.wait = histogram(
      'qless_job_wait_seconds',
      'Put to pop of jobs on their first pop, from the job history (whole seconds)',
      ['queue'],
      WAIT_BUCKETS,
      [['queue']],
    );
    this.scriptCalls = new CountedHistogram<{ command: string }>(
      registry,
      {
        name: 'qless_script_call_seconds',
        help: 'Round trip of qless script calls made by the workers and the supervisor',
        labelNames: ['command'],
      },
      SCRIPT_CALL_BUCKETS,
    );
    this.restarts = new Counter({
      name: 'qless_worker_restarts_total',
      help: 'Worker processes replaced in their slot, by why the last one ended',
      labelNames: ['reason'],
      registers: [registry],
    });
    // Every reason from the start: increase() over a series that appears at 1 would miss that 1.
    for (const reason of RESTART_REASONS) this.restarts.inc({ reason }, 0);
    new Gauge({
      name: 'qless_jobs_in_flight',
      help: 'Jobs the workers run now',
      labelNames: ['queue'],
      registers: [registry],
      collect() {
        const counts = new Map(readings.queues.map((queue) => [queue, 0]));
        for (const slot of readings.slots())
          for (const job of slot.jobs) counts.set(job.queue, (counts.get(job.queue) ?? 0) + 1);
        this.reset();
        for (const [queue, count] of counts) this.set({ queue }, count);
      },
    });
    new Gauge({
      name: 'qless_workers',
      help: 'Worker slots by state',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const slots = readings.slots();
        for (const state of SLOT_STATES) this.set({ state }, slots.filter((slot) => slot.state === state).length);
      },
    });
    new Gauge({
      name: 'qless_worker_resident_memory_bytes',
      help: 'Resident memory of each worker process, as last sampled',
      labelNames: ['worker'],
      registers: [registry],
      collect() {
        this.reset();
        for (const slot of readings.slots())
          if (slot.rssBytes !== null) this.set({ worker: slot.worker }, slot.rssBytes);
      },
    });
    new Gauge({
      name: 'qless_redis_up',
      help: 'Whether Redis answers the supervisor (1) or not (0)',
      registers: [registry],
      collect() {
        this.set(redisUp() ? 1 : 0);
      },
    });
  }

  workerReport(report: WorkerMetricsReport, reason: Exclude<HandBackReason, 'worker-died'>): void {
    for (const tally of report.jobs) {
      const job = { queue: tally.queue, klass: tally.klass };
      this.started.inc(job, tally.started);
      this.completed.inc(job, tally.completed);
      for (const [group, count] of Object.entries(tally.failed)) this.failed.inc({ ...job, group }, count);
      this.retried.inc(job, tally.retried);
      this.handedBackCounter.inc({ ...job, reason }, tally.handedBack);
      this.lockLost.inc({ queue: tally.queue, why: 'lock-lost' }, tally.lockLost);
      this.lockLost.inc({ queue: tally.queue, why: 'canceled' }, tally.canceled);
      this.duration.add(job, tally.durationSeconds);
      this.wait.add({ queue: tally.queue }, tally.waitSeconds);
    }
    for (const { command, seconds } of report.calls) this.scriptCalls.add({ command }, seconds);
  }

  workerRestarted(reason: RestartReason): void {
    this.restarts.inc({ reason });
  }

  handedBack(jobs: readonly JobLabels[]): void {
    for (const { queue, klass } of jobs) this.handedBackCounter.inc({ queue, klass, reason: 'worker-died' }, 1);
  }

  outOfRetries(jobs: readonly JobLabels[]): void {
    for (const { queue, klass } of jobs) this.failed.inc({ queue, klass, group: `failed-retries-${queue}` }, 1);
  }

  /** One script call of the supervisor's own. */
  observeScriptCall(command: string, seconds: number): void {
    this.scriptCalls.observe({ command }, seconds);
  }
}
