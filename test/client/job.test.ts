// Job: decoded fields and every method; RecurringJob: fields, update, tag, untag, cancel.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Job, RecurringJob } from '../../src/client/index.ts';
import type { Messages } from '../helpers/qless.ts';
import { useCore } from '../helpers/client-suite.ts';

const T0 = 1_700_000_000;
const fx = useCore({ workers: ['w1', 'w2'], clock: T0 });

async function putAndPop(jid: string, options: { queue?: string; data?: unknown } = {}): Promise<Job> {
  const q = fx.clients.w1.queue(options.queue ?? 'q');
  await q.put('K', options.data ?? { n: 1 }, { jid });
  fx.now += 1;
  const [job] = await q.pop();
  assert.equal(job.jid, jid);
  return job;
}

async function getJob(jid: string): Promise<Job> {
  const job = await fx.clients.w1.jobs.get(jid);
  assert.ok(job instanceof Job, `${jid} should be a job`);
  return job;
}

describe('fields', () => {
  test('are decoded: data, tags, history, failure, dependencies', async () => {
    await fx.clients.w1.queue('q').put('K', { x: [1, { y: 'z' }] }, { jid: 'a', tags: ['t1'], priority: 5 });
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'b', depends: ['a'] });
    const a = await getJob('a');
    assert.deepEqual(a.data, { x: [1, { y: 'z' }] });
    assert.equal(a.klass, 'K');
    assert.equal(a.queue, 'q');
    assert.equal(a.state, 'waiting');
    assert.equal(a.worker, '');
    assert.equal(a.priority, 5);
    assert.equal(a.expires, 0);
    assert.equal(a.retries, 5);
    assert.equal(a.remaining, 5);
    assert.equal(a.tracked, false);
    assert.deepEqual(a.tags, ['t1']);
    assert.deepEqual(a.history, [{ when: T0, what: 'put', q: 'q' }]);
    assert.equal(a.failure, null);
    assert.equal(a.spawnedFromJid, null);
    assert.deepEqual(a.dependents, ['b']);
    assert.deepEqual(a.dependencies, []);
    const b = await getJob('b');
    assert.deepEqual(b.tags, []);
    assert.deepEqual(b.dependencies, ['a']);
    assert.deepEqual(b.dependents, []);
    assert.equal(b.state, 'depends');
  });

  test('toJSON gives plain data', async () => {
    await fx.clients.w1.queue('q').put('K', { v: 1 }, { jid: 'a' });
    const plain = JSON.parse(JSON.stringify(await getJob('a'))) as Record<string, unknown>;
    assert.deepEqual(plain.data, { v: 1 });
    assert.equal(plain.jid, 'a');
    assert.equal(plain.spawnedFromJid, null);
  });
});

