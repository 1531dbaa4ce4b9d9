// GET /metrics: Prometheus text (prom-client) read from qless on every scrape. The counters and
// histograms come from qless's per-queue statistics of the current UTC day, so they restart from
// 0 at midnight UTC (Prometheus's rate() and increase() treat that as a counter reset).
import { Counter, Gauge, type Metric, Registry } from 'prom-client';
import type { Client, QueueCounts, QueueStats } from '../client/index.ts';
import { cumulativeCounts, METRIC_BOUNDS } from './data/time-stats.ts';
import { oldestWaiting } from './data/raw-reads.ts';

interface Snapshot {
  queues: QueueCounts[];
  stats: Map<string, QueueStats>;
  oldest: Map<string, number | null>;
  failed: Record<string, number>;
  workers: number;
  now: number;
}

const STATES = ['waiting', 'running', 'stalled', 'scheduled', 'depends', 'recurring'] as const;

async function takeSnapshot(client: Client): Promise<Snapshot> {
  const now = client.now();
  const queues = await client.queues();
  const names = queues.map((counts) => counts.name);
  const [stats, oldest, failed, workers] = await Promise.all([
    Promise.all(names.map((name) => client.queue(name).stats(now))),
    oldestWaiting(client.redis, names),
    client.jobs.failed(),
    client.workers.list(),
  ]);
  return {
    queues,
    stats: new Map(names.map((name, index) => [name, stats[index]])),
    oldest,
    failed,
    workers: workers.length,
    now,
  };
}

/** A histogram whose buckets are already counted (by qless): prom-client's Histogram only observes. */
function qlessHistogram(
  name: string,
  help: string,
  read: () => Promise<Snapshot>,
  pick: (s: QueueStats) => QueueStats['wait'],
): Metric {
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const snapshot = await read();
      const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
      for (const [queue, stats] of snapshot.stats) {
        const time = pick(stats);
        const cumulative = cumulativeCounts(time.histogram);
        for (const [index, bound] of METRIC_BOUNDS.entries())
          values.push({ metricName: `${name}_bucket`, labels: { queue, le: bound }, value: cumulative[index] });
        values.push({ metricName: `${name}_bucket`, labels: { queue, le: '+Inf' }, value: time.count });
        values.push({ metricName: `${name}_sum`, labels: { queue }, value: time.mean * time.count });
        values.push({ metricName: `${name}_count`, labels: { queue }, value: time.count });
      }
      return { name, help, type: 'histogram', values, aggregator: 'sum' };
    },
  };
  return metric as unknown as Metric;
}

export class DashboardMetrics {
  readonly registry = new Registry();
  readonly #client: Client;
  #snapshot: Promise<Snapshot> | undefined;

  constructor(client: Client) {
    this.#client = client;
    const read = (): Promise<Snapshot> => this.#read();
    const registers = [this.registry];
    new Gauge({
      name: 'qless_queue_jobs',
      help: 'Jobs of a queue in each state',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        this.reset();
        for (const counts of (await read()).queues)
          for (const state of STATES) this.set({ queue: counts.name, state }, counts[state]);
      },
    });
    new Gauge({
      name: 'qless_queue_oldest_waiting_seconds',
      help: 'Age of the oldest waiting job of a queue (0 when none waits)',
      labelNames: ['queue'],
      registers,
      async collect() {
        this.reset();
        const snapshot = await read();
        for (const counts of snapshot.queues) {
          const since = snapshot.oldest.get(counts.name) ?? null;
          this.set({ queue: counts.name }, since === null ? 0 : Math.max(0, snapshot.now - since));
        }
      },
    });
    new Gauge({
      name: 'qless_queue_paused',
      help: '1 when the queue is paused',
      labelNames: ['queue'],
      registers,
      async collect() {
        this.reset();
        for (const counts of (await read()).queues) this.set({ queue: counts.name }, counts.paused ? 1 : 0);
      },
    });
    new Gauge({
      name: 'qless_failed_jobs',
      help: 'Jobs in each failure group',
      labelNames: ['group'],
      registers,
      async collect() {
        this.reset();
        for (const [group, count] of Object.entries((await read()).failed)) this.set({ group }, count);
      },
    });
    new Counter({
      name: 'qless_queue_completed_total',
      help: 'Jobs completed in the queue today (UTC), from qless run statistics',
      labelNames: ['queue'],
      registers,
      async collect() {
        this.reset();
        for (const [queue, stats] of (await read()).stats) this.inc({ queue }, stats.run.count);
      },
    });
    new Counter({
      name: 'qless_queue_failed_total',
      help: 'Jobs failed in the queue today (UTC), from qless statistics',
      labelNames: ['queue'],
      registers,
      async collect() {
        this.reset();
        for (const [queue, stats] of (await read()).stats) this.inc({ queue }, stats.failures);
      },
    });
    this.registry.registerMetric(
      qlessHistogram('qless_queue_wait_seconds', 'Time jobs waited before a pop, today (UTC)', read, (s) => s.wait),
    );
    this.registry.registerMetric(
      qlessHistogram('qless_queue_run_seconds', 'Time from pop to completion, today (UTC)', read, (s) => s.run),
    );
    new Gauge({
      name: 'qless_workers',
      help: 'Workers qless knows (active within max-worker-age)',
      registers,
      async collect() {
        this.set((await read()).workers);
      },
    });
  }

  /** The text of one scrape. */
  async text(): Promise<string> {
    try {
      return await this.registry.metrics();
    } finally {
      this.#snapshot = undefined;
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  // One read of qless per scrape, shared by every metric.
  #read(): Promise<Snapshot> {
    this.#snapshot ??= takeSnapshot(this.#client);
    return this.#snapshot;
  }
}
