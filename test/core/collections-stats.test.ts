// jobs, failed, unfail, queues, workers, length, queue.forget, worker.deregister and stats (§4, §2).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { useCore } from '../helpers/client-suite.ts';

const T = 1700000000;
const DAY = 1699920000; // T - T % 86400
const fx = useCore();

async function put(jid: string, queue = 'q', at = T, delay = 0, ...options: (string | number)[]): Promise<void> {
  await fx.core.call(at, 'put', 'w0', queue, jid, 'K', '{}', delay, ...options);
}

async function pop(queue: string, worker: string, at = T, count = 1): Promise<string[]> {
  const reply = String(await fx.core.call(at, 'pop', queue, worker, count));
  return reply === '{}' ? [] : (JSON.parse(reply) as { jid: string }[]).map((job) => job.jid);
}

describe('jobs', () => {
  test('complete: newest first, paged; count 0 means everything', async () => {
    for (const [i, jid] of ['a', 'b', 'c'].entries()) {
      await put(jid);
      await pop('q', 'w', T);
      await fx.core.call(T + i, 'complete', jid, 'w', 'q', '{}');
    }
    assert.deepEqual(await fx.core.call(T, 'jobs', 'complete'), ['c', 'b', 'a']);
    assert.deepEqual(await fx.core.call(T, 'jobs', 'complete', 1, 1), ['b']);
    assert.deepEqual(await fx.core.call(T, 'jobs', 'complete', 0, 0), ['c', 'b', 'a']);
  });

  test('running and stalled split the locks at now (both include expiry = now)', async () => {
    await put('a');
    await put('b', 'q', T + 30);
    await pop('q', 'w', T);
    await pop('q', 'w', T + 30);
    assert.deepEqual(await fx.core.call(T + 60, 'jobs', 'running', 'q'), ['a', 'b']);
    assert.deepEqual(await fx.core.call(T + 60, 'jobs', 'stalled', 'q'), ['a']);
    assert.deepEqual(await fx.core.call(T + 61, 'jobs', 'running', 'q'), ['b']);
    assert.deepEqual(await fx.core.call(T + 61, 'jobs', 'running', 'q', 0, 0), []);
    // A courtesy lock counts as running again.
    await pop('q', 'w2', T + 61);
    assert.deepEqual(await fx.core.call(T + 62, 'jobs', 'running', 'q'), ['a', 'b']);
  });

  test('scheduled moves ready jobs first; depends; recurring', async () => {
    await put('s1', 'q', T, 10);
    await put('s2', 'q', T, 20);
    await put('d', 'q', T, 0, 'depends', '["s2"]');
    await fx.core.call(T, 'recur', 'q', 'r', 'K', '{}', 'interval', 60, 0);
    assert.deepEqual(await fx.core.call(T + 15, 'jobs', 'scheduled', 'q'), ['s2']);
    assert.equal(await fx.core.redis.hget('ql:j:s1', 'state'), 'waiting');
    assert.deepEqual(await fx.core.call(T, 'jobs', 'depends', 'q'), ['d']);
    assert.deepEqual(await fx.core.call(T, 'jobs', 'recurring', 'q'), ['r']);
  });

  test('refusals change nothing', async () => {
    await put('s1', 'q', T, 10);
    const before = await fx.core.snapshot();
    assert.equal(await fx.core.error(T, 'jobs'), 'Jobs(): Arg "state" missing');
    assert.equal(await fx.core.error(T, 'jobs', 'waiting'), 'Jobs(): Arg "queue" missing');
    assert.equal(await fx.core.error(T, 'jobs', 'waiting', 'q'), 'Jobs(): Unknown type "waiting"');
    assert.equal(await fx.core.error(T, 'jobs', 'complete', 'x'), 'Jobs(): Arg "offset" not a number: x');
    assert.equal(await fx.core.error(T, 'jobs', 'complete', 0, 'y'), 'Jobs(): Arg "count" not a number: y');
    assert.equal(await fx.core.error(T, 'jobs', 'running', 'q', 'x'), 'Jobs(): Arg "offset" not a number: x');
    assert.equal(await fx.core.error(T, 'jobs', 'running', 'q', 0, 'y'), 'Jobs(): Arg "count" not a number: y');
    assert.equal(await fx.core.error(T, 'jobs', 'depends', 'q', 0.5), 'value is not an integer or out of range');
    assert.deepEqual(await fx.core.snapshot(), before);
  });
});

