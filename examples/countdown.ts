// klass `countdown` (no dot: this file's default export). Counts data.seconds down, one log
// line a second, then records what it counted in the job's data (complete stores it).
// The wait is tied to job.signal, so a cancelled job, a lost lock or a stopping worker ends the
// countdown at once instead of holding the worker until it would have finished.
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkerJob } from 'qless-worker';

export interface CountdownData {
  /** Whole seconds to count down; default 3. */
  seconds?: number;
  /** Set by the handler: how many seconds it counted. */
  counted?: number;
}

export default async function countdown(job: WorkerJob<CountdownData>): Promise<void> {
  const seconds = job.data.seconds ?? 3;
  if (!Number.isInteger(seconds) || seconds < 0) {
    // Thrown errors fail the job into `<queue>-RangeError`, with this message in the stack.
    throw new RangeError(
      `data.seconds must be a whole number of seconds (0 or more), got ${JSON.stringify(job.data.seconds)}`,
    );
  }
  for (let left = seconds; left > 0; left--) {
    job.logger.info({ left }, `countdown: ${left}`);
    // Rejects with an AbortError when the signal fires; the worker then leaves the job alone
    // (lock lost, cancelled) or hands it back to its queue (worker stopping).
    await sleep(1000, undefined, { signal: job.signal });
  }
  job.logger.info({ seconds }, 'countdown: liftoff');
  job.data.counted = seconds;
}
