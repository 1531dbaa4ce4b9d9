// Looking jobs up across queues: by jid, tag, tracking, completion and failure group.
import { getCall, parseGetReply, type RetryOptions, retryCall, sendCall } from './commands.ts';
import { InvalidInputError } from './errors.ts';
import { requireCount, requireName, requireNames } from './input.ts';
import { Job, jobsFromReply } from './job.ts';
import { RecurringJob } from './recurring-job.ts';
import { asList, asNumber, asStrings, parseReply } from './reply.ts';
import type { QlessCaller } from './script-caller.ts';
import type { JobJson, Page, RecurringJobJson } from './types.ts';

interface PageJson {
  total: number;
  jobs: string[] | Record<string, never>;
}

export interface TrackedJobs {
  jobs: Job[];
  /** Tracked jids whose job no longer exists. */
  expired: string[];
}

export class Jobs {
  readonly #client: QlessCaller;

  constructor(client: QlessCaller) {
    this.#client = client;
  }

  /** The job, or the recurring job, with this jid; null if neither exists. */
  async get(jid: string): Promise<Job | RecurringJob | null> {
    const job = parseGetReply(await sendCall(this.#client, getCall(jid)));
    if (job !== null) return new Job(this.#client, job);
    const recurring = parseReply<RecurringJobJson>(await this.#client.call('recur.get', jid), 'recur.get');
    return recurring === null ? null : new RecurringJob(this.#client, recurring);
  }

  /** The jobs that exist among these jids, in the order given. */
  async multiget(...jids: string[]): Promise<Job[]> {
    if (jids.length === 0) return [];
    return jobsFromReply(this.#client, await this.#client.call('multiget', ...requireNames(jids, 'jids')), 'multiget');
  }

  /** Jids carrying a tag, oldest tagging first. */
  async tagged(tag: string, offset = 0, count = 25): Promise<Page<string>> {
    const reply = await this.#client.call(
      'tag',
      'get',
      requireName(tag, 'tag'),
      String(requireCount(offset, 'offset')),
      String(requireCount(count, 'count')),
    );
    const page = parseReply<PageJson>(reply, 'tag');
    return { total: page?.total ?? 0, jobs: asList(page?.jobs) };
  }

  async tracked(): Promise<TrackedJobs> {
    const reply = parseReply<{ jobs: JobJson[] | Record<string, never>; expired: string[] | Record<string, never> }>(
      await this.#client.call('track'),
      'track',
    );
    return {
      jobs: asList(reply?.jobs).map((json) => new Job(this.#client, json)),
      expired: asList(reply?.expired),
    };
  }

  /** Jids of completed jobs, newest first. */
  async complete(offset = 0, count = 25): Promise<string[]> {
    return asStrings(
      await this.#client.call(
        'jobs',
        'complete',
        String(requireCount(offset, 'offset')),
        String(requireCount(count, 'count')),
      ),
      'jobs',
    );
  }

  /** Failure groups with their number of jobs. */
  async failed(): Promise<Record<string, number>> {
    const groups = parseReply<Record<string, number> | never[]>(await this.#client.call('failed'), 'failed');
    return groups === null || Array.isArray(groups) ? {} : groups;
  }

  /** One page of a failure group's jobs, newest first, with the group's size. */
  async failedGroup(group: string, start = 0, limit = 25): Promise<Page<Job>> {
    const reply = await this.#client.call(
      'failed',
      requireName(group, 'group'),
      String(requireCount(start, 'start')),
      String(requireCount(limit, 'limit')),
    );
    const page = parseReply<PageJson>(reply, 'failed');
    return { total: page?.total ?? 0, jobs: await this.multiget(...asList(page?.jobs)) };
  }

  /** Tags used at least twice, most used first. */
  async topTags(offset = 0, count = 25): Promise<string[]> {
    const reply = await this.#client.call(
      'tag',
      'top',
      String(requireCount(offset, 'offset')),
      String(requireCount(count, 'count')),
    );
    return asList(parseReply<string[]>(reply, 'tag'));
  }

  /**
   * Retries a job as the worker that holds it (e.g. the jobs of a worker that died, handed back at
   * once instead of after their locks expire); returns the retries left (below 0: the job failed,
   * into failed-retries-<queue>). A job that worker no longer holds is refused with LostLockError.
   */
  async retryAs(worker: string, job: { jid: string; queue: string }, options: RetryOptions = {}): Promise<number> {
    const call = retryCall(
      { jid: requireName(job.jid, 'jid'), queue: requireName(job.queue, 'queue') },
      requireName(worker, 'worker'),
      options,
    );
    return asNumber(await sendCall(this.#client, call), 'retry');
  }

  /** Cancels several jobs at once (jobs that depend on each other must go together). */
  async cancel(...jids: string[]): Promise<string[]> {
    if (jids.length === 0) throw new InvalidInputError('cancel: give at least one jid');
    return asStrings(await this.#client.call('cancel', ...requireNames(jids, 'jids')), 'cancel');
  }
}
