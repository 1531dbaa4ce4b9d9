// The connection of a short-lived command (`qless …`, a dashboard request): a plain server gets one
// attempt (an unreachable Redis is reported, not waited for); behind Sentinel a failover is
// expected to pass, so calls wait for the next primary for up to FAILOVER_WAIT_MS, and a call that
// the dying primary never answered is sent again to the new one.
import type { Redis, RedisOptions } from 'ioredis';
import { isSentinelUrl } from './redis-url.ts';

/** How long a command waits for a primary behind Sentinel (Sentinel's default down-after is 30 s). */
export const FAILOVER_WAIT_MS = 60_000;
/** How long a command waits for a plain server to answer (a host that drops packets). */
export const CONNECT_TIMEOUT_MS = 5_000;
/** How often a command asks the sentinels again while their primary does not answer. */
const RETRY_EVERY_MS = 200;

/** ioredis options for a command's connection to `url`; connect it with `untilConnected`. */
export function commandConnectionOptions(url: string, waitMs = FAILOVER_WAIT_MS): RedisOptions {
  const common: RedisOptions = { lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS };
  if (!isSentinelUrl(url)) return { ...common, retryStrategy: () => null, maxRetriesPerRequest: 0 };
  // Since when the connection has been down: ioredis counts attempts from 1 again after each connect.
  let downSince = Date.now();
  return {
    ...common,
    // Called once per round of the sentinels: 1 may just mean the round began where the last
    // connection left off; 2 means every sentinel failed to answer in a whole round: give up.
    sentinelRetryStrategy: (round) => (round <= 1 ? 10 : null),
    // The sentinels answer but their primary does not (yet): a failover under way.
    retryStrategy: (attempt) => {
      if (attempt === 1) downSince = Date.now();
      return Date.now() - downSince < waitMs ? RETRY_EVERY_MS : null;
    },
    maxRetriesPerRequest: null,
  };
}

/**
 * Connects and resolves once Redis is ready; rejects with the last connection error when the
 * connection gives up (after `commandConnectionOptions`' retries) or after `timeoutMs`.
 */
export async function untilConnected(redis: Redis, url: string, timeoutMs?: number): Promise<void> {
  const limit = timeoutMs ?? (isSentinelUrl(url) ? FAILOVER_WAIT_MS : CONNECT_TIMEOUT_MS);
  let lastError: Error | undefined;
  // Kept after connecting too: without a listener ioredis prints every connection error itself.
  redis.on('error', (error: Error) => {
    lastError = error;
  });
  let timer: NodeJS.Timeout | undefined;
  let onReady: (() => void) | undefined;
  let onEnd: (() => void) | undefined;
  try {
    await Promise.race([
      // Not events.once: it rejects at the first 'error' event, and behind Sentinel errors come
      // and go while the failover runs.
      new Promise<void>((resolve) => {
        onReady = resolve;
        redis.once('ready', onReady);
      }),
      new Promise<never>((_, reject) => {
        onEnd = () => reject(lastError ?? new Error('connection closed'));
        redis.once('end', onEnd);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(lastError ?? new Error(`no answer within ${limit / 1000}s`)), limit);
      }),
      redis.connect().then(
        () => undefined,
        (error: unknown) => {
          // A plain server's single attempt failed. Behind Sentinel this rejects at the first
          // closed connection, while the retries go on: 'ready' or 'end' decides.
          if (!isSentinelUrl(url)) throw lastError ?? error;
          return new Promise<never>(() => undefined);
        },
      ),
    ]);
  } catch (error) {
    redis.disconnect();
    throw error;
  } finally {
    clearTimeout(timer);
    if (onReady) redis.off('ready', onReady);
    if (onEnd) redis.off('end', onEnd);
  }
}
