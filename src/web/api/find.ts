// GET api/find: jobs by jid prefix, filters and a search in their data, one bounded step at a
// time; GET api/find/count: how many match in all (the search run to its end).
import type { FastifyInstance } from 'fastify';
import { type FindFilter, findAllJids, findJobs, STATES, type FindState } from '../data/find.ts';
import { jobSummary } from '../data/job-view.ts';
import type { DashboardContext } from './context.ts';
import { badRequest } from './http-error.ts';
import { type Input, inputOf, optionalNumber, optionalText } from './params.ts';

export function filterOf(input: Input): FindFilter {
  const filter: FindFilter = {};
  for (const key of ['jid', 'queue', 'klass', 'tag', 'worker', 'group', 'q'] as const) {
    const value = optionalText(input, key);
    if (value !== undefined) filter[key] = key === 'jid' ? value.trim() : value;
  }
  const state = optionalText(input, 'state');
  if (state !== undefined) {
    if (!(STATES as readonly string[]).includes(state)) throw badRequest(`state must be one of ${STATES.join(', ')}`);
    filter.state = state as FindState;
  }
  return filter;
}

export function registerFindRoutes(app: FastifyInstance, ctx: DashboardContext): void {
  app.get('/api/find', async (request) => {
    const input = inputOf(request.query);
    const filter = filterOf(input);
    const limit = optionalNumber(input, 'limit', { integer: true, min: 1, max: 500 }) ?? 50;
    const examine = optionalNumber(input, 'examine', { integer: true, min: 1, max: 100_000 }) ?? 10_000;
    const page = await findJobs(ctx.client, filter, optionalText(input, 'cursor'), {
      matches: limit,
      examine,
      ms: 1_000,
    });
    return {
      filter,
      jobs: page.jobs.map(jobSummary),
      examined: page.examined,
      cursor: page.cursor,
      done: page.cursor === null,
      source: page.source,
    };
  });

  app.get('/api/find/count', async (request) => {
    const filter = filterOf(inputOf(request.query));
    let examined = 0;
    const jids = await findAllJids(ctx.client, filter, (seen) => {
      examined = seen;
    });
    return { filter, matching: jids.length, examined };
  });
}
