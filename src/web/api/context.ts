// What every route of the dashboard shares: the qless client, the live parts, and how writes are
// registered (refused in read-only mode, checked against cross-site requests, logged).
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { Client } from '../../client/index.ts';
import type { LiveHub } from '../live/hub.ts';
import type { ThroughputSampler } from '../data/throughput.ts';
import type { Operations } from '../data/operations.ts';

export interface DashboardContext {
  client: Client;
  readOnly: boolean;
  sampler: ThroughputSampler;
  hub: LiveHub;
  operations: Operations;
  /** The token the page sends back with every write (X-Qless-Csrf). */
  csrfToken: string;
  version: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A route that changes something: refused in read-only mode, CSRF-checked, logged. */
    write?: boolean;
  }
}

/** Who made a request, for the log of writes: the basic-auth user, or how the request was authenticated. */
export function actorOf(request: FastifyRequest): string {
  const header = request.headers.authorization ?? '';
  if (header.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    return decoded.slice(0, Math.max(0, decoded.indexOf(':')));
  }
  if (header.startsWith('Bearer ')) return 'token';
  return request.headers.cookie?.includes('qless_web_token=') ? 'token' : 'anonymous';
}

/** Logs one write: who, what, which jids (and the other details given). */
export function audit(request: FastifyRequest, action: string, details: Record<string, unknown>): void {
  request.log.info({ audit: true, actor: actorOf(request), ip: request.ip, action, ...details }, `web: ${action}`);
}

/** Registers a route that changes something. */
export function writeRoute(
  app: FastifyInstance,
  method: 'POST' | 'PUT' | 'DELETE',
  url: string,
  handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
): void {
  app.route({ method, url, config: { write: true }, handler: handler as RouteHandlerMethod });
}
