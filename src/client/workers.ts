// The workers qless knows about (`ql:workers`) and the jobs each one holds.
import { deregisterCall, parseWorkerJobsReply, sendCall, workerJobsCall } from './commands.ts';
import { asList, parseReply } from './reply.ts';
import type { QlessCaller } from './script-caller.ts';
import type { WorkerJobs, WorkerSummary } from './types.ts';

export class Workers {
  readonly #client: QlessCaller;

  constructor(client: QlessCaller) {
    this.#client = client;
  }

  /** Known workers, most recently active first. */
  async list(): Promise<WorkerSummary[]> {
    return asList(parseReply<WorkerSummary[]>(await this.#client.call('workers'), 'workers'));
  }

  /** Jids a worker holds: `jobs` with a live lock, `stalled` with an expired one. */
  async get(name: string): Promise<WorkerJobs> {
    return parseWorkerJobsReply(await sendCall(this.#client, workerJobsCall(name)));
  }

  /** Forgets workers (their job lists stay until their jobs' locks expire). */
  async deregister(...names: string[]): Promise<void> {
    await sendCall(this.#client, deregisterCall(names));
  }
}
