// Queue: put, recur, pop, peek, pause, counts, stats, job lists, unfail, forget; client.queues().
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useCore } from '../helpers/client-suite.ts';

const T0 = 1_700_000_000;
const fx = useCore({ workers: ['w1'], clock: T0 });

describe('put', () => {
  test('writes the job hash with defaults and a 32-hex jid', async () => {
    const jid = await fx.clients.w1.queue('q').put('K', { a: [1, 'x'] });
    assert.match(jid, /^[0-9a-f]{32}$/);
    const hash = await fx.core.redis.hgetall(`ql:j:${jid}`);
    assert.equal(hash.klass, 'K');
    assert.equal(hash.queue, 'q');
    assert.equal(hash.state, 'waiting');
    assert.deepEqual(JSON.parse(hash.data), { a: [1, 'x'] });
    assert.equal(hash.priority, '0');
    assert.equal(hash.retries, '5');
    assert.equal(hash.remaining, '5');
    assert.equal(Number(await fx.core.redis.zscore('ql:q:q-work', jid)), 0 - T0 / 1e10);
    assert.ok((await fx.core.redis.zscore('ql:queues', 'q')) !== null);
  });

  test('two puts make two different jids', async () => {
    const a = await fx.clients.w1.queue('q').put('K', {});
    const b = await fx.clients.w1.queue('q').put('K', {});
    assert.notEqual(a, b);
  });

  test('default jids are 32 hex characters of a UUID4 (version 4, RFC 4122 variant), all different', async () => {
    const jids = new Set<string>();
    for (let i = 0; i < 20; i++) jids.add(await fx.clients.w1.queue('q').put('K', {}));
    assert.equal(jids.size, 20);
    for (const jid of jids) assert.match(jid, /^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$/);
  });

  test('options: jid, delay, priority, tags, retries', async () => {
    const jid = await fx.clients.w1
      .queue('q')
      .put('K', null, { jid: 'j1', delay: 30, priority: 7, tags: ['t1', 't2'], retries: 2 });
    assert.equal(jid, 'j1');
    const hash = await fx.core.redis.hgetall('ql:j:j1');
    assert.equal(hash.state, 'scheduled');
    assert.equal(hash.priority, '7');
    assert.deepEqual(JSON.parse(hash.tags), ['t1', 't2']);
    assert.equal(hash.retries, '2');
    assert.equal(hash.data, 'null');
    assert.equal(Number(await fx.core.redis.zscore('ql:q:q-scheduled', 'j1')), T0 + 30);
    assert.ok((await fx.core.redis.zscore('ql:t:t1', 'j1')) !== null);
  });

  test('depends: the job waits until its dependency completes', async () => {
    const q = fx.clients.w1.queue('q');
    await q.put('K', {}, { jid: 'first' });
    await q.put('K', {}, { jid: 'second', depends: ['first'] });
    assert.equal(await fx.core.redis.hget('ql:j:second', 'state'), 'depends');
    assert.deepEqual(await fx.core.redis.smembers('ql:j:second-dependencies'), ['first']);
    const [job] = await q.pop();
    assert.equal(job.jid, 'first');
    await job.complete();
    assert.equal(await fx.core.redis.hget('ql:j:second', 'state'), 'waiting');
  });

  test('re-putting a jid without options keeps its priority, tags and retries', async () => {
    const q = fx.clients.w1.queue('q');
    await q.put('K', {}, { jid: 'j', priority: 3, tags: ['a'], retries: 1 });
    await fx.clients.w1.queue('other').put('K', { v: 2 }, { jid: 'j' });
    const hash = await fx.core.redis.hgetall('ql:j:j');
    assert.equal(hash.queue, 'other');
    assert.equal(hash.priority, '3');
    assert.deepEqual(JSON.parse(hash.tags), ['a']);
    assert.equal(hash.retries, '1');
    assert.equal(await fx.core.redis.zscore('ql:q:q-work', 'j'), null);
  });
});

