// Failures: `failed` (groups, or one group's jobs) and `retry` (unfail a group).
import { renderJobTable } from '../format/job.ts';
import { pageRange, renderPage, renderTable } from '../format/table.ts';
import { type CommandSpec, pageOf, pagingOptions, valueOption } from './command.ts';
import { QlessError } from '../../client/errors.ts';
import { failedJids } from './lookup.ts';

export const failed: CommandSpec = {
  command: 'failed [group]',
  describe: 'Failure groups with their number of jobs, or the jobs of one group (newest first)',
  build: (yargs) => pagingOptions(yargs.positional('group', { type: 'string', describe: 'A failure group' }), 25),
  examples: [
    ['$0 failed', 'Every failure group and how many jobs it holds'],
    ['$0 failed images-TimeoutError --limit 10', 'The 10 newest failures of that group'],
  ],
  async run(args, context) {
    const group = args.optionalText('group', 'group');
    if (group === undefined) {
      const paging = args.paging(undefined);
      const client = await context.client();
      const counts = Object.entries(await client.jobs.failed())
        .map(([name, count]) => ({ group: name, count }))
        .sort((a, b) => b.count - a.count || a.group.localeCompare(b.group));
      const { items: page, ...listed } = pageOf(counts, paging);
      await context.out.result({ ...listed, groups: page }, () =>
        renderPage('no failed jobs', listed.total, listed.offset, page, () =>
          renderTable(
            [{ header: 'GROUP' }, { header: 'JOBS', align: 'right' }],
            page.map((entry) => [entry.group, String(entry.count)]),
          ),
        ),
      );
      return;
    }
    const { offset, limit } = args.paging(25);
    const client = await context.client();
    const page = await client.jobs.failedGroup(group, offset, limit);
    await context.out.result({ group, total: page.total, offset, limit, jobs: page.jobs }, () => {
      if (page.total === 0) return `no jobs in failure group ${group}`;
      const shown = pageRange(offset, page.jobs.length, page.total, `jobs in ${group}`);
      return page.jobs.length === 0 ? shown : `${renderJobTable(page.jobs, client.now(), 'failed')}\n${shown}`;
    });
  },
};

/** Consecutive runs of jobs bound for the same queue, oldest first, as unfail takes them. */
function runsByQueue(queues: readonly string[]): { queue: string; count: number }[] {
  const runs: { queue: string; count: number }[] = [];
  for (const queue of queues) {
    const last = runs.at(-1);
    if (last && last.queue === queue) last.count += 1;
    else runs.push({ queue, count: 1 });
  }
  return runs;
}

export const retry: CommandSpec = {
  command: 'retry <group>',
  describe: 'Put the jobs of a failure group back to work, oldest first (each into the queue it failed in, or --queue)',
  build: (yargs) =>
    yargs
      .positional('group', { type: 'string', describe: 'The failure group' })
      .option('queue', valueOption('Put them all into this queue', "each job's own queue"))
      .option('count', valueOption('Retry only this many (the oldest)', 'all')),
  examples: [
    ['$0 retry images-TimeoutError', 'After a fix: every job of the group goes back to its queue'],
    ['$0 retry images-TimeoutError --queue images-slow --count 10', 'The 10 oldest, into images-slow'],
  ],
  async run(args, context) {
    const group = args.text('group');
    const target = args.optionalText('queue');
    const count = args.optionalNumber('count', { integer: true, min: 1 });
    const client = await context.client();
    const jids = await failedJids(client, group);
    if (jids.length === 0) throw new QlessError(`failure group ${group} has no jobs`);
    const wanted = Math.min(count ?? jids.length, jids.length);
    let runs: { queue: string; count: number }[];
    if (target !== undefined) {
      runs = [{ queue: target, count: wanted }];
    } else {
      // The group lists newest first; unfail takes from the oldest end.
      const oldest = jids.slice(jids.length - wanted).reverse();
      const jobs = new Map((await client.jobs.multiget(...oldest)).map((job) => [job.jid, job]));
      const queues = oldest.map((jid) => jobs.get(jid)?.queue ?? '');
      if (queues.includes('')) throw new QlessError(`some jobs of ${group} have no queue: give --queue`);
      runs = runsByQueue(queues);
    }
    const moved: Record<string, number> = {};
    let total = 0;
    for (const run of runs) {
      const n = await client.queue(run.queue).unfail(group, run.count);
      moved[run.queue] = (moved[run.queue] ?? 0) + n;
      total += n;
    }
    await context.out.result({ group, retried: total, queues: moved }, () => {
      const parts = Object.entries(moved).map(([queue, n]) => `${n} into ${queue}`);
      return `retried ${total} job${total === 1 ? '' : 's'} of ${group}: ${parts.join(', ')}`;
    });
  },
};
