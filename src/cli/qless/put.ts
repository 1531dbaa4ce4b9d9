// Putting work in: `put`, `recur`, `unrecur`.
import type { CommandSpec } from './command.ts';
import { NotFoundError } from './errors.ts';

const jobOptions = {
  data: { type: 'string', requiresArg: true, description: 'The job data, a JSON object', defaultDescription: '{}' },
  priority: { type: 'string', requiresArg: true, description: 'Higher pops first', defaultDescription: '0' },
  tag: { type: 'string', requiresArg: true, description: 'A tag; repeatable' },
  retries: { type: 'string', requiresArg: true, description: 'Retries before the job fails', defaultDescription: '5' },
  jid: { type: 'string', requiresArg: true, description: 'The job id', defaultDescription: '32 random hex characters' },
} as const;

export const put: CommandSpec = {
  command: 'put <queue> <klass>',
  describe: 'Put a job into a queue; prints its jid',
  build: (yargs) =>
    yargs
      .positional('queue', { type: 'string', describe: 'Queue to put the job into' })
      .positional('klass', { type: 'string', describe: 'Handler the worker runs (e.g. images.Resize)' })
      .options(jobOptions)
      .option('delay', {
        type: 'string',
        requiresArg: true,
        description: 'Seconds before the job may run (scheduled until then)',
        defaultDescription: '0',
      })
      .option('depends', {
        type: 'string',
        requiresArg: true,
        description: 'A jid that must complete first; repeatable',
      }),
  examples: [
    ['$0 put images Resize --data \'{"w":200}\' --tag cats', 'Put a job; prints its jid'],
    ['$0 put mail Send --delay 600 --depends <jid>', 'In 10 minutes, once <jid> is complete'],
  ],
  async run(args, context) {
    const queue = args.text('queue');
    const klass = args.text('klass');
    const data = args.optionalJson('data') ?? {};
    const options = {
      jid: args.optionalText('jid'),
      delay: args.optionalNumber('delay', { min: 0 }),
      priority: args.optionalNumber('priority'),
      tags: args.texts('tag'),
      retries: args.optionalNumber('retries', { integer: true, min: 0 }),
      depends: args.texts('depends'),
    };
    const client = await context.client();
    const jid = await client.queue(queue).put(klass, data, {
      ...options,
      tags: options.tags.length > 0 ? options.tags : undefined,
      depends: options.depends.length > 0 ? options.depends : undefined,
    });
    await context.out.result({ jid, queue }, () => jid);
  },
};

export const recur: CommandSpec = {
  command: 'recur <queue> <klass>',
  describe: 'Make a recurring job: a new child job every --every seconds; prints its jid',
  build: (yargs) =>
    yargs
      .positional('queue', { type: 'string', describe: 'Queue the children are put into' })
      .positional('klass', { type: 'string', describe: 'Handler the children run' })
      .options(jobOptions)
      .option('every', {
        type: 'string',
        requiresArg: true,
        demandOption: true,
        description: 'Seconds between two children',
      })
      .option('offset', {
        type: 'string',
        requiresArg: true,
        description: 'Seconds until the first child',
        defaultDescription: '0',
      })
      .option('backlog', {
        type: 'string',
        requiresArg: true,
        description: 'At most this many overdue children at once (0 = all)',
        defaultDescription: '0',
      }),
  examples: [
    [
      '$0 recur reports Reports.Daily --every 86400 --offset 3600 --backlog 1',
      'A report every day, the first in an hour',
    ],
  ],
  async run(args, context) {
    const queue = args.text('queue');
    const klass = args.text('klass');
    const data = args.optionalJson('data') ?? {};
    const tags = args.texts('tag');
    const options = {
      interval: args.number('every', { min: 0, aboveMin: true }, '--every'),
      offset: args.optionalNumber('offset', { min: 0 }),
      backlog: args.optionalNumber('backlog', { integer: true, min: 0 }),
      priority: args.optionalNumber('priority'),
      retries: args.optionalNumber('retries', { integer: true, min: 0 }),
      jid: args.optionalText('jid'),
      tags: tags.length > 0 ? tags : undefined,
    };
    const client = await context.client();
    const jid = await client.queue(queue).recur(klass, data, options);
    await context.out.result({ jid, queue }, () => jid);
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
    if (job === null || job.state !== 'recur')
      throw new NotFoundError(
        job === null ? `no recurring job ${jid}` : `${jid} is a job, not a recurring job (use qless cancel)`,
      );
    await job.cancel();
    await context.out.result({ jid, recurring: false }, () => `stopped recurring job ${jid}`);
  },
};
