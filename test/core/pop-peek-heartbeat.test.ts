// pop, peek, heartbeat, and lock expiry with the grace period (§4, §6 pop).
import { test, describe, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { useCore } from '../helpers/client-suite.ts';

const T = 1700000000;
const fx = useCore();

interface JobObject {
  jid: string;
  state: string;
  worker: string;
  expires: number;
  remaining: number;
  history: { what: string; when: number; worker?: string }[];
}

async function pop(now: number | string, queue: string, worker: string, count = 1): Promise<JobObject[]> {
  const reply = String(await fx.core.call(now, 'pop', queue, worker, count));
  return reply === '{}' ? [] : (JSON.parse(reply) as JobObject[]);
}

const jidsOf = (jobs: JobObject[]) => jobs.map((job) => job.jid);

describe('pop', () => {
  test('hands out the job: hash, lock, worker set, history, wait stat; leaves work', async () => {
    await fx.core.call(T, 'put', 'w', 'q', 'j', 'K', '{}', 0);
    const [job] = await pop(T + 1.5, 'q', 'w1');
    assert.equal(job.jid, 'j');
    assert.equal(job.state, 'running');
    assert.equal(job.expires, T + 61.5);
    assert.deepEqual(await fx.core.redis.hmget('ql:j:j', 'state', 'worker', 'expires', 'time'), [
      'running',
      'w1',
      '1700000061.5',
      '1700000001.50000000000000000000',
    ]);
    assert.deepEqual(await fx.core.redis.zrange('ql:q:q-locks', 0, -1, 'WITHSCORES'), ['j', '1700000061.5']);
    assert.deepEqual(await fx.core.redis.zrange('ql:w:w1:jobs', 0, -1, 'WITHSCORES'), ['j', '1700000061.5']);
    assert.deepEqual(await fx.core.redis.zrange('ql:workers', 0, -1, 'WITHSCORES'), ['w1', '1700000001.5']);
    assert.equal(await fx.core.redis.exists('ql:q:q-work'), 0);
    assert.deepEqual(await fx.core.redis.lrange('ql:j:j-history', 0, -1), [
      '[1700000000,"put",{"q":"q"}]',
      '[1700000001,"popped",{"worker":"w1"}]',
    ]);
    assert.deepEqual(await fx.core.redis.hgetall('ql:s:wait:1699920000:q'), {
      s1: '1',
      total: '1',
      mean: '1.5',
      vk: '0',
    });
  });

  test('higher priority first, then earlier put, exact ties in reverse jid order', async () => {
    await fx.core.call(T, 'put', 'w', 'q', 'a2', 'K', '{}', 0);
    await fx.core.call(T, 'put', 'w', 'q', 'c', 'K', '{}', 0);
    await fx.core.call(T, 'put', 'w', 'q', 'b', 'K', '{}', 0);
    await fx.core.call(T - 5, 'put', 'w', 'q', 'early', 'K', '{}', 0);
    await fx.core.call(T + 5, 'put', 'w', 'q', 'urgent', 'K', '{}', 0, 'priority', 10);
    await fx.core.call(T + 5, 'put', 'w', 'q', 'low', 'K', '{}', 0, 'priority', -1);
    assert.deepEqual(jidsOf(await pop(T + 6, 'q', 'w', 10)), ['urgent', 'early', 'c', 'b', 'a2', 'low']);
  });

  test('due scheduled jobs become waiting behind jobs put earlier', async () => {
    await fx.core.call(T, 'put', 'w', 'q', 's', 'K', '{}', 10);
    await fx.core.call(T + 5, 'put', 'w', 'q', 'a', 'K', '{}', 0);
    await fx.core.call(T + 9, 'put', 'w', 'q', 'b', 'K', '{}', 0);
    assert.deepEqual(jidsOf(JSON.parse(String(await fx.core.call(T + 9, 'peek', 'q', 5))) as JobObject[]), ['a', 'b']);
    assert.equal(await fx.core.redis.hget('ql:j:s', 'state'), 'scheduled');
    // At T+10 `s` enters work with score −(T+10)/1e10: behind `b`, put at T+9.
    assert.deepEqual(jidsOf(await pop(T + 10, 'q', 'w', 5)), ['a', 'b', 's']);
    assert.equal(await fx.core.redis.exists('ql:q:q-scheduled'), 0);
    assert.equal(await fx.core.redis.exists('ql:q:q-work'), 0);
  });

  test('nothing to pop: {} but the worker is registered', async () => {
    assert.equal(await fx.core.call(T, 'pop', 'q', 'w1', 3), '{}');
    assert.deepEqual(await fx.core.redis.zrange('ql:workers', 0, -1, 'WITHSCORES'), ['w1', String(T)]);
  });

  test('a paused queue pops nothing and does not register the worker; peek still works', async () => {
    await fx.core.call(T, 'put', 'w', 'q', 'j', 'K', '{}', 0);
    assert.equal(await fx.core.call(T, 'pause', 'q', 'other'), null);
    assert.deepEqual((await fx.core.redis.smembers('ql:paused_queues')).sort(), ['other', 'q']);
    const before = await fx.core.snapshot();
    assert.equal(await fx.core.call(T, 'pop', 'q', 'w1', 1), '{}');
    assert.deepEqual(await fx.core.snapshot(), before);
    assert.deepEqual(jidsOf(JSON.parse(String(await fx.core.call(T, 'peek', 'q', 1))) as JobObject[]), ['j']);
    const queue = JSON.parse(String(await fx.core.call(T, 'queues', 'q'))) as { paused: boolean };
    assert.equal(queue.paused, true);
    assert.equal(await fx.core.call(T, 'unpause', 'q'), null);
    assert.deepEqual(await fx.core.redis.smembers('ql:paused_queues'), ['other']);
    assert.deepEqual(jidsOf(await pop(T, 'q', 'w1')), ['j']);
  });

  test('pause/unpause with no queue names: Redis refuses', async () => {
    assert.equal(await fx.core.error(T, 'pause'), 'Wrong number of args calling Redis command from script');
    assert.equal(await fx.core.error(T, 'unpause'), 'Wrong number of args calling Redis command from script');
  });

  test('max-concurrency caps running jobs; courtesy locks count as running', async () => {
    for (const jid of ['a', 'b', 'c', 'd']) await fx.core.call(T, 'put', 'w', 'q', jid, 'K', '{}', 0);
    await fx.core.call(T, 'config.set', 'q-max-concurrency', 2);
    assert.deepEqual(jidsOf(await pop(T, 'q', 'w1', 5)), ['d', 'c']);
    assert.equal(await fx.core.call(T, 'pop', 'q', 'w1', 5), '{}');
    await fx.core.call(T, 'complete', 'd', 'w1', 'q', '{}');
    assert.deepEqual(jidsOf(await pop(T + 30, 'q', 'w1', 5)), ['b']);
    // At T+61 `c` has expired; `b` (expires T+90) runs: one slot. The courtesy for `c` does not
    // hand it out, so the slot goes to `a`, and the queue runs three locks for a while.
    assert.deepEqual(jidsOf(await pop(T + 61, 'q', 'w2', 5)), ['a']);
    assert.equal(await fx.core.redis.zcard('ql:q:q-locks'), 3);
    assert.equal(await fx.core.redis.hget('ql:j:c', 'grace'), '1');
  });

  test('max-concurrency reached: expired locks are not even looked at', async () => {
    await fx.core.call(T, 'put', 'w', 'q', 'a', 'K', '{}', 0);
    await fx.core.call(T, 'put', 'w', 'q', 'b', 'K', '{}', 0);
    await pop(T, 'q', 'w1', 1);
    await pop(T + 30, 'q', 'w1', 1);
    await fx.core.call(T, 'config.set', 'q-max-concurrency', 1);
    const before = await fx.core.snapshot();
    assert.equal(await fx.core.call(T + 61, 'pop', 'q', 'w2', 1), '{}');
    const after = await fx.core.snapshot();
    assert.deepEqual(after['ql:workers'], ['w1', String(T + 30), 'w2', String(T + 61)]);
    delete after['ql:workers'];
    delete before['ql:workers'];
    assert.deepEqual(after, before);
  });

  test('argument errors', async () => {
    await fx.core.call(T, 'put', 'w', 'q', 'j', 'K', '{}', 0);
    const before = await fx.core.snapshot();
    assert.equal(await fx.core.error(T, 'pop'), 'Queue(): no queue name provided');
    assert.equal(await fx.core.error(T, 'pop', 'q'), 'Pop(): Arg "worker" missing');
    assert.equal(await fx.core.error(T, 'pop', 'q', 'w'), 'Pop(): Arg "count" missing or not a number: nil');
    assert.equal(await fx.core.error(T, 'pop', 'q', 'w', 'two'), 'Pop(): Arg "count" missing or not a number: two');
    assert.deepEqual(await fx.core.snapshot(), before);
    // A fractional count reaches Redis (after the worker is registered) and is refused there.
    assert.equal(await fx.core.error(T, 'pop', 'q', 'w', 1.5), 'value is not an integer or out of range');
  });
});

describe('lock expiry and the grace period', () => {
  beforeEach(async () => {
    await fx.core.call(T, 'put', 'w', 'q', 'j', 'K', '{}', 0, 'retries', 1);
    await fx.core.call(T, 'track', 'track', 'j');
    await pop(T, 'q', 'w1');
  });

  test('first expiry: a courtesy period, the job is not handed out', async () => {
    const messages = await fx.core.listen('ql:*');
    assert.deepEqual(await pop(T + 61, 'q', 'w2'), []);
    assert.deepEqual(await messages.take(), [
      ['ql:stalled', 'j'],
      ['ql:w:w1', '{"jid":"j","event":"lock_lost","worker":"w1"}'],
      ['ql:log', '{"jid":"j","event":"lock_lost","worker":"w1"}'],
    ]);
    await messages.close();
    assert.deepEqual(await fx.core.redis.hmget('ql:j:j', 'state', 'worker', 'expires', 'grace', 'remaining'), [
      'running',
      'w1',
      String(T + 60),
      '1',
      '1',
    ]);
    assert.equal(await fx.core.redis.zscore('ql:q:q-locks', 'j'), String(T + 71));
    assert.equal(await fx.core.redis.exists('ql:w:w1:jobs'), 0);
    assert.deepEqual(await fx.core.redis.hgetall('ql:s:stats:1699920000:q'), { retries: '1' });
    assert.equal((await fx.core.redis.lrange('ql:j:j-history', -1, -1))[0], '[1700000061,"timed-out"]');
  });

  test('the next expiry hands the job on and uses up a retry', async () => {
    await pop(T + 61, 'q', 'w2');
    const messages = await fx.core.listen('ql:*');
    const [job] = await pop(T + 71, 'q', 'w2');
    assert.deepEqual(await messages.take(), [['ql:popped', 'j']]);
    await messages.close();
    assert.equal(job.jid, 'j');
    assert.equal(job.worker, 'w2');
    assert.equal(job.remaining, 0);
    assert.deepEqual(await fx.core.redis.hmget('ql:j:j', 'grace', 'remaining', 'expires'), [
      null,
      '0',
      String(T + 131),
    ]);
    assert.deepEqual(await fx.core.redis.zrange('ql:w:w2:jobs', 0, -1), ['j']);
  });

  test('the owner may heartbeat during the courtesy; the grace flag stays', async () => {
    await pop(T + 61, 'q', 'w2');
    assert.equal(await fx.core.call(T + 65, 'heartbeat', 'j', 'w1'), T + 125);
    assert.deepEqual(await fx.core.redis.zrange('ql:w:w1:jobs', 0, -1, 'WITHSCORES'), ['j', String(T + 125)]);
    assert.equal(await fx.core.redis.zscore('ql:q:q-locks', 'j'), String(T + 125));
    assert.equal(await fx.core.redis.hget('ql:j:j', 'grace'), '1');
    // No second courtesy: the next expiry hands it on at once.
    assert.deepEqual(jidsOf(await pop(T + 126, 'q', 'w2')), ['j']);
  });

  test('retries run out at a hand-on: failed-retries-<queue>', async () => {
    await pop(T + 61, 'q', 'w2');
    await pop(T + 71, 'q', 'w2');
    await pop(T + 132, 'q', 'w3');
    const messages = await fx.core.listen('ql:*');
    assert.deepEqual(await pop('1700000202.25', 'q', 'w3'), []);
    assert.deepEqual(await messages.take(), [
      ['ql:failed', 'j'],
      [
        'ql:log',
        '{"message":"Job exhausted retries in queue \\"q\\"","jid":"j","group":"failed-retries-q",' +
          '"event":"failed","worker":"w2"}',
      ],
    ]);
    await messages.close();
    assert.deepEqual(await fx.core.redis.hmget('ql:j:j', 'state', 'worker', 'expires', 'remaining', 'failure'), [
      'failed',
      '',
      '',
      '-1',
      '{"group":"failed-retries-q","message":"Job exhausted retries in queue \\"q\\"",' +
        '"when":1700000202.25,"worker":""}',
    ]);
    assert.equal(await fx.core.redis.exists('ql:q:q-locks'), 0);
    assert.deepEqual(await fx.core.redis.smembers('ql:failures'), ['failed-retries-q']);
    assert.deepEqual(await fx.core.redis.lrange('ql:f:failed-retries-q', 0, -1), ['j']);
    assert.deepEqual(await fx.core.redis.hgetall('ql:s:stats:1699920000:q'), {
      retries: '2',
      failures: '1',
      failed: '1',
    });
    assert.equal(
      (await fx.core.redis.lrange('ql:j:j-history', -1, -1))[0],
      '[1700000202,"failed",{"group":"failed-retries-q"}]',
    );
  });

  test('grace-period ≤ 0: courtesy and hand-on in the same pop', async () => {
    await fx.core.call(T, 'config.set', 'grace-period', 0);
    const messages = await fx.core.listen('ql:*');
    const [job] = await pop(T + 61, 'q', 'w2');
    assert.deepEqual(await messages.take(), [
      ['ql:stalled', 'j'],
      ['ql:w:w1', '{"jid":"j","event":"lock_lost","worker":"w1"}'],
      ['ql:log', '{"jid":"j","event":"lock_lost","worker":"w1"}'],
      ['ql:popped', 'j'],
    ]);
    assert.equal(job.worker, 'w2');
    assert.deepEqual(await fx.core.redis.hmget('ql:j:j', 'grace', 'remaining'), [null, '0']);
    assert.deepEqual(await fx.core.redis.hgetall('ql:s:stats:1699920000:q'), { retries: '1' });

    // The next expiry exhausts the last retry, also within one pop.
    assert.deepEqual(await pop(T + 122, 'q', 'w3'), []);
    assert.deepEqual(await messages.take(), [
      ['ql:stalled', 'j'],
      ['ql:w:w2', '{"jid":"j","event":"lock_lost","worker":"w2"}'],
      ['ql:log', '{"jid":"j","event":"lock_lost","worker":"w2"}'],
      ['ql:failed', 'j'],
      [
        'ql:log',
        '{"message":"Job exhausted retries in queue \\"q\\"","jid":"j","group":"failed-retries-q",' +
          '"event":"failed","worker":"w2"}',
      ],
    ]);
    await messages.close();
    assert.equal(await fx.core.redis.hget('ql:j:j', 'state'), 'failed');
    assert.deepEqual(await fx.core.redis.hgetall('ql:s:stats:1699920000:q'), {
      retries: '2',
      failures: '1',
      failed: '1',
    });
  });

  test('a negative grace-period behaves like 0 (lock briefly set in the past)', async () => {
    await fx.core.call(T, 'config.set', 'grace-period', -5);
    assert.deepEqual(jidsOf(await pop(T + 61, 'q', 'w2')), ['j']);
    assert.equal(await fx.core.redis.zscore('ql:q:q-locks', 'j'), String(T + 121));
  });

  test('expired locks are handled lowest score first, at most count of them', async () => {
    await fx.core.call(T + 10, 'put', 'w', 'q', 'k', 'K', '{}', 0);
    await pop(T + 10, 'q', 'w1');
    await fx.core.call(T, 'config.set', 'grace-period', 0);
    assert.deepEqual(jidsOf(await pop(T + 100, 'q', 'w2', 1)), ['j']);
    assert.equal(await fx.core.redis.hget('ql:j:k', 'worker'), 'w1');
    assert.deepEqual(jidsOf(await pop(T + 100, 'q', 'w2', 1)), ['k']);
  });
});

describe('peek', () => {
  test('expired locks first (untouched), then the best work; nothing is locked', async () => {
    await fx.core.call(T, 'put', 'w', 'q', 'old', 'K', '{}', 0);
    await pop(T, 'q', 'w1');
    await fx.core.call(T, 'put', 'w', 'q', 'a', 'K', '{}', 0);
    await fx.core.call(T, 'put', 'w', 'q', 'b', 'K', '{}', 0, 'priority', 1);
    const before = await fx.core.snapshot();
    const jobs = JSON.parse(String(await fx.core.call(T + 61, 'peek', 'q', 3))) as JobObject[];
    assert.deepEqual(jidsOf(jobs), ['old', 'b', 'a']);
    assert.equal(jobs[0].state, 'running');
    assert.deepEqual(await fx.core.snapshot(), before);
    assert.deepEqual(jidsOf(JSON.parse(String(await fx.core.call(T + 61, 'peek', 'q', 1))) as JobObject[]), ['old']);
    assert.equal(await fx.core.call(T, 'peek', 'empty', 2), '{}');
  });

  test('moves due scheduled jobs to waiting', async () => {
    await fx.core.call(T, 'put', 'w', 'q', 's', 'K', '{}', 10);
    assert.equal(await fx.core.call(T + 9, 'peek', 'q', 1), '{}');
    assert.deepEqual(jidsOf(JSON.parse(String(await fx.core.call(T + 10, 'peek', 'q', 1))) as JobObject[]), ['s']);
    assert.equal(await fx.core.redis.hget('ql:j:s', 'state'), 'waiting');
    assert.equal(await fx.core.redis.exists('ql:q:q-scheduled'), 0);
  });

  test('argument errors', async () => {
    assert.equal(await fx.core.error(T, 'peek'), 'Queue(): no queue name provided');
    assert.equal(await fx.core.error(T, 'peek', 'q'), 'Peek(): Arg "count" missing or not a number: nil');
    assert.equal(await fx.core.error(T, 'peek', 'q', 'x'), 'Peek(): Arg "count" missing or not a number: x');
    assert.equal(await fx.core.error(T, 'peek', 'q', 0.5), 'value is not an integer or out of range');
    assert.deepEqual(await fx.core.snapshot(), {});
  });
});

describe('heartbeat', () => {
  beforeEach(async () => {
    await fx.core.call(T, 'put', 'w', 'q', 'j', 'K', '{"b":2,"a":1,"c":[1,{}]}', 0);
    await pop(T, 'q', 'w1');
  });

  test('renews the lock; returns the new expiry truncated to an integer', async () => {
    const messages = await fx.core.listen('ql:*');
    assert.equal(await fx.core.call('1700000002.9', 'heartbeat', 'j', 'w1'), 1700000062);
    assert.deepEqual(await messages.take(), []);
    await messages.close();
    assert.equal(await fx.core.redis.hget('ql:j:j', 'expires'), '1700000062.9000001');
    assert.equal(await fx.core.redis.zscore('ql:q:q-locks', 'j'), '1700000062.9000001');
    assert.equal(await fx.core.redis.zscore('ql:w:w1:jobs', 'j'), '1700000062.9000001');
    assert.equal(await fx.core.redis.zscore('ql:workers', 'w1'), '1700000002.9000001');
    assert.equal(await fx.core.redis.hget('ql:j:j', 'data'), '{"b":2,"a":1,"c":[1,{}]}');
  });

  test('new data is decoded and re-encoded', async () => {
    await fx.core.call(T + 1, 'heartbeat', 'j', 'w1', '{"b":2,"a":1,"c":[1,{}]}');
    assert.equal(await fx.core.redis.hget('ql:j:j', 'data'), '{"a":1,"c":[1,{}],"b":2}');
  });

  test('refusals change nothing', async () => {
    await fx.core.call(T, 'put', 'w', 'q', 'waiting', 'K', '{}', 0);
    await fx.core.call(T, 'put', 'w', 'q', 'stalled', 'K', '{}', 0);
    await pop(T, 'q', 'w1', 5);
    await fx.core.call(T, 'put', 'w', 'q', 'waiting', 'K', '{}', 0);
    await fx.core.call(T, 'timeout', 'stalled');
    const before = await fx.core.snapshot();
    assert.equal(await fx.core.error(T, 'heartbeat'), 'Job(): no jid provided');
    assert.equal(await fx.core.error(T, 'heartbeat', 'j'), 'Heatbeat(): Arg "worker" missing');
    assert.equal(await fx.core.error(T, 'heartbeat', 'ghost', 'w1'), 'Heartbeat(): Job ghost does not exist');
    assert.equal(
      await fx.core.error(T, 'heartbeat', 'ghost', 'w1', '{bad'),
      'Expected object key string but found invalid token at character 2',
    );
    assert.equal(
      await fx.core.error(T, 'heartbeat', 'waiting', 'w1'),
      'Heartbeat(): Job waiting not currently running: waiting',
    );
    assert.equal(
      await fx.core.error(T, 'heartbeat', 'stalled', 'w1'),
      'Heartbeat(): Job stalled not currently running: stalled',
    );
    assert.equal(await fx.core.error(T, 'heartbeat', 'j', 'w2'), 'Heartbeat(): Job j given out to another worker: w1');
    assert.deepEqual(await fx.core.snapshot(), before);
  });
});
