// complete (plain and advancing), completed-job expiry, dependency release, fail, retry (§4, §6).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { useCore } from '../helpers/client-suite.ts';

const T = 1700000000;
const fx = useCore();

/** Puts `jid` into `queue` and pops it for `worker` (at T unless said otherwise). */
async function running(
  jid: string,
  options: (string | number)[] = [],
  worker = 'w1',
  queue = 'q',
  at = T,
): Promise<void> {
  await fx.core.call(at, 'put', 'w0', queue, jid, 'K', '{}', 0, ...options);
  const popped = String(await fx.core.call(at, 'pop', queue, worker, 1));
  assert.ok(popped.includes(`"jid":"${jid}"`), `expected to pop ${jid}: ${popped}`);
}

const lastHistory = async (jid: string, n = 1) => fx.core.redis.lrange(`ql:j:${jid}-history`, -n, -1);

describe('complete', () => {
  test('plain: the job is complete and leaves every running set', async () => {
    await running('j', ['retries', 3]);
    await fx.core.call(T + 1, 'retry', 'j', 'q', 'w1');
    await fx.core.call(T + 2, 'pop', 'q', 'w1', 1);
    await fx.core.call(T + 2, 'track', 'track', 'j');
    const messages = await fx.core.listen('ql:*');
    assert.equal(await fx.core.call(T + 4.5, 'complete', 'j', 'w1', 'q', '{"out":1}'), 'complete');
    assert.deepEqual(await messages.take(), [
      ['ql:completed', 'j'],
      ['ql:log', '{"jid":"j","event":"completed","queue":"q"}'],
    ]);
    await messages.close();
    assert.deepEqual(
      await fx.core.redis.hmget(
        'ql:j:j',
        'state',
        'worker',
        'queue',
        'expires',
        'failure',
        'remaining',
        'data',
        'time',
      ),
      ['complete', '', '', '0', '{}', '3', '{"out":1}', '1700000004.50000000000000000000'],
    );
    assert.deepEqual(await fx.core.redis.zrange('ql:completed', 0, -1, 'WITHSCORES'), ['j', '1700000004.5']);
    assert.equal(await fx.core.redis.exists('ql:q:q-locks'), 0);
    assert.equal(await fx.core.redis.exists('ql:w:w1:jobs'), 0);
    assert.deepEqual(await lastHistory('j'), ['[1700000004,"done"]']);
    assert.deepEqual(await fx.core.redis.hgetall('ql:s:run:1699920000:q'), {
      s2: '1',
      total: '1',
      mean: '2.5',
      vk: '0',
    });
  });

  test('with next: advanced to the next queue, waiting', async () => {
    await running('j', ['priority', 2]);
    const messages = await fx.core.listen('ql:*');
    assert.equal(await fx.core.call(T + 3, 'complete', 'j', 'w1', 'q', '{}', 'next', 'q2'), 'waiting');
    assert.deepEqual(await messages.take(), [['ql:log', '{"jid":"j","to":"q2","event":"advanced","queue":"q"}']]);
    await messages.close();
    assert.deepEqual(
      await fx.core.redis.hmget('ql:j:j', 'state', 'worker', 'queue', 'expires', 'failure', 'remaining'),
      ['waiting', '', 'q2', '0', '{}', '5'],
    );
    assert.equal(Number(await fx.core.redis.zscore('ql:q:q2-work', 'j')), 2 - (T + 3) / 1e10);
    assert.deepEqual(await fx.core.redis.zrange('ql:queues', 0, -1, 'WITHSCORES'), [
      'q',
      String(T),
      'q2',
      String(T + 3),
    ]);
    assert.deepEqual(await lastHistory('j', 2), ['[1700000003,"done"]', '[1700000003,"put",{"q":"q2"}]']);
    assert.equal(await fx.core.redis.exists('ql:completed'), 0);
    assert.ok(await fx.core.redis.exists('ql:s:run:1699920000:q'));
  });

  test('with next and delay: -scheduled, the state field says waiting', async () => {
    await running('j');
    assert.equal(await fx.core.call(T + 3, 'complete', 'j', 'w1', 'q', '{}', 'next', 'q2', 'delay', 10), 'scheduled');
    assert.equal(await fx.core.redis.hget('ql:j:j', 'state'), 'waiting');
    assert.deepEqual(await fx.core.redis.zrange('ql:q:q2-scheduled', 0, -1, 'WITHSCORES'), ['j', String(T + 13)]);
  });

  test('with next and live depends: -depends, plus `scheduled` when delayed', async () => {
    await fx.core.call(T, 'put', 'w0', 'other', 'dep', 'K', '{}', 0);
    await running('j');
    assert.equal(
      await fx.core.call(
        T + 3,
        'complete',
        'j',
        'w1',
        'q',
        '{}',
        'next',
        'q2',
        'depends',
        '["dep","ghost"]',
        'delay',
        5,
      ),
      'depends',
    );
    assert.deepEqual(await fx.core.redis.hmget('ql:j:j', 'state', 'scheduled'), ['depends', String(T + 8)]);
    assert.deepEqual(await fx.core.redis.zrange('ql:q:q2-depends', 0, -1, 'WITHSCORES'), ['j', String(T + 3)]);
    assert.deepEqual(await fx.core.redis.smembers('ql:j:j-dependencies'), ['dep']);

    await running('k');
    assert.equal(
      await fx.core.call(T + 3, 'complete', 'k', 'w1', 'q', '{}', 'next', 'q2', 'depends', '["ghost"]', 'delay', 5),
      'waiting',
    );
  });

  test('advancing does not release dependents; a trailing `next` without value completes', async () => {
    await running('j');
    await fx.core.call(T, 'put', 'w0', 'q', 'child', 'K', '{}', 0, 'depends', '["j"]');
    await fx.core.call(T + 1, 'complete', 'j', 'w1', 'q', '{}', 'next', 'q2');
    assert.equal(await fx.core.redis.hget('ql:j:child', 'state'), 'depends');
    await fx.core.call(T + 1, 'pop', 'q2', 'w1', 1);
    assert.equal(await fx.core.call(T + 2, 'complete', 'j', 'w1', 'q2', '{}', 'next'), 'complete');
    assert.equal(await fx.core.redis.hget('ql:j:child', 'state'), 'waiting');
  });

  test('refusals change nothing', async () => {
    await running('j');
    await fx.core.call(T, 'put', 'w0', 'q', 'waiting', 'K', '{}', 0);
    const before = await fx.core.snapshot();
    const cases: [string, (string | number)[]][] = [
      ['Job(): no jid provided', []],
      ['Complete(): Arg "worker" missing', ['j']],
      ['Complete(): Arg "queue" missing', ['j', 'w1']],
      ["bad argument #1 to 'decode' (string expected, got nil)", ['j', 'w1', 'q']],
      ['Expected value but found invalid token at character 1', ['j', 'w1', 'q', 'nope']],
      ['Complete(): Arg "data" missing or not JSON: false', ['j', 'w1', 'q', 'false']],
      ['assertion failed!', ['j', 'w1', 'q', '{}', 'next', 'q2', 'delay', 'soon']],
      ['Complete(): "delay" cannot be used without a "next".', ['j', 'w1', 'q', '{}', 'delay', 0]],
      ['Complete(): "depends" cannot be used without a "next".', ['j', 'w1', 'q', '{}', 'depends', '[]']],
      ['Complete(): Job ghost does not exist', ['ghost', 'w1', 'q', '{}']],
      ['Complete(): Job waiting is not currently running: waiting', ['waiting', 'w1', 'q', '{}']],
      ['Complete(): Job j has been handed out to another worker: w1', ['j', 'w2', 'q', '{}']],
      ['Complete(): Job j running in another queue: q', ['j', 'w1', 'q9', '{}']],
    ];
    for (const [message, args] of cases) {
      assert.equal(await fx.core.error(T + 1, 'complete', ...args), message, message);
    }
    assert.deepEqual(await fx.core.snapshot(), before);
  });
});

