// `qless watch`: qless's events as they happen, until Ctrl-C.
import { redactPassword } from '../../client/connection.ts';
import type { Client, LogEvent, TrackedEvent } from '../../client/index.ts';
import { shorten } from '../format/table.ts';
import { formatTime } from '../format/time.ts';
import { type CommandSpec, valueOption } from './command.ts';
import { RedisUnavailableError } from './errors.ts';

/** One event as shown: what happened, to which job, and where. */
interface WatchedEvent {
  time: number;
  event: string;
  jid?: string;
  queue?: string;
  to?: string;
  worker?: string;
  group?: string;
  message?: string;
  option?: string;
  value?: string;
}

// The tracked-job channels repeat put/completed/failed/canceled, which ql:log already carries
// for every job; only these add something (qless publishes pops and stalls for tracked jobs only).
const TRACKED_ONLY = new Set(['popped', 'stalled', 'track', 'untrack']);

function fromLog(event: LogEvent, time: number): WatchedEvent {
  const fields: Record<string, string | number> = { time, event: event.event };
  for (const [key, value] of Object.entries(event)) {
    // `canceled` of a jid that did not exist carries queue/worker false; a job nobody held, worker ''.
    if (typeof value === 'string' && value !== '') fields[key] = value;
  }
  return fields as unknown as WatchedEvent;
}

function describe(event: WatchedEvent): string {
  switch (event.event) {
    case 'put':
      return `into ${event.queue}`;
    case 'popped':
      return `from ${event.queue ?? '?'} by ${event.worker ?? '?'}`;
    case 'completed':
      return `in ${event.queue}`;
    case 'advanced':
      return `from ${event.queue} to ${event.to}`;
    case 'failed':
      return `into ${event.group}${event.worker ? ` by ${event.worker}` : ''}: ${shorten(event.message ?? '', 80)}`;
    case 'lock_lost':
      return `${event.worker} lost its lock`;
    case 'canceled':
      return event.queue === undefined
        ? '(no such job)'
        : `from ${event.queue}${event.worker ? ` (held by ${event.worker})` : ''}`;
    case 'stalled':
      return `lock expired${event.queue ? ` in ${event.queue}` : ''}`;
    case 'config_set':
      return `= ${event.value}`;
    case 'config_unset':
      return '(back to its default)';
    default:
      return event.queue ? `in ${event.queue}` : '';
  }
}

function renderEvent(event: WatchedEvent): string {
  const subject = event.jid ?? event.option ?? '';
  return `${formatTime(event.time)}  ${event.event.padEnd(12)}  ${subject}  ${describe(event)}`.trimEnd();
}

/** Fills in the queue (and worker) an event does not carry, from the job itself, when it still exists. */
async function withJobDetails(client: Client, event: WatchedEvent): Promise<WatchedEvent> {
  if (event.jid === undefined || (event.queue !== undefined && event.event !== 'popped')) return event;
  const job = await client.jobs.get(event.jid);
  if (job === null) return event;
  const details: WatchedEvent = { ...event, queue: event.queue ?? (job.queue === '' ? undefined : job.queue) };
  if (event.event === 'popped' && job.state !== 'recur') {
    // From the history rather than the worker field: the job may be done (worker '') by now.
    const popped = job.history.findLast((entry) => entry.what === 'popped');
    if (popped?.worker !== undefined) details.worker = popped.worker;
  }
  return details;
}

export const watch: CommandSpec = {
  command: 'watch',
  describe: 'Show events as they happen (put, popped, completed, failed, lock lost, canceled…) until Ctrl-C',
  build: (yargs) => yargs.option('queue', valueOption('Only events of this queue; repeatable')),
  examples: [
    ['$0 watch --queue images', 'Follow queue images'],
    ['$0 watch --json | jq .', 'One JSON object per line'],
  ],
  async run(args, context) {
    const queues = args.texts('queue');
    const client = await context.client();
    const events = client.events();
    let chain = Promise.resolve();
    await new Promise<void>((resolve, reject) => {
      const show = (event: WatchedEvent): void => {
        // One at a time, so lines keep the order the events came in even when a lookup is needed.
        chain = chain
          .then(async () => {
            const full = queues.length > 0 || event.event === 'popped' ? await withJobDetails(client, event) : event;
            if (
              queues.length > 0 &&
              !(full.queue !== undefined && queues.includes(full.queue)) &&
              !(full.to !== undefined && queues.includes(full.to))
            )
              return;
            await (context.json ? context.out.jsonLine(full) : context.out.text(renderEvent(full)));
          })
          .catch(reject);
      };
      events.on('log', (event) => show(fromLog(event, client.now())));
      events.on('tracked', (event: TrackedEvent) => {
        if (TRACKED_ONLY.has(event.event)) show({ time: client.now(), event: event.event, jid: event.jid });
      });
      events.on('error', (error) => reject(new RedisUnavailableError(`watching events: ${error.message}`)));
      client.redis.once('end', () => reject(new RedisUnavailableError('lost the connection to Redis')));
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void chain.then(resolve);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      events
        .ready()
        .then(() => {
          const only = queues.length > 0 ? ` for ${queues.join(', ')}` : '';
          return context.out.note(
            `watching qless events on ${redactPassword(context.redisUrl())}${only} (Ctrl-C to stop)`,
          );
        })
        .catch(reject);
    });
  },
};
