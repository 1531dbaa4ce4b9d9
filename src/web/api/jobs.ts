// One job: read it, act on it, and put new ones.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Client, Job } from '../../client/index.ts';
import { jobDetail, recurringDetail } from '../data/job-view.ts';
import { isKnownQueue } from '../data/raw-reads.ts';
import { audit, type DashboardContext, writeRoute } from './context.ts';
import { badRequest, conflict, notFound } from './http-error.ts';
import {
  flag,
  inputOf,
  jsonInput,
  names,
  optionalNames,
  optionalNumber,
  optionalText,
  requiredNumber,
  text,
} from './params.ts';

function jidParam(request: FastifyRequest): string {
  const jid = (request.params as { jid?: string }).jid ?? '';
  if (jid === '') throw badRequest('jid is required');
  return jid;
}

/** The job (not a recurring template) with this jid, or 404. */
async function jobOf(client: Client, request: FastifyRequest): Promise<Job> {
  const jid = jidParam(request);
  const found = await client.jobs.get(jid);
  if (found === null) throw notFound(`no job ${jid}`);
  if (found.state === 'recur') throw badRequest(`${jid} is a recurring job: use api/recurring/${jid}`);
  return found;
}

export async function requireKnownQueue(client: Client, queue: string): Promise<void> {
  if (!(await isKnownQueue(client.redis, queue)))
    throw badRequest(`no queue named ${queue} (qless knows a queue once a job was put into it)`);
}

/** What the job looks like after a change, for the reply. */
async function reread(client: Client, jid: string): Promise<unknown> {
  const job = await client.jobs.get(jid);
  if (job === null) return { jid, state: 'gone' };
  return job.state === 'recur' ? recurringDetail(job) : jobDetail(job);
}

export function registerJobRoutes(app: FastifyInstance, ctx: DashboardContext): void {
  const { client } = ctx;

  app.get('/api/jobs/:jid', async (request) => {
    const jid = jidParam(request);
    const found = await client.jobs.get(jid);
    if (found === null) throw notFound(`no job ${jid}`);
    return found.state === 'recur' ? recurringDetail(found) : jobDetail(found);
  });

  writeRoute(app, 'POST', '/api/jobs', async (request, reply) => {
    const body = inputOf(request.body);
    const queue = text(body, 'queue');
    const klass = text(body, 'klass');
    const data = jsonInput(body, 'data') ?? {};
    if (typeof data !== 'object' || data === null) throw badRequest('data must be a JSON object or array');
    const options = {
      jid: optionalText(body, 'jid'),
      priority: optionalNumber(body, 'priority'),
      delay: optionalNumber(body, 'delay', { min: 0 }),
      retries: optionalNumber(body, 'retries', { integer: true, min: 0 }),
      tags: optionalNames(body, 'tags'),
      depends: optionalNames(body, 'depends'),
    };
    if (options.jid !== undefined && (await client.jobs.get(options.jid)) !== null)
      throw conflict(`a job ${options.jid} exists already`);
    for (const jid of options.depends ?? [])
      if ((await client.jobs.get(jid)) === null) throw badRequest(`depends: no job ${jid}`);
    const jid = await client.queue(queue).put(klass, data, options);
    audit(request, 'put', { jids: [jid], queue, klass });
    reply.code(201);
    return reread(client, jid);
  });

  const act = (
    action: string,
    run: (job: Job, body: ReturnType<typeof inputOf>) => Promise<Record<string, unknown> | undefined>,
  ): void => {
    writeRoute(app, 'POST', `/api/jobs/:jid/${action}`, async (request) => {
      const body = inputOf(request.body);
      const job = await jobOf(client, request);
      const details = (await run(job, body)) ?? {};
      audit(request, action, { jids: [job.jid], ...details });
      return reread(client, job.jid);
    });
  };

  act('retry', async (job) => {
    if (job.state !== 'failed' && job.state !== 'stalled')
      throw conflict(`job ${job.jid} is ${job.state}: only failed or stalled jobs are retried`);
    await job.move(job.queue);
    return { queue: job.queue };
  });
  act('cancel', async (job) => {
    await job.cancel();
    return undefined;
  });
  act('move', async (job, body) => {
    const queue = text(body, 'queue');
    await requireKnownQueue(client, queue);
    await job.move(queue);
    return { from: job.queue, to: queue };
  });
  act('priority', async (job, body) => {
    const priority = requiredNumber(body, 'priority');
    await job.setPriority(priority);
    return { priority };
  });
  act('track', async (job) => {
    await job.track();
    return undefined;
  });
  act('untrack', async (job) => {
    await job.untrack();
    return undefined;
  });
  act('tag', async (job, body) => {
    const tags = names(body, 'tags');
    await job.tag(...tags);
    return { tags };
  });
  act('untag', async (job, body) => {
    const tags = names(body, 'tags');
    await job.untag(...tags);
    return { tags };
  });
  act('undepend', async (job, body) => {
    if (job.state !== 'depends') throw conflict(`job ${job.jid} is ${job.state}, not waiting on dependencies`);
    if (flag(body, 'all')) {
      await job.undependAll();
      return { all: true };
    }
    const jids = names(body, 'jids');
    const unknown = jids.filter((jid) => !job.dependencies.includes(jid));
    if (unknown.length > 0) throw badRequest(`job ${job.jid} does not depend on ${unknown.join(', ')}`);
    await job.undepend(...jids);
    return { dependencies: jids };
  });
  act('timeout', async (job) => {
    if (job.state !== 'running') throw conflict(`job ${job.jid} is ${job.state}: only a running job can time out`);
    await job.timeout();
    return undefined;
  });
  act('run-now', async (job) => {
    if (job.state !== 'scheduled') throw conflict(`job ${job.jid} is ${job.state}, not scheduled`);
    await job.move(job.queue);
    return { queue: job.queue };
  });
}