describe('dependency release on plain completion', () => {
  test('waiting or scheduled (stale `scheduled` reused even if past); history and time untouched', async () => {
    await running('a');
    await fx.core.call(T, 'put', 'w0', 'q', 'b', 'K', '{}', 0);
    await fx.core.call(T, 'put', 'w0', 'q', 'plain', 'K', '{}', 0, 'depends', '["a"]', 'priority', 3);
    await fx.core.call(T, 'put', 'w0', 'q', 'both', 'K', '{}', 0, 'depends', '["a","b"]');
    await fx.core.call(T, 'put', 'w0', 'q2', 'later', 'K', '{}', 5, 'depends', '["a"]');
    const historyBefore = await fx.core.redis.lrange('ql:j:plain-history', 0, -1);

    await fx.core.call(T + 100, 'complete', 'a', 'w1', 'q', '{}');
    assert.deepEqual(await fx.core.redis.hmget('ql:j:plain', 'state', 'time'), [
      'waiting',
      '1700000000.00000000000000000000',
    ]);
    assert.equal(Number(await fx.core.redis.zscore('ql:q:q-work', 'plain')), 3 - (T + 100) / 1e10);
    assert.deepEqual(await fx.core.redis.lrange('ql:j:plain-history', 0, -1), historyBefore);
    assert.deepEqual(await fx.core.redis.hmget('ql:j:later', 'state', 'scheduled'), ['scheduled', null]);
    assert.equal(await fx.core.redis.zscore('ql:q:q2-scheduled', 'later'), String(T + 5));
    assert.equal(await fx.core.redis.hget('ql:j:both', 'state'), 'depends');
    assert.deepEqual(await fx.core.redis.smembers('ql:j:both-dependencies'), ['b']);
    assert.deepEqual(await fx.core.redis.zrange('ql:q:q-depends', 0, -1), ['both']);
    assert.equal(await fx.core.redis.exists('ql:j:a-dependents'), 0);
  });
});

