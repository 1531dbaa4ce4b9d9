// The workers qless knows about (`ql:workers`) and the jobs each one holds.
import { InvalidInputError } from './errors.ts';
import { requireName, requireNames } from './input.ts';
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
    const reply = parseReply<{ jobs: string[] | Record<string, never>; stalled: string[] | Record<string, never> }>(
      await this.#client.call('workers', requireName(name, 'worker')),
      'workers',
    );
    return { jobs: asList(reply?.jobs), stalled: asList(reply?.stalled) };
  }

  /** Forgets workers (their job lists stay until their jobs' locks expire). */
  async deregister(...names: string[]): Promise<void> {
    if (names.length === 0) throw new InvalidInputError('deregister: give at least one worker name');
    await this.#client.call('worker.deregister', ...requireNames(names, 'workers'));
  }
}
