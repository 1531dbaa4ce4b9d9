// client.jobs (get, multiget, tagged, tracked, complete, failed, failedGroup, topTags, cancel),
// client.config and client.workers.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, Job, RecurringJob } from '../../src/client/index.ts';
import { startCore, type Core } from '../helpers/qless.ts';

const T0 = 1_700_000_000;
let core: Core;
let client: Client;
let now = T0;

before(async () => {
  core = await startCore();
  client = new Client({ url: core.server.url, workerName: 'w1', now: () => now });
});
after(async () => {
  await client.close();
  await core.close();
});
beforeEach(async () => {
  await core.flush();
  now = T0;
});

describe('client.jobs', () => {
  test('get: a job, a recurring job, or null', async () => {
    await client.queue('q').put('K', {}, { jid: 'a' });
    await client.queue('q').recur('K', {}, { jid: 'r', interval: 60, offset: 600 });
    const job = await client.jobs.get('a');
    assert.ok(job instanceof Job);
    assert.equal(job.jid, 'a');
    const recurring = await client.jobs.get('r');
    assert.ok(recurring instanceof RecurringJob);
    assert.equal(recurring.jid, 'r');
    assert.equal(await client.jobs.get('missing'), null);
  });

  test('multiget skips missing jids and keeps the order given', async () => {
    for (const jid of ['a', 'b', 'c']) await client.queue('q').put('K', { jid }, { jid });
    const jobs = await client.jobs.multiget('c', 'missing', 'a');
    assert.deepEqual(jobs.map((job) => [job.jid, job.data]), [
      ['c', { jid: 'c' }],
      ['a', { jid: 'a' }],
    ]);
    assert.deepEqual(await client.jobs.multiget('missing'), []);
    assert.deepEqual(await client.jobs.multiget(), []);
  });

  test('tagged pages jids by tag', async () => {
    await client.queue('q').put('K', {}, { jid: 'a', tags: ['t'] });
    now += 1;
    await client.queue('q').put('K', {}, { jid: 'b', tags: ['t', 'u'] });
    assert.deepEqual(await client.jobs.tagged('t'), { total: 2, jobs: ['a', 'b'] });
    assert.deepEqual(await client.jobs.tagged('t', 1, 1), { total: 2, jobs: ['b'] });
    assert.deepEqual(await client.jobs.tagged('none'), { total: 0, jobs: [] });
  });

  test('topTags lists tags used at least twice', async () => {
    await client.queue('q').put('K', {}, { jid: 'a', tags: ['common', 'rare'] });
    await client.queue('q').put('K', {}, { jid: 'b', tags: ['common'] });
    assert.deepEqual(await client.jobs.topTags(), ['common']);
    assert.deepEqual(await client.jobs.topTags(1, 5), []);
  });

  test('tracked lists tracked jobs and the jids that are gone', async () => {
    assert.deepEqual(await client.jobs.tracked(), { jobs: [], expired: [] });
    await client.queue('q').put('K', {}, { jid: 'a' });
    await client.queue('q').put('K', {}, { jid: 'b' });
    for (const jid of ['a', 'b']) {
      const job = await client.jobs.get(jid);
      assert.ok(job instanceof Job);
      await job.track();
    }
    await client.jobs.cancel('b');
    const tracked = await client.jobs.tracked();
    assert.deepEqual(tracked.jobs.map((job) => [job.jid, job.tracked]), [['a', true]]);
    assert.deepEqual(tracked.expired, ['b']);
  });

  test('complete lists completed jids, newest first', async () => {
    await client.queue('q').put('K', {}, { jid: 'a' });
    await client.queue('q').put('K', {}, { jid: 'b' });
    for (const job of await client.queue('q').pop(2)) {
      now += 1;
      await job.complete();
    }
    const newestFirst = await client.jobs.complete();
    assert.equal(newestFirst.length, 2);
    const scores = await Promise.all(newestFirst.map((jid) => core.redis.zscore('ql:completed', jid)));
    assert.ok(Number(scores[0]) > Number(scores[1]));
    assert.deepEqual(await client.jobs.complete(1, 1), [newestFirst[1]]);
  });

  test('failed groups, and a page of one group as jobs', async () => {
    assert.deepEqual(await client.jobs.failed(), {});
    const q = client.queue('q');
    for (const jid of ['a', 'b', 'c']) await q.put('K', {}, { jid });
    const jobs = await q.pop(3);
    await jobs[0].fail('g1', 'm');
    now += 1;
    await jobs[1].fail('g1', 'm');
    await jobs[2].fail('g2', 'm');
    assert.deepEqual(await client.jobs.failed(), { g1: 2, g2: 1 });
    const page = await client.jobs.failedGroup('g1');
    assert.equal(page.total, 2);
    assert.deepEqual(page.jobs.map((job) => job.jid), [jobs[1].jid, jobs[0].jid]);
    assert.ok(page.jobs.every((job) => job.state === 'failed' && job.failure?.group === 'g1'));
    const second = await client.jobs.failedGroup('g1', 1, 1);
    assert.deepEqual(second.jobs.map((job) => job.jid), [jobs[0].jid]);
    assert.deepEqual(await client.jobs.failedGroup('nothing'), { total: 0, jobs: [] });
  });

  test('cancel deletes several jobs, dependencies included', async () => {
    await client.queue('q').put('K', {}, { jid: 'a' });
    await client.queue('q').put('K', {}, { jid: 'b', depends: ['a'] });
    assert.deepEqual(await client.jobs.cancel('a', 'b'), ['a', 'b']);
    assert.equal(await core.redis.exists('ql:j:a', 'ql:j:b'), 0);
  });
});