describe('failed and unfail', () => {
  async function failed(jid: string, group: string, at: number): Promise<void> {
    await put(jid, 'q', at);
    assert.deepEqual(await pop('q', 'w', at), [jid]);
    await fx.core.call(at, 'fail', jid, 'w', group, 'boom');
  }

  test('failed: counts per group, pages newest first', async () => {
    assert.equal(await fx.core.call(T, 'failed'), '{}');
    await failed('a', 'g1', T);
    await failed('b', 'g1', T + 1);
    await failed('c', 'g2', T + 2);
    assert.deepEqual(JSON.parse(String(await fx.core.call(T, 'failed'))), { g1: 2, g2: 1 });
    assert.equal(await fx.core.call(T, 'failed', 'g1'), '{"jobs":["b","a"],"total":2}');
    assert.equal(await fx.core.call(T, 'failed', 'g1', 1, 1), '{"jobs":["a"],"total":2}');
    assert.equal(await fx.core.call(T, 'failed', 'g1', 0, 0), '{"jobs":["b","a"],"total":2}');
    assert.equal(await fx.core.call(T, 'failed', 'none'), '{"jobs":{},"total":0}');
    assert.equal(await fx.core.error(T, 'failed', 'g1', 'x'), 'Failed(): Arg "start" is not a number: x');
    assert.equal(await fx.core.error(T, 'failed', 'g1', 0, 'y'), 'Failed(): Arg "limit" is not a number: y');
  });

  test('unfail: the oldest `count` back to waiting in the given queue, quietly', async () => {
    await failed('a', 'g', T);
    await failed('b', 'g', T + 1);
    await failed('c', 'g', T + 2);
    const statsBefore = await fx.core.redis.hgetall(`ql:s:stats:${DAY}:q`);
    const messages = await fx.core.listen('ql:*');
    assert.equal(await fx.core.call(T + 10, 'unfail', 'again', 'g', 2), 2);
    assert.deepEqual(await messages.take(), []);
    await messages.close();
    assert.deepEqual(await fx.core.redis.lrange('ql:f:g', 0, -1), ['c']);
    for (const jid of ['a', 'b']) {
      assert.deepEqual(await fx.core.redis.hmget(`ql:j:${jid}`, 'state', 'worker', 'expires', 'queue', 'remaining'), [
        'waiting',
        '',
        '0',
        'again',
        '5',
      ]);
      assert.equal((await fx.core.redis.lrange(`ql:j:${jid}-history`, -1, -1))[0], '[1700000010,"put",{"q":"again"}]');
      assert.ok((await fx.core.redis.hget(`ql:j:${jid}`, 'failure'))?.includes('"group":"g"'));
    }
    assert.equal(await fx.core.redis.hget('ql:j:a', 'time'), '1700000000.00000000000000000000');
    assert.equal(Number(await fx.core.redis.zscore('ql:q:again-work', 'a')), -(T + 10) / 1e10);
    assert.deepEqual(await fx.core.redis.hgetall(`ql:s:stats:${DAY}:q`), statsBefore);
    assert.deepEqual(await fx.core.redis.zrange('ql:queues', 0, -1), ['q']);

    assert.equal(await fx.core.call(T + 10, 'unfail', 'again', 'g'), 1);
    assert.equal(await fx.core.redis.exists('ql:f:g', 'ql:failures'), 0);
  });

  test('unfail refusals; count 0 is refused by Redis', async () => {
    await failed('a', 'g', T);
    const before = await fx.core.snapshot();
    assert.equal(await fx.core.error(T, 'unfail'), 'Queue(): no queue name provided');
    assert.equal(await fx.core.error(T, 'unfail', 'q'), 'Unfail(): Arg "group" missing');
    assert.equal(await fx.core.error(T, 'unfail', 'q', 'g', 'x'), 'Unfail(): Arg "count" not a number: x');
    assert.equal(await fx.core.error(T, 'unfail', 'q', 'g', 0), 'value is not an integer or out of range');
    assert.deepEqual(await fx.core.snapshot(), before);
  });
});

