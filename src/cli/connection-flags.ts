// The connection flags both commands share (--tls-ca, --tls-cert, --tls-key, --sentinel-password)
// and how they fold into what everything else already carries: the TLS files become parameters of
// the one Redis URL, the sentinel password goes to QLESS_SENTINEL_PASSWORD (which worker processes
// inherit), never into the URL, a log line or `ps` (the command line is rewritten once parsed).
import { InvalidInputError } from '../client/errors.ts';
import { parseRedisUrl, redactPassword, type TlsFiles, withTlsFiles } from '../client/redis-url.ts';

const SENTINEL_PASSWORD_VARIABLE = 'QLESS_SENTINEL_PASSWORD';

/** yargs definitions of the connection flags. */
export const CONNECTION_OPTIONS = {
  'tls-ca': {
    type: 'string',
    requiresArg: true,
    description: 'CA certificate (PEM) to check the Redis server with (rediss:// URLs; same as ?tls_ca=<file>)',
  },
  'tls-cert': {
    type: 'string',
    requiresArg: true,
    description: 'Client certificate (PEM) for Redis servers that ask for one (with --tls-key; ?tls_cert=<file>)',
  },
  'tls-key': {
    type: 'string',
    requiresArg: true,
    description: "The client certificate's private key (PEM; ?tls_key=<file>)",
  },
  'sentinel-password': {
    type: 'string',
    requiresArg: true,
    description: 'Password of the sentinels of a redis+sentinel:// URL (better: $QLESS_SENTINEL_PASSWORD)',
  },
} as const;

export const CONNECTION_OPTION_NAMES = Object.keys(CONNECTION_OPTIONS) as (keyof typeof CONNECTION_OPTIONS)[];

/** The parsed connection flags (yargs' values; undefined when not given). */
export type ConnectionFlags = Partial<Record<keyof typeof CONNECTION_OPTIONS, unknown>>;

/** A flag's value; an empty one counts as not given (as an empty QLESS_* variable does). */
function text(flags: ConnectionFlags, name: keyof typeof CONNECTION_OPTIONS): string | undefined {
  const value = flags[name];
  if (Array.isArray(value)) throw new InvalidInputError(`--${name} was given more than once`);
  return value === undefined || String(value) === '' ? undefined : String(value);
}

/**
 * The URL with the TLS flags as its parameters (unchanged without them). Throws InvalidInputError
 * when they are given for a URL without TLS. Check the result with resolveRedisUrl.
 */
export function foldTlsFlags(url: string, flags: ConnectionFlags): string {
  const files: TlsFiles = { ca: text(flags, 'tls-ca'), cert: text(flags, 'tls-cert'), key: text(flags, 'tls-key') };
  if (files.ca === undefined && files.cert === undefined && files.key === undefined) return url;
  if (!parseRedisUrl(url).tls)
    throw new InvalidInputError(
      `--tls-ca, --tls-cert and --tls-key need a rediss:// (or rediss+sentinel://) URL, got ${redactPassword(url)}`,
    );
  return withTlsFiles(url, files);
}

/** Puts --sentinel-password where every connection (and every worker process) finds it. */
export function exportSentinelPassword(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): void {
  const password = text(flags, 'sentinel-password');
  if (password !== undefined) env[SENTINEL_PASSWORD_VARIABLE] = password;
}

/** The arguments with secrets hidden: the value of --sentinel-password, and passwords in Redis URLs. */
export function redactArguments(argv: readonly string[]): string[] {
  const shown: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i];
    if (argument === '--sentinel-password' && i + 1 < argv.length) {
      shown.push(argument, '***');
      i++;
    } else if (argument.startsWith('--sentinel-password=')) {
      shown.push('--sentinel-password=***');
    } else {
      // A URL alone, or after `--redis=`.
      const url = /^(-[-\w]*=)?([a-z][a-z0-9+.-]*:\/\/.*)$/is.exec(argument);
      shown.push(url ? `${url[1] ?? ''}${redactPassword(url[2])}` : argument);
    }
  }
  return shown;
}

/** Rewrites this process's command line as `ps` shows it when it carries a secret (Linux, macOS). */
export function hideSecretArguments(argv: readonly string[]): void {
  const shown = redactArguments(argv);
  if (shown.every((argument, index) => argument === argv[index])) return;
  process.title = [process.argv[0], process.argv[1], ...shown].join(' ');
}