describe('completed-job expiry', () => {
  test('by age: completions at or before now − jobs-history go, with their tags', async () => {
    await fx.core.call(T, 'config.set', 'jobs-history', 100);
    await running('old', ['tags', '["t"]']);
    await fx.core.call(T, 'complete', 'old', 'w1', 'q', '{}');
    await fx.core.call(T, 'track', 'track', 'old');
    await running('new', ['tags', '["t"]'], 'w1', 'q', T + 50);
    await fx.core.call(T + 50, 'complete', 'new', 'w1', 'q', '{}');
    await running('last', [], 'w1', 'q', T + 100);
    await fx.core.call(T + 100, 'complete', 'last', 'w1', 'q', '{}');
    assert.equal(await fx.core.redis.exists('ql:j:old', 'ql:j:old-history'), 0);
    assert.deepEqual(await fx.core.redis.zrange('ql:completed', 0, -1), ['new', 'last']);
    assert.deepEqual(await fx.core.redis.zrange('ql:t:t', 0, -1), ['new']);
    assert.deepEqual(await fx.core.redis.zrange('ql:tags', 0, -1, 'WITHSCORES'), ['t', '1']);
    // The tracked entry stays (listed as expired by `track`).
    assert.equal(await fx.core.call(T + 100, 'track'), '{"expired":["old"],"jobs":{}}');
  });

  test('by count: only the newest jobs-history-count stay', async () => {
    await fx.core.call(T, 'config.set', 'jobs-history-count', 2);
    for (const [i, jid] of ['a', 'b', 'c'].entries()) {
      await running(jid, [], 'w1', 'q', T + i);
      await fx.core.call(T + i, 'complete', jid, 'w1', 'q', '{}');
    }
    assert.deepEqual(await fx.core.redis.zrange('ql:completed', 0, -1), ['b', 'c']);
    assert.equal(await fx.core.redis.exists('ql:j:a'), 0);
    assert.deepEqual(await fx.core.call(T + 5, 'jobs', 'complete'), ['c', 'b']);
  });

  test('jobs-history-count 0 deletes the job just completed, but still releases dependents', async () => {
    await fx.core.call(T, 'config.set', 'jobs-history-count', 0);
    await running('j', ['tags', '["t"]']);
    await fx.core.call(T, 'put', 'w0', 'q', 'child', 'K', '{}', 0, 'depends', '["j"]');
    assert.equal(await fx.core.call(T + 1, 'complete', 'j', 'w1', 'q', '{}'), 'complete');
    assert.equal(await fx.core.redis.exists('ql:j:j', 'ql:j:j-history', 'ql:completed', 'ql:t:t'), 0);
    assert.equal(await fx.core.redis.hget('ql:j:child', 'state'), 'waiting');
    assert.equal(await fx.core.redis.exists('ql:j:child-dependencies'), 0);
  });
});

