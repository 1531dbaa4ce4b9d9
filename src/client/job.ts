// A qless job as read from Redis, with the calls that act on it.
import {
  type CompletedState,
  type CompleteOptions,
  completeCall,
  completePopCall,
  failCall,
  heartbeatCall,
  type MoveOptions,
  parseCompletePopReply,
  parsePopReply,
  putCall,
  type RetryOptions,
  retryCall,
  sendCall,
} from './commands.ts';
import { encodeJson, requireFinite, requireName, requireNames } from './input.ts';
import { JobDefinition, type TagChange } from './job-definition.ts';
import { asList, asNumber, asString, parseReply } from './reply.ts';
import type { QlessCaller, ScriptCall } from './script-caller.ts';
import { InvalidInputError } from './errors.ts';
import type { Failure, HistoryEntry, JobJson, JobState, JsonValue, ScriptReply } from './types.ts';

export type { CompletedState, CompleteOptions, MoveOptions, RetryOptions };

/** `{}` (cjson's empty object) means no failure. */
function isFailure(value: Failure | Record<string, never> | null | undefined): value is Failure {
  return typeof value === 'object' && value !== null && typeof value.group === 'string';
}

export class Job<D = JsonValue> extends JobDefinition<D> {
  readonly state: JobState;
  readonly worker: string;
  readonly remaining: number;
  readonly history: HistoryEntry[];
  readonly failure: Failure | null;
  readonly spawnedFromJid: string | null;
  readonly dependents: string[];
  readonly dependencies: string[];
  #expires: number;
  #priority: number;
  #tracked: boolean;

  constructor(client: QlessCaller, json: JobJson) {
    super(client, json);
    this.state = json.state;
    this.worker = json.worker;
    this.remaining = json.remaining;
    this.history = asList(json.history);
    this.failure = isFailure(json.failure) ? json.failure : null;
    this.spawnedFromJid = typeof json.spawned_from_jid === 'string' ? json.spawned_from_jid : null;
    this.dependents = asList(json.dependents);
    this.dependencies = asList(json.dependencies);
    this.#expires = json.expires;
    this.#priority = json.priority;
    this.#tracked = json.tracked;
  }

  /** Lock expiry in seconds since the epoch (0 when not locked); renewed by `heartbeat`. */
  get expires(): number {
    return this.#expires;
  }

  get priority(): number {
    return this.#priority;
  }

  get tracked(): boolean {
    return this.#tracked;
  }

  /** Seconds until the lock expires, by the given clock (negative once expired). */
  ttl(now: number = Date.now() / 1000): number {
    return this.#expires - now;
  }

  /** Completes the job, or advances it to `next`; returns the state it is in afterwards. */
  async complete(next?: string, options: CompleteOptions = {}): Promise<CompletedState> {
    const call = completeCall(this, this.caller.workerName, next, options);
    return asString(await sendCall(this.caller, call), 'complete') as CompletedState;
  }

  /**
   * Completes the job (as `complete(next, options)`) and pops up to `count` jobs of `popQueue` for
   * the same worker, in one script call (the `complete.pop` extension): Redis ends up exactly as
   * after `complete` then `queue.pop(count)`. If the complete is refused, nothing is popped.
   */
  async completeAndPop(
    popQueue: string,
    count = 1,
    next?: string,
    options: CompleteOptions = {},
  ): Promise<{ state: CompletedState; jobs: Job[] }> {
    const call = completePopCall(this, this.caller.workerName, popQueue, count, next, options);
    const reply = parseCompletePopReply(await sendCall(this.caller, call));
    return { state: reply.state, jobs: reply.jobs.map((json) => new Job(this.caller, json)) };
  }

  /** Fails the job into `group`; `data`, if given, replaces the job's data. */
  async fail(group: string, message: string, data?: unknown): Promise<string> {
    const call = failCall(this, this.caller.workerName, group, message, data);
    return asString(await sendCall(this.caller, call), 'fail');
  }

  /** Renews the lock; returns the new expiry (whole seconds) and stores it in `expires`. */
  async heartbeat(data?: unknown): Promise<number> {
    const call = heartbeatCall(this, this.caller.workerName, data);
    this.#expires = asNumber(await sendCall(this.caller, call), 'heartbeat');
    if (data !== undefined) this.replaceData(data as D);
    return this.#expires;
  }

