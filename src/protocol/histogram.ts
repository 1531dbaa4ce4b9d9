// The pool's histograms as the workers count them and the supervisor serves them: each metric's
// bucket bounds (Prometheus `le`) and the counts of one histogram. A worker counts each value into
// its bucket as it happens (a few additions per job, no array that grows with the jobs), so its
// report carries a fixed number of counts per histogram however many jobs it ran, and the
// supervisor adds reports up bucket by bucket. The buckets and the sum come out as Prometheus
// would have counted the same values one by one.

/** qless_job_duration_seconds: handler run time. */
export const DURATION_BUCKETS: readonly number[] = [0.005, 0.025, 0.1, 0.25, 1, 2.5, 10, 30, 60, 300, 1800];
/** qless_job_wait_seconds: put → pop; job history times are whole seconds. */
export const WAIT_BUCKETS: readonly number[] = [0, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400];
/** qless_script_call_seconds: one round trip of a script call. */
export const SCRIPT_CALL_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

/** Values counted into the buckets of one histogram. */
export interface BucketCounts {
  /**
   * Not cumulative: `counts[i]` values were at most `bounds[i]` and above `bounds[i - 1]`; the
   * last entry (one more than the bounds) counts the values above every bound.
   */
  counts: number[];
  /** The sum of the values counted. */
  sum: number;
}

/** Nothing counted yet, for a histogram with these bounds. */
export function emptyCounts(bounds: readonly number[]): BucketCounts {
  return { counts: new Array<number>(bounds.length + 1).fill(0), sum: 0 };
}

/** Counts one value; a value that is not a finite number is not counted (prom-client's Histogram refuses it). */
export function countValue(histogram: BucketCounts, bounds: readonly number[], value: number): void {
  if (!Number.isFinite(value)) return;
  let index = 0;
  while (index < bounds.length && value > bounds[index]) index++;
  histogram.counts[index]++;
  histogram.sum += value;
}

/** How many values were counted. */
export function totalCount(histogram: BucketCounts): number {
  let total = 0;
  for (const count of histogram.counts) total += count;
  return total;
}
