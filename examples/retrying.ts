// klass `retrying.FlakyUpload`: a call that fails a couple of times before it works. Instead of
// throwing (which fails the job at once), it hands the job back with job.retry({ delay }): the
// job waits data.delay seconds in its queue and then runs again, maybe on another worker. Each
// retry uses up one of the job's retries (5 unless put with another number); when none are left,
// qless fails the job into `failed-retries-<queue>`.
import type { WorkerJob } from 'qless-worker';

export interface UploadData {
  /** How many attempts fail before one succeeds; default 2. */
  failures?: number;
  /** Seconds between attempts; default 1. */
  delay?: number;
  /** Set by the handler on success: the attempt that worked. */
  attempts?: number;
}

export async function FlakyUpload(job: WorkerJob<UploadData>): Promise<void> {
  // `remaining` goes down by one with every retry and is reset when the job completes or moves.
  const attempt = job.retries - job.remaining + 1;
  const failures = job.data.failures ?? 2;
  if (attempt <= failures) {
    const delay = job.data.delay ?? 1;
    job.logger.warn({ attempt, delay }, `upload: service busy on attempt ${attempt}; retrying in ${delay} s`);
    // After retry the job is no longer ours: returning now does not complete it.
    await job.retry({ delay });
    return;
  }
  job.logger.info({ attempt }, `upload: done on attempt ${attempt}`);
  job.data.attempts = attempt;
}
