// Order statistics of samples (nearest-rank, so a reported figure is one that was measured).

function sorted(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** The p-th percentile (0 < p ≤ 100) by nearest rank; NaN for no samples. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const ordered = sorted(values);
  const rank = Math.ceil((p / 100) * ordered.length);
  return ordered[Math.min(ordered.length, Math.max(1, rank)) - 1];
}

/** The median: for an even count, the mean of the two middle samples. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const ordered = sorted(values);
  const middle = Math.floor(ordered.length / 2);
  return ordered.length % 2 === 1 ? ordered[middle] : (ordered[middle - 1] + ordered[middle]) / 2;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** P(B ≤ k) for B ~ Binomial(n, 1/2). */
function halfBinomialCdf(n: number, k: number): number {
  let term = 0.5 ** n;
  let sum = 0;
  for (let i = 0; i <= k; i++) {
    sum += term;
    term = (term * (n - i)) / (i + 1);
  }
  return sum;
}

/**
 * A confidence interval of the median that assumes nothing about the distribution (order
 * statistics): each sample is below the true median with probability 1/2, so the k-th smallest
 * and the k-th largest enclose it with probability 1 − 2·P(B ≤ k − 1), B ~ Binomial(n, 1/2). The
 * narrowest such pair with at least `level` is returned; undefined when even the smallest and the
 * largest sample do not reach it (for 0.9: fewer than 5 samples).
 */
export function medianInterval(values: readonly number[], level: number): { low: number; high: number } | undefined {
  const n = values.length;
  let k = 0;
  while (k + 1 <= n / 2 && 1 - 2 * halfBinomialCdf(n, k) >= level) k++;
  if (k === 0) return undefined;
  const ordered = sorted(values);
  return { low: ordered[k - 1], high: ordered[n - k] };
}
