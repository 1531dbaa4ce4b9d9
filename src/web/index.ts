// The dashboard's public API: the fastify plugin to mount in a server, and a server of its own.
export { qlessDashboard, type DashboardPluginOptions } from './plugin.ts';
export { startDashboard, type RunningDashboard, type StartOptions } from './server.ts';
export {
  type BasicAuth,
  type DashboardOptions,
  DEFAULT_HOST,
  DEFAULT_PORT,
  parseBasicAuth,
  type ServeOptions,
  WebOptionsError,
} from './options.ts';