describe('worker-side calls', () => {
  test('complete: plain completion', async () => {
    const job = await putAndPop('a');
    assert.equal(await job.complete(), 'complete');
    const hash = await fx.core.redis.hgetall('ql:j:a');
    assert.equal(hash.state, 'complete');
    assert.equal(hash.worker, '');
    assert.ok((await fx.core.redis.zscore('ql:completed', 'a')) !== null);
    assert.equal(await fx.core.redis.zscore('ql:q:q-locks', 'a'), null);
  });

  test('complete stores data changed while running', async () => {
    const job = await putAndPop('a', { data: { count: 1 } });
    (job.data as { count: number }).count = 2;
    await job.complete();
    assert.deepEqual(JSON.parse((await fx.core.redis.hget('ql:j:a', 'data')) ?? ''), { count: 2 });
  });

  test('complete with next, delay and depends', async () => {
    const a = await putAndPop('a');
    assert.equal(await a.complete('q2'), 'waiting');
    assert.equal(await fx.core.redis.hget('ql:j:a', 'queue'), 'q2');
    assert.ok((await fx.core.redis.zscore('ql:q:q2-work', 'a')) !== null);

    const b = await putAndPop('b');
    assert.equal(await b.complete('q2', { delay: 30 }), 'scheduled');
    assert.equal(Number(await fx.core.redis.zscore('ql:q:q2-scheduled', 'b')), fx.now + 30);

    await fx.clients.w1.queue('q').put('K', {}, { jid: 'blocker' });
    const c = await putAndPop('c');
    assert.equal(await c.complete('q2', { depends: ['blocker'] }), 'depends');
    assert.deepEqual(await fx.core.redis.smembers('ql:j:c-dependencies'), ['blocker']);
  });

  test('fail records the failure', async () => {
    const job = await putAndPop('a');
    fx.now = T0 + 4.5;
    assert.equal(await job.fail('grp', 'it broke', { why: 'x' }), 'a');
    const failed = await getJob('a');
    assert.equal(failed.state, 'failed');
    assert.deepEqual(failed.failure, { group: 'grp', message: 'it broke', when: T0 + 4, worker: 'w1' });
    assert.deepEqual(failed.data, { why: 'x' });
    assert.deepEqual(await fx.core.redis.lrange('ql:f:grp', 0, -1), ['a']);
    assert.deepEqual(failed.history.at(-1), { when: T0 + 4, what: 'failed', worker: 'w1', group: 'grp' });
  });

  test('heartbeat renews the lock and updates expires', async () => {
    const job = await putAndPop('a');
    assert.equal(job.expires, T0 + 1 + 60);
    fx.now = T0 + 30;
    const expires = await job.heartbeat();
    assert.equal(expires, T0 + 90);
    assert.equal(job.expires, T0 + 90);
    assert.equal(Number(await fx.core.redis.zscore('ql:q:q-locks', 'a')), T0 + 90);
    await job.heartbeat({ progress: 50 });
    assert.deepEqual(job.data, { progress: 50 });
    assert.deepEqual(JSON.parse((await fx.core.redis.hget('ql:j:a', 'data')) ?? ''), { progress: 50 });
  });

  test('retry hands the job back and counts down', async () => {
    const job = await putAndPop('a');
    assert.equal(await job.retry(), 4);
    assert.equal(await fx.core.redis.hget('ql:j:a', 'state'), 'waiting');
    const again = (await fx.clients.w1.queue('q').pop())[0];
    assert.equal(await again.retry({ delay: 20, group: 'slow', message: 'try later' }), 3);
    const hash = await fx.core.redis.hgetall('ql:j:a');
    assert.equal(hash.state, 'scheduled');
    assert.equal(Number(await fx.core.redis.zscore('ql:q:q-scheduled', 'a')), fx.now + 20);
    assert.deepEqual(JSON.parse(hash.failure), {
      group: 'slow',
      message: 'try later',
      when: Math.floor(fx.now),
      worker: 'w1',
    });
  });

  test('retry past the last retry fails into failed-retries-<queue>', async () => {
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'a', retries: 0 });
    const [job] = await fx.clients.w1.queue('q').pop();
    assert.equal(await job.retry(), -1);
    assert.equal(await fx.core.redis.hget('ql:j:a', 'state'), 'failed');
    assert.deepEqual(await fx.core.redis.lrange('ql:f:failed-retries-q', 0, -1), ['a']);
  });
});

