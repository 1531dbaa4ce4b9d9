// Finding jobs by jid prefix and filters (queue, state, klass, tag, worker, failure group) and by
// a search inside their data. The most selective index qless keeps is read page by page (a
// failure group, a tag, a worker's jobs, one state of a queue, the completed list; with no filter
// at all, a SCAN of the job keys); the other filters are checked on the jobs read. One request
// looks at a bounded number of jobs and hands back a cursor to continue from.
import type { Client, Job } from '../../client/index.ts';
import { badRequest } from '../api/http-error.ts';
import { type DataQuery, matchesData, parseDataQuery } from './data-query.ts';
import { waitingPage } from './raw-reads.ts';

export const QUEUE_STATES = ['waiting', 'running', 'stalled', 'scheduled', 'depends'] as const;
export const STATES = [...QUEUE_STATES, 'failed', 'complete'] as const;
export type FindState = (typeof STATES)[number];

export interface FindFilter {
  /** A whole jid or its beginning. */
  jid?: string;
  queue?: string;
  state?: FindState;
  klass?: string;
  tag?: string;
  worker?: string;
  group?: string;
  /** `data.path = value`, or free text. */
  q?: string;
}

/** One index read in pages: `position` is where the next page starts (an offset, or a SCAN cursor). */
interface Segment {
  label: string;
  fetch(position: string, count: number): Promise<{ jids: string[]; next: string | null }>;
}

export interface FindPage {
  jobs: Job[];
  /** Jobs looked at by this request. */
  examined: number;
  /** Where to continue; null once every candidate was looked at. */
  cursor: string | null;
  /** What was read, e.g. `failure group X` or `every job key (SCAN)`. */
  source: string;
}

const JOB_KEY = /^ql:j:(.+)$/;
const NOT_JOB_SUFFIX = /-(history|dependents|dependencies)$/;
const READ_BATCH = 200;

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

function offsetSegment(label: string, read: (offset: number, count: number) => Promise<string[]>): Segment {
  return {
    label,
    async fetch(position, count) {
      const offset = Number(position) || 0;
      const jids = await read(offset, count);
      return { jids, next: jids.length < count ? null : String(offset + jids.length) };
    },
  };
}

function scanSegment(client: Client, pattern: string, label: string): Segment {
  return {
    label,
    async fetch(position, count) {
      const [next, keys] = await client.redis.scan(position || '0', 'MATCH', pattern, 'COUNT', Math.max(count, 500));
      const jids = keys
        .map((key) => JOB_KEY.exec(key)?.[1])
        .filter((jid): jid is string => jid !== undefined && !NOT_JOB_SUFFIX.test(jid));
      return { jids, next: next === '0' ? null : next };
    },
  };
}

async function queueNames(client: Client): Promise<string[]> {
  return (await client.queues()).map((counts) => counts.name);
}

function stateSegment(client: Client, queue: string, state: FindState): Segment {
  const label = `${state} jobs of ${queue}`;
  if (state === 'waiting')
    return offsetSegment(label, (offset, count) => waitingPage(client.redis, queue, offset, count));
  if (state === 'failed' || state === 'complete') throw badRequest(`state ${state} has no per-queue list`);
  return offsetSegment(label, (offset, count) => client.queue(queue).jobs(state, offset, count));
}

/** The index pages to read for a filter, most selective first. */
async function segmentsFor(client: Client, filter: FindFilter): Promise<Segment[]> {
  if (filter.group !== undefined) {
    const group = filter.group;
    return [
      offsetSegment(`failure group ${group}`, (offset, count) =>
        client.redis.lrange(`ql:f:${group}`, offset, offset + count - 1),
      ),
    ];
  }
  if (filter.worker !== undefined) {
    const worker = filter.worker;
    return [
      offsetSegment(`jobs of worker ${worker}`, (offset, count) =>
        client.redis.zrange(`ql:w:${worker}:jobs`, offset, offset + count - 1),
      ),
    ];
  }
  if (filter.tag !== undefined) {
    const tag = filter.tag;
    return [
      offsetSegment(`jobs tagged ${tag}`, async (offset, count) => (await client.jobs.tagged(tag, offset, count)).jobs),
    ];
  }
  if (filter.jid !== undefined) {
    const jid = filter.jid;
    // The whole jid first (one lookup), then every other key that starts with it.
    const exact: Segment = {
      label: `job ${jid}`,
      fetch: async () => ({ jids: (await client.redis.exists(`ql:j:${jid}`)) ? [jid] : [], next: null }),
    };
    const scan = scanSegment(client, `ql:j:${globEscape(jid)}*`, `job keys starting with ${jid}`);
    const others: Segment = {
      label: scan.label,
      fetch: async (position, count) => {
        const page = await scan.fetch(position, count);
        return { jids: page.jids.filter((found) => found !== jid), next: page.next };
      },
    };
    return [exact, others];
  }
  if (filter.state === 'complete')
    return [offsetSegment('completed jobs', (offset, count) => client.jobs.complete(offset, count))];
  if (filter.state === 'failed') {
    const groups = Object.keys(await client.jobs.failed()).sort();
    return groups.map((group) =>
      offsetSegment(`failure group ${group}`, (offset, count) =>
        client.redis.lrange(`ql:f:${group}`, offset, offset + count - 1),
      ),
    );
  }
  if (filter.queue !== undefined) {
    const states = filter.state === undefined ? QUEUE_STATES : [filter.state];
    return states.map((state) => stateSegment(client, filter.queue as string, state));
  }
  if (filter.state !== undefined) {
    const state = filter.state;
    return (await queueNames(client)).map((queue) => stateSegment(client, queue, state));
  }
  return [scanSegment(client, 'ql:j:*', 'every job key (SCAN)')];
}

