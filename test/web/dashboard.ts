// The fixture of the dashboard's API tests: a private qless core (flushed before each test), the
// dashboard plugin in a fastify app on it, and requests sent through fastify's inject (the whole
// request path, without a socket). Writes carry the CSRF token unless a test leaves it out.
import { after, before, beforeEach } from 'node:test';
import type { Writable } from 'node:stream';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Client } from '../../src/client/index.ts';
import { type DashboardPluginOptions, qlessDashboard } from '../../src/web/index.ts';
import { type Core, startCore } from '../helpers/qless.ts';

export interface Reply<T = unknown> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | number | undefined>;
}

export interface DashboardFixture {
  /** The private core (its own redis-server on a free port). */
  core: Core;
  url: string;
  /** Runs `use` with a Client whose clock runs `shift` seconds off the real one. */
  withClient<T>(workerName: string, shift: number, use: (client: Client) => Promise<T>): Promise<T>;
  app: FastifyInstance;
  /** A client of its own for the tests' reads and set-up. */
  client: Client;
  csrf: string;
  get<T = Record<string, unknown>>(url: string, headers?: Record<string, string>): Promise<Reply<T>>;
  /** A write as the page sends it: same origin, with the CSRF token. */
  post<T = Record<string, unknown>>(url: string, body?: unknown, headers?: Record<string, string>): Promise<Reply<T>>;
  send<T = Record<string, unknown>>(
    method: 'POST' | 'DELETE' | 'PUT',
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Reply<T>>;
}

export interface FixtureOptions extends Omit<DashboardPluginOptions, 'client' | 'redis'> {
  prefix?: string;
  /** Where the app's pino logger writes (default: no logger). */
  logTo?: Writable;
}

export function useDashboard(options: FixtureOptions = {}): DashboardFixture {
  const prefix = options.prefix ?? '';
  const fixture = {} as DashboardFixture;
  fixture.withClient = async (workerName, shift, use) => {
    const client = new Client({ url: fixture.url, workerName, now: () => Date.now() / 1000 + shift });
    try {
      return await use(client);
    } finally {
      await client.close();
    }
  };
  // One hook does it all, in order: the core must be up before anything connects to it.
  before(async () => {
    fixture.core = await startCore();
    fixture.url = fixture.core.server.url;
    fixture.client = new Client({ url: fixture.url, workerName: 'test-producer' });
    fixture.app = options.logTo ? Fastify({ loggerInstance: pino(options.logTo) as FastifyBaseLogger }) : Fastify();
    const { logTo: _logTo, ...pluginOptions } = options;
    await fixture.app.register(qlessDashboard, {
      ...pluginOptions,
      prefix,
      redis: fixture.url,
      liveFlushMs: options.liveFlushMs ?? 100,
      poolsMs: options.poolsMs ?? 200,
      throughputMs: options.throughputMs ?? 200,
    });
    await fixture.app.ready();
    const credentials: Record<string, string> = options.auth
      ? { authorization: `Basic ${Buffer.from(`${options.auth.user}:${options.auth.password}`).toString('base64')}` }
      : options.token
        ? { authorization: `Bearer ${options.token}` }
        : {};
    const session = await fixture.get<{ csrfToken: string }>('/api/session', credentials);
    fixture.csrf = session.body.csrfToken;
  });
  beforeEach(async () => {
    await fixture.core.flush();
  });
  after(async () => {
    await fixture.app?.close();
    await fixture.client?.close();
    await fixture.core?.close();
  });
  const inject = async <T>(
    method: 'GET' | 'POST' | 'DELETE' | 'PUT',
    url: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<Reply<T>> => {
    const response = await fixture.app.inject({
      method,
      url: `${prefix}${url}`,
      headers,
      ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
    });
    const type = String(response.headers['content-type'] ?? '');
    return {
      status: response.statusCode,
      body: (type.includes('json') ? response.json() : response.body) as T,
      headers: response.headers,
    };
  };
  fixture.get = (url, headers = {}) => inject('GET', url, undefined, headers);
  fixture.send = (method, url, body, headers = {}) =>
    inject(method, url, body ?? {}, {
      host: 'localhost:80',
      origin: 'http://localhost:80',
      'sec-fetch-site': 'same-origin',
      'x-qless-csrf': fixture.csrf,
      ...headers,
    });
  fixture.post = (url, body, headers) => fixture.send('POST', url, body, headers);
  return fixture;
}