describe('queues, length, queue.forget', () => {
  test('counts per queue in first-seen order; unknown queue is all zeros', async () => {
    assert.equal(await fx.core.call(T, 'queues'), '{}');
    await put('run');
    await pop('q', 'w', T);
    await put('stall', 'q', T);
    await pop('q', 'w', T - 60);
    await put('wait', 'q');
    await put('to', 'q', T, 0, 'priority', 5);
    assert.deepEqual(await pop('q', 'w', T), ['to']);
    await fx.core.call(T, 'timeout', 'to');
    await put('sch', 'q', T, 30);
    await put('due', 'q', T, 5);
    await put('dep', 'q', T, 0, 'depends', '["wait"]');
    await fx.core.call(T, 'recur', 'q', 'r', 'K', '{}', 'interval', 60, 100);
    await put('x', 'second', T + 1);
    await fx.core.call(T, 'pause', 'second');
    assert.equal(
      await fx.core.call(T + 10, 'queues'),
      '[{"paused":false,"running":1,"name":"q","waiting":3,"recurring":1,"depends":1,"stalled":1,"scheduled":1},' +
        '{"paused":true,"running":0,"name":"second","waiting":1,"recurring":0,"depends":0,"stalled":0,"scheduled":0}]',
    );
    assert.equal(await fx.core.redis.hget('ql:j:due', 'state'), 'waiting');
    assert.equal(
      await fx.core.call(T, 'queues', 'nowhere'),
      '{"paused":false,"running":0,"name":"nowhere","waiting":0,"recurring":0,"depends":0,"stalled":0,"scheduled":0}',
    );
    // length: all locks + work (timed-out included) + scheduled; not depends or recurring.
    assert.equal(await fx.core.call(T + 10, 'length', 'q'), 6);
    assert.equal(await fx.core.error(T, 'length'), 'Queue(): no queue name provided');

    assert.equal(await fx.core.call(T, 'queue.forget', 'q', 'nowhere'), null);
    assert.deepEqual(await fx.core.redis.zrange('ql:queues', 0, -1), ['second']);
    assert.ok(await fx.core.redis.exists('ql:q:q-work'));
    assert.equal(await fx.core.error(T, 'queue.forget'), 'Wrong number of args calling Redis command from script');
  });
});

describe('workers and worker.deregister', () => {
  test('most recent first; jobs/stalled split at now; one worker lists jids', async () => {
    assert.equal(await fx.core.call(T, 'workers'), '{}');
    await put('a');
    await put('b');
    await pop('q', 'w1', T - 10);
    await pop('q', 'w2', T);
    assert.equal(
      await fx.core.call(T + 50, 'workers'),
      '[{"stalled":0,"name":"w2","jobs":1},{"stalled":1,"name":"w1","jobs":1}]',
    );
    assert.equal(await fx.core.call(T + 50, 'workers', 'w1'), '{"stalled":["b"],"jobs":["b"]}');
    assert.equal(await fx.core.call(T + 55, 'workers', 'w1'), '{"stalled":["b"],"jobs":{}}');
    assert.equal(await fx.core.call(T, 'workers', 'nobody'), '{"stalled":{},"jobs":{}}');
  });

  test('workers idle for max-worker-age are forgotten with their job sets', async () => {
    await put('a');
    await pop('q', 'old', T);
    await pop('q', 'new', T + 50);
    await fx.core.call(T, 'config.set', 'max-worker-age', 100);
    assert.equal(await fx.core.call(T + 100, 'workers'), '[{"stalled":0,"name":"new","jobs":0}]');
    assert.equal(await fx.core.redis.exists('ql:w:old:jobs'), 0);
  });

  test('deregister removes only the ql:workers entry', async () => {
    await put('a');
    await pop('q', 'w1', T);
    assert.equal(await fx.core.call(T, 'worker.deregister', 'w1', 'ghost'), null);
    assert.equal(await fx.core.redis.exists('ql:workers'), 0);
    assert.deepEqual(await fx.core.redis.zrange('ql:w:w1:jobs', 0, -1), ['a']);
    assert.equal(await fx.core.error(T, 'worker.deregister'), 'Wrong number of args calling Redis command from script');
  });
});

