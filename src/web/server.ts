// A server of its own for the dashboard (what `qless web` runs): fastify with pino, the plugin at
// the root, listening on host:port.
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Client } from '../client/index.ts';
import type { Logger } from '../log.ts';
import { checkExposure, type ServeOptions } from './options.ts';
import { type DashboardPluginOptions, qlessDashboard } from './plugin.ts';

export interface RunningDashboard {
  app: FastifyInstance;
  /** The address to open (with `?token=` when a token is required). */
  url: string;
  close(): Promise<void>;
}

export interface StartOptions extends ServeOptions, Omit<DashboardPluginOptions, keyof ServeOptions> {
  client?: Client;
  logger?: Logger;
}

function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** Starts the dashboard; throws WebOptionsError for a refused set-up, or the listen error. */
export async function startDashboard(options: StartOptions): Promise<RunningDashboard> {
  checkExposure(options);
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger as FastifyBaseLogger } : { logger: false }),
    // One line per write (the audit log), not two per request.
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    return503OnClosing: true,
  });
  try {
    await app.register(qlessDashboard, options);
    await app.listen({ host: options.host, port: options.port });
  } catch (error) {
    await app.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const token = options.token ? `?token=${encodeURIComponent(options.token)}` : '';
  return { app, url: `http://${displayHost(options.host)}:${port}/${token}`, close: () => app.close() };
}
