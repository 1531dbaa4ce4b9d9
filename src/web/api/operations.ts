// Bulk actions: POST api/operations starts one (on jids, a filter, or a failure group) and answers
// 202 at once; GET api/operations/:id reports its progress and per-job results.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BULK_ACTIONS, type BulkAction, type BulkArgs, type BulkTarget } from '../data/operations.ts';
import { audit, type DashboardContext, writeRoute } from './context.ts';
import { filterOf } from './find.ts';
import { badRequest, notFound } from './http-error.ts';
import { inputOf, names, optionalNames, optionalText, requiredNumber, text } from './params.ts';
import { requireKnownQueue } from './jobs.ts';

/** Selected jobs per request at most; more go through a filter. */
const MAX_JIDS = 10_000;

export function registerOperationRoutes(app: FastifyInstance, ctx: DashboardContext): void {
  writeRoute(app, 'POST', '/api/operations', async (request, reply) => {
    const body = inputOf(request.body);
    const action = text(body, 'action') as BulkAction;
    if (!BULK_ACTIONS.includes(action)) throw badRequest(`action must be one of ${BULK_ACTIONS.join(', ')}`);
    const args: BulkArgs = {};
    if (action === 'move') {
      args.queue = text(body, 'queue');
      await requireKnownQueue(ctx.client, args.queue);
    }
    if (action === 'priority') args.priority = requiredNumber(body, 'priority');
    if (action === 'tag' || action === 'untag') args.tags = names(body, 'tags');
    let target: BulkTarget;
    const jids = optionalNames(body, 'jids');
    const group = optionalText(body, 'group');
    if (jids !== undefined) {
      if (jids.length === 0 || jids.length > MAX_JIDS)
        throw badRequest(`jids must list 1 to ${MAX_JIDS} jobs (use a filter for more)`);
      target = { jids: [...new Set(jids)] };
    } else if (group !== undefined) {
      target = { group };
    } else if (body.filter !== undefined) {
      const filter = filterOf(inputOf(body.filter));
      if (Object.keys(filter).length === 0) throw badRequest('filter must name at least one condition');
      target = { filter };
    } else {
      throw badRequest('give jids, a filter or a group');
    }
    const operation = ctx.operations.start(action, target, args);
    audit(request, `bulk ${action}`, {
      operation: operation.id,
      ...('jids' in target
        ? { jids: target.jids }
        : 'group' in target
          ? { group: target.group }
          : { filter: target.filter }),
      ...args,
    });
    reply.code(202);
    return operation;
  });

  app.get('/api/operations', async () => ({ operations: ctx.operations.list() }));

  app.get('/api/operations/:id', async (request: FastifyRequest) => {
    const id = (request.params as { id?: string }).id ?? '';
    const operation = ctx.operations.get(id);
    if (!operation) throw notFound(`no operation ${id}`);
    return operation;
  });
}
