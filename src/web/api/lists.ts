// Tracked jobs, tags (the most used, and the jobs of one tag) and completed jobs, paged with totals.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { jobSummary } from '../data/job-view.ts';
import { completedCount } from '../data/raw-reads.ts';
import type { DashboardContext } from './context.ts';
import { badRequest } from './http-error.ts';
import { checkOffset, inputOf, paging } from './params.ts';

export function registerListRoutes(app: FastifyInstance, ctx: DashboardContext): void {
  const { client } = ctx;

  app.get('/api/tracked', async () => {
    const tracked = await client.jobs.tracked();
    return { jobs: tracked.jobs.map(jobSummary), expired: tracked.expired };
  });

  app.get('/api/tags', async (request) => {
    const page = paging(inputOf(request.query));
    const tags = await client.jobs.topTags(page.offset, page.limit);
    const totals = await Promise.all(tags.map((tag) => client.jobs.tagged(tag, 0, 1)));
    return { ...page, tags: tags.map((tag, index) => ({ tag, jobs: totals[index].total })) };
  });

  app.get('/api/tags/:tag', async (request: FastifyRequest) => {
    const tag = (request.params as { tag?: string }).tag ?? '';
    if (tag === '') throw badRequest('tag is required');
    const page = paging(inputOf(request.query));
    const found = await client.jobs.tagged(tag, page.offset, page.limit);
    checkOffset(page, found.total, `jobs tagged ${tag}`);
    return { tag, total: found.total, ...page, jobs: (await client.jobs.multiget(...found.jobs)).map(jobSummary) };
  });

  app.get('/api/completed', async (request) => {
    const page = paging(inputOf(request.query));
    const total = await completedCount(client.redis);
    checkOffset(page, total, 'completed jobs');
    const jids = await client.jobs.complete(page.offset, page.limit);
    return { total, ...page, jobs: (await client.jobs.multiget(...jids)).map(jobSummary) };
  });
}
