// The dashboard's read routes against a private redis-server: what each returns, with real totals
// and paging, and the 4xx answers to bad input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type PoolStatus, publishPool } from '../../src/client/index.ts';
import { useDashboard } from './dashboard.ts';

type Json = Record<string, unknown>;
type Page = { total: number; offset: number; limit: number; jobs: Json[] };

const d = useDashboard();

async function failJobs(queue: string, group: string, count: number, message = 'boom'): Promise<string[]> {
  const jids: string[] = [];
  for (let i = 0; i < count; i++) jids.push(await d.client.queue(queue).put('Klass', { i }));
  const popped = await d.client.queue(queue).pop(count);
  for (const job of popped) await job.fail(group, `${message} ${job.jid}`);
  return jids;
}

test('GET api/overview: counts by state, paused, oldest waiting, failures, tracked, workers', async () => {
  const q = d.client.queue('q');
  const waiting = await q.put('K', {});
  await q.put('K', {}, { delay: 60 });
  await q.put('K', {}, { depends: [waiting] });
  await d.client.queue('busy').put('K', {});
  const [running] = await d.client.queue('busy').pop();
  await (await d.client.jobs.get(waiting))?.state;
  const tracked = await q.put('K', {});
  await (await d.client.jobs.multiget(tracked))[0].track();
  await q.pause();
  await failJobs('f', 'f-Error', 2);

  const { status, body } = await d.get<Json & { queues: Json[] }>('/api/overview');
  assert.equal(status, 200);
  const byName = new Map(body.queues.map((queue) => [queue.name, queue]));
  assert.deepEqual(
    ['waiting', 'scheduled', 'depends', 'running', 'paused'].map((key) => byName.get('q')?.[key]),
    [2, 1, 1, 0, true],
  );
  assert.equal(byName.get('busy')?.running, 1);
  assert.equal(typeof byName.get('q')?.oldestWaitingSeconds, 'number');
  assert.equal(byName.get('busy')?.oldestWaitingSeconds, null);
  assert.deepEqual(body.failures, { 'f-Error': 2 });
  assert.equal(body.failedTotal, 2);
  assert.deepEqual((body.tracked as Json).states, { waiting: 1 });
  assert.deepEqual(
    (body.workers as Json[]).map((worker) => [worker.name, worker.jobs]),
    [[d.client.workerName, 1]],
  );
  assert.ok(running);
});

test('a queue with old waiting work, nothing running and no worker is flagged unattended', async () => {
  const now = Date.now() / 1000;
  await d.withClient('old', -600, (client) => client.queue('lonely').put('K', {}));
  await d.client.queue('fresh').put('K', {});
  const { body } = await d.get<{ queues: Json[] }>('/api/overview');
  const lonely = body.queues.find((queue) => queue.name === 'lonely');
  assert.equal(lonely?.unattended, true);
  assert.ok((lonely?.oldestWaitingSeconds as number) >= 590, String(lonely?.oldestWaitingSeconds));
  assert.ok((lonely?.oldestWaitingSeconds as number) < now);
  assert.equal(body.queues.find((queue) => queue.name === 'fresh')?.unattended, false);
});

test('the oldest waiting job is found across priority bands', async () => {
  await d.withClient('old', -3000, (client) => client.queue('bands').put('K', {}, { priority: -5 }));
  await d.withClient('mid', -100, (client) => client.queue('bands').put('K', {}, { priority: 10 }));
  await d.client.queue('bands').put('K', {}, { priority: 3 });
  const { body } = await d.get<{ queues: Json[] }>('/api/overview');
  const age = body.queues.find((queue) => queue.name === 'bands')?.oldestWaitingSeconds as number;
  assert.ok(age > 2990 && age < 3100, String(age));
});

test('GET api/queues/:queue: counts, statistics with percentiles, recurring jobs; unknown → 404', async () => {
  const q = d.client.queue('stats');
  await q.put('K', {});
  await q.recur('Tick', { n: 1 }, { interval: 60, jid: 'tick' });
  const [job] = await q.pop();
  await job.complete();
  const { status, body } = await d.get<Json & { stats: Json; recurringJobs: Json[] }>('/api/queues/stats');
  assert.equal(status, 200);
  assert.equal(body.recurring, 1);
  assert.equal((body.stats.wait as Json).count, 1);
  assert.equal((body.stats.run as Json).count, 1);
  assert.equal((body.stats.run as Json).p50, 1);
  assert.deepEqual((body.stats.run as Json).buckets, [['0s', 1]]);
  assert.deepEqual(
    body.recurringJobs.map((recurring) => [recurring.jid, recurring.interval]),
    [['tick', 60]],
  );
  assert.equal((await d.get('/api/queues/nope')).status, 404);
  assert.equal((await d.get('/api/queues/stats?date=yesterday')).status, 400);
});

