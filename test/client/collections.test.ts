// client.jobs (get, multiget, tagged, tracked, complete, failed, failedGroup, topTags, cancel),
// client.config and client.workers.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, Job, RecurringJob } from '../../src/client/index.ts';
import { useCore } from '../helpers/client-suite.ts';

const T0 = 1_700_000_000;
const fx = useCore({ workers: ['w1'], clock: T0 });

describe('client.jobs', () => {
  test('get: a job, a recurring job, or null', async () => {
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'a' });
    await fx.clients.w1.queue('q').recur('K', {}, { jid: 'r', interval: 60, offset: 600 });
    const job = await fx.clients.w1.jobs.get('a');
    assert.ok(job instanceof Job);
    assert.equal(job.jid, 'a');
    const recurring = await fx.clients.w1.jobs.get('r');
    assert.ok(recurring instanceof RecurringJob);
    assert.equal(recurring.jid, 'r');
    assert.equal(await fx.clients.w1.jobs.get('missing'), null);
  });

  test('multiget skips missing jids and keeps the order given', async () => {
    for (const jid of ['a', 'b', 'c']) await fx.clients.w1.queue('q').put('K', { jid }, { jid });
    const jobs = await fx.clients.w1.jobs.multiget('c', 'missing', 'a');
    assert.deepEqual(
      jobs.map((job) => [job.jid, job.data]),
      [
        ['c', { jid: 'c' }],
        ['a', { jid: 'a' }],
      ],
    );
    assert.deepEqual(await fx.clients.w1.jobs.multiget('missing'), []);
    assert.deepEqual(await fx.clients.w1.jobs.multiget(), []);
  });

  test('tagged pages jids by tag', async () => {
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'a', tags: ['t'] });
    fx.now += 1;
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'b', tags: ['t', 'u'] });
    assert.deepEqual(await fx.clients.w1.jobs.tagged('t'), { total: 2, jobs: ['a', 'b'] });
    assert.deepEqual(await fx.clients.w1.jobs.tagged('t', 1, 1), { total: 2, jobs: ['b'] });
    assert.deepEqual(await fx.clients.w1.jobs.tagged('none'), { total: 0, jobs: [] });
  });

  test('topTags lists tags used at least twice', async () => {
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'a', tags: ['common', 'rare'] });
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'b', tags: ['common'] });
    assert.deepEqual(await fx.clients.w1.jobs.topTags(), ['common']);
    assert.deepEqual(await fx.clients.w1.jobs.topTags(1, 5), []);
  });

  test('tracked lists tracked jobs and the jids that are gone', async () => {
    assert.deepEqual(await fx.clients.w1.jobs.tracked(), { jobs: [], expired: [] });
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'a' });
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'b' });
    for (const jid of ['a', 'b']) {
      const job = await fx.clients.w1.jobs.get(jid);
      assert.ok(job instanceof Job);
      await job.track();
    }
    await fx.clients.w1.jobs.cancel('b');
    const tracked = await fx.clients.w1.jobs.tracked();
    assert.deepEqual(
      tracked.jobs.map((job) => [job.jid, job.tracked]),
      [['a', true]],
    );
    assert.deepEqual(tracked.expired, ['b']);
  });

  test('complete lists completed jids, newest first', async () => {
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'a' });
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'b' });
    for (const job of await fx.clients.w1.queue('q').pop(2)) {
      fx.now += 1;
      await job.complete();
    }
    const newestFirst = await fx.clients.w1.jobs.complete();
    assert.equal(newestFirst.length, 2);
    const scores = await Promise.all(newestFirst.map((jid) => fx.core.redis.zscore('ql:completed', jid)));
    assert.ok(Number(scores[0]) > Number(scores[1]));
    assert.deepEqual(await fx.clients.w1.jobs.complete(1, 1), [newestFirst[1]]);
  });

  test('failed groups, and a page of one group as jobs', async () => {
    assert.deepEqual(await fx.clients.w1.jobs.failed(), {});
    const q = fx.clients.w1.queue('q');
    for (const jid of ['a', 'b', 'c']) await q.put('K', {}, { jid });
    const jobs = await q.pop(3);
    await jobs[0].fail('g1', 'm');
    fx.now += 1;
    await jobs[1].fail('g1', 'm');
    await jobs[2].fail('g2', 'm');
    assert.deepEqual(await fx.clients.w1.jobs.failed(), { g1: 2, g2: 1 });
    const page = await fx.clients.w1.jobs.failedGroup('g1');
    assert.equal(page.total, 2);
    assert.deepEqual(
      page.jobs.map((job) => job.jid),
      [jobs[1].jid, jobs[0].jid],
    );
    assert.ok(page.jobs.every((job) => job.state === 'failed' && job.failure?.group === 'g1'));
    const second = await fx.clients.w1.jobs.failedGroup('g1', 1, 1);
    assert.deepEqual(
      second.jobs.map((job) => job.jid),
      [jobs[0].jid],
    );
    assert.deepEqual(await fx.clients.w1.jobs.failedGroup('nothing'), { total: 0, jobs: [] });
  });

  test('cancel deletes several jobs, dependencies included', async () => {
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'a' });
    await fx.clients.w1.queue('q').put('K', {}, { jid: 'b', depends: ['a'] });
    assert.deepEqual(await fx.clients.w1.jobs.cancel('a', 'b'), ['a', 'b']);
    assert.equal(await fx.core.redis.exists('ql:j:a', 'ql:j:b'), 0);
  });
});

