// One qless queue: putting jobs into it, taking them out, and looking at it.
import { randomUUID } from 'node:crypto';
import { InvalidInputError, QlessError } from './errors.ts';
import {
  encodeJson,
  requireCount,
  requireFinite,
  requireName,
  requireNames,
  requireNonNegative,
  requirePositive,
} from './input.ts';
import { type MoveOptions, popCall, putCall, sendCall } from './commands.ts';
import { type Job, jobsFromReply, poppedJobs } from './job.ts';
import { asList, asNumber, asString, asStrings, parseReply } from './reply.ts';
import type { QlessCaller } from './script-caller.ts';
import type { JobListState, QueueCounts, QueueStats, TimeStats } from './types.ts';

export interface PutOptions extends MoveOptions {
  /** Default: 32 hex characters of a random UUID. */
  jid?: string;
}

export interface RecurOptions {
  /** Seconds between two children. */
  interval: number;
  /** Seconds until the first child. Default 0. */
  offset?: number;
  priority?: number;
  tags?: string[];
  /** Retries of each child. Default 5, as the other qless clients send. */
  retries?: number;
  /** At most this many overdue children are spawned at once (0 = all). */
  backlog?: number;
  jid?: string;
}

const JOB_LIST_STATES: readonly JobListState[] = ['running', 'stalled', 'scheduled', 'depends', 'recurring'];

/** A new jid: a UUID4 without dashes, as every qless client makes them. */
export function newJid(): string {
  return randomUUID().replaceAll('-', '');
}

interface StatsJson {
  wait: TimeStatsJson;
  run: TimeStatsJson;
  retries: number;
  failures: number;
  failed: number;
}

interface TimeStatsJson {
  count: number;
  mean: number;
  std: number;
  histogram: number[] | Record<string, never>;
}

function timeStats(json: TimeStatsJson): TimeStats {
  return { count: json.count, mean: json.mean, std: json.std, histogram: asList(json.histogram) };
}

export class Queue {
  readonly name: string;
  readonly #client: QlessCaller;

  constructor(client: QlessCaller, name: string) {
    this.#client = client;
    this.name = requireName(name, 'queue');
  }

  /** Puts a job; returns its jid. Re-putting an existing jid moves that job here. */
  async put(klass: string, data: unknown, options: PutOptions = {}): Promise<string> {
    const jid = options.jid === undefined ? newJid() : requireName(options.jid, 'jid');
    const call = putCall(this.#client.workerName, this.name, { jid, klass, data }, options);
    return asString(await sendCall(this.#client, call), 'put');
  }

  /** Makes a recurring job that spawns a child every `interval` seconds; returns its jid. */
  async recur(klass: string, data: unknown, options: RecurOptions): Promise<string> {
    if (typeof options !== 'object' || options === null)
      throw new InvalidInputError('recur: options with an interval are required');
    const jid = options.jid === undefined ? newJid() : requireName(options.jid, 'jid');
    const args = [this.name, jid, requireName(klass, 'klass'), encodeJson(data, 'data'), 'interval'];
    args.push(String(requirePositive(options.interval, 'interval')));
    args.push(String(options.offset === undefined ? 0 : requireNonNegative(options.offset, 'offset')));
    args.push('priority', String(options.priority === undefined ? 0 : requireFinite(options.priority, 'priority')));
    args.push('tags', encodeJson(options.tags === undefined ? [] : requireNames(options.tags, 'tags'), 'tags'));
    args.push('retries', String(options.retries === undefined ? 5 : requireCount(options.retries, 'retries')));
    args.push('backlog', String(options.backlog === undefined ? 0 : requireCount(options.backlog, 'backlog')));
    return asString(await this.#client.call('recur', ...args), 'recur');
  }

  /** Takes up to `count` jobs for this client's worker name, locking them. */
  async pop(count = 1): Promise<Job[]> {
    const reply = await sendCall(this.#client, popCall(this.name, this.#client.workerName, count));
    return poppedJobs(this.#client, reply);
  }

  /** The next `count` jobs pop would hand out, without locking them. */
  async peek(count = 1): Promise<Job[]> {
    const reply = await this.#client.call('peek', this.name, String(requireCount(count, 'count', { min: 1 })));
    return jobsFromReply(this.#client, reply, 'peek');
  }

  /** Stops pop from handing out jobs of this queue. */
  async pause(): Promise<void> {
    await this.#client.call('pause', this.name);
  }

  async unpause(): Promise<void> {
    await this.#client.call('unpause', this.name);
  }

  async isPaused(): Promise<boolean> {
    return (await this.counts()).paused;
  }

  /** Jobs waiting, scheduled and locked (running or stalled). */
  async length(): Promise<number> {
    return asNumber(await this.#client.call('length', this.name), 'length');
  }

  async counts(): Promise<QueueCounts> {
    const counts = parseReply<QueueCounts>(await this.#client.call('queues', this.name), 'queues');
    if (counts === null) throw new QlessError(`queues ${this.name} returned nothing`, 'queues');
    return counts;
  }

  /** Wait and run times, failures and retries of the day that contains `date` (default today). */
  async stats(date: Date | number = this.#client.now()): Promise<QueueStats> {
    const seconds = date instanceof Date ? date.getTime() / 1000 : requireFinite(date, 'date');
    if (!Number.isFinite(seconds)) throw new InvalidInputError('stats: the date is invalid');
    const json = parseReply<StatsJson>(await this.#client.call('stats', this.name, String(seconds)), 'stats');
    if (json === null) throw new QlessError(`stats ${this.name} returned nothing`, 'stats');
    return {
      wait: timeStats(json.wait),
      run: timeStats(json.run),
      retries: json.retries,
      failures: json.failures,
      failed: json.failed,
    };
  }

  /** Jids of this queue's jobs in one state, paged. */
  async jobs(state: JobListState, offset = 0, count = 25): Promise<string[]> {
    if (!JOB_LIST_STATES.includes(state))
      throw new InvalidInputError(`jobs: state must be one of ${JOB_LIST_STATES.join(', ')}, got ${String(state)}`);
    const reply = await this.#client.call(
      'jobs',
      state,
      this.name,
      String(requireCount(offset, 'offset')),
      String(requireCount(count, 'count')),
    );
    return asStrings(reply, 'jobs');
  }

  /** Puts the `count` oldest jobs of a failure group back into this queue; returns how many. */
  async unfail(group: string, count = 25): Promise<number> {
    const reply = await this.#client.call(
      'unfail',
      this.name,
      requireName(group, 'group'),
      String(requireCount(count, 'count', { min: 1 })),
    );
    return asNumber(reply, 'unfail');
  }

  /** Removes the queue from the list of known queues (its jobs stay). */
  async forget(): Promise<void> {
    await this.#client.call('queue.forget', this.name);
  }
}
