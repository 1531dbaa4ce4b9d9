// Opening the client for one command: the URL chain, and a connection that fails fast with one
// clear line instead of ioredis's endless reconnecting (behind Sentinel it waits out a failover).
import { createRequire } from 'node:module';
import type { Client } from '../../client/index.ts';
// The light client modules only: --help and refused usage never load ioredis (the client with
// ioredis is required when a command connects).
import { commandConnectionOptions, untilConnected } from '../../client/command-connection.ts';
import { describeConnectionError } from '../../client/connection-errors.ts';
import { redactPassword, resolveRedisUrl } from '../../client/connection.ts';
import { InvalidInputError } from '../../client/errors.ts';
import { type ConnectionFlags, foldTlsFlags } from '../connection-flags.ts';
import { UsageError } from '../usage.ts';
import { RedisUnavailableError } from './errors.ts';

const require = createRequire(import.meta.url);

/**
 * --redis, else QLESS_REDIS_URL, else REDIS_URL, else redis://127.0.0.1:6379, with the TLS flags
 * folded in; a bad URL is bad usage.
 */
export function chooseRedisUrl(given: string | undefined, flags: ConnectionFlags = {}): string {
  let url: string;
  try {
    url = resolveRedisUrl(given);
  } catch (error) {
    if (error instanceof InvalidInputError) throw new UsageError(`--redis: ${error.message}`);
    throw error;
  }
  try {
    return resolveRedisUrl(foldTlsFlags(url, flags), {});
  } catch (error) {
    if (error instanceof InvalidInputError) throw new UsageError(error.message);
    throw error;
  }
}

/** A connected client; throws RedisUnavailableError when Redis cannot be reached in time. */
export async function connectClient(url: string): Promise<Client> {
  const { Client } = require('../../client/index.ts') as typeof import('../../client/index.ts');
  const client = new Client({ url, redisOptions: commandConnectionOptions(url) });
  try {
    await untilConnected(client.redis, url);
  } catch (error) {
    throw new RedisUnavailableError(
      `cannot connect to Redis at ${redactPassword(url)}: ${describeConnectionError(error)}`,
    );
  }
  return client;
}