test('GET api/queues/:queue/jobs pages every state with its total; past the end → 400', async () => {
  const q = d.client.queue('paged');
  const jids: string[] = [];
  for (let i = 0; i < 60; i++) jids.push(await q.put('K', { i }, { priority: i }));
  const first = await d.get<Page>('/api/queues/paged/jobs?state=waiting&limit=25');
  assert.equal(first.status, 200);
  assert.equal(first.body.total, 60);
  assert.deepEqual(
    first.body.jobs.map((job) => job.jid),
    jids.slice(35).reverse(),
  );
  const third = await d.get<Page>('/api/queues/paged/jobs?state=waiting&offset=50&limit=25');
  assert.equal(third.body.jobs.length, 10);
  assert.deepEqual((await d.get('/api/queues/paged/jobs?offset=60')).status, 400);
  assert.match(
    ((await d.get<Json>('/api/queues/paged/jobs?offset=60')).body.error as string) ?? '',
    /past the end: 60/,
  );
  await q.pop(3);
  await q.put('K', {}, { delay: 100 });
  const running = await d.get<Page>('/api/queues/paged/jobs?state=running');
  assert.equal(running.body.total, 3);
  assert.equal(running.body.jobs.length, 3);
  assert.equal((await d.get<Page>('/api/queues/paged/jobs?state=scheduled')).body.total, 1);
  assert.equal((await d.get('/api/queues/paged/jobs?state=bogus')).status, 400);
  assert.equal((await d.get('/api/queues/paged/jobs?limit=0')).status, 400);
  assert.equal((await d.get('/api/queues/paged/jobs?limit=abc')).status, 400);
  assert.equal((await d.get('/api/queues/none/jobs')).status, 404);
});

test('GET api/jobs/:jid: every field, recurring templates too; a missing jid → 404', async () => {
  const parent = await d.client.queue('q').put('K', {});
  const jid = await d.client
    .queue('q')
    .put('Klass', { user: { id: 7 } }, { tags: ['a'], priority: 4, depends: [parent], retries: 2 });
  const { status, body } = await d.get<Json>(`/api/jobs/${jid}`);
  assert.equal(status, 200);
  assert.deepEqual(
    [body.kind, body.klass, body.state, body.priority, body.tags, body.retries, body.dependencies],
    ['job', 'Klass', 'depends', 4, ['a'], 2, [parent]],
  );
  assert.deepEqual(body.data, { user: { id: 7 } });
  assert.equal((body.history as Json[])[0].what, 'put');
  assert.deepEqual((await d.get<Json>(`/api/jobs/${parent}`)).body.dependents, [jid]);
  await d.client.queue('q').recur('R', {}, { interval: 30, jid: 'rec' });
  const recurring = await d.get<Json>('/api/jobs/rec');
  assert.deepEqual([recurring.body.kind, recurring.body.interval], ['recurring', 30]);
  const missing = await d.get<Json>('/api/jobs/nope');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error, 'no job nope');
});

test('GET api/failed: groups with counts and a sample; a group paged; unknown group → 404', async () => {
  await failJobs('q', 'q-Error', 30, 'bad thing');
  await failJobs('q', 'other', 1);
  const { body } = await d.get<{ groups: Json[]; total: number }>('/api/failed');
  assert.equal(body.total, 31);
  assert.deepEqual(
    body.groups.map((group) => [group.group, group.count]),
    [
      ['q-Error', 30],
      ['other', 1],
    ],
  );
  assert.match(((body.groups[0].sample as Json).failure as Json).message as string, /^bad thing /);
  const page = await d.get<Page>('/api/failed/q-Error?offset=25&limit=25');
  assert.deepEqual([page.body.total, page.body.jobs.length], [30, 5]);
  assert.equal((await d.get('/api/failed/q-Error?offset=30')).status, 400);
  assert.equal((await d.get('/api/failed/nope')).status, 404);
});

