// Workers: `workers` (all known) and `worker <name>` (the jobs one holds).
import { renderJobTable } from '../format/job.ts';
import { renderPage, renderTable } from '../format/table.ts';
import { type CommandSpec, pageOf, pagingOptions } from './command.ts';
import { loadJobs } from './lookup.ts';

export const workers: CommandSpec = {
  command: 'workers',
  describe: 'Workers seen lately (most recently active first) with the jobs they hold',
  build: (yargs) => pagingOptions(yargs, undefined),
  examples: [['$0 workers', 'One row a worker: running and stalled jobs']],
  async run(args, context) {
    const paging = args.paging(undefined);
    const client = await context.client();
    const { items: page, ...listed } = pageOf(await client.workers.list(), paging);
    await context.out.result({ ...listed, workers: page }, () =>
      renderPage('no workers', listed.total, listed.offset, page, () =>
        renderTable(
          [{ header: 'WORKER' }, { header: 'JOBS', align: 'right' }, { header: 'STALLED', align: 'right' }],
          page.map((worker) => [worker.name, String(worker.jobs), String(worker.stalled)]),
        ),
      ),
    );
  },
};

export const worker: CommandSpec = {
  command: 'worker <name>',
  describe: 'The jobs one worker holds: running (live lock) and stalled (lock expired)',
  build: (yargs) => yargs.positional('name', { type: 'string', describe: 'The worker name' }),
  examples: [['$0 worker host-1234-0', 'What host-1234-0 is working on']],
  async run(args, context) {
    const name = args.text('name');
    const client = await context.client();
    const known = (await client.workers.list()).some((entry) => entry.name === name);
    const held = await client.workers.get(name);
    const running = await loadJobs(client, held.jobs);
    const stalled = await loadJobs(client, held.stalled);
    await context.out.result({ name, known, jobs: running, stalled }, () => {
      const now = client.now();
      const parts = [known ? `worker ${name}` : `worker ${name} (not a known worker)`];
      parts.push(running.length === 0 ? 'running: none' : `running:\n${renderJobTable(running, now)}`);
      parts.push(stalled.length === 0 ? 'stalled: none' : `stalled:\n${renderJobTable(stalled, now)}`);
      return parts.join('\n\n');
    });
  },
};
