// Bulk actions: on selected jobs, on every job matching a filter, or on a whole failure group.
// Each runs in the background in batches, so a group of a million jobs is retried whole (no cap);
// its progress and a per-job result report can be read while it runs and after.
import { randomUUID } from 'node:crypto';
import type { Client, Job } from '../../client/index.ts';
import { type FindFilter, findAllJids } from './find.ts';

export const BULK_ACTIONS = ['retry', 'cancel', 'move', 'priority', 'tag', 'untag', 'track', 'untrack'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];

export interface BulkArgs {
  queue?: string;
  priority?: number;
  tags?: string[];
}

export type BulkTarget = { jids: string[] } | { filter: FindFilter } | { group: string };

export interface JobResult {
  jid: string;
  ok: boolean;
  error?: string;
}

export interface OperationStatus {
  id: string;
  action: BulkAction;
  target: string;
  /** `collecting` (searching a filter), `running`, `done`, or `failed` (stopped by an error). */
  phase: 'collecting' | 'running' | 'done' | 'failed';
  /** Jobs to act on (known once collecting is over; for a group, its size at the start). */
  total: number;
  done: number;
  succeeded: number;
  failed: number;
  /** Jobs looked at while collecting a filter. */
  examined: number;
  /** Every failed job with its reason, and the first succeeded ones (up to RESULT_CAP in all). */
  results: JobResult[];
  error?: string;
  startedAt: number;
  finishedAt?: number;
}

const BATCH = 200;
const RESULT_CAP = 2_000;
/** Finished operations are kept this long for the page to read their report. */
const KEEP_MS = 3_600_000;

/** Retry is for jobs that ended badly or are stuck; other states are reported, not moved. */
const RETRYABLE = new Set(['failed', 'stalled']);

async function actOn(job: Job, action: BulkAction, args: BulkArgs): Promise<void> {
  switch (action) {
    case 'retry':
      if (!RETRYABLE.has(job.state)) throw new Error(`job is ${job.state}, not failed`);
      await job.move(job.queue);
      return;
    case 'move':
      await job.move(args.queue as string);
      return;
    case 'priority':
      await job.setPriority(args.priority as number);
      return;
    case 'tag':
      await job.tag(...(args.tags as string[]));
      return;
    case 'untag':
      await job.untag(...(args.tags as string[]));
      return;
    case 'track':
      await job.track();
      return;
    case 'untrack':
      await job.untrack();
      return;
    case 'cancel':
      await job.cancel();
      return;
  }
}

export class Operations {
  readonly #client: Client;
  readonly #all = new Map<string, OperationStatus>();
  readonly #onProgress: (status: OperationStatus) => void;
  readonly #running = new Set<Promise<void>>();
  #stopped = false;

  constructor(client: Client, onProgress: (status: OperationStatus) => void) {
    this.#client = client;
    this.#onProgress = onProgress;
  }

  get(id: string): OperationStatus | undefined {
    return this.#all.get(id);
  }

  list(): OperationStatus[] {
    return [...this.#all.values()].reverse();
  }

  /** Starts an operation; it runs in the background. */
  start(action: BulkAction, target: BulkTarget, args: BulkArgs): OperationStatus {
    this.#forgetOld();
    const status: OperationStatus = {
      id: randomUUID(),
      action,
      target:
        'jids' in target
          ? `${target.jids.length} selected jobs`
          : 'group' in target
            ? `failure group ${target.group}`
            : `jobs matching ${JSON.stringify(target.filter)}`,
      phase: 'jids' in target ? 'running' : 'collecting',
      total: 'jids' in target ? target.jids.length : 0,
      done: 0,
      succeeded: 0,
      failed: 0,
      examined: 0,
      results: [],
      startedAt: Date.now(),
    };
    this.#all.set(status.id, status);
    const run = this.#run(status, target, args)
      .catch((error: unknown) => {
        status.phase = 'failed';
        status.error = error instanceof Error ? error.message : String(error);
      })
      .finally(() => {
        status.finishedAt = Date.now();
        if (status.phase !== 'failed') status.phase = 'done';
        this.#onProgress(status);
        this.#running.delete(run);
      });
    this.#running.add(run);
    return status;
  }

  /** Lets running operations stop after their current batch. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all([...this.#running]);
  }

  async #run(status: OperationStatus, target: BulkTarget, args: BulkArgs): Promise<void> {
    if ('group' in target) return this.#runGroup(status, target.group, args);
    const jids =
      'jids' in target
        ? target.jids
        : await findAllJids(this.#client, target.filter, (examined, matched) => {
            status.examined = examined;
            status.total = matched;
            this.#onProgress(status);
          });
    status.phase = 'running';
    status.total = jids.length;
    for (let start = 0; start < jids.length && !this.#stopped; start += BATCH) {
      await this.#batch(status, jids.slice(start, start + BATCH), status.action, args);
    }
  }

  /**
   * The whole group, read from its head again and again: jobs acted on leave the group, the ones
   * that could not be (reported) are skipped by the offset, so the loop ends when the group does.
   */
  async #runGroup(status: OperationStatus, group: string, args: BulkArgs): Promise<void> {
    status.phase = 'running';
    status.total = await this.#client.redis.llen(`ql:f:${group}`);
    this.#onProgress(status);
    let skipped = 0;
    while (!this.#stopped) {
      const jids = await this.#client.redis.lrange(`ql:f:${group}`, skipped, skipped + BATCH - 1);
      if (jids.length === 0) break;
      const before = status.failed;
      await this.#batch(status, jids, status.action, args);
      skipped += status.failed - before;
      // New failures that joined the group meanwhile are taken too: the total grows with them.
      status.total = Math.max(status.total, status.done + (await this.#client.redis.llen(`ql:f:${group}`)) - skipped);
    }
  }

  async #batch(status: OperationStatus, jids: string[], action: BulkAction, args: BulkArgs): Promise<void> {
    const jobs = new Map((await this.#client.jobs.multiget(...jids)).map((job) => [job.jid, job]));
    const outcomes = await Promise.allSettled(
      jids.map(async (jid) => {
        const job = jobs.get(jid);
        if (!job) throw new Error('no such job');
        await actOn(job, action, args);
      }),
    );
    outcomes.forEach((outcome, index) => {
      status.done += 1;
      const jid = jids[index];
      if (outcome.status === 'fulfilled') {
        status.succeeded += 1;
        if (status.results.length < RESULT_CAP / 2) status.results.push({ jid, ok: true });
      } else {
        status.failed += 1;
        const error = outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason);
        if (status.results.length < RESULT_CAP) status.results.push({ jid, ok: false, error });
      }
    });
    this.#onProgress(status);
  }

  #forgetOld(): void {
    const horizon = Date.now() - KEEP_MS;
    for (const [id, status] of this.#all)
      if (status.finishedAt !== undefined && status.finishedAt < horizon) this.#all.delete(id);
  }
}
