// Which Redis to talk to: the URL chain shared by the client, the worker and the CLI.
import { InvalidInputError } from './errors.ts';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * The Redis URL to use: the one given, else QLESS_REDIS_URL, else REDIS_URL, else the local
 * default. Empty strings count as unset. Only redis:// and rediss:// URLs are accepted.
 */
export function resolveRedisUrl(url?: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = [url, env.QLESS_REDIS_URL, env.REDIS_URL].find((candidate) => candidate !== undefined && candidate !== '') ?? DEFAULT_REDIS_URL;
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
