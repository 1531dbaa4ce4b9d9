// Hands the jobs of a dead worker back to their queues at once (not after their locks expire),
// through `retry <jid> <queue> <dead worker's name> 0`: each death costs the job one retry, so a
// job that kills its worker every time ends in failed-retries-<queue> instead of looping.
import type { Logger } from 'pino';
import type { HeldJob } from './ipc.ts';

/** Calls one command of the qless script (EVALSHA … <command> <now> args). */
export interface ScriptCall {
  (command: string, ...args: (string | number)[]): Promise<unknown>;
}

export interface HandbackOutcome {
  jid: string;
  queue: string;
  /** Retries left after this one; below 0 the job is now failed (failed-retries-<queue>). */
  remaining?: number;
  /** Why nothing was done (the job finished, moved on or was taken over meanwhile). */
  skipped?: string;
}

// Expected races: the job completed, failed, was cancelled or was taken by another worker since.
const RACE = /does not exist|not currently running|given to another worker/;

interface WorkerJobs {
  jobs?: string[] | Record<string, never>;
  stalled?: string[] | Record<string, never>;
}

interface JobSummary {
  jid: string;
  queue: string;
  klass: string;
  state: string;
  worker: string;
}

function list(value: string[] | Record<string, never> | undefined): string[] {
  return Array.isArray(value) ? value : [];
}

/**
 * The jobs Redis says the name still holds that the worker had not reported over IPC (it can die
 * between a pop and its next report). Must run before the slot's replacement (same name) pops.
 */
export async function unreportedJobs(call: ScriptCall, workerName: string, reported: readonly HeldJob[]): Promise<HeldJob[]> {
  const held = JSON.parse(String(await call('workers', workerName))) as WorkerJobs;
  const known = new Set(reported.map((job) => job.jid));
  const jids = [...list(held.jobs), ...list(held.stalled)].filter((jid, index, all) => !known.has(jid) && all.indexOf(jid) === index);
  if (jids.length === 0) return [];
  const found = JSON.parse(String(await call('multiget', ...jids))) as JobSummary[] | Record<string, never>;
  return (Array.isArray(found) ? found : [])
    .filter((job) => job.state === 'running' && job.worker === workerName)
    .map((job) => ({ jid: job.jid, queue: job.queue, klass: job.klass, expires: 0 }));
}

/** Retries each job under the dead worker's name; expected races are skipped, not errors. */
export async function handBack(call: ScriptCall, workerName: string, jobs: readonly HeldJob[], logger: Logger): Promise<HandbackOutcome[]> {
  return Promise.all(
    jobs.map(async (job): Promise<HandbackOutcome> => {
      const fields = { jid: job.jid, queue: job.queue, klass: job.klass, worker: workerName };
      try {
        const remaining = Number(await call('retry', job.jid, job.queue, workerName, 0));
        if (remaining < 0) logger.warn({ ...fields, remaining }, 'job held by a dead worker ran out of retries: failed');
        else logger.info({ ...fields, remaining }, 'job held by a dead worker handed back to its queue');
        return { jid: job.jid, queue: job.queue, remaining };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (RACE.test(message)) {
          logger.debug({ ...fields, reason: message }, 'job of a dead worker needed no hand-back');
          return { jid: job.jid, queue: job.queue, skipped: message };
        }
        logger.error({ ...fields, error: message }, 'could not hand back a job of a dead worker; it returns to its queue when its lock expires');
        return { jid: job.jid, queue: job.queue, skipped: message };
      }
    }),
  );
}
