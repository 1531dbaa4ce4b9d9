// Failure groups: their counts with a sample message, a group's jobs paged, and retry-all /
// cancel-all of a whole group (a bulk operation: batched, with progress, no cap).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { jobSummary } from '../data/job-view.ts';
import { newestFailed } from '../data/raw-reads.ts';
import { audit, type DashboardContext, writeRoute } from './context.ts';
import { badRequest, notFound } from './http-error.ts';
import { checkOffset, inputOf, paging } from './params.ts';

function groupParam(request: FastifyRequest): string {
  const group = (request.params as { group?: string }).group ?? '';
  if (group === '') throw badRequest('group is required');
  return group;
}

export function registerFailedRoutes(app: FastifyInstance, ctx: DashboardContext): void {
  const { client } = ctx;

  app.get('/api/failed', async () => {
    const counts = Object.entries(await client.jobs.failed()).sort(([, a], [, b]) => b - a);
    const newest = await newestFailed(
      client.redis,
      counts.map(([group]) => group),
    );
    const jobs = new Map(
      (await client.jobs.multiget(...newest.filter((jid): jid is string => jid !== null))).map((job) => [job.jid, job]),
    );
    const groups = counts.map(([group, count], index) => {
      const job = jobs.get(newest[index] ?? '');
      return {
        group,
        count,
        sample: job ? { jid: job.jid, klass: job.klass, queue: job.queue, failure: jobSummary(job).failure } : null,
      };
    });
    return { groups, total: groups.reduce((sum, group) => sum + group.count, 0) };
  });

  app.get('/api/failed/:group', async (request) => {
    const group = groupParam(request);
    const page = paging(inputOf(request.query));
    const found = await client.jobs.failedGroup(group, page.offset, page.limit);
    if (found.total === 0) throw notFound(`no failure group ${group}`);
    checkOffset(page, found.total, `jobs in ${group}`);
    return { group, total: found.total, ...page, jobs: found.jobs.map(jobSummary) };
  });

  for (const action of ['retry', 'cancel'] as const) {
    writeRoute(app, 'POST', `/api/failed/:group/${action}-all`, async (request, reply) => {
      const group = groupParam(request);
      if (!((await client.jobs.failed())[group] > 0)) throw notFound(`no failure group ${group}`);
      const operation = ctx.operations.start(action, { group }, {});
      audit(request, `${action}-all`, { group, operation: operation.id });
      reply.code(202);
      return operation;
    });
  }
}
