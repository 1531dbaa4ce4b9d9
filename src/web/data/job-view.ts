// Jobs as the API hands them out: a summary for lists, every field for the job page. Values are
// plain JSON; the page renders them as text (never as HTML).
import type { Job, RecurringJob } from '../../client/index.ts';
import type { Failure, HistoryEntry, JsonValue } from '../../client/types.ts';

/** Long failure messages (stack traces) are cut in lists; the job page shows them whole. */
const LIST_MESSAGE_CHARS = 300;

export interface JobSummary {
  jid: string;
  klass: string;
  queue: string;
  state: string;
  priority: number;
  tags: string[];
  worker: string;
  retries: number;
  remaining: number;
  /** Lock expiry (s), 0 when not locked. */
  expires: number;
  tracked: boolean;
  failure: Failure | null;
  /** When the last history entry happened (s), e.g. put, popped, failed. */
  updated: number | null;
}

export interface JobDetail extends Omit<JobSummary, 'updated'> {
  kind: 'job';
  data: JsonValue;
  history: HistoryEntry[];
  dependents: string[];
  dependencies: string[];
  spawnedFromJid: string | null;
}

export interface RecurringDetail {
  kind: 'recurring';
  jid: string;
  klass: string;
  queue: string;
  state: 'recur';
  priority: number;
  interval: number;
  retries: number;
  count: number;
  backlog: number;
  tags: string[];
  data: JsonValue;
}

/** The fields every view of a job shows, as they are. */
type JobFields = Omit<JobSummary, 'failure' | 'updated'>;

function jobFields(job: Job): JobFields {
  return {
    jid: job.jid,
    klass: job.klass,
    queue: job.queue,
    state: job.state,
    priority: job.priority,
    tags: job.tags,
    worker: job.worker,
    retries: job.retries,
    remaining: job.remaining,
    expires: job.expires,
    tracked: job.tracked,
  };
}

export function jobSummary(job: Job): JobSummary {
  const failure = job.failure
    ? { ...job.failure, message: job.failure.message.slice(0, LIST_MESSAGE_CHARS) }
    : job.failure;
  return { ...jobFields(job), failure, updated: job.history.at(-1)?.when ?? null };
}

export function jobDetail(job: Job): JobDetail {
  return {
    kind: 'job',
    ...jobFields(job),
    failure: job.failure,
    data: job.data,
    history: job.history,
    dependents: job.dependents,
    dependencies: job.dependencies,
    spawnedFromJid: job.spawnedFromJid,
  };
}

export function recurringDetail(job: RecurringJob): RecurringDetail {
  return {
    kind: 'recurring',
    jid: job.jid,
    klass: job.klass,
    queue: job.queue,
    state: 'recur',
    priority: job.priority,
    interval: job.interval,
    retries: job.retries,
    count: job.count,
    backlog: job.backlog,
    tags: job.tags,
    data: job.data,
  };
}
