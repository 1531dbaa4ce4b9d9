// Turns the metrics on (loaded by the supervisor only when --metrics-port is set, so prom-client
// is never imported otherwise): the registry, the Redis probe, and the HTTP server, listening
// before any worker is forked.
import type { Logger } from 'pino';
import type { SupervisorCalls } from '../redis-calls.ts';
import { MetricsHttpServer } from './http-server.ts';
import { PoolMetrics } from './pool-metrics.ts';
import { healthVerdict, readyVerdict } from './probes.ts';
import { RedisProbe } from './redis-probe.ts';
import type { MetricsAddress, MetricsEndpoint, PoolReadings } from './sources.ts';

/** Serves the pool's metrics at `address`; rejects with a MetricsPortError when it cannot listen there. */
export async function startMetrics(
  address: MetricsAddress,
  readings: PoolReadings,
  calls: SupervisorCalls,
  logger: Logger,
): Promise<MetricsEndpoint> {
  const probe = new RedisProbe(calls);
  const metrics = new PoolMetrics(readings, () => probe.up, logger);
  const server = new MetricsHttpServer({
    metrics: async () => ({ contentType: metrics.registry.contentType, body: await metrics.registry.metrics() }),
    health: () => healthVerdict(readings.lastTurnAt(), Date.now()),
    ready: () => readyVerdict(readings.stopping(), probe.up, readings.slots()),
  });
  await server.listen(address);
  calls.onScriptCall = (command, seconds) => metrics.observeScriptCall(command, seconds);
  probe.start();
  const shownHost = address.host.includes(':') ? `[${address.host}]` : address.host;
  logger.info(
    { event: 'metrics-listening', host: address.host, port: server.port },
    `serving /metrics, /healthz and /readyz on http://${shownHost}:${server.port}`,
  );
  return {
    workerReport: (report, reason) => metrics.workerReport(report, reason),
    workerRestarted: (reason) => metrics.workerRestarted(reason),
    handedBack: (jobs) => metrics.handedBack(jobs),
    outOfRetries: (jobs) => metrics.outOfRetries(jobs),
    async close() {
      probe.stop();
      calls.onScriptCall = undefined;
      await server.close();
    },
  };
}
