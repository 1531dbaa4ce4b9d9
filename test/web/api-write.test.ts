// The dashboard's write routes against a private redis-server: what each changes in Redis (read
// back through the client), and that bad input is refused with a 4xx that changes nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Job } from '../../src/client/index.ts';
import { eventually } from '../helpers/worker.ts';
import { useDashboard } from './dashboard.ts';

type Json = Record<string, unknown>;

const d = useDashboard();

async function job(jid: string): Promise<Job> {
  const found = await d.client.jobs.get(jid);
  assert.ok(found && found.state !== 'recur', `job ${jid} exists`);
  return found as Job;
}

async function failed(queue: string, group: string, count: number): Promise<string[]> {
  const jids: string[] = [];
  for (let i = 0; i < count; i++) jids.push(await d.client.queue(queue).put('K', { i }));
  for (let done = 0; done < count; done += 500)
    for (const popped of await d.client.queue(queue).pop(Math.min(500, count - done))) await popped.fail(group, 'nope');
  return jids;
}

/** Every key and value, to show a refused request changed nothing. */
async function snapshot(): Promise<Record<string, unknown>> {
  return d.core.snapshot();
}

async function refused(
  expected: number,
  request: () => Promise<{ status: number; body: unknown }>,
  message?: RegExp,
): Promise<void> {
  const before = await snapshot();
  const reply = await request();
  assert.equal(reply.status, expected, JSON.stringify(reply.body));
  const error = (reply.body as Json).error;
  assert.equal(typeof error, 'string');
  if (message) assert.match(error as string, message);
  assert.deepEqual(await snapshot(), before);
}

test('POST api/jobs puts a job with every option; bad input changes nothing', async () => {
  const parent = await d.client.queue('q').put('K', {});
  const reply = await d.post<Json>('/api/jobs', {
    queue: 'q',
    klass: 'Mail',
    data: '{"to":"a@b"}',
    priority: 5,
    tags: 'x, y',
    retries: 2,
    depends: [parent],
    delay: 0,
  });
  assert.equal(reply.status, 201);
  const put = await job(reply.body.jid as string);
  assert.deepEqual(
    [put.queue, put.klass, put.data, put.priority, put.tags, put.retries, put.dependencies, put.state],
    ['q', 'Mail', { to: 'a@b' }, 5, ['x', 'y'], 2, [parent], 'depends'],
  );
  const delayed = await d.post<Json>('/api/jobs', { queue: 'q', klass: 'K', data: { a: 1 }, delay: 60 });
  assert.equal((await job(delayed.body.jid as string)).state, 'scheduled');

  await refused(
    400,
    () => d.post('/api/jobs', { queue: 'q', klass: 'K', data: '{bad json' }),
    /data is not valid JSON/,
  );
  await refused(400, () => d.post('/api/jobs', { queue: 'q', klass: 'K', data: '"a string"' }), /object or array/);
  await refused(400, () => d.post('/api/jobs', { queue: 'q', data: '{}' }), /klass is required/);
  await refused(
    400,
    () => d.post('/api/jobs', { queue: 'q', klass: 'K', priority: 'high' }),
    /priority must be a number/,
  );
  await refused(400, () => d.post('/api/jobs', { queue: 'q', klass: 'K', retries: 1.5 }), /retries/);
  await refused(400, () => d.post('/api/jobs', { queue: 'q', klass: 'K', delay: -1 }), /delay/);
  await refused(400, () => d.post('/api/jobs', { queue: 'q', klass: 'K', depends: ['ghost'] }), /no job ghost/);
  await refused(409, () => d.post('/api/jobs', { queue: 'q', klass: 'K', jid: parent }), /exists already/);
});

test('retry, cancel, move, run-now and timeout act; wrong states and unknown queues are refused', async () => {
  const [failedJid] = await failed('q', 'q-Error', 1);
  const retried = await d.post<Json>(`/api/jobs/${failedJid}/retry`);
  assert.equal(retried.status, 200);
  assert.equal((await job(failedJid)).state, 'waiting');
  assert.deepEqual(await d.client.jobs.failed(), {});
  await refused(409, () => d.post(`/api/jobs/${failedJid}/retry`), /only failed or stalled/);

  await d.client.queue('other').put('K', {});
  const moved = await d.post<Json>(`/api/jobs/${failedJid}/move`, { queue: 'other' });
  assert.equal(moved.status, 200);
  assert.equal((await job(failedJid)).queue, 'other');
  await refused(400, () => d.post(`/api/jobs/${failedJid}/move`, { queue: 'nowhere' }), /no queue named nowhere/);
  await refused(400, () => d.post(`/api/jobs/${failedJid}/move`, {}), /queue is required/);

  const scheduled = await d.client.queue('q').put('K', {}, { delay: 600 });
  await refused(409, () => d.post(`/api/jobs/${failedJid}/run-now`), /not scheduled/);
  assert.equal((await d.post(`/api/jobs/${scheduled}/run-now`)).status, 200);
  assert.equal((await job(scheduled)).state, 'waiting');

  const running = await d.client.queue('run').put('K', {});
  await refused(409, () => d.post(`/api/jobs/${running}/timeout`), /only a running job/);
  await d.client.queue('run').pop();
  assert.equal((await d.post(`/api/jobs/${running}/timeout`)).status, 200);
  assert.equal((await job(running)).state, 'stalled');

  assert.equal((await d.post(`/api/jobs/${scheduled}/cancel`)).status, 200);
  assert.equal(await d.client.jobs.get(scheduled), null);
  await refused(404, () => d.post('/api/jobs/ghost/cancel'), /no job ghost/);
  const parent = await d.client.queue('q').put('K', {});
  await d.client.queue('q').put('K', {}, { depends: [parent] });
  await refused(409, () => d.post(`/api/jobs/${parent}/cancel`), /dependency/);
});

