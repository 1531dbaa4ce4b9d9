// What a command's run() gets: the output, and the client, connected on first use so that a
// command refuses bad input before it ever touches Redis.
import type { Client } from '../../client/index.ts';
import type { ConnectionFlags } from '../connection-flags.ts';
import { chooseRedisUrl, connectClient } from './connect.ts';
import { Output } from './output.ts';

export class Context {
  readonly out: Output;
  readonly #redisUrl: string | undefined;
  readonly #connection: ConnectionFlags;
  #client: Promise<Client> | undefined;

  constructor(options: { json: boolean; redis: string | undefined; connection?: ConnectionFlags }) {
    this.out = new Output(options.json);
    this.#redisUrl = options.redis;
    this.#connection = options.connection ?? {};
  }

  get json(): boolean {
    return this.out.json;
  }

  /** The URL the command talks to (checked, not yet connected). */
  redisUrl(): string {
    return chooseRedisUrl(this.#redisUrl, this.#connection);
  }

  /** The connected client. Call it only after every argument has been checked. */
  client(): Promise<Client> {
    this.#client ??= connectClient(this.redisUrl());
    return this.#client;
  }

  /** Whether the connection (if one was opened) is still usable. */
  async redisReady(): Promise<boolean> {
    if (!this.#client) return true;
    try {
      return (await this.#client).redis.status === 'ready';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (!this.#client) return;
    try {
      await (await this.#client).close();
    } catch {
      // Never connected, or already gone: nothing to close.
    }
  }
}
