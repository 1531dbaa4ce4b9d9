// Opening the client for one command: the URL chain, and a connection that fails fast with one
// clear line instead of ioredis's endless reconnecting.
import { createRequire } from 'node:module';
import type { Client } from '../../client/index.ts';
// The light client modules only: --help and refused usage never load ioredis (the client with
// ioredis is required when a command connects).
import { redactPassword, resolveRedisUrl } from '../../client/connection.ts';
import { InvalidInputError } from '../../client/errors.ts';
import { UsageError } from '../usage.ts';
import { RedisUnavailableError } from './errors.ts';

const require = createRequire(import.meta.url);

/** How long to wait for Redis to answer before giving up (a host that drops packets, a port that never replies). */
const CONNECT_TIMEOUT_MS = 5_000;

/** --redis, else QLESS_REDIS_URL, else REDIS_URL, else redis://127.0.0.1:6379; a bad URL is bad usage. */
export function chooseRedisUrl(given: string | undefined): string {
  try {
    return resolveRedisUrl(given);
  } catch (error) {
    if (error instanceof InvalidInputError) throw new UsageError(`--redis: ${error.message}`);
    throw error;
  }
}

/** A connected client; throws RedisUnavailableError when Redis cannot be reached in time. */
export async function connectClient(url: string): Promise<Client> {
  const { Client } = require('../../client/index.ts') as typeof import('../../client/index.ts');
  const client = new Client({
    url,
    redisOptions: {
      lazyConnect: true,
      // One attempt: a command-line tool reports an unreachable Redis, it does not wait for it.
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      connectTimeout: CONNECT_TIMEOUT_MS,
    },
  });
  let lastError: Error | undefined;
  // Without a listener ioredis prints every connection error itself.
  client.redis.on('error', (error: Error) => {
    lastError = error;
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS / 1000}s`)), CONNECT_TIMEOUT_MS);
  });
  try {
    await Promise.race([client.redis.connect(), timeout]);
  } catch (error) {
    client.redis.disconnect();
    const reason = lastError?.message ?? (error instanceof Error ? error.message : String(error));
    throw new RedisUnavailableError(`cannot connect to Redis at ${redactPassword(url)}: ${reason}`);
  } finally {
    clearTimeout(timer);
  }
  return client;
}