  /** Hands the job back to its queue (or fails it once retries run out); returns retries left. */
  async retry(options: RetryOptions = {}): Promise<number> {
    const call = retryCall(this, this.caller.workerName, options);
    return asNumber(await sendCall(this.caller, call), 'retry');
  }

  /** Deletes the job; refused if another job depends on it. */
  async cancel(): Promise<void> {
    await this.caller.call('cancel', this.jid);
  }

  /** Ends the current lock at once: the job is stalled and popped first. */
  async timeout(): Promise<void> {
    await this.caller.call('timeout', this.jid);
  }

  /**
   * Puts the job into another queue (or the same one, e.g. with a delay). Sent under this
   * client's worker name, as other qless clients do: a handler moving its own job raises no
   * lock_lost, while an operator moving a running job tells its worker at once that it lost it.
   */
  async move(queue: string, options: MoveOptions = {}): Promise<string> {
    const call = putCall(this.caller.workerName, queue, this, options);
    return asString(await sendCall(this.caller, call), 'put');
  }

  async setPriority(priority: number): Promise<void> {
    const value = requireFinite(priority, 'priority');
    await this.caller.call('priority', this.jid, String(value));
    this.#priority = value;
  }

  /** Starts tracking; returns whether that changed anything. */
  async track(): Promise<boolean> {
    const changed = asString(await this.caller.call('track', 'track', this.jid), 'track') === '1';
    this.#tracked = true;
    return changed;
  }

  /** Stops tracking; returns whether that changed anything. */
  async untrack(): Promise<boolean> {
    const changed = asString(await this.caller.call('track', 'untrack', this.jid), 'track') === '1';
    this.#tracked = false;
    return changed;
  }

  protected override tagsCall(change: TagChange, tags: string[]): ScriptCall {
    return { command: 'tag', args: [change === 'tag' ? 'add' : 'remove', this.jid, ...tags] };
  }

  /** Makes this job (which must be in the depends state) wait for more jobs. */
  async depend(...jids: string[]): Promise<void> {
    if (jids.length === 0) throw new InvalidInputError('depend: give at least one jid');
    await this.caller.call('depends', this.jid, 'on', ...requireNames(jids, 'jids'));
  }

  /** Stops waiting for the given jobs; with none left, the job becomes waiting. */
  async undepend(...jids: string[]): Promise<void> {
    if (jids.length === 0) throw new InvalidInputError('undepend: give at least one jid (or use undependAll)');
    const names = requireNames(jids, 'jids');
    if (names.includes('all')) throw new InvalidInputError('undepend: "all" is not a jid here; use undependAll()');
    await this.caller.call('depends', this.jid, 'off', ...names);
  }

  async undependAll(): Promise<void> {
    await this.caller.call('depends', this.jid, 'off', 'all');
  }

  /** Appends an entry to the job's history. */
  async log(message: string, data?: Record<string, unknown>): Promise<void> {
    const args = [requireName(message, 'message')];
    if (data !== undefined) {
      // The script stores the extra as the history entry's fields: only an object makes sense.
      if (typeof data !== 'object' || data === null || Array.isArray(data))
        throw new InvalidInputError('log: data must be an object');
      args.push(encodeJson(data, 'data'));
    }
    await this.caller.call('log', this.jid, ...args);
  }

  /** The fields as plain data (data decoded), e.g. for `--json` output. */
  toJSON(): Record<string, unknown> {
    return {
      ...this.identityJSON(),
      state: this.state,
      worker: this.worker,
      tracked: this.tracked,
      priority: this.priority,
      expires: this.expires,
      retries: this.retries,
      remaining: this.remaining,
      data: this.data,
      tags: this.tags,
      history: this.history,
      failure: this.failure,
      spawnedFromJid: this.spawnedFromJid,
      dependents: this.dependents,
      dependencies: this.dependencies,
    };
  }
}

/** Jobs from a JSON array reply (`{}` = none). */
export function jobsFromReply(client: QlessCaller, reply: ScriptReply, command: string): Job[] {
  return asList(parseReply<JobJson[]>(reply, command)).map((json) => new Job(client, json));
}

/** The jobs a `pop` handed out. */
export function poppedJobs(client: QlessCaller, reply: ScriptReply): Job[] {
  return parsePopReply(reply).map((json) => new Job(client, json));
}
