// Which Redis to talk to (the URL chain shared by the client, the worker and the CLI), and
// closing a connection for good. The URL forms are in redis-url.ts; making a connection from one
// is open-redis.ts (which loads ioredis: this file does not, for the command-line tools).
import { once } from 'node:events';
import { accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import type { Redis } from 'ioredis';
import { InvalidInputError } from './errors.ts';
import { parseRedisUrl, TLS_PARAMETERS, type TlsFiles, withTlsFiles } from './redis-url.ts';

export { isSentinelUrl, parseRedisUrl, redactPassword, withTlsFiles } from './redis-url.ts';
export type { RedisTarget, TlsFiles } from './redis-url.ts';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * The Redis URL to use: the one given, else QLESS_REDIS_URL, else REDIS_URL, else the local
 * default. Empty strings count as unset. The URL is checked (see redis-url.ts for its forms), and
 * its TLS files must be readable; relative file paths are made absolute (worker processes run in
 * their sandboxes), the rest is returned as written.
 */
export function resolveRedisUrl(url?: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen =
    [url, env.QLESS_REDIS_URL, env.REDIS_URL].find((candidate) => candidate !== undefined && candidate !== '') ??
    DEFAULT_REDIS_URL;
  const { tlsFiles } = parseRedisUrl(chosen);
  const absolute: TlsFiles = {};
  for (const [field, file] of Object.entries(tlsFiles) as [keyof TlsFiles, string][]) {
    absolute[field] = resolve(file);
    try {
      accessSync(absolute[field], constants.R_OK);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new InvalidInputError(
        `Redis URL: the ${TLS_PARAMETERS[field]} file ${absolute[field]} cannot be read (${reason})`,
      );
    }
  }
  const changed = (Object.keys(absolute) as (keyof TlsFiles)[]).some((field) => absolute[field] !== tlsFiles[field]);
  return changed ? withTlsFiles(chosen, absolute) : chosen;
}

/**
 * Closes a connection and resolves once it is closed. A live one says QUIT first (after
 * unsubscribing, for a subscriber), so the server has let go of it when this resolves; one
 * that is not connected is dropped, since QUIT would wait for a server that may never answer.
 */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  const ended = once(redis, 'end');
  if (redis.status !== 'ready') {
    const waitingToReconnect = redis.status === 'reconnecting';
    redis.disconnect();
    // Between two reconnect attempts there is no socket left to close, so no 'end' would come:
    // disconnect() has cancelled the next attempt, which is all there is to stop.
    if (waitingToReconnect) return;
  } else {
    try {
      if (redis.condition?.subscriber) await redis.unsubscribe();
      await redis.quit();
    } catch {
      redis.disconnect();
    }
  }
  await ended;
}
