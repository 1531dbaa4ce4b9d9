// What a worker name holds: the jobs its last IPC report named (throttled, so it may lag a
// little) and, when asked, what Redis says the name holds. The watchdog judges a silent worker by
// both; the hand-back returns a dead worker's jobs by both, Redis's view then including the jobs
// locked under the name in the pool's queues.
import type { HeldJob } from '../protocol/ipc.ts';
import type { SupervisorCalls } from './redis-calls.ts';

/** What Redis says a worker name holds: `held` with a live lock, `expired` past its lock expiry. */
export interface HeldInRedis {
  held: string[];
  expired: string[];
}

interface Holdings {
  /** Every jid the name is known to hold (the expired ones included). */
  held: string[];
  /** Those whose lock had expired by `now`. */
  expired: string[];
}

/** The IPC report and what Redis said (if it was asked), together. */
export function holdingsOf(reported: readonly HeldJob[], inRedis: HeldInRedis | undefined, now: number): Holdings {
  const expired = new Set(reported.filter((job) => job.expires * 1000 <= now).map((job) => job.jid));
  for (const jid of inRedis?.expired ?? []) expired.add(jid);
  const held = new Set([...reported.map((job) => job.jid), ...(inRedis?.held ?? []), ...expired]);
  return { held: [...held], expired: [...expired] };
}

export async function askRedis(calls: SupervisorCalls, workerName: string): Promise<HeldInRedis> {
  const jobs = await calls.workerJobs(workerName);
  return { held: jobs.jobs, expired: jobs.stalled };
}

/**
 * The jobs Redis says the name still runs that its last report left out (a worker can die
 * between a pop and its next report, and a worker blocked in a handler never sends the report of
 * the pop before). Besides the name's own job list, the locks of the pool's `queues`: once a
 * job's lock has expired, the next pop of any worker gives it a courtesy period (qless's grace
 * period) that takes it off the name's list while it stays running under the name. Reads every
 * lock of those queues: asked only at a death. Must run before the slot's replacement (same
 * name) pops.
 */
export async function unreportedJobs(
  calls: SupervisorCalls,
  workerName: string,
  reported: readonly HeldJob[],
  queues: readonly string[],
): Promise<HeldJob[]> {
  const [inRedis, ...locked] = await Promise.all([
    askRedis(calls, workerName),
    ...queues.map((queue) => calls.lockedJobs(queue)),
  ]);
  const known = new Set(reported.map((job) => job.jid));
  const jids = [...new Set([...inRedis.held, ...inRedis.expired, ...locked.flat()])].filter((jid) => !known.has(jid));
  if (jids.length === 0) return [];
  const found = await calls.jobs(jids);
  return found
    .filter((job) => job.state === 'running' && job.worker === workerName)
    .map((job) => ({ jid: job.jid, queue: job.queue, klass: job.klass, expires: job.expires }));
}