test('priority, track/untrack, tag/untag, undepend change the job; malformed values are refused', async () => {
  const jid = await d.client.queue('q').put('K', {});
  assert.equal((await d.post(`/api/jobs/${jid}/priority`, { priority: 25 })).status, 200);
  assert.equal((await job(jid)).priority, 25);
  await refused(400, () => d.post(`/api/jobs/${jid}/priority`, { priority: 'abc' }), /priority must be a number/);
  await refused(400, () => d.post(`/api/jobs/${jid}/priority`, {}), /priority is required/);

  assert.equal((await d.post(`/api/jobs/${jid}/track`)).status, 200);
  assert.equal((await job(jid)).tracked, true);
  assert.equal((await d.post(`/api/jobs/${jid}/untrack`)).status, 200);
  assert.equal((await job(jid)).tracked, false);

  assert.equal((await d.post(`/api/jobs/${jid}/tag`, { tags: ['a', 'b'] })).status, 200);
  assert.deepEqual((await job(jid)).tags, ['a', 'b']);
  assert.equal((await d.post(`/api/jobs/${jid}/untag`, { tags: 'a' })).status, 200);
  assert.deepEqual((await job(jid)).tags, ['b']);
  await refused(400, () => d.post(`/api/jobs/${jid}/tag`, { tags: [] }), /at least one/);

  const a = await d.client.queue('q').put('K', {});
  const b = await d.client.queue('q').put('K', {});
  const child = await d.client.queue('q').put('K', {}, { depends: [a, b] });
  await refused(409, () => d.post(`/api/jobs/${jid}/undepend`, { all: true }), /not waiting on dependencies/);
  await refused(400, () => d.post(`/api/jobs/${child}/undepend`, { jids: [jid] }), /does not depend on/);
  assert.equal((await d.post(`/api/jobs/${child}/undepend`, { jids: [a] })).status, 200);
  assert.deepEqual((await job(child)).dependencies, [b]);
  assert.equal((await d.post(`/api/jobs/${child}/undepend`, { all: true })).status, 200);
  assert.equal((await job(child)).state, 'waiting');
});

test('pause and unpause a queue; an unknown queue → 404', async () => {
  await d.client.queue('q').put('K', {});
  assert.equal((await d.post('/api/queues/q/pause')).status, 200);
  assert.equal(await d.client.queue('q').isPaused(), true);
  assert.equal((await d.post('/api/queues/q/unpause')).status, 200);
  assert.equal(await d.client.queue('q').isPaused(), false);
  await refused(404, () => d.post('/api/queues/nope/pause'));
});

async function finished(id: string): Promise<Json> {
  return eventually(
    async () => {
      const reply = await d.get<Json>(`/api/operations/${id}`);
      return reply.body.phase === 'done' || reply.body.phase === 'failed' ? reply.body : undefined;
    },
    { what: `operation ${id} to end` },
  );
}

test('retry-all takes the whole failure group (1,200 jobs: no cap), with progress and a result count', async () => {
  await failed('q', 'q-Error', 1200);
  await failed('q', 'other', 3);
  const started = await d.post<Json>('/api/failed/q-Error/retry-all');
  assert.equal(started.status, 202);
  const report = await finished(started.body.id as string);
  assert.deepEqual([report.phase, report.total, report.succeeded, report.failed], ['done', 1200, 1200, 0]);
  assert.deepEqual(await d.client.jobs.failed(), { other: 3 });
  assert.equal((await d.client.queue('q').counts()).waiting, 1200);
  await refused(404, () => d.post('/api/failed/nope/retry-all'));
});

test('cancel-all deletes every job of the group', async () => {
  const jids = await failed('q', 'gone', 700);
  const started = await d.post<Json>('/api/failed/gone/cancel-all');
  const report = await finished(started.body.id as string);
  assert.deepEqual([report.succeeded, report.failed], [700, 0]);
  assert.deepEqual(await d.client.jobs.multiget(...jids.slice(0, 50)), []);
  assert.deepEqual(await d.client.jobs.failed(), {});
});

