// qless's per-queue wait and run statistics (one histogram of 148 buckets per day: seconds 0–59,
// minutes 1–59, hours 1–23, days 1–6) turned into what a person reads: percentiles, and the
// buckets with their bounds.
import type { TimeStats } from '../../client/types.ts';

/** The lower bound, in seconds, of each of qless's 148 buckets. */
export const BUCKET_STARTS: readonly number[] = [
  ...Array.from({ length: 60 }, (_, s) => s),
  ...Array.from({ length: 59 }, (_, m) => (m + 1) * 60),
  ...Array.from({ length: 23 }, (_, h) => (h + 1) * 3600),
  ...Array.from({ length: 6 }, (_, d) => (d + 1) * 86400),
];

/** The upper bound (exclusive) of bucket i: samples are floored before binning. */
export function bucketEnd(index: number): number {
  if (index < 59) return index + 1;
  return BUCKET_STARTS[index + 1] ?? 7 * 86400;
}

/** A short label for a bucket: `3s`, `12m`, `5h`, `2d`. */
export function bucketLabel(index: number): string {
  if (index < 60) return `${index}s`;
  if (index < 119) return `${index - 59}m`;
  if (index < 142) return `${index - 118}h`;
  return `${index - 141}d`;
}

/** The bucket bound below which `fraction` of the samples fall (seconds); null without samples. */
export function percentile(histogram: readonly number[], fraction: number): number | null {
  const total = histogram.reduce((sum, count) => sum + count, 0);
  if (total === 0) return null;
  const wanted = Math.ceil(total * fraction);
  let seen = 0;
  for (let index = 0; index < histogram.length; index++) {
    seen += histogram[index];
    if (seen >= wanted) return bucketEnd(index);
  }
  return bucketEnd(histogram.length - 1);
}

export interface TimeSummary {
  count: number;
  /** Seconds. */
  mean: number;
  std: number;
  /** Upper bounds of the buckets holding the 50th, 95th and 99th percentile, seconds. */
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** The non-empty range of the histogram: `[label, count]` from the first to the last non-empty bucket. */
  buckets: [string, number][];
}

export function summarize(stats: TimeStats): TimeSummary {
  const { histogram } = stats;
  const first = histogram.findIndex((count) => count > 0);
  const last = histogram.findLastIndex((count) => count > 0);
  const buckets: [string, number][] = [];
  if (first >= 0) for (let index = first; index <= last; index++) buckets.push([bucketLabel(index), histogram[index]]);
  return {
    count: stats.count,
    mean: stats.mean,
    std: stats.std,
    p50: percentile(histogram, 0.5),
    p95: percentile(histogram, 0.95),
    p99: percentile(histogram, 0.99),
    buckets,
  };
}

/** Bounds of the Prometheus histogram (seconds): qless's buckets summed into these. */
export const METRIC_BOUNDS: readonly number[] = [
  1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 43200, 86400, 604800,
];

/** Cumulative counts per METRIC_BOUNDS entry (samples below each bound). */
export function cumulativeCounts(histogram: readonly number[]): number[] {
  return METRIC_BOUNDS.map((bound) =>
    histogram.reduce((sum, count, index) => (bucketEnd(index) <= bound ? sum + count : sum), 0),
  );
}
