// qless's 148-bucket time histograms (seconds 0–59, minutes 1–59, hours 1–23, days 1–6) as text bars.

/** The label of histogram bucket `index`: `0s`…`59s`, `1m`…`59m`, `1h`…`23h`, `1d`…`6d`. */
function bucketLabel(index: number): string {
  if (index < 60) return `${index}s`;
  if (index < 119) return `${index - 59}m`;
  if (index < 142) return `${index - 118}h`;
  return `${index - 141}d`;
}

/**
 * One line per non-empty bucket: label, a bar scaled so the fullest bucket is `width` blocks
 * wide (any non-empty bucket gets at least one), and the count. Empty buckets are left out, so a
 * day of samples spread over seconds and hours stays a few lines long.
 */
export function renderHistogram(histogram: readonly number[], width = 40): string[] {
  const max = Math.max(0, ...histogram);
  if (max === 0) return [];
  const filled = histogram
    .map((count, index) => ({ label: bucketLabel(index), count }))
    .filter((bucket) => bucket.count > 0);
  const labelWidth = Math.max(...filled.map((bucket) => bucket.label.length));
  return filled.map(({ label, count }) => {
    const blocks = Math.max(1, Math.round((count / max) * width));
    return `${label.padStart(labelWidth)} │${'█'.repeat(blocks)} ${count}`;
  });
}
