// Looking at queues and holding them: `queues`, `queue`, `peek`, `jobs`, `pause`, `unpause`.
import type { QueueCounts } from '../../client/index.ts';
import { renderJobTable } from '../format/job.ts';
import { renderFields, renderPage, renderTable } from '../format/table.ts';
import { formatTimeStats } from '../format/time.ts';
import { type CommandSpec, pageOf, pagingOptions } from './command.ts';
import { UsageError } from '../usage.ts';
import { loadJobs } from './lookup.ts';

function countsRow(counts: QueueCounts): string[] {
  return [
    counts.name,
    String(counts.waiting),
    String(counts.running),
    String(counts.stalled),
    String(counts.scheduled),
    String(counts.depends),
    String(counts.recurring),
    counts.paused ? 'paused' : '-',
  ];
}

const COUNT_COLUMNS = [
  { header: 'QUEUE' },
  { header: 'WAITING', align: 'right' },
  { header: 'RUNNING', align: 'right' },
  { header: 'STALLED', align: 'right' },
  { header: 'SCHEDULED', align: 'right' },
  { header: 'DEPENDS', align: 'right' },
  { header: 'RECURRING', align: 'right' },
  { header: 'PAUSED' },
] as const;

export const queues: CommandSpec = {
  command: 'queues',
  describe: 'Every known queue with its counts',
  build: (yargs) => pagingOptions(yargs, undefined),
  examples: [['$0 queues', 'One row a queue: waiting, running, stalled, scheduled, depends, recurring, paused']],
  async run(args, context) {
    const paging = args.paging(undefined);
    const client = await context.client();
    const { items: page, ...listed } = pageOf(await client.queues(), paging);
    await context.out.result({ ...listed, queues: page }, () =>
      renderPage('no queues', listed.total, listed.offset, page, () => renderTable(COUNT_COLUMNS, page.map(countsRow))),
    );
  },
};

export const queue: CommandSpec = {
  command: 'queue <name>',
  describe: "One queue's counts, with today's wait and run times",
  build: (yargs) => yargs.positional('name', { type: 'string', describe: 'The queue' }),
  examples: [['$0 queue images', "Counts of queue images and today's statistics"]],
  async run(args, context) {
    const name = args.text('name');
    const client = await context.client();
    const known = (await client.queues()).some((counts) => counts.name === name);
    const counts = await client.queue(name).counts();
    const today = await client.queue(name).stats();
    await context.out.result({ ...counts, known, today }, () => {
      const fields: [string, string][] = [
        ['queue', known ? name : `${name} (not a known queue)`],
        ['paused', counts.paused ? 'yes' : 'no'],
        ['waiting', String(counts.waiting)],
        ['running', String(counts.running)],
        ['stalled', String(counts.stalled)],
        ['scheduled', String(counts.scheduled)],
        ['depends', String(counts.depends)],
        ['recurring', String(counts.recurring)],
        ['wait today', formatTimeStats(today.wait)],
        ['run today', formatTimeStats(today.run)],
        ['failures today', `${today.failures} (${today.failed} still failed)`],
        ['lock expiries today', String(today.retries)],
      ];
      return renderFields(fields);
    });
  },
};

export const peek: CommandSpec = {
  command: 'peek <queue> [count]',
  describe: 'The next jobs a worker would pop from a queue (nothing is locked)',
  build: (yargs) =>
    yargs
      .positional('queue', { type: 'string', describe: 'The queue' })
      .positional('count', { type: 'string', describe: 'How many', default: '10' }),
  examples: [['$0 peek images 5', 'The five jobs of images that would be popped next']],
  async run(args, context) {
    const name = args.text('queue');
    const count = args.number('count', { integer: true, min: 1 }, 'count');
    const client = await context.client();
    const jobs = await client.queue(name).peek(count);
    await context.out.result({ queue: name, jobs }, () =>
      jobs.length === 0 ? `nothing to pop in ${name}` : renderJobTable(jobs, client.now()),
    );
  },
};

const QUEUE_STATES = ['running', 'stalled', 'scheduled', 'depends', 'recurring'] as const;
type QueueState = (typeof QUEUE_STATES)[number];

function isQueueState(state: string): state is QueueState {
  return (QUEUE_STATES as readonly string[]).includes(state);
}

export const jobs: CommandSpec = {
  command: 'jobs <state> [queue]',
  describe: `Jobs of a queue in one state (${QUEUE_STATES.join(', ')}), or recently completed jobs`,
  build: (yargs) =>
    pagingOptions(
      yargs
        .positional('state', { type: 'string', describe: `${QUEUE_STATES.join(', ')} or complete` })
        .positional('queue', { type: 'string', describe: 'The queue (not for complete)' }),
      25,
    ),
  examples: [
    ['$0 jobs running images', 'Jobs of images that a worker holds'],
    ['$0 jobs complete --limit 100', 'The 100 most recently completed jobs'],
  ],
  async run(args, context) {
    const state = args.text('state');
    const queueName = args.optionalText('queue', 'queue');
    const { offset, limit } = args.paging(25);
    if (state === 'complete') {
      if (queueName !== undefined) throw new UsageError('jobs complete takes no queue: completed jobs belong to none');
    } else if (!isQueueState(state)) {
      throw new UsageError(
        `state must be one of ${[...QUEUE_STATES, 'complete'].join(', ')}, got ${JSON.stringify(state)}`,
      );
    } else if (queueName === undefined) {
      throw new UsageError(`jobs ${state} needs a queue: qless jobs ${state} <queue>`);
    }
    const client = await context.client();
    const jids =
      state === 'complete'
        ? await client.jobs.complete(offset, limit)
        : await client.queue(queueName as string).jobs(state as QueueState, offset, limit);
    const found = await loadJobs(client, jids);
    const document = { state, queue: queueName ?? null, offset, limit, jobs: found };
    await context.out.result(document, () =>
      found.length === 0 ? `no ${state} jobs` : renderJobTable(found, client.now()),
    );
  },
};

function pauseCommand(paused: boolean): CommandSpec {
  const verb = paused ? 'pause' : 'unpause';
  return {
    command: `${verb} <queues..>`,
    describe: paused
      ? 'Stop workers from popping jobs of these queues (running jobs go on)'
      : 'Let workers pop from these queues again',
    build: (yargs) => yargs.positional('queues', { type: 'string', describe: 'Queue names' }),
    examples: [[`$0 ${verb} images thumbnails`, paused ? 'Hold both queues during an incident' : 'Resume both queues']],
    async run(args, context) {
      const names = args.texts('queues', 'queue');
      if (names.length === 0) throw new UsageError('give at least one queue');
      const client = await context.client();
      for (const name of names) {
        const target = client.queue(name);
        await (paused ? target.pause() : target.unpause());
      }
      await context.out.result(
        { [paused ? 'paused' : 'unpaused']: names },
        () => `${paused ? 'paused' : 'unpaused'} ${names.join(', ')}`,
      );
    },
  };
}

export const pause = pauseCommand(true);
export const unpause = pauseCommand(false);
