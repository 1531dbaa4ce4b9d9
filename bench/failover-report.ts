// The failover part's lines in the bench report.
import { FAILOVER_RESUME_TARGET_MS, type FailoverResult } from './failover.ts';
import { fixed, table } from './report-table.ts';

const whole = (value: number): string => fixed(value, 0);

/** Whether the pool worked again within the target of Sentinel's promotion (median). */
export function failoverMet(result: FailoverResult): boolean {
  return result.medianResumedAfterPromotionMs <= FAILOVER_RESUME_TARGET_MS;
}

export function formatFailover(result: FailoverResult): string[] {
  return [
    '',
    '8. Failover: kill -9 of the Redis primary (Sentinel, down-after 1000 ms) ' +
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
        whole(sample.promotionMs),
        whole(sample.resumedAfterPromotionMs),
        whole(sample.resumedAfterKillMs),
        whole(sample.jobsPerSecondBefore),
        whole(sample.jobsPerSecondAfter),
      ]),
    ),
    `median: Sentinel promoted ${whole(result.medianPromotionMs)} ms after the kill; the pool completed a job ` +
      `${whole(result.medianResumedAfterPromotionMs)} ms after the promotion ` +
      `(max ${whole(result.maxResumedAfterPromotionMs)}), ` +
      `${whole(result.medianResumedAfterKillMs)} ms after the kill (jobs/s over ${result.windowMs} ms windows)`,
    `goal: working again within ${FAILOVER_RESUME_TARGET_MS} ms of the promotion (median): ` +
      (failoverMet(result) ? 'met' : 'MISSED'),
  ];
}