describe('management calls', () => {
  test('cancel deletes the job', async () => {
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'a', tags: ['t'] });
    await (await getJob('a')).cancel();
    assert.equal(await fx.core.redis.exists('ql:j:a'), 0);
    assert.equal(await fx.core.redis.zscore('ql:q:q-work', 'a'), null);
    assert.equal(await fx.core.redis.zscore('ql:t:t', 'a'), null);
  });

  test('timeout stalls a running job and tells its worker', async () => {
    const messages: Messages = await fx.core.listen('ql:w:*');
    const job = await putAndPop('a');
    await job.timeout();
    const hash = await fx.core.redis.hgetall('ql:j:a');
    assert.equal(hash.state, 'stalled');
    assert.equal(await fx.core.redis.zscore('ql:q:q-work', 'a'), 'inf');
    assert.deepEqual(await messages.take(), [
      ['ql:w:w1', JSON.stringify({ jid: 'a', event: 'lock_lost', worker: 'w1' })],
    ]);
    await messages.close();
  });

  test('move by another client puts the job elsewhere and tells its worker it lost the lock', async () => {
    const messages = await fx.core.listen('ql:log', 'ql:w:*');
    const job = await putAndPop('a', { data: { keep: true } });
    await messages.take();
    // A different client (worker w2) moves w1's running job: w1 is told at once that it lost it.
    const seen = await fx.clients.w2.jobs.get('a');
    assert.ok(seen instanceof Job);
    assert.equal(await seen.move('q2', { priority: 4, delay: 0, tags: ['m'], retries: 1 }), 'a');
    const hash = await fx.core.redis.hgetall('ql:j:a');
    assert.equal(hash.queue, 'q2');
    assert.equal(hash.state, 'waiting');
    assert.equal(hash.priority, '4');
    assert.equal(hash.retries, '1');
    assert.deepEqual(JSON.parse(hash.data), { keep: true });
    assert.equal(await fx.core.redis.zscore('ql:q:q-locks', 'a'), null);
    const lost = JSON.stringify({ jid: 'a', event: 'lock_lost', worker: 'w1' });
    assert.deepEqual(await messages.take(), [
      ['ql:log', JSON.stringify({ jid: 'a', event: 'put', queue: 'q2' })],
      ['ql:w:w1', lost],
      ['ql:log', lost],
    ]);
    assert.equal(job.queue, 'q');
    await messages.close();
  });

  test('move by the worker holding the job raises no lock_lost', async () => {
    const messages = await fx.core.listen('ql:log', 'ql:w:*');
    const job = await putAndPop('a', { data: {} });
    await messages.take();
    assert.equal(await job.move('q2'), 'a');
    assert.equal(await fx.core.redis.hget('ql:j:a', 'queue'), 'q2');
    assert.deepEqual(await messages.take(), [['ql:log', JSON.stringify({ jid: 'a', event: 'put', queue: 'q2' })]]);
    await messages.close();
  });

  test('setPriority changes the stored priority and the pop order', async () => {
    const q = fx.clients.w1.queue('q');
    await q.put('K', {}, { jid: 'a' });
    await q.put('K', {}, { jid: 'b' });
    const a = await getJob('a');
    await a.setPriority(10);
    assert.equal(a.priority, 10);
    assert.equal(await fx.core.redis.hget('ql:j:a', 'priority'), '10');
    assert.equal((await q.pop())[0].jid, 'a');
  });

  test('track and untrack', async () => {
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'a' });
    const job = await getJob('a');
    assert.equal(await job.track(), true);
    assert.equal(job.tracked, true);
    assert.equal(await job.track(), false);
    assert.ok((await fx.core.redis.zscore('ql:tracked', 'a')) !== null);
    assert.equal((await getJob('a')).tracked, true);
    assert.equal(await job.untrack(), true);
    assert.equal(job.tracked, false);
    assert.equal(await fx.core.redis.zscore('ql:tracked', 'a'), null);
  });

  test('tag and untag', async () => {
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'a', tags: ['x'] });
    const job = await getJob('a');
    assert.deepEqual(await job.tag('y', 'z'), ['x', 'y', 'z']);
    assert.deepEqual(job.tags, ['x', 'y', 'z']);
    assert.ok((await fx.core.redis.zscore('ql:t:y', 'a')) !== null);
    assert.deepEqual(await job.untag('x', 'z'), ['y']);
    assert.deepEqual(JSON.parse((await fx.core.redis.hget('ql:j:a', 'tags')) ?? ''), ['y']);
    assert.deepEqual(await job.untag('y'), []);
    assert.equal(await fx.core.redis.hget('ql:j:a', 'tags'), '{}');
  });

  test('depend, undepend, undependAll', async () => {
    const q = fx.clients.w1.queue('q');
    for (const jid of ['d1', 'd2', 'd3']) await q.put('K', {}, { jid });
    await q.put('K', {}, { jid: 'a', depends: ['d1'] });
    const a = await getJob('a');
    await a.depend('d2', 'd3');
    assert.deepEqual((await fx.core.redis.smembers('ql:j:a-dependencies')).sort(), ['d1', 'd2', 'd3']);
    await a.undepend('d1', 'd2');
    assert.deepEqual(await fx.core.redis.smembers('ql:j:a-dependencies'), ['d3']);
    assert.equal(await fx.core.redis.hget('ql:j:a', 'state'), 'depends');
    await a.undependAll();
    assert.equal(await fx.core.redis.exists('ql:j:a-dependencies'), 0);
    assert.equal(await fx.core.redis.hget('ql:j:a', 'state'), 'waiting');
  });

  test('undepend of the last dependency makes the job waiting', async () => {
    const q = fx.clients.w1.queue('q');
    await q.put('K', {}, { jid: 'd1' });
    await q.put('K', {}, { jid: 'a', depends: ['d1'] });
    await (await getJob('a')).undepend('d1');
    assert.equal(await fx.core.redis.hget('ql:j:a', 'state'), 'waiting');
  });

  test('log appends a history entry', async () => {
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'a' });
    const job = await getJob('a');
    fx.now = T0 + 7.9;
    await job.log('checked', { by: 'me' });
    await job.log('plain');
    const history = (await getJob('a')).history;
    assert.deepEqual(history.slice(1), [
      { when: T0 + 7, what: 'checked', by: 'me' },
      { when: T0 + 7, what: 'plain' },
    ]);
    assert.equal(await fx.core.redis.llen('ql:j:a-history'), 3);
  });
});