describe('pop and peek', () => {
  test('pop locks jobs for the client worker, highest priority first', async () => {
    const q = fx.clients.w1.queue('q');
    await q.put('K', { n: 1 }, { jid: 'low', priority: 1 });
    await q.put('K', { n: 2 }, { jid: 'high', priority: 9 });
    fx.now = T0 + 1.5;
    const jobs = await q.pop(2);
    assert.deepEqual(
      jobs.map((job) => job.jid),
      ['high', 'low'],
    );
    assert.equal(jobs[0].state, 'running');
    assert.equal(jobs[0].worker, 'w1');
    assert.deepEqual(jobs[0].data, { n: 2 });
    assert.equal(jobs[0].expires, T0 + 1.5 + 60);
    assert.equal(await fx.core.redis.hget('ql:j:high', 'worker'), 'w1');
    assert.equal(Number(await fx.core.redis.zscore('ql:q:q-locks', 'high')), T0 + 61.5);
    assert.ok((await fx.core.redis.zscore('ql:w:w1:jobs', 'low')) !== null);
  });

  test('pop of an empty queue returns [] and still registers the worker', async () => {
    assert.deepEqual(await fx.clients.w1.queue('empty').pop(), []);
    assert.equal(Number(await fx.core.redis.zscore('ql:workers', 'w1')), T0);
  });

  test('pop defaults to one job', async () => {
    const q = fx.clients.w1.queue('q');
    await q.put('K', {});
    await q.put('K', {});
    assert.equal((await q.pop()).length, 1);
  });

  test('peek shows the next jobs without locking them', async () => {
    const q = fx.clients.w1.queue('q');
    await q.put('K', {}, { jid: 'a', priority: 2 });
    await q.put('K', {}, { jid: 'b' });
    const jobs = await q.peek(5);
    assert.deepEqual(
      jobs.map((job) => job.jid),
      ['a', 'b'],
    );
    assert.equal(jobs[0].state, 'waiting');
    assert.equal(await fx.core.redis.zcard('ql:q:q-locks'), 0);
    assert.deepEqual(
      (await q.peek()).map((job) => job.jid),
      ['a'],
    );
  });
});

describe('pause', () => {
  test('a paused queue pops nothing until unpaused', async () => {
    const q = fx.clients.w1.queue('q');
    await q.put('K', {}, { jid: 'j' });
    await q.pause();
    assert.equal(await q.isPaused(), true);
    assert.equal(await fx.core.redis.sismember('ql:paused_queues', 'q'), 1);
    assert.deepEqual(await q.pop(), []);
    assert.equal(await fx.core.redis.hget('ql:j:j', 'state'), 'waiting');
    await q.unpause();
    assert.equal(await q.isPaused(), false);
    assert.deepEqual(
      (await q.pop()).map((job) => job.jid),
      ['j'],
    );
  });
});

describe('counts, length, job lists', () => {
  test('counts and length reflect every state', async () => {
    const q = fx.clients.w1.queue('q');
    await q.put('K', {}, { jid: 'j1' });
    await q.put('K', {}, { jid: 'j2' });
    await q.put('K', {}, { jid: 'sch', delay: 100 });
    await q.put('K', {}, { jid: 'dep', depends: ['j1'] });
    await q.recur('K', {}, { jid: 'rec', interval: 60, offset: 1000 });
    const [running] = await q.pop();
    assert.deepEqual(await q.counts(), {
      name: 'q',
      paused: false,
      waiting: 1,
      running: 1,
      stalled: 0,
      scheduled: 1,
      depends: 1,
      recurring: 1,
    });
    assert.equal(await q.length(), 3);
    assert.deepEqual(await q.jobs('running'), [running.jid]);
    assert.deepEqual(await q.jobs('scheduled'), ['sch']);
    assert.deepEqual(await q.jobs('depends'), ['dep']);
    assert.deepEqual(await q.jobs('recurring'), ['rec']);
    assert.deepEqual(await q.jobs('stalled'), []);
    fx.now = T0 + 61;
    assert.deepEqual(await q.jobs('stalled'), [running.jid]);
    assert.equal((await q.counts()).stalled, 1);
  });

  test('job lists page with offset and count', async () => {
    const q = fx.clients.w1.queue('q');
    for (const jid of ['a', 'b', 'c']) await q.put('K', {}, { jid, delay: 10 });
    assert.deepEqual(await q.jobs('scheduled', 1, 1), ['b']);
    assert.deepEqual(await q.jobs('scheduled', 0, 2), ['a', 'b']);
  });

  test('client.queues() lists every queue with its counts', async () => {
    await fx.clients.w1.queue('a').put('K', {});
    fx.now += 1;
    await fx.clients.w1.queue('b').put('K', {}, { delay: 5 });
    await fx.clients.w1.queue('b').pause();
    const queues = await fx.clients.w1.queues();
    assert.deepEqual(
      queues.map((queue) => [queue.name, queue.waiting, queue.scheduled, queue.paused]),
      [
        ['a', 1, 0, false],
        ['b', 0, 1, true],
      ],
    );
  });

  test('client.queues() with no queue is []', async () => {
    assert.deepEqual(await fx.clients.w1.queues(), []);
  });
});