describe('client.config', () => {
  test('get returns defaults as numbers and stored values as strings', async () => {
    assert.equal(await client.config.get('heartbeat'), 60);
    assert.equal(await client.config.get('no-such-key'), null);
    await client.config.set('heartbeat', 30);
    assert.equal(await client.config.get('heartbeat'), '30');
    assert.equal(await core.redis.hget('ql:config', 'heartbeat'), '30');
  });

  test('all merges stored values into the defaults', async () => {
    await client.config.set('q-heartbeat', '5');
    const all = await client.config.all();
    assert.equal(all.application, 'qless');
    assert.equal(all['grace-period'], 10);
    assert.equal(all['jobs-history-count'], 50000);
    assert.equal(all['q-heartbeat'], '5');
  });

  test('unset brings the default back', async () => {
    await client.config.set('grace-period', 0);
    assert.equal(await client.config.get('grace-period'), '0');
    await client.config.unset('grace-period');
    assert.equal(await client.config.get('grace-period'), 10);
    assert.equal(await core.redis.hexists('ql:config', 'grace-period'), 0);
  });

  test('a heartbeat setting changes the lock length pop gives', async () => {
    await client.config.set('heartbeat', 15);
    await client.queue('q').put('K', {});
    const [job] = await client.queue('q').pop();
    assert.equal(job.expires, T0 + 15);
  });
});

describe('client.workers', () => {
  test('list, get and deregister', async () => {
    const w2 = new Client({ url: core.server.url, workerName: 'w2', now: () => now });
    try {
      await client.queue('q').put('K', {}, { jid: 'a' });
      await client.queue('q').put('K', {}, { jid: 'b' });
      await client.queue('q').pop();
      now += 1;
      await w2.queue('q').pop();
      assert.deepEqual(await client.workers.list(), [
        { name: 'w2', jobs: 1, stalled: 0 },
        { name: 'w1', jobs: 1, stalled: 0 },
      ]);
      const held = await client.workers.get('w1');
      assert.equal(held.jobs.length, 1);
      assert.deepEqual(held.stalled, []);
      now = T0 + 100;
      assert.deepEqual(await client.workers.get('w1'), { jobs: [], stalled: held.jobs });
      await client.workers.deregister('w1', 'w2');
      assert.equal(await core.redis.zcard('ql:workers'), 0);
      assert.deepEqual(await client.workers.list(), []);
      assert.deepEqual(await client.workers.get('nobody'), { jobs: [], stalled: [] });
    } finally {
      await w2.close();
    }
  });
});
