// Whether the Redis user of a connection may do what a qless-worker pool does (an ACL check that
// changes nothing): run the qless script with a write on a ql: key, publish on a ql: channel, and
// write the pool status keys. A pool started with a user that may not waits with one clear
// message instead of starting workers that would fail every call.
import { parseRedisUrl } from './redis-url.ts';
import { POOLS_INDEX_KEY } from './pools.ts';
import type { QlessCaller } from './script-caller.ts';
import type { Redis } from 'ioredis';

/** A worker name no pool uses: removing it from ql:workers (and the pool index) changes nothing. */
const PROBE = 'qless-worker-access-check';

/** Redis's words for an ACL refusal, raw or from inside the script (7.0 and later). */
const REFUSED = /NOPERM|no permissions|can't (access|run)|cannot (access|run)/i;

/** The ACL refusal that stops a pool, or undefined when the user may (connection errors are not refusals). */
export async function workerAccessProblem(client: QlessCaller & { redis: Redis }): Promise<string | undefined> {
  const checks: [string, () => Promise<unknown>][] = [
    ['the qless script', () => client.call('worker.deregister', PROBE)],
    ['ql: channels', () => client.redis.publish(`ql:${PROBE}`, '')],
    ['qless-worker: keys', () => client.redis.zrem(POOLS_INDEX_KEY, PROBE)],
  ];
  // All three at once (one round trip's wait, not three); the first refusal in this order is told.
  const refusals = await Promise.all(
    checks.map(async ([what, check]) => {
      try {
        await check();
        return undefined;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return REFUSED.test(message) ? `${what}: ${message}` : undefined;
      }
    }),
  );
  return refusals.find((refusal) => refusal !== undefined);
}

export interface AccessWaitOptions {
  /** Called at each refusal, with when the next check is. */
  onRefused(problem: string, user: string, retryInMs: number): void;
  /** Called once the user may, after a refusal. */
  onAllowed?(user: string): void;
  /** Stops waiting (resolves) when aborted. */
  signal?: AbortSignal;
}

const FIRST_RECHECK_MS = 1_000;
const MAX_RECHECK_MS = 30_000;

/**
 * Resolves once the user of `url` may run a pool, checking again with growing pauses (an admin
 * may fix the ACL meanwhile), or when `signal` aborts.
 */
export async function waitForWorkerAccess(
  client: QlessCaller & { redis: Redis },
  url: string,
  options: AccessWaitOptions,
): Promise<void> {
  const user = parseRedisUrl(url).username ?? 'default';
  let refused = false;
  for (let delay = FIRST_RECHECK_MS; !options.signal?.aborted; delay = Math.min(delay * 2, MAX_RECHECK_MS)) {
    const problem = await workerAccessProblem(client);
    if (problem === undefined) {
      if (refused) options.onAllowed?.(user);
      return;
    }
    refused = true;
    options.onRefused(problem, user, delay);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, delay);
      options.signal?.addEventListener('abort', done, { once: true });
      function done(): void {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', done);
        resolve();
      }
    });
  }
}