test('GET api/workers and api/workers/:name: qless counts with the pool status published for them', async () => {
  await d.client.queue('q').put('K', {});
  await d.withClient('pool-1', 0, (client) => client.queue('q').pop());
  const pool: PoolStatus = {
    schema: 1,
    prefix: 'pool',
    host: 'host-a',
    pid: 4242,
    version: '0.1.0',
    startedAt: Date.now() - 60_000,
    updatedAt: Date.now(),
    options: { queues: ['q'], workers: 1, concurrency: 1, interval: 5, path: '/jobs', reserver: 'ordered' },
    slots: [
      {
        slot: 1,
        worker: 'pool-1',
        pid: 4243,
        state: 'running',
        startedAt: Date.now() - 30_000,
        restarts: 2,
        rssBytes: 70e6,
        jobs: [],
      },
    ],
  };
  await publishPool(d.client.redis, pool, 60_000);
  const list = await d.get<{ workers: Json[] }>('/api/workers');
  const worker = list.body.workers.find((item) => item.name === 'pool-1');
  assert.equal(worker?.jobs, 1);
  const process = (worker?.process ?? {}) as Json;
  assert.deepEqual([process.host, (process.slot as Json).restarts], ['host-a', 2]);
  const one = await d.get<Json>('/api/workers/pool-1');
  assert.equal((one.body.jobs as Json[]).length, 1);
  assert.equal(((one.body.process as Json).slot as Json).pid, 4243);
  assert.equal((await d.get('/api/workers/nobody')).status, 404);
  const pools = await d.get<{ pools: PoolStatus[] }>('/api/pools');
  assert.deepEqual(
    pools.body.pools.map((item) => item.prefix),
    ['pool'],
  );
});

test('GET api/tracked, api/tags, api/tags/:tag, api/completed: paged, with totals', async () => {
  const q = d.client.queue('q');
  for (let i = 0; i < 30; i++) await q.put('K', {}, { tags: ['many'] });
  const tracked = await q.put('K', {}, { tags: ['many', 'one'] });
  await (await d.client.jobs.multiget(tracked))[0].track();
  for (const job of await q.pop(5)) await job.complete();

  const trackedReply = await d.get<{ jobs: Json[] }>('/api/tracked');
  assert.deepEqual(
    trackedReply.body.jobs.map((job) => job.jid),
    [tracked],
  );
  const tags = await d.get<{ tags: Json[] }>('/api/tags');
  assert.deepEqual(tags.body.tags, [{ tag: 'many', jobs: 31 }]);
  const tagged = await d.get<Page>('/api/tags/many?offset=25');
  assert.deepEqual([tagged.body.total, tagged.body.jobs.length], [31, 6]);
  assert.equal((await d.get('/api/tags/many?offset=31')).status, 400);
  const completed = await d.get<Page>('/api/completed?limit=2');
  assert.deepEqual([completed.body.total, completed.body.jobs.length], [5, 2]);
  assert.equal(completed.body.jobs[0].state, 'complete');
});

test('GET api/recurring lists every recurring job; GET api/config every key with its default', async () => {
  await d.client.queue('a').recur('A', {}, { interval: 10, jid: 'ra' });
  await d.client.queue('b').recur('B', {}, { interval: 20, jid: 'rb' });
  const recurring = await d.get<{ total: number; jobs: Json[] }>('/api/recurring');
  assert.deepEqual(recurring.body.jobs.map((job) => job.jid).sort(), ['ra', 'rb']);
  await d.client.config.set('heartbeat', 30);
  const config = await d.get<{ config: Json[] }>('/api/config');
  const heartbeat = config.body.config.find((item) => item.key === 'heartbeat');
  assert.deepEqual(heartbeat, { key: 'heartbeat', value: '30', default: 60, stored: true });
  const grace = config.body.config.find((item) => item.key === 'grace-period');
  assert.deepEqual(grace, { key: 'grace-period', value: 10, default: 10, stored: false });
});

