// A Prometheus histogram of the pool whose values arrive already counted into their buckets: the
// workers count each run, wait and script call time as it happens (src/protocol/histogram.ts) and
// report the counts, and the supervisor adds a whole report with one addition per bucket.
// prom-client's Histogram only takes values one at a time (a label hash and a bucket search
// each), which cost the supervisor several µs per job. Registered in the pool's prom-client
// registry, which writes it out like any of its histograms (buckets with `le`, `+Inf`, `_sum`,
// `_count`, per label set).
import type { Metric, Registry } from 'prom-client';
import { type BucketCounts, countValue, emptyCounts, totalCount } from '../../protocol/histogram.ts';

type Labels = Record<string, string>;

/** A line of the exposition: the registry writes `labels`, then `sharedLabels` (the label set's, formatted once). */
interface Sample {
  metricName: string;
  labels: Record<string, string | number>;
  sharedLabels: Labels;
  value: number;
}

/** One label set and its counts so far. */
interface Series {
  labels: Labels;
  counted: BucketCounts;
  count: number;
}

const NO_LABELS = Object.freeze({});

export class CountedHistogram<L extends Labels> {
  private readonly series = new Map<string, Series>();
  /** The `le` of each bucket line, `+Inf` last. */
  private readonly bucketLabels: readonly Record<string, string | number>[];

  constructor(
    registry: Registry,
    private readonly config: { name: string; help: string; labelNames: readonly (keyof L & string)[] },
    private readonly bounds: readonly number[],
  ) {
    this.bucketLabels = [...bounds.map((bound) => Object.freeze({ le: bound })), Object.freeze({ le: '+Inf' })];
    const metric = { name: config.name, help: config.help, type: 'histogram', aggregator: 'sum' } as const;
    // As prom-client's own Histogram: getForPromString() for the text, whose lines carry the label
    // set as `sharedLabels` (the registry formats each set once, not on every line); get() for
    // JSON, each line with all its labels.
    registry.registerMetric({
      ...metric,
      getForPromString: async () => ({ ...metric, values: this.samples() }),
      get: async () => ({
        ...metric,
        values: this.samples().map(({ metricName, labels, sharedLabels, value }) => ({
          metricName,
          labels: { ...labels, ...sharedLabels },
          value,
        })),
      }),
    } as unknown as Metric);
  }

  /** How many values these counts hold: 0 when none, or when they were not counted with this histogram's bounds. */
  countOf(counted: BucketCounts): number {
    return counted.counts.length === this.bounds.length + 1 ? totalCount(counted) : 0;
  }

  /** Adds the counts of a report; when they hold no value (countOf), nothing changes and no label set appears. */
  add(labels: L, counted: BucketCounts): void {
    const count = this.countOf(counted);
    if (count === 0) return;
    const series = this.seriesOf(labels);
    for (let index = 0; index < counted.counts.length; index++) series.counted.counts[index] += counted.counts[index];
    series.counted.sum += counted.sum;
    series.count += count;
  }

  /** Counts one value (the supervisor's own script calls). */
  observe(labels: L, value: number): void {
    if (!Number.isFinite(value)) return;
    const series = this.seriesOf(labels);
    countValue(series.counted, this.bounds, value);
    series.count++;
  }

  private seriesOf(labels: L): Series {
    const key = this.config.labelNames.map((name) => labels[name]).join('\0');
    let series = this.series.get(key);
    if (!series) {
      const own: Labels = {};
      for (const name of this.config.labelNames) own[name] = labels[name];
      series = { labels: own, counted: emptyCounts(this.bounds), count: 0 };
      this.series.set(key, series);
    }
    return series;
  }

  /** Per label set, the cumulative buckets, then the sum and the count. */
  private samples(): Sample[] {
    const bucketName = `${this.config.name}_bucket`;
    const sumName = `${this.config.name}_sum`;
    const countName = `${this.config.name}_count`;
    const samples: Sample[] = [];
    for (const { labels, counted, count } of this.series.values()) {
      let cumulative = 0;
      for (let index = 0; index < this.bucketLabels.length; index++) {
        cumulative += counted.counts[index];
        samples.push({
          metricName: bucketName,
          labels: this.bucketLabels[index],
          sharedLabels: labels,
          value: cumulative,
        });
      }
      samples.push({ metricName: sumName, labels: NO_LABELS, sharedLabels: labels, value: counted.sum });
      samples.push({ metricName: countName, labels: NO_LABELS, sharedLabels: labels, value: count });
    }
    return samples;
  }
}
