// What the dashboard runs with, and the checks that keep it safe by default: who may use it
// (basic auth or a token), whether it may write, and where it may listen.
import { isIP } from 'node:net';

/** One user name and password for HTTP basic auth. */
export interface BasicAuth {
  user: string;
  password: string;
}

/** Options of the dashboard, whether mounted in another server or run by `qless web`. */
export interface DashboardOptions {
  /** Basic auth: every request must carry this user and password. */
  auth?: BasicAuth;
  /** A shared secret: `Authorization: Bearer <token>`, or opening `?token=<token>` once (sets a cookie). */
  token?: string;
  /** Every write route answers 403 and the page shows no write controls. */
  readOnly?: boolean;
}

/** `qless web`'s own options: the dashboard's plus where to listen. */
export interface ServeOptions extends DashboardOptions {
  host: string;
  port: number;
}

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 5678;

/** A setting that cannot be used; `qless web` prints the message and exits 2. */
export class WebOptionsError extends Error {
  override name = 'WebOptionsError';
}

/** `user:password` (the password may itself contain colons). */
export function parseBasicAuth(text: string, label: string): BasicAuth {
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1)
    throw new WebOptionsError(`${label} must be user:password (both non-empty)`);
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** Whether an address only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1';
  return false;
}

/** Refuses a dashboard that anyone on the network could use without a password or token. */
export function checkExposure(options: ServeOptions): void {
  if (options.auth !== undefined && options.token !== undefined)
    throw new WebOptionsError('give either --auth or --token, not both');
  if (!isLoopback(options.host) && options.auth === undefined && options.token === undefined)
    throw new WebOptionsError(
      `refusing to listen on ${options.host} without --auth or --token (QLESS_WEB_AUTH, QLESS_WEB_TOKEN): ` +
        'anyone who can reach it could change your jobs',
    );
  if (options.token !== undefined && options.token.length < 8)
    throw new WebOptionsError('--token must be at least 8 characters');
}
