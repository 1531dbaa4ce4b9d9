// The checks every request passes before a route runs: authentication (basic auth or a token),
// then, for writes, read-only mode and cross-site protection.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { forbidden, HttpError } from '../api/http-error.ts';
import type { DashboardOptions } from '../options.ts';

export const TOKEN_COOKIE = 'qless_web_token';
export const CSRF_HEADER = 'x-qless-csrf';

/** Constant-time comparison of two secrets of any length. */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
}

/**
 * Token mode: `Authorization: Bearer <token>` (scripts), or the cookie set when the page was
 * opened once with `?token=<token>` (browsers; the URL `qless web` prints carries it).
 */
export function registerTokenAuth(app: FastifyInstance, token: string): void {
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const fromHeader = bearer(request);
    if (fromHeader !== undefined && sameSecret(fromHeader, token)) return;
    const fromCookie = request.cookies[TOKEN_COOKIE];
    if (fromCookie !== undefined && sameSecret(fromCookie, token)) return;
    const url = new URL(request.url, 'http://dashboard');
    const fromQuery = url.searchParams.get('token');
    if (request.method === 'GET' && fromQuery !== null && sameSecret(fromQuery, token)) {
      // Trade the token in the URL for a cookie, and drop it from the address bar and history.
      url.searchParams.delete('token');
      reply.setCookie(TOKEN_COOKIE, token, { httpOnly: true, sameSite: 'strict', path: '/' });
      return reply.redirect(`${url.pathname}${url.search}`, 303);
    }
    throw new HttpError(401, 'a token is required: open the URL qless web printed, or send Authorization: Bearer');
  });
}

/** Whether the request comes from a page of this same origin (or from no page: curl, scripts). */
function sameOrigin(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (origin === 'null') return false;
  try {
    // Through URL on both sides, so `host:80` and an Origin without the default port compare equal.
    return new URL(origin).host === new URL(`${request.protocol}://${request.headers.host ?? ''}`).host;
  } catch {
    return false;
  }
}

/** Read-only mode and cross-site protection for every route marked as a write. */
export function registerWriteGuard(app: FastifyInstance, options: DashboardOptions, csrfToken: string): void {
  // onRequest, before the body is read: a cross-site form post is refused as such, not as a bad body.
  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (!request.routeOptions.config.write) return;
    if (options.readOnly) throw forbidden('the dashboard is read-only');
    if (!sameOrigin(request)) throw forbidden('cross-site request refused');
    const given = request.headers[CSRF_HEADER];
    if (typeof given !== 'string' || !sameSecret(given, csrfToken))
      throw forbidden(`missing or wrong ${CSRF_HEADER} header (GET api/session gives the token)`);
  });
}