describe('fail', () => {
  test('records the failure and leaves the running sets; tags stay', async () => {
    await running('j', ['tags', '["t"]']);
    await fx.core.call(T, 'track', 'track', 'j');
    await running('k');
    await fx.core.call(T, 'fail', 'k', 'w1', 'grp', 'earlier');
    const messages = await fx.core.listen('ql:*');
    assert.equal(await fx.core.call(T + 4.5, 'fail', 'j', 'w1', 'grp', 'mess', '{"b":2,"a":1}'), 'j');
    assert.deepEqual(await messages.take(), [
      ['ql:log', '{"message":"mess","jid":"j","group":"grp","event":"failed","worker":"w1"}'],
      ['ql:failed', 'j'],
    ]);
    await messages.close();
    assert.deepEqual(await fx.core.redis.hmget('ql:j:j', 'state', 'worker', 'expires', 'failure', 'data', 'tags'), [
      'failed',
      '',
      '',
      '{"group":"grp","message":"mess","when":1700000004,"worker":"w1"}',
      '{"a":1,"b":2}',
      '["t"]',
    ]);
    assert.deepEqual(await fx.core.redis.lrange('ql:f:grp', 0, -1), ['j', 'k']);
    assert.deepEqual(await fx.core.redis.smembers('ql:failures'), ['grp']);
    assert.equal(await fx.core.redis.exists('ql:q:q-locks', 'ql:w:w1:jobs'), 0);
    assert.deepEqual(await fx.core.redis.hgetall('ql:s:stats:1699920000:q'), { failures: '2', failed: '2' });
    assert.deepEqual(await lastHistory('j'), ['[1700000004,"failed",{"group":"grp","worker":"w1"}]']);
    assert.equal(await fx.core.redis.zscore('ql:t:t', 'j'), String(T));
  });

  test('refusals change nothing', async () => {
    await running('j');
    await fx.core.call(T, 'put', 'w0', 'q', 'waiting', 'K', '{}', 0);
    const before = await fx.core.snapshot();
    assert.equal(await fx.core.error(T, 'fail'), 'Job(): no jid provided');
    assert.equal(await fx.core.error(T, 'fail', 'j'), 'Fail(): Arg "worker" missing');
    assert.equal(await fx.core.error(T, 'fail', 'j', 'w1'), 'Fail(): Arg "group" missing');
    assert.equal(await fx.core.error(T, 'fail', 'j', 'w1', 'g'), 'Fail(): Arg "message" missing');
    assert.equal(await fx.core.error(T, 'fail', 'ghost', 'w1', 'g', 'm'), 'Fail(): Job ghostdoes not exist');
    assert.equal(
      await fx.core.error(T, 'fail', 'ghost', 'w1', 'g', 'm', '[bad'),
      'Expected value but found invalid token at character 2',
    );
    assert.equal(
      await fx.core.error(T, 'fail', 'waiting', 'w1', 'g', 'm'),
      'Fail(): Job waitingnot currently running: waiting',
    );
    assert.equal(await fx.core.error(T, 'fail', 'j', 'w2', 'g', 'm'), 'Fail(): Job j running with another worker: w1');
    assert.deepEqual(await fx.core.snapshot(), before);
  });
});

