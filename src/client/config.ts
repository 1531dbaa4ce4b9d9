// qless configuration (`ql:config`): stored values are strings, defaults come back as numbers.
import { requireName } from './input.ts';
import { parseReply } from './reply.ts';
import type { QlessCaller } from './script-caller.ts';
import { InvalidInputError } from './errors.ts';

export type ConfigValue = string | number;

export class Config {
  readonly #client: QlessCaller;

  constructor(client: QlessCaller) {
    this.#client = client;
  }

  /** The stored value, else qless's default, else null. */
  async get(key: string): Promise<ConfigValue | null> {
    const reply = await this.#client.call('config.get', requireName(key, 'key'));
    return typeof reply === 'string' || typeof reply === 'number' ? reply : null;
  }

  /** Every default, overridden by every stored value. */
  async all(): Promise<Record<string, ConfigValue>> {
    return parseReply<Record<string, ConfigValue>>(await this.#client.call('config.get'), 'config.get') ?? {};
  }

  async set(key: string, value: ConfigValue): Promise<void> {
    if (typeof value === 'number' && !Number.isFinite(value))
      throw new InvalidInputError(`config ${key}: value must be a finite number or a string`);
    if (typeof value !== 'number' && typeof value !== 'string')
      throw new InvalidInputError(`config ${key}: value must be a number or a string`);
    await this.#client.call('config.set', requireName(key, 'key'), String(value));
  }

  /** Removes the stored value (the default applies again). */
  async unset(key: string): Promise<void> {
    await this.#client.call('config.unset', requireName(key, 'key'));
  }
}
