// Workers as qless knows them (jobs held, stalled), with what their pool publishes about them.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PoolSlot, PoolStatus } from '../../client/index.ts';
import { jobSummary } from '../data/job-view.ts';
import type { DashboardContext } from './context.ts';
import { badRequest, notFound } from './http-error.ts';

export interface WorkerProcess {
  pool: string;
  host: string;
  slot: PoolSlot;
}

function processes(pools: PoolStatus[]): Map<string, WorkerProcess> {
  const byWorker = new Map<string, WorkerProcess>();
  for (const pool of pools)
    for (const slot of pool.slots) byWorker.set(slot.worker, { pool: pool.prefix, host: pool.host, slot });
  return byWorker;
}

export function registerWorkerRoutes(app: FastifyInstance, ctx: DashboardContext): void {
  const { client } = ctx;

  app.get('/api/pools', async () => ({ pools: await client.pools.list() }));

  app.get('/api/workers', async () => {
    const [workers, pools] = await Promise.all([client.workers.list(), client.pools.list()]);
    const byWorker = processes(pools);
    const known = new Set(workers.map((worker) => worker.name));
    return {
      workers: workers.map((worker) => ({ ...worker, process: byWorker.get(worker.name) ?? null })),
      // Pool slots whose worker has not popped yet (qless does not know them).
      idleSlots: [...byWorker.values()].filter((process) => !known.has(process.slot.worker)),
      pools,
    };
  });

  app.get('/api/workers/:name', async (request: FastifyRequest) => {
    const name = (request.params as { name?: string }).name ?? '';
    if (name === '') throw badRequest('worker name is required');
    const [held, found, list] = await Promise.all([
      client.workers.get(name),
      client.pools.findWorker(name),
      client.workers.list(),
    ]);
    if (!list.some((worker) => worker.name === name) && found === undefined) throw notFound(`no worker ${name}`);
    const [jobs, stalled] = await Promise.all([
      client.jobs.multiget(...held.jobs.slice(0, 500)),
      client.jobs.multiget(...held.stalled.slice(0, 500)),
    ]);
    return {
      name,
      jobs: jobs.map(jobSummary),
      stalled: stalled.map(jobSummary),
      process: found ? { pool: found.pool.prefix, host: found.pool.host, slot: found.slot } : null,
      pool: found?.pool ?? null,
    };
  });
}
