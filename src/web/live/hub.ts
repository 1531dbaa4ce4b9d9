// The live stream behind every open page: qless's `ql:log` events and the pools' published
// status, coalesced into at most one message per flush period (5,000 events a second become one
// small "what changed" message a second), fanned out to every connected page.
import { EventEmitter } from 'node:events';
import type { Client, Events, LogEvent } from '../../client/index.ts';

/** One message of the stream, as sent over server-sent events. */
export interface LiveMessage {
  event: 'changes' | 'pools' | 'operation' | 'status' | 'ping';
  data: unknown;
}

/** What changed since the last `changes` message. */
export interface Changes {
  /** Queues that had events (put, completed, canceled…). */
  queues: string[];
  /** How many events of each kind. */
  counts: Record<string, number>;
  /** Jids that had events (the first MAX_JIDS of them). */
  jids: string[];
  /** True when more jids changed than listed. */
  moreJids: boolean;
  failures: boolean;
  config: boolean;
  at: number;
}

const MAX_JIDS = 200;
/** A message on an idle stream now and then keeps proxies from closing it. */
const PING_MS = 15_000;

export interface HubOptions {
  /** How often changes are sent at most (ms). */
  flushMs: number;
  /** How often the pools' status is read (ms). */
  poolsMs: number;
}

export class LiveHub {
  readonly #client: Client;
  readonly #options: HubOptions;
  readonly #emitter = new EventEmitter();
  #events: Events | undefined;
  #timers: NodeJS.Timeout[] = [];
  #queues = new Set<string>();
  #jids = new Set<string>();
  #moreJids = false;
  #counts: Record<string, number> = {};
  #failures = false;
  #config = false;
  #dirty = false;
  #poolsJson = '';
  #redisUp = true;
  #lastOperationSent = new Map<string, number>();

  constructor(client: Client, options: HubOptions) {
    this.#client = client;
    this.#options = options;
    // Every open page listens; their number is not a leak.
    this.#emitter.setMaxListeners(0);
  }

  get emitter(): EventEmitter {
    return this.#emitter;
  }

  /** Subscribes to ql:log and starts the flush and pool timers. */
  async start(): Promise<void> {
    const events = this.#client.events();
    this.#events = events;
    events.on('log', (event) => this.#record(event));
    events.on('error', () => this.#setRedis(false));
    await events.ready();
    const flush = setInterval(() => this.#flush(), this.#options.flushMs);
    const pools = setInterval(() => void this.#readPools(), this.#options.poolsMs);
    const ping = setInterval(() => this.#send({ event: 'ping', data: Date.now() }), PING_MS);
    for (const timer of [flush, pools, ping]) timer.unref();
    this.#timers = [flush, pools, ping];
    await this.#readPools();
  }

  async stop(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    this.#emitter.emit('close');
    await this.#events?.close();
  }

  /** Sends a bulk operation's progress (at most 4 a second per operation; always its end). */
  operation(status: { id: string; phase: string }): void {
    const now = Date.now();
    const last = this.#lastOperationSent.get(status.id) ?? 0;
    const final = status.phase === 'done' || status.phase === 'failed';
    if (!final && now - last < 250) return;
    this.#lastOperationSent.set(status.id, now);
    if (final) this.#lastOperationSent.delete(status.id);
    this.#send({ event: 'operation', data: status });
  }

  #send(message: LiveMessage): void {
    this.#emitter.emit('message', message);
  }

  #record(event: LogEvent): void {
    this.#dirty = true;
    this.#counts[event.event] = (this.#counts[event.event] ?? 0) + 1;
    const fields = event as unknown as Record<string, unknown>;
    for (const key of ['queue', 'to']) {
      const value = fields[key];
      if (typeof value === 'string' && value !== '') this.#queues.add(value);
    }
    const jid = fields.jid;
    if (typeof jid === 'string') {
      if (this.#jids.size < MAX_JIDS) this.#jids.add(jid);
      else if (!this.#jids.has(jid)) this.#moreJids = true;
    }
    if (event.event === 'failed' || event.event === 'canceled' || event.event === 'put') this.#failures = true;
    if (event.event === 'config_set' || event.event === 'config_unset') this.#config = true;
  }

  #flush(): void {
    if (!this.#dirty) return;
    const changes: Changes = {
      queues: [...this.#queues],
      counts: this.#counts,
      jids: [...this.#jids],
      moreJids: this.#moreJids,
      failures: this.#failures,
      config: this.#config,
      at: Date.now(),
    };
    this.#queues = new Set();
    this.#jids = new Set();
    this.#moreJids = false;
    this.#counts = {};
    this.#failures = false;
    this.#config = false;
    this.#dirty = false;
    this.#send({ event: 'changes', data: changes });
  }

  async #readPools(): Promise<void> {
    try {
      const pools = await this.#client.pools.list();
      this.#setRedis(true);
      const json = JSON.stringify(pools);
      if (json === this.#poolsJson) return;
      this.#poolsJson = json;
      this.#send({ event: 'pools', data: pools });
    } catch {
      this.#setRedis(false);
    }
  }

  #setRedis(up: boolean): void {
    if (up === this.#redisUp) return;
    this.#redisUp = up;
    this.#send({ event: 'status', data: { redis: up ? 'up' : 'down' } });
  }
}