function jobMatches(job: Job, filter: FindFilter, query: DataQuery | undefined): boolean {
  if (filter.jid !== undefined && !job.jid.startsWith(filter.jid)) return false;
  if (filter.queue !== undefined && job.queue !== filter.queue) return false;
  if (filter.state !== undefined && job.state !== filter.state) return false;
  if (filter.klass !== undefined && job.klass !== filter.klass) return false;
  if (filter.tag !== undefined && !job.tags.includes(filter.tag)) return false;
  if (filter.worker !== undefined && job.worker !== filter.worker) return false;
  if (filter.group !== undefined && job.failure?.group !== filter.group) return false;
  if (query !== undefined && !matchesData(query, job.data)) return false;
  return true;
}

function parseCursor(cursor: string | undefined): { segment: number; position: string } {
  if (cursor === undefined || cursor === '') return { segment: 0, position: '' };
  const match = /^(\d+):(.*)$/.exec(cursor);
  if (!match) throw badRequest(`cursor is not one this API handed out: ${cursor}`);
  return { segment: Number(match[1]), position: match[2] };
}

export interface FindLimits {
  /** Stop once this many matches were found. */
  matches: number;
  /** Stop once this many jobs were looked at. */
  examine: number;
  /** Stop after this long (ms): a SCAN for a rare prefix may look at many keys and find few jobs. */
  ms?: number;
}

/** One bounded step of a search. */
export async function findJobs(
  client: Client,
  filter: FindFilter,
  cursor: string | undefined,
  limits: FindLimits,
): Promise<FindPage> {
  const query = filter.q === undefined ? undefined : parseDataQuery(filter.q);
  const segments = await segmentsFor(client, filter);
  let { segment, position } = parseCursor(cursor);
  const found: Job[] = [];
  let examined = 0;
  const deadline = Date.now() + (limits.ms ?? Number.POSITIVE_INFINITY);
  while (
    segment < segments.length &&
    found.length < limits.matches &&
    examined < limits.examine &&
    Date.now() < deadline
  ) {
    const count = Math.min(READ_BATCH, limits.examine - examined);
    const page = await segments[segment].fetch(position, count);
    const jobs = page.jids.length === 0 ? [] : await client.jobs.multiget(...page.jids);
    examined += page.jids.length;
    for (const job of jobs) if (jobMatches(job, filter, query)) found.push(job);
    if (page.next === null) {
      segment += 1;
      position = '';
    } else {
      position = page.next;
    }
  }
  const source = segments.map((item) => item.label).join(', ') || 'nothing (no such queue, group or state)';
  return { jobs: found, examined, cursor: segment < segments.length ? `${segment}:${position}` : null, source };
}

/** Every matching jid (for a bulk action on "all N matching"): the search run to its end. */
export async function findAllJids(
  client: Client,
  filter: FindFilter,
  progress: (examined: number, matched: number) => void = () => undefined,
): Promise<string[]> {
  const jids = new Set<string>();
  let cursor: string | undefined;
  let examined = 0;
  do {
    const page = await findJobs(client, filter, cursor, { matches: Number.POSITIVE_INFINITY, examine: 5_000 });
    for (const job of page.jobs) jids.add(job.jid);
    examined += page.examined;
    progress(examined, jids.size);
    cursor = page.cursor ?? undefined;
  } while (cursor !== undefined);
  return [...jids];
}
