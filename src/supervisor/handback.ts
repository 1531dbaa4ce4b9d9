// Hands the jobs of a dead worker back to their queues at once (not after their locks expire),
// through `retry <jid> <queue> <dead worker's name> 0`: each death costs the job one retry, so a
// job that kills its worker every time ends in failed-retries-<queue> instead of looping.
import type { Logger } from 'pino';
import { LostLockError, type Client } from '../client/index.ts';
import type { HeldJob } from '../protocol/ipc.ts';

export interface HandbackOutcome {
  jid: string;
  queue: string;
  /** Retries left after this one; below 0 the job is now failed (failed-retries-<queue>). */
  remaining?: number;
  /** Why nothing was done (the job finished, moved on or was taken over meanwhile). */
  skipped?: string;
}

/**
 * The jobs Redis says the name still holds that the worker had not reported over IPC (it can die
 * between a pop and its next report). Must run before the slot's replacement (same name) pops.
 */
export async function unreportedJobs(
  client: Client,
  workerName: string,
  reported: readonly HeldJob[],
): Promise<HeldJob[]> {
  const held = await client.workers.get(workerName);
  const known = new Set(reported.map((job) => job.jid));
  const jids = [...new Set([...held.jobs, ...held.stalled])].filter((jid) => !known.has(jid));
  if (jids.length === 0) return [];
  const found = await client.jobs.multiget(...jids);
  return found
    .filter((job) => job.state === 'running' && job.worker === workerName)
    .map((job) => ({ jid: job.jid, queue: job.queue, klass: job.klass, expires: job.expires }));
}

/** Retries each job under the dead worker's name; a job it no longer holds is skipped, not an error. */
export async function handBack(
  client: Client,
  workerName: string,
  jobs: readonly HeldJob[],
  logger: Logger,
): Promise<HandbackOutcome[]> {
  return Promise.all(
    jobs.map(async (job): Promise<HandbackOutcome> => {
      const fields = { jid: job.jid, queue: job.queue, klass: job.klass, worker: workerName };
      try {
        const remaining = Number(await client.call('retry', job.jid, job.queue, workerName, 0));
        if (remaining < 0)
          logger.warn(
            { ...fields, remaining },
            `job ${job.jid} of dead worker ${workerName} ran out of retries: failed-retries-${job.queue}`,
          );
        else
          logger.info({ ...fields, remaining }, `job ${job.jid} of dead worker ${workerName} handed back to its queue`);
        return { jid: job.jid, queue: job.queue, remaining };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        // Expected races: completed, failed, cancelled or taken by another worker since the report.
        if (error instanceof LostLockError) {
          logger.debug(
            { ...fields, reason: message },
            `job ${job.jid} of dead worker ${workerName} needed no hand-back`,
          );
        } else {
          logger.error(
            { ...fields, error: message },
            `could not hand back job ${job.jid}; it returns to its queue when its lock expires`,
          );
        }
        return { jid: job.jid, queue: job.queue, skipped: message };
      }
    }),
  );
}
