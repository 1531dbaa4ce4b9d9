// `stats <queue> [--date YYYY-MM-DD]`: one day's wait and run times, drawn as histograms.
import type { TimeStats } from '../../client/index.ts';
import { renderHistogram } from '../format/histogram.ts';
import { renderFields } from '../format/table.ts';
import { formatTimeStats } from '../format/time.ts';
import { type CommandSpec, valueOption } from './command.ts';
import { UsageError } from '../usage.ts';

/** qless bins statistics by UTC day; the date names that day. */
function parseDay(text: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const date = match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : undefined;
  if (!date || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== text) {
    throw new UsageError(`--date must be a day as YYYY-MM-DD, got ${JSON.stringify(text)}`);
  }
  return date;
}

function section(title: string, stats: TimeStats): string {
  const head = `${title}: ${formatTimeStats(stats)}`;
  const bars = renderHistogram(stats.histogram);
  return bars.length === 0 ? head : [head, ...bars.map((line) => `  ${line}`)].join('\n');
}

export const stats: CommandSpec = {
  command: 'stats <queue>',
  describe: "A queue's wait and run times of one day (UTC) as histograms, with its failures",
  build: (yargs) =>
    yargs
      .positional('queue', { type: 'string', describe: 'The queue' })
      .option('date', valueOption('The day, YYYY-MM-DD (UTC)', 'today')),
  examples: [
    ['$0 stats images', "Today's wait and run times of queue images"],
    ['$0 stats images --date 2024-05-01 --json', 'That day, as JSON'],
  ],
  async run(args, context) {
    const queueName = args.text('queue');
    const dateText = args.optionalText('date');
    const given = dateText === undefined ? undefined : parseDay(dateText);
    const client = await context.client();
    const day = given ?? new Date(Math.floor(client.now() / 86400) * 86400 * 1000);
    const result = await client.queue(queueName).stats(day);
    const date = day.toISOString().slice(0, 10);
    await context.out.result({ queue: queueName, date, ...result }, () =>
      [
        renderFields([
          ['queue', queueName],
          ['date', `${date} (UTC)`],
          ['failures', `${result.failures} (${result.failed} still failed)`],
          ['lock expiries', String(result.retries)],
        ]),
        section('wait time (put to pop)', result.wait),
        section('run time (pop to complete)', result.run),
      ].join('\n\n'),
    );
  },
};
