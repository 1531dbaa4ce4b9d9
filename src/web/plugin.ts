// The dashboard as a fastify plugin, mountable under any prefix of an existing server:
//
//   await app.register(qlessDashboard, { prefix: '/qless', redis: 'redis://…', readOnly: true });
//
// `qless web` runs the same plugin in a server of its own (server.ts).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fastifyBasicAuth from '@fastify/basic-auth';
import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { FastifySSEPlugin } from 'fastify-sse-v2';
import { Client } from '../client/index.ts';
import { registerConfigRoutes } from './api/config.ts';
import type { DashboardContext } from './api/context.ts';
import { registerEventRoutes } from './api/events.ts';
import { registerFailedRoutes } from './api/failed.ts';
import { registerFindRoutes } from './api/find.ts';
import { HttpError, replyWithError } from './api/http-error.ts';
import { registerJobRoutes } from './api/jobs.ts';
import { registerListRoutes } from './api/lists.ts';
import { registerOperationRoutes } from './api/operations.ts';
import { registerOverviewRoutes } from './api/overview.ts';
import { registerQueueRoutes } from './api/queues.ts';
import { registerRecurringRoutes } from './api/recurring.ts';
import { registerWorkerRoutes } from './api/workers.ts';
import { registerAssets } from './assets.ts';
import { Operations } from './data/operations.ts';
import { ThroughputSampler } from './data/throughput.ts';
import { LiveHub } from './live/hub.ts';
import { DashboardMetrics } from './metrics.ts';
import type { DashboardOptions } from './options.ts';
import { registerTokenAuth, registerWriteGuard, sameSecret } from './security/guard.ts';

export interface DashboardPluginOptions extends DashboardOptions {
  /** A client to use (the dashboard does not close it); otherwise one is made from `redis`. */
  client?: Client;
  /** Redis URL when no client is given (default: QLESS_REDIS_URL, REDIS_URL, redis://127.0.0.1:6379). */
  redis?: string;
  /** How often live changes are pushed at most (ms, default 1000). */
  liveFlushMs?: number;
  /** How often the pools' status is read (ms, default 2000). */
  poolsMs?: number;
  /** How often queue statistics are sampled for the throughput charts (ms, default 10000). */
  throughputMs?: number;
}

/** Request bodies are small JSON documents: a job's data at most. */
const BODY_LIMIT = 1024 * 1024;

function packageVersion(): string {
  const file = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

async function registerSecurity(
  app: FastifyInstance,
  options: DashboardPluginOptions,
  csrfToken: string,
): Promise<void> {
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    // Plain http on a LAN is a supported set-up (behind --auth): do not force https.
    strictTransportSecurity: false,
  });
  if (options.auth) {
    const { user, password } = options.auth;
    await app.register(fastifyBasicAuth, {
      authenticate: { realm: 'qless' },
      validate: async (givenUser, givenPassword) => {
        if (!(sameSecret(givenUser, user) && sameSecret(givenPassword, password)))
          throw new HttpError(401, 'wrong user or password');
      },
    });
    app.addHook('onRequest', app.basicAuth);
  }
  if (options.token) {
    await app.register(fastifyCookie);
    registerTokenAuth(app, options.token);
  }
  registerWriteGuard(app, options, csrfToken);
}

export const qlessDashboard: FastifyPluginAsync<DashboardPluginOptions> = async (app, options) => {
  const ownsClient = options.client === undefined;
  // A page asking while Redis is away gets a 503 after two reconnect attempts instead of hanging.
  const client = options.client ?? new Client({ url: options.redis, redisOptions: { maxRetriesPerRequest: 2 } });
  if (ownsClient) client.redis.on('error', (error: Error) => app.log.warn({ err: error }, 'dashboard: Redis error'));
  const csrfToken = randomBytes(24).toString('base64url');
  const sampler = new ThroughputSampler(client, options.throughputMs ?? 10_000);
  const hub = new LiveHub(client, { flushMs: options.liveFlushMs ?? 1_000, poolsMs: options.poolsMs ?? 2_000 });
  const operations = new Operations(client, (status) => {
    hub.operation(status);
    if (status.phase === 'done' || status.phase === 'failed')
      app.log.info(
        {
          audit: true,
          operation: status.id,
          action: status.action,
          target: status.target,
          succeeded: status.succeeded,
          failed: status.failed,
          failedJids: status.results.filter((result) => !result.ok).map((result) => result.jid),
        },
        `web: bulk ${status.action} ${status.phase}`,
      );
  });
  const ctx: DashboardContext = {
    client,
    readOnly: options.readOnly === true,
    sampler,
    hub,
    operations,
    csrfToken,
    version: packageVersion(),
  };

  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= BODY_LIMIT;
  });
  app.setErrorHandler(replyWithError);
  app.setNotFoundHandler((request, reply) =>
    replyWithError(new HttpError(404, `no route ${request.method} ${request.url}`), request, reply),
  );
  await registerSecurity(app, options, csrfToken);
  await app.register(FastifySSEPlugin, { retryDelay: 2_000 });

  registerAssets(app);
  registerOverviewRoutes(app, ctx);
  registerQueueRoutes(app, ctx);
  registerJobRoutes(app, ctx);
  registerFailedRoutes(app, ctx);
  registerWorkerRoutes(app, ctx);
  registerListRoutes(app, ctx);
  registerRecurringRoutes(app, ctx);
  registerConfigRoutes(app, ctx);
  registerFindRoutes(app, ctx);
  registerOperationRoutes(app, ctx);
  registerEventRoutes(app, ctx);
  const metrics = new DashboardMetrics(client);
  app.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.text()));

  await hub.start();
  sampler.start();
  app.addHook('onClose', async () => {
    await operations.stop();
    await sampler.stop();
    await hub.stop();
    if (ownsClient) await client.close();
  });
};