test('by a jid prefix, by a value inside the data, by free text, with filters', async () => {
  const q = d.client.queue('q');
  await q.put('K', { user: { id: 123 } }, { jid: 'abc-1' });
  await q.put('K', { user: { id: 456 } }, { jid: 'abd-2' });
  await q.put('Other', { note: 'Hello World' }, { jid: 'xyz-3', tags: ['t'] });
  const ids = async (query: string): Promise<string[]> =>
    (await d.get<{ jobs: Json[] }>(`/api/find?${query}`)).body.jobs.map((job) => job.jid as string).sort();
  assert.deepEqual(await ids('jid=ab'), ['abc-1', 'abd-2']);
  assert.deepEqual(await ids('jid=abc-1'), ['abc-1']);
  assert.deepEqual(await ids(`q=${encodeURIComponent('data.user.id = 123')}`), ['abc-1']);
  assert.deepEqual(await ids(`q=${encodeURIComponent('user.id != 123')}&queue=q&klass=K`), ['abd-2']);
  assert.deepEqual(await ids('q=hello%20world'), ['xyz-3']);
  assert.deepEqual(await ids('tag=t'), ['xyz-3']);
  assert.deepEqual(await ids('klass=K&state=waiting'), ['abc-1', 'abd-2']);
  assert.deepEqual(await ids('queue=q&state=running'), []);
  const first = await d.get<Json>('/api/find?jid=ab');
  assert.equal(first.body.done, true);
  assert.equal(first.body.examined, 2);
  assert.equal((await d.get('/api/find?state=nope')).status, 400);
  assert.equal((await d.get('/api/find?cursor=junk')).status, 400);
});

test('a search looks at a bounded number of jobs and can be continued with its cursor', async () => {
  const q = d.client.queue('q');
  for (let i = 0; i < 30; i++) await q.put('K', { n: i });
  const found: string[] = [];
  let cursor: string | null = '';
  let steps = 0;
  while (cursor !== null) {
    const reply: { body: Json } = await d.get<Json>(
      `/api/find?queue=q&q=${encodeURIComponent('n ~ 1')}&examine=10${cursor ? `&cursor=${cursor}` : ''}`,
    );
    assert.ok((reply.body.examined as number) <= 10);
    found.push(...(reply.body.jobs as Json[]).map((job) => job.jid as string));
    cursor = reply.body.cursor as string | null;
    steps += 1;
  }
  assert.ok(steps >= 3, `steps ${steps}`);
  // n ~ 1: 1, 10–19, 21 → 12 jobs.
  assert.equal(found.length, 12);
  const count = await d.get<Json>(`/api/find/count?queue=q&q=${encodeURIComponent('n ~ 1')}`);
  assert.deepEqual([count.body.matching, count.body.examined], [12, 30]);
});

test('GET metrics: the documented names, read from qless', async () => {
  const q = d.client.queue('m');
  await q.put('K', {});
  await q.put('K', {});
  const [job] = await q.pop();
  await job.complete();
  await failJobs('m', 'm-Error', 1);
  await q.pause();
  const { status, body, headers } = await d.get<string>('/metrics');
  assert.equal(status, 200);
  assert.match(String(headers['content-type']), /^text\/plain/);
  for (const line of [
    'qless_queue_jobs{queue="m",state="waiting"} 1',
    'qless_queue_jobs{queue="m",state="running"} 0',
    'qless_queue_paused{queue="m"} 1',
    'qless_failed_jobs{group="m-Error"} 1',
    'qless_queue_completed_total{queue="m"} 1',
    'qless_queue_failed_total{queue="m"} 1',
    'qless_queue_run_seconds_bucket{queue="m",le="1"} 1',
    'qless_queue_run_seconds_count{queue="m"} 1',
    'qless_queue_wait_seconds_count{queue="m"} 2',
    'qless_queue_wait_seconds_bucket{queue="m",le="+Inf"} 2',
    'qless_workers 1',
  ])
    assert.ok(body.split('\n').includes(line), `missing: ${line}\n${body}`);
  assert.match(body, /^qless_queue_oldest_waiting_seconds\{queue="m"\} 0\.\d+$/m);
  assert.match(body, /^qless_queue_wait_seconds_sum\{queue="m"\} \d/m);
});

test('GET / serves the page with a strict CSP, no inline script; vendor modules from the packages', async () => {
  const page = await d.get<string>('/');
  assert.equal(page.status, 200);
  const csp = String(page.headers['content-security-policy']);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /default-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.doesNotMatch(page.body, /<script(?![^>]*\bsrc=)[^>]*>/);
  assert.doesNotMatch(page.body, /https?:\/\//);
  for (const file of ['preact-htm.js', 'uplot.js', 'uplot.css']) {
    const asset = await d.get<string>(`/assets/vendor/${file}`);
    assert.equal(asset.status, 200, file);
    assert.ok(asset.body.length > 1000, file);
  }
  assert.equal((await d.get('/assets/js/app.js')).status, 200);
  const unknown = await d.get<Json>('/api/nothing-here');
  assert.deepEqual([unknown.status, typeof unknown.body.error], [404, 'string']);
});
