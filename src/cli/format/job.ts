// A job for people: the detail view of `qless get` with its history timeline, and the rows of
// job lists.
import type { HistoryEntry, Job, JsonValue, RecurringJob } from '../../client/index.ts';
import { type Column, renderFields, renderTable, shorten } from './table.ts';
import { formatDuration, formatMoment, formatRelative, formatTime } from './time.ts';

function list(items: readonly string[]): string {
  return items.length === 0 ? '-' : items.join(', ');
}

function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? String(value);
}

function scalar(value: JsonValue | undefined): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** What one history entry says, in words: `put into images`, `popped by host-1-0`… */
function describeHistoryEntry(entry: HistoryEntry): string {
  const { when: _when, what, ...extra } = entry;
  switch (what) {
    case 'put':
      return `put into ${entry.q ?? '?'}`;
    case 'popped':
      return `popped by ${entry.worker ?? '?'}`;
    case 'done':
      return 'completed';
    case 'failed':
      return entry.worker
        ? `failed into ${entry.group ?? '?'} by ${entry.worker}`
        : `failed into ${entry.group ?? '?'} (retries exhausted)`;
    case 'timed-out':
      return 'lock timed out';
    default: {
      // A `log` entry: its message, then its own fields.
      const details = Object.entries(extra).map(([key, value]) => `${key}=${scalar(value)}`);
      return details.length === 0 ? String(what) : `${String(what)} (${details.join(', ')})`;
    }
  }
}

/** The history as a timeline: time, time since the previous step, what happened. */
function renderTimeline(history: readonly HistoryEntry[]): string {
  if (history.length === 0) return '(no history)';
  const rows = history.map((entry, index) => {
    const gap = index === 0 ? '' : `+${formatDuration(entry.when - history[index - 1].when)}`;
    return [formatTime(entry.when), gap, describeHistoryEntry(entry)];
  });
  return renderTable([{ header: 'WHEN' }, { header: 'AFTER', align: 'right' }, { header: 'WHAT' }], rows);
}

export function renderJob(job: Job, now: number): string {
  const fields: [string, string][] = [
    ['jid', job.jid],
    ['klass', job.klass],
    ['queue', job.queue === '' ? '-' : job.queue],
    ['state', job.state],
    ['worker', job.worker === '' ? '-' : job.worker],
    ['priority', String(job.priority)],
    ['retries', `${job.remaining} of ${job.retries} left`],
  ];
  if (job.expires > 0 && (job.state === 'running' || job.state === 'stalled'))
    fields.push(['lock expires', formatMoment(job.expires, now)]);
  fields.push(['tags', list(job.tags)], ['tracked', job.tracked ? 'yes' : 'no']);
  if (job.dependencies.length > 0) fields.push(['waits for', list(job.dependencies)]);
  if (job.dependents.length > 0) fields.push(['needed by', list(job.dependents)]);
  if (job.spawnedFromJid !== null) fields.push(['recurring', `spawned by ${job.spawnedFromJid}`]);
  fields.push(['data', prettyJson(job.data)]);
  if (job.failure) {
    const by = job.failure.worker ? ` by ${job.failure.worker}` : '';
    fields.push(['failure', `${job.failure.group} at ${formatMoment(job.failure.when, now)}${by}`]);
    fields.push(['message', job.failure.message === '' ? '-' : job.failure.message]);
  }
  return `${renderFields(fields)}\n\nhistory\n${indent(renderTimeline(job.history))}`;
}

export function renderRecurringJob(job: RecurringJob): string {
  return renderFields([
    ['jid', job.jid],
    ['klass', job.klass],
    ['queue', job.queue],
    ['state', 'recurring'],
    ['every', formatDuration(job.interval)],
    ['priority', String(job.priority)],
    ['retries', String(job.retries)],
    ['backlog', job.backlog === 0 ? 'all overdue children' : `at most ${job.backlog} overdue children`],
    ['spawned', `${job.count} so far (children are ${job.jid}-<n>)`],
    ['tags', list(job.tags)],
    ['data', prettyJson(job.data)],
  ]);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

/** When the job last changed, from its history (e.g. `put 3m ago`). */
function lastStep(job: Job, now: number): string {
  const last = job.history.at(-1);
  return last === undefined ? '-' : `${last.what} ${formatRelative(last.when, now)}`;
}

type JobListKind = 'plain' | 'failed';

/** A table of jobs; `failed` lists show the failure instead of the worker. */
export function renderJobTable(
  jobs: readonly (Job | RecurringJob)[],
  now: number,
  kind: JobListKind = 'plain',
): string {
  const columns: Column[] = [
    { header: 'JID' },
    { header: 'KLASS' },
    { header: 'QUEUE' },
    { header: 'STATE' },
    { header: 'PRI', align: 'right' },
  ];
  if (kind === 'failed') columns.push({ header: 'FAILED' }, { header: 'MESSAGE' });
  else columns.push({ header: 'WORKER' }, { header: 'TAGS' }, { header: 'LAST' });
  const rows = jobs.map((job) => {
    const base = [
      job.jid,
      job.klass,
      job.queue === '' ? '-' : job.queue,
      job.state === 'recur' ? 'recurring' : job.state,
      String(job.priority),
    ];
    if (job.state === 'recur') return [...base, '-', list(job.tags), `every ${formatDuration(job.interval)}`];
    if (kind === 'failed') {
      const failure = job.failure;
      return [...base, failure ? formatRelative(failure.when, now) : '-', failure ? shorten(failure.message, 60) : '-'];
    }
    return [...base, job.worker === '' ? '-' : job.worker, list(job.tags), lastStep(job, now)];
  });
  return renderTable(columns, rows);
}
