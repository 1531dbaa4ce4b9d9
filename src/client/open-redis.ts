// Turns a Redis URL (redis-url.ts) into an ioredis connection: one server, or the primary that
// Redis Sentinel names (ioredis's own Sentinel support asks the sentinels, checks the role, and
// asks again after every reconnect). Every connection qless-worker makes comes from here.
import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import type { ConnectionOptions } from 'node:tls';
import { InvalidInputError } from './errors.ts';
import { parseRedisUrl, type RedisTarget, TLS_PARAMETERS, type TlsFiles } from './redis-url.ts';

/** Where a sentinel password comes from: never the URL, so it is in no log line, `ps` entry or Redis key. */
export const SENTINEL_PASSWORD_VARIABLE = 'QLESS_SENTINEL_PASSWORD';

/**
 * Replies that mean "this server cannot take the call, the next primary will": READONLY (a primary
 * that was demoted, or a replica named as primary mid-failover) and LOADING (a server still reading
 * its data). Nothing of the call ran, so it is sent again after a reconnect, which asks Sentinel
 * for the primary again. Never more than RESEND_LIMIT times a minute: a URL that points at a
 * replica for good gets its error instead of reconnecting forever.
 */
const SEND_AGAIN_AFTER_RECONNECT = /^(READONLY|LOADING)\b/;
const RESEND_LIMIT = 30;
const RESEND_WINDOW_MS = 60_000;

function reconnectOnError(): (error: Error) => 2 | false {
  const recent: number[] = [];
  return (error) => {
    if (!SEND_AGAIN_AFTER_RECONNECT.test(error.message)) return false;
    const now = Date.now();
    while (recent.length > 0 && recent[0] < now - RESEND_WINDOW_MS) recent.shift();
    if (recent.length >= RESEND_LIMIT) return false;
    recent.push(now);
    return 2;
  };
}

function readTlsFiles(files: TlsFiles): ConnectionOptions {
  const options: ConnectionOptions = {};
  for (const field of Object.keys(TLS_PARAMETERS) as (keyof TlsFiles)[]) {
    const file = files[field];
    if (file === undefined) continue;
    try {
      options[field] = readFileSync(file);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new InvalidInputError(`Redis URL: the ${TLS_PARAMETERS[field]} file ${file} cannot be read (${reason})`);
    }
  }
  return options;
}

/** The ioredis options a URL stands for (a sentinel password from the environment). */
export function redisOptionsFor(target: RedisTarget, env: NodeJS.ProcessEnv = process.env): RedisOptions {
  const options: RedisOptions = {
    username: target.username,
    password: target.password,
    db: target.db,
    reconnectOnError: reconnectOnError(),
  };
  const tls = target.tls ? readTlsFiles(target.tlsFiles) : undefined;
  if (!target.sentinel) {
    const [server] = target.hosts;
    return { ...options, ...(server ?? {}), ...(tls ? { tls } : {}) };
  }
  const sentinelPassword = env[SENTINEL_PASSWORD_VARIABLE];
  return {
    ...options,
    sentinels: target.hosts,
    name: target.masterName,
    role: 'master',
    sentinelPassword: sentinelPassword === undefined || sentinelPassword === '' ? undefined : sentinelPassword,
    // No failoverDetector: its sentinel connections have no error listener (a sentinel going down
    // would print to stderr in every process, outside the logs). A primary that Sentinel demotes
    // drops its clients, and READONLY (above) covers a call that still reaches it.
    ...(tls ? { tls, sentinelTLS: tls, enableTLSForSentinelMode: true } : {}),
  };
}

/** A new ioredis connection for the URL; `overrides` (timeouts, retry strategy, …) win over what the URL says. */
export function openRedis(url: string, overrides: RedisOptions = {}, env: NodeJS.ProcessEnv = process.env): Redis {
  return new Redis({ ...redisOptionsFor(parseRedisUrl(url), env), ...overrides });
}
