// qless's pub/sub events, typed: `ql:log`, a worker's `ql:w:<worker>` channel and the tracked-job
// channels. Has its own subscriber connection, opened on the first subscription.
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { closeRedis } from './connection.ts';
import { requireName } from './input.ts';

/** What the script publishes on `ql:log` (and, for lock_lost/canceled, on `ql:w:<worker>`). */
export type LogEvent =
  | { event: 'put'; jid: string; queue: string }
  | { event: 'lock_lost'; jid: string; worker: string }
  /** `queue` and `worker` are false when the jid did not exist; `worker` is '' for a job nobody held. */
  | { event: 'canceled'; jid: string; queue: string | false; worker: string | false }
  | { event: 'completed'; jid: string; queue: string }
  | { event: 'advanced'; jid: string; queue: string; to: string }
  | { event: 'failed'; jid: string; group: string; message: string; worker: string }
  | { event: 'config_set'; option: string; value: string }
  | { event: 'config_unset'; option: string };

export const TRACKED_EVENTS = [
  'put',
  'popped',
  'completed',
  'failed',
  'stalled',
  'canceled',
  'track',
  'untrack',
] as const;
export type TrackedEventName = (typeof TRACKED_EVENTS)[number];

/** Something happened to a tracked job (or tracking itself changed), published as the bare jid. */
export interface TrackedEvent {
  event: TrackedEventName;
  jid: string;
}

export interface EventMap {
  log: [event: LogEvent];
  /** A message on a watched worker's channel: a job of that worker was lost, canceled or re-put. */
  worker: [event: LogEvent, worker: string];
  tracked: [event: TrackedEvent];
  /** A connection error, or a message that could not be read. */
  error: [error: Error];
}

const LOG_CHANNEL = 'ql:log';
const WORKER_PREFIX = 'ql:w:';
const TRACKED_CHANNELS = TRACKED_EVENTS.map((name) => `ql:${name}`);

export class Events {
  readonly #emitter = new EventEmitter();
  readonly #connect: () => Redis;
  readonly #onClose: (() => void) | undefined;
  #subscriber: Redis | undefined;
  #subscribed = new Set<string>();
  #pending = new Set<Promise<unknown>>();
  #closed = false;

  /** `connect` opens a connection for this object alone (subscribing takes it over). */
  constructor(connect: () => Redis, onClose?: () => void) {
    this.#connect = connect;
    this.#onClose = onClose;
  }

  /** Adding a `log` or `tracked` listener subscribes to those channels; await `ready()` to know it is done. */
  on<K extends keyof EventMap>(name: K, listener: (...args: EventMap[K]) => void): this {
    this.#emitter.on(name, listener as (...args: unknown[]) => void);
    this.#subscribeFor(name);
    return this;
  }

  once<K extends keyof EventMap>(name: K, listener: (...args: EventMap[K]) => void): this {
    this.#emitter.once(name, listener as (...args: unknown[]) => void);
    this.#subscribeFor(name);
    return this;
  }

