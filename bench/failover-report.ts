// The failover part's lines in the bench report.
import { FAILOVER_RESUME_TARGET_MS, type FailoverResult } from './failover.ts';

const fixed = (value: number): string => (Number.isFinite(value) ? value.toFixed(0) : '-');

function table(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column])))
      .join('  ');
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)];
}

/** Whether the pool worked again within the target of Sentinel's promotion (median). */
export function failoverMet(result: FailoverResult): boolean {
  return result.medianResumedAfterPromotionMs <= FAILOVER_RESUME_TARGET_MS;
}

export function formatFailover(result: FailoverResult): string[] {
  return [
    '',
    '6. Failover: kill -9 of the Redis primary (Sentinel, down-after 1000 ms) ' +
      `under a pool of ${result.workers} workers running no-op jobs`,
    ...table(
      [
        'failover',
        'kill → promotion ms',
        'promotion → first completion ms',
        'kill → first completion ms',
        'jobs/s before',
        'jobs/s after',
      ],
      result.samples.map((sample, index) => [
        String(index + 1),
        fixed(sample.promotionMs),
        fixed(sample.resumedAfterPromotionMs),
        fixed(sample.resumedAfterKillMs),
        fixed(sample.jobsPerSecondBefore),
        fixed(sample.jobsPerSecondAfter),
      ]),
    ),
    `median: Sentinel promoted ${fixed(result.medianPromotionMs)} ms after the kill; the pool completed a job ` +
      `${fixed(result.medianResumedAfterPromotionMs)} ms after the promotion ` +
      `(max ${fixed(result.maxResumedAfterPromotionMs)}), ` +
      `${fixed(result.medianResumedAfterKillMs)} ms after the kill (jobs/s over ${result.windowMs} ms windows)`,
    `goal: working again within ${FAILOVER_RESUME_TARGET_MS} ms of the promotion (median): ` +
      (failoverMet(result) ? 'met' : 'MISSED'),
  ];
}
