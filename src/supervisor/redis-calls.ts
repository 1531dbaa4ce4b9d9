// Every Redis call the supervisor makes, in one place: what a worker name holds, the jobs locked
// in a queue, the jobs behind those jids, handing a job back, forgetting worker names, the pool's
// published status and the health probe's ping. The rest of src/supervisor/ only sees these methods, so a change of the
// client's API is a change here. Script calls are timed for the metrics when someone listens.
import {
  type Client,
  type Job,
  type PoolStatus,
  publishPool,
  unpublishPool,
  type WorkerJobs,
} from '../client/index.ts';

/** Told how long each script call took (the metrics' `qless_script_call_seconds`). */
export type ScriptCallTimer = (command: string, seconds: number) => void;

/** Jids asked for per call when listing a queue's locks or reading jobs (a page, not the whole set at once). */
const PAGE = 500;

export class SupervisorCalls {
  /** Set once the metrics are on. */
  onScriptCall: ScriptCallTimer | undefined;

  constructor(private readonly client: Client) {}

  /** Jids the worker name holds: `jobs` with a live lock, `stalled` past its lock expiry. */
  workerJobs(name: string): Promise<WorkerJobs> {
    return this.timed('workers', this.client.workers.get(name));
  }

  /** Jids locked in a queue: running (courtesy periods included) and past their lock expiry. */
  async lockedJobs(queue: string): Promise<string[]> {
    const jids = new Set<string>();
    for (const state of ['running', 'stalled'] as const) {
      for (let offset = 0; ; offset += PAGE) {
        const page = await this.timed('jobs', this.client.queue(queue).jobs(state, offset, PAGE));
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
      found.push(...(await this.timed('multiget', this.client.jobs.multiget(...jids.slice(start, start + PAGE)))));
    return found;
  }

  /**
   * `retry <jid> <queue> <worker> 0`: the job goes back to its queue at once, at the cost of one
   * retry. Resolves to the retries left (below 0: it is now failed, failed-retries-<queue>);
   * rejects with LostLockError when the worker no longer holds it.
   */
  retryNow(jid: string, queue: string, worker: string): Promise<number> {
    return this.timed('retry', this.client.jobs.retryAs(worker, { jid, queue }, { delay: 0 }));
  }

  /** Forgets worker names (their job lists stay until the jobs' locks expire). */
  deregister(names: string[]): Promise<void> {
    return this.timed('worker.deregister', this.client.workers.deregister(...names));
  }

  /** Writes the pool's status record, expiring `ttlMs` from now unless written again. */
  publishPool(status: PoolStatus, ttlMs: number): Promise<void> {
    return publishPool(this.client.redis, status, ttlMs);
  }

  /** Deletes the pool's status record (a clean shutdown). */
  unpublishPool(prefix: string): Promise<void> {
    return unpublishPool(this.client.redis, prefix);
  }

  /** Whether the connection is up right now (commands would be sent, not queued). */
  get connected(): boolean {
    return this.client.redis.status === 'ready';
  }

  async ping(): Promise<void> {
    await this.client.redis.ping();
  }

  private async timed<T>(command: string, call: Promise<T>): Promise<T> {
    const timer = this.onScriptCall;
    if (!timer) return call;
    const start = performance.now();
    try {
      return await call;
    } finally {
      timer(command, (performance.now() - start) / 1000);
    }
  }
}
