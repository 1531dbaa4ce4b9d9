// A recurring job template (`recur.get`), which spawns a child job every `interval` seconds.
import { InvalidInputError } from './errors.ts';
import { encodeJson, requireCount, requireFinite, requireName, requirePositive } from './input.ts';
import { JobDefinition, type TagChange } from './job-definition.ts';
import type { QlessCaller, ScriptCall } from './script-caller.ts';
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

export class RecurringJob<D = JsonValue> extends JobDefinition<D> {
  readonly state = 'recur';
  readonly priority: number;
  readonly interval: number;
  /** Children spawned so far; child jids are `<jid>-<n>`. */
  readonly count: number;
  readonly backlog: number;

  constructor(client: QlessCaller, json: RecurringJobJson) {
    super(client, json);
    this.priority = json.priority;
    this.interval = json.interval;
    this.count = json.count;
    this.backlog = json.backlog;
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
    await this.caller.call('recur.update', this.jid, ...args);
  }

  /** Tags of the template (future children); tag/untag answer with them afterwards. */
  protected override tagsCall(change: TagChange, tags: string[]): ScriptCall {
    return { command: `recur.${change}`, args: [this.jid, ...tags] };
  }

  /** Stops the recurrence; children already spawned stay. */
  async cancel(): Promise<void> {
    await this.caller.call('unrecur', this.jid);
  }

  toJSON(): Record<string, unknown> {
    return {
      ...this.identityJSON(),
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