  /**
   * Removing the last `log` (or `tracked`) listener unsubscribes those channels, so Redis stops
   * sending what nobody listens to; await `ready()` to know it is done.
   */
  off<K extends keyof EventMap>(name: K, listener: (...args: EventMap[K]) => void): this {
    this.#emitter.off(name, listener as (...args: unknown[]) => void);
    if (this.#emitter.listenerCount(name) === 0) this.#unsubscribeFor(name);
    return this;
  }

  /** Resolves once every subscription asked for so far is active on the server. */
  async ready(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /** Receive `worker` events for this worker's jobs (lock lost, canceled, put elsewhere). */
  async watchWorker(name: string): Promise<void> {
    await this.#subscribe([WORKER_PREFIX + requireName(name, 'worker')]);
  }

  async unwatchWorker(name: string): Promise<void> {
    const channel = WORKER_PREFIX + requireName(name, 'worker');
    if (!this.#subscribed.delete(channel) || !this.#subscriber) return;
    await this.#subscriber.unsubscribe(channel);
  }

  /** Closes the subscriber connection and drops every listener. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#onClose?.();
    this.#emitter.removeAllListeners();
    this.#subscribed.clear();
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    if (subscriber) await closeRedis(subscriber);
  }

  #channelsFor(name: keyof EventMap): string[] {
    if (name === 'log') return [LOG_CHANNEL];
    if (name === 'tracked') return TRACKED_CHANNELS;
    return [];
  }

  #subscribeFor(name: keyof EventMap): void {
    const channels = this.#channelsFor(name);
    if (channels.length === 0) return;
    // A failed subscription surfaces through ready() and as an `error` event.
    this.#subscribe(channels).catch((error: unknown) => this.#fail(error));
  }

  #unsubscribeFor(name: keyof EventMap): void {
    const channels = this.#channelsFor(name).filter((channel) => this.#subscribed.delete(channel));
    if (channels.length === 0 || !this.#subscriber || this.#closed) return;
    // Through #connection() like a subscribe, so both reach Redis in the order they were asked.
    const done = this.#connection()
      .then((subscriber) => subscriber.unsubscribe(...channels))
      .then(() => undefined)
      .catch((error: unknown) => this.#fail(error))
      .finally(() => this.#pending.delete(done));
    this.#pending.add(done);
  }

  #subscribe(channels: string[]): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('events: closed'));
    const fresh = channels.filter((channel) => !this.#subscribed.has(channel));
    if (fresh.length === 0) return this.ready();
    for (const channel of fresh) this.#subscribed.add(channel);
    const done = this.#connection()
      .then((subscriber) => subscriber.subscribe(...fresh))
      .then(() => undefined)
      .catch((error: unknown) => {
        for (const channel of fresh) this.#subscribed.delete(channel);
        throw error;
      })
      .finally(() => this.#pending.delete(done));
    this.#pending.add(done);
    return done;
  }

  #connection(): Promise<Redis> {
    if (this.#subscriber) return this.#ready(this.#subscriber);
    const subscriber = this.#connect();
    subscriber.on('message', (channel: string, message: string) => this.#dispatch(channel, message));
    subscriber.on('error', (error: Error) => this.#fail(error));
    this.#subscriber = subscriber;
    return this.#ready(subscriber);
  }

  // ioredis's ready check (INFO) fails on a connection that entered subscriber mode while it was
  // still handshaking, so the first SUBSCRIBE waits until the connection is ready.
  #ready(subscriber: Redis): Promise<Redis> {
    if (subscriber.status === 'ready') return Promise.resolve(subscriber);
    return new Promise((resolve, reject) => {
      const onReady = (): void => {
        subscriber.off('end', onEnd);
        resolve(subscriber);
      };
      const onEnd = (): void => {
        subscriber.off('ready', onReady);
        reject(new Error('events: the subscriber connection closed before it was ready'));
      };
      subscriber.once('ready', onReady);
      subscriber.once('end', onEnd);
      if (subscriber.status === 'wait') subscriber.connect().catch(() => {});
    });
  }

  #dispatch(channel: string, message: string): void {
    if (channel === LOG_CHANNEL || channel.startsWith(WORKER_PREFIX)) {
      let event: LogEvent;
      try {
        event = JSON.parse(message) as LogEvent;
      } catch {
        this.#fail(new Error(`unreadable message on ${channel}: ${message.slice(0, 200)}`));
        return;
      }
      if (channel === LOG_CHANNEL) this.#emitter.emit('log', event);
      else this.#emitter.emit('worker', event, channel.slice(WORKER_PREFIX.length));
      return;
    }
    const name = channel.slice('ql:'.length) as TrackedEventName;
    if (TRACKED_EVENTS.includes(name))
      this.#emitter.emit('tracked', { event: name, jid: message } satisfies TrackedEvent);
  }

  #fail(error: unknown): void {
    // Without an `error` listener the failure is only seen through ready(); never crash the process.
    if (this.#emitter.listenerCount('error') > 0)
      this.#emitter.emit('error', error instanceof Error ? error : new Error(String(error)));
  }
}