describe('stats', () => {
  test('the document example: waits 1.5, 3, 3; one run of 1.5; one failure', async () => {
    for (const jid of ['a', 'b', 'c']) await put(jid);
    assert.deepEqual(await pop('q', 'w', T + 1.5), ['c']);
    assert.deepEqual(await pop('q', 'w', T + 3, 2), ['b', 'a']);
    await fx.core.call(T + 3, 'complete', 'c', 'w', 'q', '{}');
    await fx.core.call(T + 3, 'fail', 'b', 'w', 'g', 'm');
    const zeros = (counts: Record<number, number>) =>
      `[${Array.from({ length: 148 }, (_, i) => counts[i] ?? 0).join(',')}]`;
    assert.equal(
      await fx.core.call(T, 'stats', 'q', T + 1000),
      `{"run":{"std":0,"histogram":${zeros({ 1: 1 })},"mean":1.5,"count":1},"failures":1,"retries":0,"failed":1,` +
        `"wait":{"std":0.86602540378444,"histogram":${zeros({ 1: 1, 3: 2 })},"mean":2.5,"count":3}}`,
    );
    const empty = `{"std":0,"histogram":${zeros({})},"mean":0,"count":0}`;
    assert.equal(
      await fx.core.call(T, 'stats', 'q', T + 86400),
      `{"run":${empty},"failures":0,"retries":0,"failed":0,"wait":${empty}}`,
    );
  });

  test('histogram bins and boundaries; Welford mean and variance', async () => {
    const P = T + 8 * 86400;
    const waits = [59.999, 60, 3599.9, 3600, 86399, 86400, 6 * 86400, 7 * 86400, -0.5, 0];
    for (const [i, wait] of waits.entries()) {
      await put(`j${i}`, 'q', P - wait);
      assert.deepEqual(await pop('q', 'w', P), [`j${i}`]);
    }
    const hash = await fx.core.redis.hgetall(`ql:s:wait:${P - (P % 86400)}:q`);
    assert.deepEqual(
      Object.fromEntries(Object.entries(hash).filter(([field]) => !['total', 'mean', 'vk'].includes(field))),
      { s59: '1', m1: '1', m59: '1', h1: '1', h23: '1', d1: '1', d6: '1', d7: '1', 's-1': '1', s0: '1' },
    );
    // The same arithmetic in doubles, on the same samples (P minus the put time as stored).
    let count = 0;
    let mean = 0;
    let vk = 0;
    for (const wait of waits) {
      const sample = P - (P - wait);
      count += 1;
      if (count === 1) {
        mean = sample;
      } else {
        const previous = mean;
        mean += (sample - mean) / count;
        vk += (sample - mean) * (sample - previous);
      }
    }
    assert.equal(hash.total, String(waits.length));
    assert.equal(Number(hash.mean), mean);
    assert.equal(Number(hash.vk), vk);

    const stats = JSON.parse(String(await fx.core.call(T, 'stats', 'q', P))) as {
      wait: { count: number; mean: number; std: number; histogram: number[] };
    };
    assert.equal(stats.wait.count, waits.length);
    assert.equal(stats.wait.histogram.length, 148);
    const bins = Object.fromEntries(stats.wait.histogram.flatMap((n, i) => (n ? [[i, n]] : [])));
    // s0 s59 | m1 (60) m59 (118) | h1 (119) h23 (141) | d1 (142) d6 (147); d7 and s-1 unreported.
    assert.deepEqual(bins, { 0: 1, 59: 1, 60: 1, 118: 1, 119: 1, 141: 1, 142: 1, 147: 1 });
    assert.ok(Math.abs(stats.wait.std - Math.sqrt(vk / (waits.length - 1))) < 1e-6 * stats.wait.std);
  });

  test('refusals', async () => {
    assert.equal(await fx.core.error(T, 'stats'), 'Queue(): no queue name provided');
    assert.equal(await fx.core.error(T, 'stats', 'q'), 'Stats(): Arg "date" missing or not a number: nil');
    assert.equal(await fx.core.error(T, 'stats', 'q', 'today'), 'Stats(): Arg "date" missing or not a number: today');
  });
});
