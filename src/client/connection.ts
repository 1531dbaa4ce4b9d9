// Which Redis to talk to (the URL chain shared by the client, the worker and the CLI), and
// closing a connection for good.
import { once } from 'node:events';
import type { Redis } from 'ioredis';
import { InvalidInputError } from './errors.ts';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * The Redis URL to use: the one given, else QLESS_REDIS_URL, else REDIS_URL, else the local
 * default. Empty strings count as unset. Only redis:// and rediss:// URLs are accepted.
 */
export function resolveRedisUrl(url?: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen =
    [url, env.QLESS_REDIS_URL, env.REDIS_URL].find((candidate) => candidate !== undefined && candidate !== '') ??
    DEFAULT_REDIS_URL;
  let parsed: URL;
  try {
    parsed = new URL(chosen);
  } catch {
    throw new InvalidInputError(`Redis URL cannot be parsed: ${redactPassword(chosen)}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new InvalidInputError(`Redis URL must start with redis:// or rediss://, got ${redactPassword(chosen)}`);
  }
  if (parsed.pathname.length > 1 && !/^\/\d+$/.test(parsed.pathname)) {
    throw new InvalidInputError(`Redis URL path must be a database number, got ${redactPassword(chosen)}`);
  }
  return chosen;
}

/** The URL with its password replaced by `***`, for messages and logs. */
export function redactPassword(url: string): string {
  return url.replace(/^(rediss?:\/\/[^:/@]*:)[^@]*@/, '$1***@');
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
