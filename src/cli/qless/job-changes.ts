// Changing jobs: `cancel`, `priority`, `move`, `track`, `untrack`, `tag`, `untag`.
import { type CommandSpec, valueOption } from './command.ts';
import { JobNotFoundError, QlessError } from '../../client/errors.ts';
import { UsageError } from '../usage.ts';
import { failedJids, findJob, findPlainJob, loadJobs } from './lookup.ts';

export const cancel: CommandSpec = {
  command: 'cancel [jids..]',
  describe: 'Delete jobs for good (refused if another job depends on one of them)',
  build: (yargs) =>
    yargs
      .positional('jids', { type: 'string', describe: 'Jobs to cancel' })
      .option('group', valueOption('Cancel every job of this failure group')),
  examples: [
    ['$0 cancel 6f1c… 9a0b…', 'Cancel two jobs'],
    ['$0 cancel --group images-TimeoutError', 'Cancel every job of a failure group'],
  ],
  async run(args, context) {
    const given = args.texts('jids', 'jid');
    const group = args.optionalText('group');
    if (group !== undefined && given.length > 0) throw new UsageError('give jids or --group, not both');
    if (group === undefined && given.length === 0)
      throw new UsageError('give the jids to cancel, or --group <failure group>');
    const client = await context.client();
    let jids = given;
    let skipped: string[] = [];
    if (group !== undefined) {
      jids = await failedJids(client, group);
      if (jids.length === 0) throw new QlessError(`failure group ${group} has no jobs`);
    } else {
      // The script "cancels" unknown jids silently (and announces it); refuse before anything is sent.
      const found = new Map((await loadJobs(client, jids)).map((job) => [job.jid, job]));
      const missing = jids.filter((jid) => !found.has(jid));
      if (missing.length > 0) throw new JobNotFoundError(`no such job: ${missing.join(', ')} (nothing canceled)`);
      const recurring = jids.filter((jid) => found.get(jid)?.state === 'recur');
      if (recurring.length > 0)
        throw new QlessError(`${recurring.join(', ')}: recurring job, stop it with qless unrecur (nothing canceled)`);
      // qless leaves completed jobs alone.
      skipped = jids.filter((jid) => found.get(jid)?.state === 'complete');
    }
    await client.jobs.cancel(...jids);
    const canceled = jids.filter((jid) => !skipped.includes(jid));
    await context.out.result({ group: group ?? null, canceled, skipped }, () =>
      [...canceled.map((jid) => `canceled ${jid}`), ...skipped.map((jid) => `skipped ${jid} (complete)`)].join('\n'),
    );
  },
};

export const priority: CommandSpec = {
  command: 'priority <jid> <priority>',
  describe: 'Change the priority of a job (higher pops first)',
  build: (yargs) =>
    yargs
      .positional('jid', { type: 'string', describe: 'The job' })
      .positional('priority', { type: 'string', describe: 'A number' }),
  examples: [['$0 priority 6f1c… 10', 'Pop that job before those with a lower priority']],
  async run(args, context) {
    const jid = args.text('jid');
    const value = args.number('priority', {}, 'priority');
    const client = await context.client();
    const job = await findJob(client, jid);
    if (job.state === 'recur') await job.update({ priority: value });
    else await job.setPriority(value);
    await context.out.result({ jid, priority: value }, () => `priority of ${jid} is now ${value}`);
  },
};

export const move: CommandSpec = {
  command: 'move <jid> <queue>',
  describe: 'Put a job into another queue (it becomes waiting there)',
  build: (yargs) =>
    yargs
      .positional('jid', { type: 'string', describe: 'The job' })
      .positional('queue', { type: 'string', describe: 'The queue to move it to' }),
  examples: [['$0 move 6f1c… images-slow', 'Move the job to the queue images-slow']],
  async run(args, context) {
    const jid = args.text('jid');
    const queueName = args.text('queue');
    const client = await context.client();
    const job = await findJob(client, jid);
    if (job.state === 'recur') await job.update({ queue: queueName });
    else await job.move(queueName);
    await context.out.result({ jid, queue: queueName }, () => `moved ${jid} to ${queueName}`);
  },
};

function trackCommand(track: boolean): CommandSpec {
  const verb = track ? 'track' : 'untrack';
  return {
    command: `${verb} <jid>`,
    describe: track ? 'Track a job: its every step is published (see qless watch)' : 'Stop tracking a job',
    build: (yargs) => yargs.positional('jid', { type: 'string', describe: 'The job' }),
    examples: [
      [
        `$0 ${verb} 6f1c…`,
        track ? 'Publish put, popped, completed, failed… for that job' : 'Stop publishing its steps',
      ],
    ],
    async run(args, context) {
      const jid = args.text('jid');
      const client = await context.client();
      const job = await findPlainJob(client, jid, `${verb}ed`);
      const changed = await (track ? job.track() : job.untrack());
      await context.out.result({ jid, tracked: track, changed }, () =>
        changed
          ? `${track ? 'tracking' : 'stopped tracking'} ${jid}`
          : `${jid} was ${track ? 'already' : 'not'} tracked`,
      );
    },
  };
}

export const track = trackCommand(true);
export const untrack = trackCommand(false);

function tagCommand(add: boolean): CommandSpec {
  const verb = add ? 'tag' : 'untag';
  return {
    command: `${verb} <jid> <tags..>`,
    describe: add ? 'Add tags to a job (or a recurring job)' : 'Remove tags from a job (or a recurring job)',
    build: (yargs) =>
      yargs
        .positional('jid', { type: 'string', describe: 'The job' })
        .positional('tags', { type: 'string', describe: 'Tags' }),
    examples: [
      [`$0 ${verb} 6f1c… urgent customer-42`, add ? 'Tag the job urgent and customer-42' : 'Remove both tags'],
    ],
    async run(args, context) {
      const jid = args.text('jid');
      const tags = args.texts('tags', 'tag');
      if (tags.length === 0) throw new UsageError('give at least one tag');
      const client = await context.client();
      const job = await findJob(client, jid);
      const after = await (add ? job.tag(...tags) : job.untag(...tags));
      await context.out.result(
        { jid, tags: after },
        () => `tags of ${jid}: ${after.length === 0 ? '-' : after.join(', ')}`,
      );
    },
  };
}

export const tag = tagCommand(true);
export const untag = tagCommand(false);
