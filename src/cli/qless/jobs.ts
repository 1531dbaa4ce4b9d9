// Reading jobs: `get` (one job with its history) and `tagged`.
import { renderJob, renderJobTable, renderRecurringJob } from '../format/job.ts';
import { pageRange } from '../format/table.ts';
import { type CommandSpec, pagingOptions } from './command.ts';
import { findJob, loadJobs } from './lookup.ts';

export const get: CommandSpec = {
  command: 'get <jid>',
  describe: 'One job: data, state, worker, tags, failure and its history as a timeline',
  build: (yargs) => yargs.positional('jid', { type: 'string', describe: 'The job (or recurring job)' }),
  examples: [['$0 get 6f1c2a…', 'Everything about that job']],
  async run(args, context) {
    const jid = args.text('jid');
    const client = await context.client();
    const job = await findJob(client, jid);
    await context.out.result(job, () =>
      job.state === 'recur' ? renderRecurringJob(job) : renderJob(job, client.now()),
    );
  },
};

export const tagged: CommandSpec = {
  command: 'tagged <tag>',
  describe: 'Jobs carrying a tag, oldest tagging first',
  build: (yargs) => pagingOptions(yargs.positional('tag', { type: 'string', describe: 'The tag' }), 25),
  examples: [['$0 tagged customer-42 --limit 50', 'Up to 50 jobs tagged customer-42']],
  async run(args, context) {
    const tag = args.text('tag');
    const { offset, limit } = args.paging(25);
    const client = await context.client();
    const page = await client.jobs.tagged(tag, offset, limit);
    const found = await loadJobs(client, page.jobs);
    await context.out.result({ tag, total: page.total, offset, limit, jobs: found }, () => {
      if (page.total === 0) return `no jobs tagged ${tag}`;
      const shown = pageRange(offset, found.length, page.total, `jobs tagged ${tag}`);
      return found.length === 0 ? shown : `${renderJobTable(found, client.now())}\n${shown}`;
    });
  },
};
