// The connection description every part of qless-worker passes around: one URL string.
//   redis://[user:password@]host[:port][/db]
//   rediss://…same…[?tls_ca=<file>&tls_cert=<file>&tls_key=<file>]          (TLS)
//   redis+sentinel://[user:password@]host1[:26379],host2…/<master-name>[/db]   (Redis Sentinel)
//   rediss+sentinel://…same…[?tls_ca=…]                                        (Sentinel, all over TLS)
// The user and password are the data nodes'. A sentinel password never goes in the URL: it comes
// from QLESS_SENTINEL_PASSWORD (see redis-options.ts), so logs, `ps` and Redis never see it.
// No ioredis here: the command-line tools parse URLs before they load it.
import { InvalidInputError } from './errors.ts';

export type RedisScheme = 'redis' | 'rediss' | 'redis+sentinel' | 'rediss+sentinel';

const SCHEMES: readonly RedisScheme[] = ['redis', 'rediss', 'redis+sentinel', 'rediss+sentinel'];

/** Files for TLS (PEM), as the URL parameters tls_ca, tls_cert and tls_key name them. */
export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

/** The URL parameter for each TLS file. */
export const TLS_PARAMETERS = { ca: 'tls_ca', cert: 'tls_cert', key: 'tls_key' } as const;

export interface HostPort {
  host: string;
  port: number;
}

/** What a Redis URL says, checked. */
export interface RedisTarget {
  scheme: RedisScheme;
  sentinel: boolean;
  tls: boolean;
  tlsFiles: TlsFiles;
  username: string | undefined;
  password: string | undefined;
  db: number;
  /** The server (one), or the sentinels (one or more). */
  hosts: HostPort[];
  /** The master name the sentinels know the primary by (Sentinel URLs only). */
  masterName: string | undefined;
}

function refuse(problem: string, url: string): never {
  throw new InvalidInputError(`Redis URL ${problem}: ${redactPassword(url)}`);
}

/**
 * The URL with its password replaced by `***`, for messages and logs. Handles every scheme above,
 * and leaves anything else as it is.
 */
export function redactPassword(url: string): string {
  const start = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0].length;
  if (start === undefined) return url;
  const queryAt = url.indexOf('?', start);
  const at = url.lastIndexOf('@', queryAt === -1 ? url.length : queryAt);
  if (at < start) return url;
  const colon = url.indexOf(':', start);
  if (colon === -1 || colon > at) return url;
  return `${url.slice(0, colon + 1)}***${url.slice(at)}`;
}

function parsePort(text: string, url: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) refuse(`has a bad port "${text}"`, url);
  return port;
}

/** `host`, `host:port`, `[v6]` or `[v6]:port`. */
function parseHost(text: string, defaultPort: number, url: string): HostPort {
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end === -1) refuse('has an unclosed [ in a host', url);
    const rest = text.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) refuse(`has a bad host "${text}"`, url);
    return { host: text.slice(1, end), port: rest === '' ? defaultPort : parsePort(rest.slice(1), url) };
  }
  const colon = text.lastIndexOf(':');
  const host = colon === -1 ? text : text.slice(0, colon);
  if (host === '') refuse('has an empty host', url);
  return { host, port: colon === -1 ? defaultPort : parsePort(text.slice(colon + 1), url) };
}

function decode(text: string, what: string, url: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return refuse(`has a badly %-encoded ${what}`, url);
  }
}

function parseDb(text: string, url: string): number {
  if (!/^\d+$/.test(text)) refuse(`path must end in a database number, got "${text}"`, url);
  return Number(text);
}

function parseQuery(query: string, tls: boolean, url: string): TlsFiles {
  const files: TlsFiles = {};
  if (query === '') return files;
  const known = Object.entries(TLS_PARAMETERS) as [keyof TlsFiles, string][];
  for (const [name, value] of new URLSearchParams(query)) {
    const entry = known.find(([, parameter]) => parameter === name);
    if (!entry) refuse(`has an unknown parameter "${name}" (known: ${Object.values(TLS_PARAMETERS).join(', ')})`, url);
    const [field] = entry;
    if (files[field] !== undefined) refuse(`gives ${name} twice`, url);
    if (value === '') refuse(`gives an empty ${name}`, url);
    files[field] = value;
  }
  if (!tls) refuse('has TLS parameters but no TLS scheme (rediss:// or rediss+sentinel://)', url);
  if ((files.cert === undefined) !== (files.key === undefined)) refuse('needs tls_cert and tls_key together', url);
  return files;
}