describe('stats', () => {
  test('wait and run samples of the day, and failures', async () => {
    const q = fx.clients.w1.queue('q');
    await q.put('K', {}, { jid: 'a' });
    await q.put('K', {}, { jid: 'b' });
    fx.now = T0 + 2;
    const [a, b] = await q.pop(2);
    fx.now = T0 + 5;
    await a.complete();
    await b.fail('grp', 'broken');
    const stats = await q.stats();
    assert.equal(stats.wait.count, 2);
    assert.equal(stats.wait.mean, 2);
    assert.equal(stats.wait.histogram.length, 148);
    assert.equal(stats.wait.histogram[2], 2);
    assert.equal(stats.run.count, 1);
    assert.equal(stats.run.histogram[3], 1);
    assert.equal(stats.failures, 1);
    assert.equal(stats.failed, 1);
    assert.equal(stats.retries, 0);
    const sameDay = await q.stats(new Date((T0 + 3600) * 1000));
    assert.deepEqual(sameDay, stats);
    const otherDay = await q.stats(T0 - 86_400);
    assert.equal(otherDay.wait.count, 0);
    assert.equal(otherDay.failures, 0);
    assert.deepEqual(otherDay.wait.histogram, new Array(148).fill(0));
  });
});

describe('recur', () => {
  test('writes the template and spawns children on pop', async () => {
    const q = fx.clients.w1.queue('q');
    const jid = await q.recur(
      'K',
      { r: 1 },
      { interval: 60, priority: 3, tags: ['rt'], retries: 2, backlog: 4, jid: 'rec' },
    );
    assert.equal(jid, 'rec');
    const hash = await fx.core.redis.hgetall('ql:r:rec');
    assert.equal(hash.interval, '60');
    assert.equal(hash.priority, '3');
    assert.equal(hash.retries, '2');
    assert.equal(hash.backlog, '4');
    assert.deepEqual(JSON.parse(hash.tags), ['rt']);
    const [child] = await q.pop();
    assert.equal(child.jid, 'rec-1');
    assert.equal(child.spawnedFromJid, 'rec');
    assert.deepEqual(child.data, { r: 1 });
    assert.equal(child.retries, 2);
  });

  test('default jid, offset delays the first child, retries default to 5', async () => {
    const q = fx.clients.w1.queue('q');
    const jid = await q.recur('K', {}, { interval: 10, offset: 30 });
    assert.match(jid, /^[0-9a-f]{32}$/);
    assert.equal(Number(await fx.core.redis.zscore('ql:q:q-recur', jid)), T0 + 30);
    assert.equal(await fx.core.redis.hget(`ql:r:${jid}`, 'retries'), '5');
    assert.deepEqual(await q.pop(), []);
    fx.now = T0 + 30;
    assert.deepEqual(
      (await q.pop()).map((job) => job.jid),
      [`${jid}-1`],
    );
  });
});

describe('unfail and forget', () => {
  test('unfail puts a failure group back into the queue', async () => {
    const q = fx.clients.w1.queue('q');
    await q.put('K', {}, { jid: 'a' });
    await q.put('K', {}, { jid: 'b' });
    for (const job of await q.pop(2)) await job.fail('grp', 'x');
    assert.equal(await fx.clients.w1.queue('again').unfail('grp', 1), 1);
    assert.equal(await fx.core.redis.llen('ql:f:grp'), 1);
    assert.equal(await fx.clients.w1.queue('again').unfail('grp'), 1);
    assert.equal(await fx.core.redis.exists('ql:f:grp'), 0);
    assert.equal(await fx.core.redis.zcard('ql:q:again-work'), 2);
  });

  test('forget drops the queue name only', async () => {
    const q = fx.clients.w1.queue('q');
    await q.put('K', {}, { jid: 'a' });
    await q.forget();
    assert.equal(await fx.core.redis.zscore('ql:queues', 'q'), null);
    assert.equal(await fx.core.redis.hget('ql:j:a', 'state'), 'waiting');
  });
});
