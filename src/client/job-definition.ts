// What a job and a recurring job's template share: their jid, the klass that runs them and the
// queue they run in, their retries, their data (decoded) and their tags, with the calls that
// change the tags (each kind has its own command; the checks and the reply are the same).
import { sendCall } from './commands.ts';
import { InvalidInputError } from './errors.ts';
import { requireNames } from './input.ts';
import { asList, decodeData, parseReply } from './reply.ts';
import type { QlessCaller, ScriptCall } from './script-caller.ts';
import type { JsonValue } from './types.ts';

/** The fields of `get` and `recur.get` replies that both kinds have. */
export interface JobDefinitionJson {
  jid: string;
  klass: string;
  queue: string;
  retries: number;
  data: string;
  tags: string[] | Record<string, never>;
}

export type TagChange = 'tag' | 'untag';

export abstract class JobDefinition<D = JsonValue> {
  readonly jid: string;
  readonly klass: string;
  readonly queue: string;
  readonly retries: number;
  #data: D;
  #tags: string[];
  readonly #client: QlessCaller;

  protected constructor(client: QlessCaller, json: JobDefinitionJson) {
    this.#client = client;
    this.jid = json.jid;
    this.klass = json.klass;
    this.queue = json.queue;
    this.retries = json.retries;
    this.#data = decodeData(json.data) as D;
    this.#tags = asList(json.tags);
  }

  /** The data, decoded. A job's `complete` stores it back, so changes made to it while running are kept. */
  get data(): D {
    return this.#data;
  }

  get tags(): string[] {
    return [...this.#tags];
  }

  /** The fields that name it, first in every `toJSON` (so `--json` output starts the same way). */
  protected identityJSON(): { jid: string; klass: string; queue: string } {
    return { jid: this.jid, klass: this.klass, queue: this.queue };
  }

  /** Adds tags; returns the tags afterwards. */
  tag(...tags: string[]): Promise<string[]> {
    return this.#changeTags('tag', tags);
  }

  /** Removes tags; returns the tags afterwards. */
  untag(...tags: string[]): Promise<string[]> {
    return this.#changeTags('untag', tags);
  }

  /** The client the calls go through (a getter, so it stays out of the object's own fields). */
  protected get caller(): QlessCaller {
    return this.#client;
  }

  /** The call that adds or removes these (checked) tags; it answers with the tags afterwards. */
  protected abstract tagsCall(change: TagChange, tags: string[]): ScriptCall;

  /** The data as Redis now holds it (after a call that stored new data). */
  protected replaceData(data: D): void {
    this.#data = data;
  }

  async #changeTags(change: TagChange, tags: string[]): Promise<string[]> {
    if (tags.length === 0) throw new InvalidInputError(`${change}: give at least one tag`);
    const call = this.tagsCall(change, requireNames(tags, 'tags'));
    this.#tags = asList(parseReply<string[]>(await sendCall(this.#client, call), call.command));
    return this.tags;
  }
}
