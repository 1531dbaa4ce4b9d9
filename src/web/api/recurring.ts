// Every recurring job, and changes to one: interval, priority, retries, tags; unrecur.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Client, RecurringJob } from '../../client/index.ts';
import { recurringDetail } from '../data/job-view.ts';
import { audit, type DashboardContext, writeRoute } from './context.ts';
import { badRequest, notFound } from './http-error.ts';
import { inputOf, optionalNames, optionalNumber } from './params.ts';

async function recurringOf(client: Client, request: FastifyRequest): Promise<RecurringJob> {
  const jid = (request.params as { jid?: string }).jid ?? '';
  if (jid === '') throw badRequest('jid is required');
  const found = await client.jobs.get(jid);
  if (found === null || found.state !== 'recur') throw notFound(`no recurring job ${jid}`);
  return found;
}

export function registerRecurringRoutes(app: FastifyInstance, ctx: DashboardContext): void {
  const { client } = ctx;

  app.get('/api/recurring', async () => {
    const queues = (await client.queues()).map((counts) => counts.name);
    const jids = (await Promise.all(queues.map((queue) => client.queue(queue).jobs('recurring', 0, 10_000)))).flat();
    const found = await Promise.all(jids.map((jid) => client.jobs.get(jid)));
    const jobs = found.flatMap((job) => (job !== null && job.state === 'recur' ? [recurringDetail(job)] : []));
    return { total: jobs.length, jobs };
  });

  writeRoute(app, 'POST', '/api/recurring/:jid', async (request) => {
    const body = inputOf(request.body);
    const changes = {
      interval: optionalNumber(body, 'interval', { min: Number.MIN_VALUE }),
      priority: optionalNumber(body, 'priority'),
      retries: optionalNumber(body, 'retries', { integer: true, min: 0 }),
    };
    const tags = optionalNames(body, 'tags');
    const job = await recurringOf(client, request);
    const update = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
    if (Object.keys(update).length === 0 && tags === undefined)
      throw badRequest('nothing to change: give interval, priority, retries or tags');
    if (Object.keys(update).length > 0) await job.update(update);
    if (tags !== undefined) {
      const removed = job.tags.filter((tag) => !tags.includes(tag));
      const added = tags.filter((tag) => !job.tags.includes(tag));
      if (removed.length > 0) await job.untag(...removed);
      if (added.length > 0) await job.tag(...added);
    }
    audit(request, 'recur.update', { jids: [job.jid], ...update, ...(tags === undefined ? {} : { tags }) });
    const after = await client.jobs.get(job.jid);
    return after !== null && after.state === 'recur' ? recurringDetail(after) : null;
  });

  writeRoute(app, 'POST', '/api/recurring/:jid/unrecur', async (request) => {
    const job = await recurringOf(client, request);
    await job.cancel();
    audit(request, 'unrecur', { jids: [job.jid] });
    return { jid: job.jid, state: 'gone' };
  });
}