describe('client.config', () => {
  test('get returns defaults as numbers and stored values as strings', async () => {
    assert.equal(await fx.clients.w1.config.get('heartbeat'), 60);
    assert.equal(await fx.clients.w1.config.get('no-such-key'), null);
    await fx.clients.w1.config.set('heartbeat', 30);
    assert.equal(await fx.clients.w1.config.get('heartbeat'), '30');
    assert.equal(await fx.core.redis.hget('ql:config', 'heartbeat'), '30');
  });

  test('all merges stored values into the defaults', async () => {
    await fx.clients.w1.config.set('q-heartbeat', '5');
    const all = await fx.clients.w1.config.all();
    assert.equal(all.application, 'qless');
    assert.equal(all['grace-period'], 10);
    assert.equal(all['jobs-history-count'], 50000);
    assert.equal(all['q-heartbeat'], '5');
  });

  test('unset brings the default back', async () => {
    await fx.clients.w1.config.set('grace-period', 0);
    assert.equal(await fx.clients.w1.config.get('grace-period'), '0');
    await fx.clients.w1.config.unset('grace-period');
    assert.equal(await fx.clients.w1.config.get('grace-period'), 10);
    assert.equal(await fx.core.redis.hexists('ql:config', 'grace-period'), 0);
  });

  test('a heartbeat setting changes the lock length pop gives', async () => {
    await fx.clients.w1.config.set('heartbeat', 15);
    await fx.clients.w1.queue('q').put('K', {});
    const [job] = await fx.clients.w1.queue('q').pop();
    assert.equal(job.expires, T0 + 15);
  });
});

describe('client.workers', () => {
  test('list, get and deregister', async () => {
    const w2 = new Client({ url: fx.url, workerName: 'w2', now: () => fx.now });
    try {
      await fx.clients.w1.queue('q').put('K', {}, { jid: 'a' });
      await fx.clients.w1.queue('q').put('K', {}, { jid: 'b' });
      await fx.clients.w1.queue('q').pop();
      fx.now += 1;
      await w2.queue('q').pop();
      assert.deepEqual(await fx.clients.w1.workers.list(), [
        { name: 'w2', jobs: 1, stalled: 0 },
        { name: 'w1', jobs: 1, stalled: 0 },
      ]);
      const held = await fx.clients.w1.workers.get('w1');
      assert.equal(held.jobs.length, 1);
      assert.deepEqual(held.stalled, []);
      fx.now = T0 + 100;
      assert.deepEqual(await fx.clients.w1.workers.get('w1'), { jobs: [], stalled: held.jobs });
      await fx.clients.w1.workers.deregister('w1', 'w2');
      assert.equal(await fx.core.redis.zcard('ql:workers'), 0);
      assert.deepEqual(await fx.clients.w1.workers.list(), []);
      assert.deepEqual(await fx.clients.w1.workers.get('nobody'), { jobs: [], stalled: [] });
    } finally {
      await w2.close();
    }
  });
});