/** Parses and checks a Redis URL; throws InvalidInputError (with the password hidden) if it is wrong. */
export function parseRedisUrl(url: string): RedisTarget {
  const schemeMatch = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url);
  if (!schemeMatch) refuse('cannot be parsed (expected redis://…, rediss://… or redis+sentinel://…)', url);
  const scheme = schemeMatch[1].toLowerCase() as RedisScheme;
  if (!SCHEMES.includes(scheme))
    refuse(`must start with redis:// or rediss:// (or redis+sentinel://, rediss+sentinel://), not ${scheme}://`, url);
  const sentinel = scheme.endsWith('+sentinel');
  const tls = scheme.startsWith('rediss');

  let rest = url.slice(schemeMatch[0].length);
  if (/[\s#]/.test(rest)) refuse('must not contain spaces or #', url);
  const queryAt = rest.indexOf('?');
  const query = queryAt === -1 ? '' : rest.slice(queryAt + 1);
  if (queryAt !== -1) rest = rest.slice(0, queryAt);

  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at !== -1) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = userinfo.indexOf(':');
    const user = colon === -1 ? userinfo : userinfo.slice(0, colon);
    if (user !== '') username = decode(user, 'user name', url);
    if (colon !== -1) password = decode(userinfo.slice(colon + 1), 'password', url);
  }

  const slash = rest.indexOf('/');
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : rest.slice(slash + 1);
  const tlsFiles = parseQuery(query, tls, url);

  if (!sentinel) {
    if (authority.includes(',')) refuse('names several hosts: that needs redis+sentinel://', url);
    const hosts = authority === '' ? [] : [parseHost(authority, 6379, url)];
    if (path.includes('/')) refuse('path must be a database number', url);
    const db = path === '' ? 0 : parseDb(path, url);
    return { scheme, sentinel, tls, tlsFiles, username, password, db, hosts, masterName: undefined };
  }

  if (authority === '') refuse('names no sentinel (redis+sentinel://host1:26379,host2:26379/<master-name>)', url);
  const hosts = authority.split(',').map((part) => parseHost(part, 26379, url));
  const [name, db, ...extra] = path.split('/');
  if (name === undefined || name === '') refuse('names no master (…/<master-name>[/db] after the sentinels)', url);
  if (extra.length > 0) refuse('path must be /<master-name>[/db]', url);
  return {
    scheme,
    sentinel,
    tls,
    tlsFiles,
    username,
    password,
    db: db === undefined || db === '' ? 0 : parseDb(db, url),
    hosts,
    masterName: decode(name, 'master name', url),
  };
}

/** Whether the URL names sentinels rather than one server. */
export function isSentinelUrl(url: string): boolean {
  return /^rediss?\+sentinel:\/\//i.test(url);
}

/** A query value readable in logs: only what would break the query is %-encoded. */
function encodeQueryValue(value: string): string {
  return value.replace(/[%&#+= ?]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/**
 * The URL with these TLS files as its parameters (replacing those it had); the rest of the URL is
 * kept as written. `--tls-ca` & co. fold into the URL this way, so the one string carries them.
 */
export function withTlsFiles(url: string, files: TlsFiles): string {
  const queryAt = url.indexOf('?');
  const base = queryAt === -1 ? url : url.slice(0, queryAt);
  const current = queryAt === -1 ? {} : parseRedisUrl(url).tlsFiles;
  const merged: TlsFiles = { ...current };
  for (const field of Object.keys(TLS_PARAMETERS) as (keyof TlsFiles)[]) {
    if (files[field] !== undefined) merged[field] = files[field];
  }
  const query = (Object.entries(TLS_PARAMETERS) as [keyof TlsFiles, string][])
    .filter(([field]) => merged[field] !== undefined)
    .map(([field, parameter]) => `${parameter}=${encodeQueryValue(merged[field] as string)}`)
    .join('&');
  return query === '' ? base : `${base}?${query}`;
}
