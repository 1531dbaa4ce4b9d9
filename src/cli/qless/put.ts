// Putting work in: `put`, `recur`, `unrecur`.
import type { Argv } from 'yargs';
import { JobNotFoundError, QlessError } from '../../client/errors.ts';
import type { Args } from './args.ts';
import { type CommandSpec, valueOption } from './command.ts';

/** The positionals and options `put` and `recur` share. */
function jobArguments(yargs: Argv, describe: { queue: string; klass: string }): Argv {
  return yargs
    .positional('queue', { type: 'string', describe: describe.queue })
    .positional('klass', { type: 'string', describe: describe.klass })
    .options({
      data: valueOption('The job data, a JSON object', '{}'),
      priority: valueOption('Higher pops first', '0'),
      tag: valueOption('A tag; repeatable'),
      retries: valueOption('Retries before the job fails', '5'),
      jid: valueOption('The job id', '32 random hex characters'),
    });
}

/** What `put` and `recur` share, read and checked. */
function readJob(args: Args) {
  const tags = args.texts('tag');
  return {
    queue: args.text('queue'),
    klass: args.text('klass'),
    data: args.optionalJson('data') ?? {},
    options: {
      jid: args.optionalText('jid'),
      priority: args.optionalNumber('priority'),
      retries: args.optionalNumber('retries', { integer: true, min: 0 }),
      tags: tags.length > 0 ? tags : undefined,
    },
  };
}

export const put: CommandSpec = {
  command: 'put <queue> <klass>',
  describe: 'Put a job into a queue; prints its jid',
  build: (yargs) =>
    jobArguments(yargs, { queue: 'Queue to put the job into', klass: 'Handler the worker runs (e.g. images.Resize)' })
      .option('delay', valueOption('Seconds before the job may run (scheduled until then)', '0'))
      .option('depends', valueOption('A jid that must complete first; repeatable')),
  examples: [
    ['$0 put images Resize --data \'{"w":200}\' --tag cats', 'Put a job; prints its jid'],
    ['$0 put mail Send --delay 600 --depends <jid>', 'In 10 minutes, once <jid> is complete'],
  ],
  async run(args, context) {
    const job = readJob(args);
    const delay = args.optionalNumber('delay', { min: 0 });
    const depends = args.texts('depends');
    const client = await context.client();
    const jid = await client.queue(job.queue).put(job.klass, job.data, {
      ...job.options,
      delay,
      depends: depends.length > 0 ? depends : undefined,
    });
    await context.out.result({ jid, queue: job.queue }, () => jid);
  },
};

export const recur: CommandSpec = {
  command: 'recur <queue> <klass>',
  describe: 'Make a recurring job: a new child job every --every seconds; prints its jid',
  build: (yargs) =>
    jobArguments(yargs, { queue: 'Queue the children are put into', klass: 'Handler the children run' })
      .option('every', { ...valueOption('Seconds between two children'), demandOption: true })
      .option('offset', valueOption('Seconds until the first child', '0'))
      .option('backlog', valueOption('At most this many overdue children at once (0 = all)', '0')),
  examples: [
    [
      '$0 recur reports Reports.Daily --every 86400 --offset 3600 --backlog 1',
      'A report every day, the first in an hour',
    ],
  ],
  async run(args, context) {
    const job = readJob(args);
    const options = {
      ...job.options,
      interval: args.number('every', { min: 0, aboveMin: true }, '--every'),
      offset: args.optionalNumber('offset', { min: 0 }),
      backlog: args.optionalNumber('backlog', { integer: true, min: 0 }),
    };
    const client = await context.client();
    const jid = await client.queue(job.queue).recur(job.klass, job.data, options);
    await context.out.result({ jid, queue: job.queue }, () => jid);
  },
};

export const unrecur: CommandSpec = {
  command: 'unrecur <jid>',
  describe: 'Stop a recurring job (children already spawned stay)',
  build: (yargs) => yargs.positional('jid', { type: 'string', describe: 'The recurring job' }),
  examples: [['$0 unrecur 6f1c…', 'No more children of that recurring job']],
  async run(args, context) {
    const jid = args.text('jid');
    const client = await context.client();
    const job = await client.jobs.get(jid);
    // The script answers 1 even for a jid it does not know; say so instead.
    if (job === null) throw new JobNotFoundError(`no recurring job ${jid}`);
    if (job.state !== 'recur') throw new QlessError(`${jid} is a job, not a recurring job (use qless cancel)`);
    await job.cancel();
    await context.out.result({ jid, recurring: false }, () => `stopped recurring job ${jid}`);
  },
};
