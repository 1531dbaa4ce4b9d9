// Every Redis call the supervisor makes, in one place: what a worker name holds, the jobs locked
// in a queue, the jobs behind those jids, handing a job back, forgetting worker names. The rest
// of src/supervisor/ only sees these methods, so a change of the client's API is a change here.
import type { Client, Job, WorkerJobs } from '../client/index.ts';

/** Jids asked for per call when listing a queue's locks or reading jobs (a page, not the whole set at once). */
const PAGE = 500;

export class SupervisorCalls {
  constructor(private readonly client: Client) {}

  /** Jids the worker name holds: `jobs` with a live lock, `stalled` past its lock expiry. */
  workerJobs(name: string): Promise<WorkerJobs> {
    return this.client.workers.get(name);
  }

  /** Jids locked in a queue: running (courtesy periods included) and past their lock expiry. */
  async lockedJobs(queue: string): Promise<string[]> {
    const jids = new Set<string>();
    for (const state of ['running', 'stalled'] as const) {
      for (let offset = 0; ; offset += PAGE) {
        const page = await this.client.queue(queue).jobs(state, offset, PAGE);
        for (const jid of page) jids.add(jid);
        if (page.length < PAGE) break;
      }
    }
    return [...jids];
  }

  /** The jobs that exist among these jids. */
  async jobs(jids: string[]): Promise<Job[]> {
    const found: Job[] = [];
    for (let start = 0; start < jids.length; start += PAGE)
      found.push(...(await this.client.jobs.multiget(...jids.slice(start, start + PAGE))));
    return found;
  }

  /**
   * `retry <jid> <queue> <worker> 0`: the job goes back to its queue at once, at the cost of one
   * retry. Resolves to the retries left (below 0: it is now failed, failed-retries-<queue>);
   * rejects with LostLockError when the worker no longer holds it.
   */
  retryNow(jid: string, queue: string, worker: string): Promise<number> {
    return this.client.jobs.retryAs(worker, { jid, queue }, { delay: 0 });
  }

  /** Forgets worker names (their job lists stay until the jobs' locks expire). */
  deregister(names: string[]): Promise<void> {
    return this.client.workers.deregister(...names);
  }
}
