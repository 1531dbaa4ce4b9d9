// GET api/session (what the page needs to know about the server) and GET api/overview.
import type { FastifyInstance } from 'fastify';
import type { Client, PoolStatus, QueueCounts } from '../../client/index.ts';
import { oldestWaiting } from '../data/raw-reads.ts';
import type { QueueThroughput } from '../data/throughput.ts';
import type { DashboardContext } from './context.ts';

/** A queue with waiting work is "unattended" when nobody popped from it for this long. */
const UNATTENDED_AFTER_S = 60;

export interface QueueOverview extends QueueCounts {
  /** Seconds the oldest waiting job has waited; null when nothing waits. */
  oldestWaitingSeconds: number | null;
  throughput: QueueThroughput;
  /** Waiting work, not paused, and no sign of a worker: nothing running, no pop seen lately, no live pool lists it. */
  unattended: boolean;
  /** Prefixes of live pools whose --queue lists this queue. */
  pools: string[];
}

export async function queueOverviews(ctx: DashboardContext, pools: PoolStatus[]): Promise<QueueOverview[]> {
  return withDetails(ctx, pools, await ctx.client.queues());
}

/** One queue's overview (its counts only, not every queue's). */
export async function queueOverview(ctx: DashboardContext, pools: PoolStatus[], queue: string): Promise<QueueOverview> {
  const [overview] = await withDetails(ctx, pools, [await ctx.client.queue(queue).counts()]);
  return overview;
}

async function withDetails(
  ctx: DashboardContext,
  pools: PoolStatus[],
  queues: QueueCounts[],
): Promise<QueueOverview[]> {
  const { client, sampler } = ctx;
  const oldest = await oldestWaiting(
    client.redis,
    queues.filter((counts) => counts.waiting > 0).map((counts) => counts.name),
  );
  const now = client.now();
  return queues.map((counts) => {
    const since = oldest.get(counts.name) ?? null;
    const oldestWaitingSeconds = since === null ? null : Math.max(0, now - since);
    const throughput = sampler.of(counts.name);
    const servedBy = pools.filter((pool) => pool.options.queues.includes(counts.name)).map((pool) => pool.prefix);
    const poppedLately = throughput.lastPopAt !== null && Date.now() - throughput.lastPopAt < UNATTENDED_AFTER_S * 1000;
    const unattended =
      counts.waiting > 0 &&
      !counts.paused &&
      counts.running === 0 &&
      servedBy.length === 0 &&
      !poppedLately &&
      (oldestWaitingSeconds ?? 0) > UNATTENDED_AFTER_S;
    return { ...counts, oldestWaitingSeconds, throughput, unattended, pools: servedBy };
  });
}

async function trackedByState(client: Client): Promise<{ states: Record<string, number>; expired: number }> {
  const tracked = await client.jobs.tracked();
  const states: Record<string, number> = {};
  for (const job of tracked.jobs) states[job.state] = (states[job.state] ?? 0) + 1;
  return { states, expired: tracked.expired.length };
}

export function registerOverviewRoutes(app: FastifyInstance, ctx: DashboardContext): void {
  app.get('/api/session', async () => ({
    csrfToken: ctx.csrfToken,
    readOnly: ctx.readOnly,
    version: ctx.version,
    now: Date.now(),
  }));

  app.get('/api/overview', async () => {
    const { client } = ctx;
    const pools = await client.pools.list();
    const [queues, failures, tracked, workers] = await Promise.all([
      queueOverviews(ctx, pools),
      client.jobs.failed(),
      trackedByState(client),
      client.workers.list(),
    ]);
    return {
      now: client.now(),
      throughputSince: ctx.sampler.since,
      queues,
      failures,
      failedTotal: Object.values(failures).reduce((sum, count) => sum + count, 0),
      tracked,
      workers,
      pools: pools.length,
    };
  });
}
