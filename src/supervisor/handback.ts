// Hands the jobs of a dead worker back to their queues at once (not after their locks expire),
// through `retry <jid> <queue> <dead worker's name> 0`: each death costs the job one retry, so a
// job that kills its worker every time ends in failed-retries-<queue> instead of looping.
import type { Logger } from 'pino';
import { LostLockError } from '../client/index.ts';
import type { HeldJob } from '../protocol/ipc.ts';
import { unreportedJobs } from './holdings.ts';
import type { SupervisorCalls } from './redis-calls.ts';
import { withTimeout } from './time-limit.ts';

/** What a hand-back did: the jobs back in their queues, and those it failed (out of retries). */
export interface HandedBack {
  handedBack: HeldJob[];
  outOfRetries: HeldJob[];
}

/**
 * Hands back what the dead worker reported plus what Redis says its name still runs in the
 * pool's `queues` (asked for at most `lookupWaitMs`: only safe before the slot's replacement,
 * same name, exists).
 */
export async function handBackJobsOf(
  calls: SupervisorCalls,
  workerName: string,
  reported: readonly HeldJob[],
  queues: readonly string[],
  lookupWaitMs: number,
  logger: Logger,
): Promise<HandedBack> {
  const unreported = await withTimeout(unreportedJobs(calls, workerName, reported, queues), lookupWaitMs).catch(
    (error: unknown) => {
      logger.error({ worker: workerName, err: error }, 'could not list the jobs of a dead worker');
      return [];
    },
  );
  const jobs = [...reported, ...unreported];
  const done: HandedBack = { handedBack: [], outOfRetries: [] };
  if (jobs.length > 0) await handBack(calls, workerName, jobs, logger, done);
  return done;
}

/** Retries each job under the dead worker's name; a job it no longer holds is skipped, not an error. */
async function handBack(
  calls: SupervisorCalls,
  workerName: string,
  jobs: readonly HeldJob[],
  logger: Logger,
  done: HandedBack,
): Promise<void> {
  await Promise.all(
    jobs.map(async (job) => {
      const fields = { event: 'handback', jid: job.jid, queue: job.queue, klass: job.klass, worker: workerName };
      try {
        const remaining = await calls.retryNow(job.jid, job.queue, workerName);
        (remaining < 0 ? done.outOfRetries : done.handedBack).push(job);
        if (remaining < 0)
          logger.warn(
            { ...fields, outcome: 'out-of-retries', remaining },
            `job ${job.jid} of dead worker ${workerName} ran out of retries: failed-retries-${job.queue}`,
          );
        else
          logger.info(
            { ...fields, outcome: 'handed-back', remaining },
            `job ${job.jid} of dead worker ${workerName} handed back to its queue`,
          );
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        // Expected races: completed, failed, cancelled or taken by another worker since the report.
        if (error instanceof LostLockError) {
          logger.debug(
            { ...fields, outcome: 'not-held', reason: message },
            `job ${job.jid} of dead worker ${workerName} needed no hand-back`,
          );
        } else {
          logger.error(
            { ...fields, outcome: 'error', error: message },
            `could not hand back job ${job.jid}; it returns to its queue when its lock expires`,
          );
        }
      }
    }),
  );
}
