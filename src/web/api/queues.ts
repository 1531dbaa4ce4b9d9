// A queue: its counts, statistics and recurring jobs; its jobs in one state, paged; pause/unpause.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Client, Job } from '../../client/index.ts';
import { QUEUE_STATES } from '../data/find.ts';
import { jobSummary, recurringDetail } from '../data/job-view.ts';
import { isKnownQueue, waitingPage } from '../data/raw-reads.ts';
import { summarize } from '../data/time-stats.ts';
import { audit, type DashboardContext, writeRoute } from './context.ts';
import { badRequest, notFound } from './http-error.ts';
import { checkOffset, inputOf, optionalText, paging } from './params.ts';
import { queueOverview, queueOverviews } from './overview.ts';

const PAGE_STATES = [...QUEUE_STATES, 'recurring'] as const;
type PageState = (typeof PAGE_STATES)[number];

function queueParam(request: FastifyRequest): string {
  const queue = (request.params as { queue?: string }).queue ?? '';
  if (queue === '') throw badRequest('queue is required');
  return queue;
}

function knownQueue(client: Client, queue: string): Promise<boolean> {
  return isKnownQueue(client.redis, queue);
}

/** `YYYY-MM-DD` (UTC) → seconds at that day's noon; absent → now. */
function statsDate(text: string | undefined, now: number): number {
  if (text === undefined) return now;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(Date.parse(`${text}T12:00:00Z`)))
    throw badRequest(`date must be YYYY-MM-DD, got ${text}`);
  return Date.parse(`${text}T12:00:00Z`) / 1000;
}

async function recurringOf(client: Client, queue: string): Promise<ReturnType<typeof recurringDetail>[]> {
  const jids = await client.queue(queue).jobs('recurring', 0, 1000);
  const found = await Promise.all(jids.map((jid) => client.jobs.get(jid)));
  return found.flatMap((job) => (job !== null && job.state === 'recur' ? [recurringDetail(job)] : []));
}

async function stateTotal(client: Client, queue: string, state: PageState): Promise<number> {
  const counts = await client.queue(queue).counts();
  return counts[state];
}

async function statePage(
  client: Client,
  queue: string,
  state: PageState,
  offset: number,
  limit: number,
): Promise<string[]> {
  if (state === 'waiting') return waitingPage(client.redis, queue, offset, limit);
  return client.queue(queue).jobs(state, offset, limit);
}

export function registerQueueRoutes(app: FastifyInstance, ctx: DashboardContext): void {
  const { client } = ctx;

  app.get('/api/queues', async () => ({ queues: await queueOverviews(ctx, await client.pools.list()) }));

  app.get('/api/queues/:queue', async (request) => {
    const queue = queueParam(request);
    if (!(await knownQueue(client, queue))) throw notFound(`no queue named ${queue}`);
    const date = optionalText(inputOf(request.query), 'date');
    const [overview, stats, recurringJobs] = await Promise.all([
      client.pools.list().then((pools) => queueOverview(ctx, pools, queue)),
      client.queue(queue).stats(statsDate(date, client.now())),
      recurringOf(client, queue),
    ]);
    // Today's totals straight from qless (the sampler's may be a few seconds old).
    const today = date === undefined ? stats : await client.queue(queue).stats();
    overview.throughput = { ...overview.throughput, completedToday: today.run.count, failedToday: today.failures };
    return {
      ...overview,
      stats: {
        date: date ?? new Date().toISOString().slice(0, 10),
        wait: summarize(stats.wait),
        run: summarize(stats.run),
        retries: stats.retries,
        failures: stats.failures,
        failed: stats.failed,
      },
      recurringJobs,
    };
  });

  app.get('/api/queues/:queue/jobs', async (request) => {
    const queue = queueParam(request);
    const input = inputOf(request.query);
    const state = (optionalText(input, 'state') ?? 'waiting') as PageState;
    if (!PAGE_STATES.includes(state)) throw badRequest(`state must be one of ${PAGE_STATES.join(', ')}`);
    const page = paging(input);
    if (!(await knownQueue(client, queue))) throw notFound(`no queue named ${queue}`);
    const total = await stateTotal(client, queue, state);
    checkOffset(page, total, `${state} jobs`);
    const jids = await statePage(client, queue, state, page.offset, page.limit);
    if (state === 'recurring') {
      const found = await Promise.all(jids.map((jid) => client.jobs.get(jid)));
      const jobs = found.flatMap((job) => (job !== null && job.state === 'recur' ? [recurringDetail(job)] : []));
      return { queue, state, total, ...page, jobs };
    }
    const jobs: Job[] = await client.jobs.multiget(...jids);
    return { queue, state, total, ...page, jobs: jobs.map(jobSummary) };
  });

  for (const action of ['pause', 'unpause'] as const) {
    writeRoute(app, 'POST', `/api/queues/:queue/${action}`, async (request) => {
      const queue = queueParam(request);
      if (!(await knownQueue(client, queue))) throw notFound(`no queue named ${queue}`);
      await client.queue(queue)[action]();
      audit(request, action, { queue });
      return { queue, paused: action === 'pause' };
    });
  }
}