describe('retry', () => {
  test('back to waiting: remaining −1, grace gone, worker/expires/time kept, no history, no events', async () => {
    await running('j', ['priority', 4]);
    await fx.core.redis.hset('ql:j:j', 'grace', 1);
    const historyBefore = await fx.core.redis.lrange('ql:j:j-history', 0, -1);
    const messages = await fx.core.listen('ql:*');
    assert.equal(await fx.core.call(T + 2, 'retry', 'j', 'q', 'w1'), 4);
    assert.deepEqual(await messages.take(), []);
    await messages.close();
    assert.deepEqual(
      await fx.core.redis.hmget('ql:j:j', 'state', 'remaining', 'grace', 'worker', 'expires', 'time', 'failure'),
      ['waiting', '4', null, 'w1', String(T + 60), '1700000000.00000000000000000000', null],
    );
    assert.equal(Number(await fx.core.redis.zscore('ql:q:q-work', 'j')), 4 - (T + 2) / 1e10);
    assert.equal(await fx.core.redis.exists('ql:q:q-locks', 'ql:w:w1:jobs'), 0);
    assert.deepEqual(await fx.core.redis.lrange('ql:j:j-history', 0, -1), historyBefore);
  });

  test('with a delay: scheduled; with group and message: the failure is recorded', async () => {
    await running('j');
    assert.equal(await fx.core.call(T + 2.5, 'retry', 'j', 'q', 'w1', 10, 'grp', 'why'), 4);
    assert.equal(await fx.core.redis.hget('ql:j:j', 'state'), 'scheduled');
    assert.equal(await fx.core.redis.zscore('ql:q:q-scheduled', 'j'), '1700000012.5');
    assert.equal(
      await fx.core.redis.hget('ql:j:j', 'failure'),
      '{"group":"grp","message":"why","when":1700000002,"worker":"w1"}',
    );
  });

  test('the queue argument is where the job goes back to', async () => {
    await running('j');
    await fx.core.call(T + 1, 'retry', 'j', 'elsewhere', 'w1');
    assert.ok(await fx.core.redis.zscore('ql:q:elsewhere-work', 'j'));
    assert.equal(await fx.core.redis.hget('ql:j:j', 'queue'), 'q');
  });

  test('retries exhausted: failed-retries-<queue>, only ql:failed is published', async () => {
    await running('j', ['retries', 0], 'w1', 'q4');
    await fx.core.call(T, 'track', 'track', 'j');
    const messages = await fx.core.listen('ql:*');
    assert.equal(await fx.core.call('1700000001.5', 'retry', 'j', 'q4', 'w1'), -1);
    assert.deepEqual(await messages.take(), [['ql:failed', 'j']]);
    await messages.close();
    assert.deepEqual(await fx.core.redis.hmget('ql:j:j', 'state', 'worker', 'expires', 'remaining', 'failure'), [
      'failed',
      '',
      '',
      '-1',
      '{"group":"failed-retries-q4","message":"Job exhausted retries in queue \\"q4\\"",' +
        '"when":1700000001.5,"worker":""}',
    ]);
    assert.deepEqual(await fx.core.redis.lrange('ql:f:failed-retries-q4', 0, -1), ['j']);
    assert.deepEqual(await fx.core.redis.hgetall('ql:s:stats:1699920000:q4'), { failures: '1', failed: '1' });
    assert.deepEqual(await lastHistory('j'), ['[1700000001,"failed",{"group":"failed-retries-q4"}]']);
    assert.equal(await fx.core.redis.exists('ql:q:q4-locks', 'ql:q:q4-work'), 0);
  });

  test('retries exhausted with a group (and message) of the caller', async () => {
    await running('a', ['retries', 0], 'w1', 'q');
    await fx.core.call(T + 1.5, 'retry', 'a', 'other', 'w1', 0, 'mine');
    assert.equal(
      await fx.core.redis.hget('ql:j:a', 'failure'),
      '{"group":"mine","message":"Job exhausted retries in queue \\"q\\"","when":1700000001.5,"worker":""}',
    );
    await running('b', ['retries', 0], 'w1', 'q');
    await fx.core.call(T + 1.5, 'retry', 'b', 'other', 'w1', 0, 'mine', 'gave up');
    assert.equal(
      await fx.core.redis.hget('ql:j:b', 'failure'),
      '{"group":"mine","message":"gave up","when":1700000001,"worker":"w1"}',
    );
    assert.deepEqual(await fx.core.redis.lrange('ql:f:mine', 0, -1), ['b', 'a']);
    // Stats go to the queue argument.
    assert.deepEqual(await fx.core.redis.hgetall('ql:s:stats:1699920000:other'), { failures: '2', failed: '2' });
  });

  test('refusals change nothing', async () => {
    await running('j');
    await fx.core.call(T, 'put', 'w0', 'q', 'waiting', 'K', '{}', 0);
    const before = await fx.core.snapshot();
    assert.equal(await fx.core.error(T, 'retry'), 'Job(): no jid provided');
    assert.equal(await fx.core.error(T, 'retry', 'j'), 'Retry(): Arg "queue" missing');
    assert.equal(await fx.core.error(T, 'retry', 'j', 'q'), 'Retry(): Arg "worker" missing');
    assert.equal(await fx.core.error(T, 'retry', 'j', 'q', 'w1', 'later'), 'Retry(): Arg "delay" not a number: later');
    assert.equal(await fx.core.error(T, 'retry', 'ghost', 'q', 'w1'), 'Retry(): Job ghost does not exist');
    assert.equal(
      await fx.core.error(T, 'retry', 'waiting', 'q', 'w1'),
      'Retry(): Job waiting is not currently running: waiting',
    );
    assert.equal(
      await fx.core.error(T, 'retry', 'j', 'q', 'w2'),
      'Retry(): Job j has been given to another worker: w1',
    );
    assert.deepEqual(await fx.core.snapshot(), before);
  });
});
