// The jobs a fault puts (through the client), what each is expected to end as, and the final
// account of where every one of them is.
import type { Redis } from 'ioredis';
import type { Client } from '../../src/client/client.ts';
import { newJid } from '../../src/client/queue.ts';
import type { RunLog } from './run-log.ts';

const PUT_BATCH = 500;
const READ_BATCH = 2_000;

/** How a job must end: completed, or failed in this group. */
export type Expected = { state: 'complete' } | { state: 'failed'; group: string };

export interface JobSpec {
  jid: string;
  klass: string;
  data: Record<string, unknown>;
  retries?: number;
  expected: Expected;
  /** A short label for reports (`normal`, `exits`, …). */
  kind: string;
}

/** A normal job of the `work` handler. */
export function workJob(sleepMs: number): JobSpec {
  return { jid: newJid(), klass: 'work', data: { sleepMs }, expected: { state: 'complete' }, kind: 'normal' };
}

/** Puts the jobs in pipelines of PUT_BATCH; throws on the first refusal. */
export async function putJobs(client: Client, queue: string, jobs: readonly JobSpec[]): Promise<void> {
  for (let first = 0; first < jobs.length; first += PUT_BATCH) {
    const batch = client.batch();
    for (const job of jobs.slice(first, first + PUT_BATCH)) {
      const args: (string | number)[] = [client.workerName, queue, job.jid, job.klass, JSON.stringify(job.data), 0];
      if (job.retries !== undefined) args.push('retries', job.retries);
      batch.call('put', ...args);
    }
    const failed = (await batch.exec()).find((result) => !result.ok);
    if (failed && !failed.ok) throw failed.error;
  }
}

/** Jobs in an end state now (completed + failed), counted from the fault's fresh database. */
export async function endedCount(redis: Redis): Promise<number> {
  const groups = await redis.smembers('ql:failures');
  const pipeline = redis.pipeline().zcard('ql:completed');
  for (const group of groups) pipeline.llen(`ql:f:${group}`);
  const replies = (await pipeline.exec()) ?? [];
  return replies.reduce((sum, [error, count]) => sum + (error ? 0 : Number(count)), 0);
}

export interface Tally {
  put: number;
  completed: number;
  failed: number;
  /** Failure group → jobs. */
  failedGroups: Record<string, number>;
  /** In `waiting` or `scheduled` (and in that queue's set): not finished, but not lost. */
  waiting: number;
  /** In `running` (and in the queue's locks): after the pool stopped, left running. */
  running: number;
  /** A job put that is in no end state and not waiting or running anywhere. */
  lost: number;
  /** Jobs whose handler started more than once. */
  runTwice: number;
  /** Completed jobs whose handler never started (ended without running: wrong). */
  completedUnrun: number;
  /** Jobs that ended, but not as expected (a normal job failed, a poison job in another group). */
  unexpected: number;
  /** A few examples of what went wrong, for the report. */
  examples: string[];
}

/** Where each job is in an index that someone will take it from. */
const LIVE_INDEX: Record<string, string> = { waiting: 'work', scheduled: 'scheduled', running: 'locks' };

/**
 * The account of every job put: its state in Redis (and, for a live state, whether it is in the
 * queue's set that a pop or a lock expiry will find it in), its failure group, its runs.
 */
export async function tally(redis: Redis, queue: string, jobs: readonly JobSpec[], runs: RunLog): Promise<Tally> {
  runs.refresh();
  const result: Tally = {
    put: jobs.length,
    completed: 0,
    failed: 0,
    failedGroups: {},
    waiting: 0,
    running: 0,
    lost: 0,
    runTwice: 0,
    completedUnrun: 0,
    unexpected: 0,
    examples: [],
  };
  const example = (text: string): void => {
    if (result.examples.length < 5) result.examples.push(text);
  };
  for (let first = 0; first < jobs.length; first += READ_BATCH) {
    const slice = jobs.slice(first, first + READ_BATCH);
    const pipeline = redis.pipeline();
    for (const job of slice) {
      pipeline.hmget(`ql:j:${job.jid}`, 'state', 'failure');
      pipeline.zscore(`ql:q:${queue}-work`, job.jid);
      pipeline.zscore(`ql:q:${queue}-scheduled`, job.jid);
      pipeline.zscore(`ql:q:${queue}-locks`, job.jid);
    }
    const replies = (await pipeline.exec()) ?? [];
    slice.forEach((job, index) => {
      const [state, failure] = (replies[4 * index]?.[1] ?? [null, null]) as (string | null)[];
      const inIndex: Record<string, boolean> = {
        work: replies[4 * index + 1]?.[1] != null,
        scheduled: replies[4 * index + 2]?.[1] != null,
        locks: replies[4 * index + 3]?.[1] != null,
      };
      const runCount = runs.runs(job.jid);
      if (runCount > 1) result.runTwice++;
      if (state === 'complete') {
        result.completed++;
        if (runCount === 0) {
          result.completedUnrun++;
          example(`${job.kind} ${job.jid} completed without its handler running`);
        }
        if (job.expected.state !== 'complete') {
          result.unexpected++;
          example(`${job.kind} ${job.jid} completed, expected failed in ${job.expected.group}`);
        }
      } else if (state === 'failed') {
        result.failed++;
        const group = failure ? String((JSON.parse(failure) as { group?: unknown }).group) : '?';
        result.failedGroups[group] = (result.failedGroups[group] ?? 0) + 1;
        if (job.expected.state !== 'failed' || job.expected.group !== group) {
          result.unexpected++;
          example(`${job.kind} ${job.jid} failed in ${group}, expected ${JSON.stringify(job.expected)}`);
        }
      } else if (state !== null && LIVE_INDEX[state] !== undefined && inIndex[LIVE_INDEX[state]]) {
        if (state === 'running') {
          result.running++;
          example(`${job.kind} ${job.jid} still running`);
        } else result.waiting++;
      } else {
        result.lost++;
        example(`${job.kind} ${job.jid} lost: state ${state ?? '(no job)'}, in ${JSON.stringify(inIndex)}`);
      }
    });
  }
  return result;
}