test('bulk operations on selected jids and on every job matching a filter, with per-job results', async () => {
  const q = d.client.queue('q');
  const jids = [await q.put('K', { team: 'a' }), await q.put('K', { team: 'a' }), await q.put('K', { team: 'b' })];
  const tagged = await d.post<Json>('/api/operations', { action: 'tag', jids: [...jids, 'ghost'], tags: ['bulk'] });
  assert.equal(tagged.status, 202);
  const report = await finished(tagged.body.id as string);
  assert.deepEqual([report.succeeded, report.failed], [3, 1]);
  assert.deepEqual(
    (report.results as Json[]).find((result) => !result.ok),
    { jid: 'ghost', ok: false, error: 'no such job' },
  );
  assert.deepEqual((await job(jids[0])).tags, ['bulk']);

  const byFilter = await d.post<Json>('/api/operations', {
    action: 'priority',
    priority: 9,
    filter: { queue: 'q', q: 'team = a' },
  });
  const filtered = await finished(byFilter.body.id as string);
  assert.deepEqual([filtered.total, filtered.succeeded], [2, 2]);
  assert.deepEqual(await Promise.all(jids.map(async (jid) => (await job(jid)).priority)), [9, 9, 0]);

  await d.client.queue('dest').put('K', {});
  const move = await d.post<Json>('/api/operations', { action: 'move', queue: 'dest', jids: [jids[2]] });
  await finished(move.body.id as string);
  assert.equal((await job(jids[2])).queue, 'dest');

  await refused(400, () => d.post('/api/operations', { action: 'explode', jids }), /action must be one of/);
  await refused(400, () => d.post('/api/operations', { action: 'move', queue: 'nowhere', jids }), /no queue/);
  await refused(400, () => d.post('/api/operations', { action: 'priority', priority: 'x', jids }), /priority/);
  await refused(400, () => d.post('/api/operations', { action: 'cancel' }), /give jids/);
  await refused(400, () => d.post('/api/operations', { action: 'cancel', filter: {} }), /at least one condition/);
  assert.equal((await d.get('/api/operations/nope')).status, 404);
});

test('recurring jobs: update interval, priority, retries and tags; unrecur', async () => {
  await d.client.queue('q').recur('Tick', {}, { interval: 60, jid: 'rec', tags: ['old'] });
  const reply = await d.post<Json>('/api/recurring/rec', { interval: 120, priority: 3, retries: 1, tags: ['new'] });
  assert.equal(reply.status, 200);
  const after = await d.client.jobs.get('rec');
  assert.ok(after && after.state === 'recur');
  assert.deepEqual([after.interval, after.priority, after.retries, after.tags], [120, 3, 1, ['new']]);
  await refused(400, () => d.post('/api/recurring/rec', { interval: 0 }), /interval/);
  await refused(400, () => d.post('/api/recurring/rec', {}), /nothing to change/);
  await refused(404, () => d.post('/api/recurring/nope', { interval: 5 }));
  assert.equal((await d.post('/api/recurring/rec/unrecur')).status, 200);
  assert.equal(await d.client.jobs.get('rec'), null);
});

test('config: set and unset values; values qless reads as numbers are checked', async () => {
  const set = await d.post<Json>('/api/config/heartbeat', { value: '120' });
  assert.equal(set.status, 200);
  assert.equal(await d.client.config.get('heartbeat'), '120');
  assert.equal((await d.post('/api/config/my-app-key', { value: 'anything' })).status, 200);
  assert.equal(await d.client.config.get('my-app-key'), 'anything');
  await refused(400, () => d.post('/api/config/heartbeat', { value: 'soon' }), /heartbeat must be a number/);
  await refused(400, () => d.post('/api/config/heartbeat', { value: '0' }), /more than 0/);
  await refused(400, () => d.post('/api/config/q-max-concurrency', { value: '1.5' }), /whole number/);
  await refused(400, () => d.post('/api/config/jobs-history-count', { value: '-1' }), /negative/);
  await refused(400, () => d.post('/api/config/heartbeat', {}), /value/);
  assert.equal((await d.send('DELETE', '/api/config/heartbeat')).status, 200);
  assert.equal(await d.client.config.get('heartbeat'), 60);
});

test('a malformed JSON body or a body over the limit is refused', async () => {
  await refused(400, () =>
    d.app
      .inject({
        method: 'POST',
        url: '/api/jobs',
        headers: { 'content-type': 'application/json', 'x-qless-csrf': d.csrf },
        payload: '{"queue": "q", ',
      })
      .then((response) => ({ status: response.statusCode, body: response.json() })),
  );
  await refused(413, () =>
    d.post('/api/jobs', { queue: 'q', klass: 'K', data: JSON.stringify({ big: 'x'.repeat(1_100_000) }) }),
  );
});
