// A recurring job template (`recur.get`), which spawns a child job every `interval` seconds.
import { InvalidInputError } from './errors.ts';
import { encodeJson, requireCount, requireFinite, requireName, requireNames, requirePositive } from './input.ts';
import { asList, decodeData, parseReply } from './reply.ts';
import type { QlessCaller } from './script-caller.ts';
import type { JsonValue, RecurringJobJson } from './types.ts';

export interface RecurringUpdate {
  priority?: number;
  interval?: number;
  retries?: number;
  data?: unknown;
  klass?: string;
  queue?: string;
  backlog?: number;
}

export class RecurringJob<D = JsonValue> {
  readonly jid: string;
  readonly klass: string;
  readonly queue: string;
  readonly state = 'recur';
  readonly priority: number;
  readonly interval: number;
  readonly retries: number;
  /** Children spawned so far; child jids are `<jid>-<n>`. */
  readonly count: number;
  readonly backlog: number;
  readonly data: D;
  #tags: string[];
  readonly #client: QlessCaller;

  constructor(client: QlessCaller, json: RecurringJobJson) {
    this.#client = client;
    this.jid = json.jid;
    this.klass = json.klass;
    this.queue = json.queue;
    this.priority = json.priority;
    this.interval = json.interval;
    this.retries = json.retries;
    this.count = json.count;
    this.backlog = json.backlog;
    this.data = decodeData(json.data) as D;
    this.#tags = asList(json.tags);
  }

  get tags(): string[] {
    return [...this.#tags];
  }

  /** Changes the template; children already spawned keep their values. */
  async update(changes: RecurringUpdate): Promise<void> {
    const args: string[] = [];
    if (changes.priority !== undefined) args.push('priority', String(requireFinite(changes.priority, 'priority')));
    if (changes.interval !== undefined) args.push('interval', String(requirePositive(changes.interval, 'interval')));
    if (changes.retries !== undefined) args.push('retries', String(requireCount(changes.retries, 'retries')));
    if (changes.data !== undefined) args.push('data', encodeJson(changes.data, 'data'));
    if (changes.klass !== undefined) args.push('klass', requireName(changes.klass, 'klass'));
    if (changes.queue !== undefined) args.push('queue', requireName(changes.queue, 'queue'));
    if (changes.backlog !== undefined) args.push('backlog', String(requireCount(changes.backlog, 'backlog')));
    if (args.length === 0) throw new InvalidInputError('update: nothing to change');
    await this.#client.call('recur.update', this.jid, ...args);
  }

  /** Adds tags to the template (future children); returns its tags afterwards. */
  async tag(...tags: string[]): Promise<string[]> {
    if (tags.length === 0) throw new InvalidInputError('tag: give at least one tag');
    const reply = await this.#client.call('recur.tag', this.jid, ...requireNames(tags, 'tags'));
    this.#tags = asList(parseReply<string[]>(reply, 'recur.tag'));
    return this.tags;
  }

  async untag(...tags: string[]): Promise<string[]> {
    if (tags.length === 0) throw new InvalidInputError('untag: give at least one tag');
    const reply = await this.#client.call('recur.untag', this.jid, ...requireNames(tags, 'tags'));
    this.#tags = asList(parseReply<string[]>(reply, 'recur.untag'));
    return this.tags;
  }

  /** Stops the recurrence; children already spawned stay. */
  async cancel(): Promise<void> {
    await this.#client.call('unrecur', this.jid);
  }

  toJSON(): Record<string, unknown> {
    return {
      jid: this.jid,
      klass: this.klass,
      queue: this.queue,
      state: this.state,
      priority: this.priority,
      interval: this.interval,
      retries: this.retries,
      count: this.count,
      backlog: this.backlog,
      data: this.data,
      tags: this.tags,
    };
  }
}