describe('RecurringJob', () => {
  test('get returns the template with decoded fields', async () => {
    await fx.clients.w1
      .queue('q')
      .recur('K', { r: 1 }, { jid: 'rec', interval: 60, priority: 3, tags: ['rt'], retries: 2, backlog: 4 });
    const rec = await fx.clients.w1.jobs.get('rec');
    assert.ok(rec instanceof RecurringJob);
    assert.equal(rec.klass, 'K');
    assert.equal(rec.queue, 'q');
    assert.equal(rec.state, 'recur');
    assert.equal(rec.interval, 60);
    assert.equal(rec.priority, 3);
    assert.equal(rec.retries, 2);
    assert.equal(rec.backlog, 4);
    assert.equal(rec.count, 0);
    assert.deepEqual(rec.data, { r: 1 });
    assert.deepEqual(rec.tags, ['rt']);
  });

  test('update, tag, untag, cancel', async () => {
    await fx.clients.w1.queue('q').recur('K', {}, { jid: 'rec', interval: 60, offset: 100 });
    const rec = await fx.clients.w1.jobs.get('rec');
    assert.ok(rec instanceof RecurringJob);
    await rec.update({ priority: 2, interval: 90, retries: 1, data: { d: 2 }, klass: 'K2', queue: 'q2', backlog: 3 });
    const hash = await fx.core.redis.hgetall('ql:r:rec');
    assert.equal(hash.priority, '2');
    assert.equal(hash.interval, '90');
    assert.equal(hash.retries, '1');
    assert.deepEqual(JSON.parse(hash.data), { d: 2 });
    assert.equal(hash.klass, 'K2');
    assert.equal(hash.queue, 'q2');
    assert.equal(hash.backlog, '3');
    assert.equal(Number(await fx.core.redis.zscore('ql:q:q2-recur', 'rec')), T0 + 130);
    assert.equal(await fx.core.redis.zscore('ql:q:q-recur', 'rec'), null);

    assert.deepEqual(await rec.tag('a', 'b'), ['a', 'b']);
    assert.deepEqual(await rec.untag('a'), ['b']);
    assert.deepEqual(JSON.parse((await fx.core.redis.hget('ql:r:rec', 'tags')) ?? ''), ['b']);

    await rec.cancel();
    assert.equal(await fx.core.redis.exists('ql:r:rec'), 0);
    assert.equal(await fx.core.redis.zscore('ql:q:q2-recur', 'rec'), null);
    assert.equal(await fx.clients.w1.jobs.get('rec'), null);
  });
});
