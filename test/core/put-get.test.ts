// put, requeue, get, multiget (§4, §6 put details), the history cap and legacy history (§2).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { useCore } from '../helpers/client-suite.ts';

const T = 1700000000;
const fx = useCore();

const history = (jid: string) => fx.core.redis.lrange(`ql:j:${jid}-history`, 0, -1);

describe('put of a new job', () => {
  test('writes the hash fields in order, the work score, the queue and the history', async () => {
    const messages = await fx.core.listen('ql:*');
    assert.equal(await fx.core.call(T, 'put', 'w', 'q', 'j', 'K', '{"a":1}', 0), 'j');
    assert.deepEqual(await fx.core.redis.hkeys('ql:j:j'), [
      'jid',
      'klass',
      'data',
      'priority',
      'tags',
      'state',
      'worker',
      'expires',
      'queue',
      'retries',
      'remaining',
      'time',
    ]);
    assert.deepEqual(await fx.core.redis.hgetall('ql:j:j'), {
      jid: 'j',
      klass: 'K',
      data: '{"a":1}',
      priority: '0',
      tags: '{}',
      state: 'waiting',
      worker: '',
      expires: '0',
      queue: 'q',
      retries: '5',
      remaining: '5',
      time: '1700000000.00000000000000000000',
    });
    assert.deepEqual(await fx.core.redis.zrange('ql:q:q-work', 0, -1), ['j']);
    assert.equal(Number(await fx.core.redis.zscore('ql:q:q-work', 'j')), 0 - T / 1e10);
    assert.deepEqual(await fx.core.redis.zrange('ql:queues', 0, -1, 'WITHSCORES'), ['q', String(T)]);
    assert.deepEqual(await history('j'), ['[1700000000,"put",{"q":"q"}]']);
    assert.deepEqual(await messages.take(), [['ql:log', '{"jid":"j","event":"put","queue":"q"}']]);
    await messages.close();
  });

  test('options: priority, tags, retries; numbers keep %.17g in the hash', async () => {
    await fx.core.call(
      T + 0.5,
      'put',
      'w',
      'q',
      'j',
      'K',
      '{}',
      0,
      'priority',
      '0.1',
      'tags',
      '["a","b"]',
      'retries',
      '2.7',
    );
    assert.deepEqual(await fx.core.redis.hmget('ql:j:j', 'priority', 'tags', 'retries', 'remaining', 'time'), [
      '0.10000000000000001',
      '["a","b"]',
      '2.7000000000000002',
      '2.7000000000000002',
      '1700000000.50000000000000000000',
    ]);
    assert.equal(await fx.core.redis.zscore('ql:t:a', 'j'), String(T + 0.5));
    assert.deepEqual(await fx.core.redis.zrange('ql:tags', 0, -1, 'WITHSCORES'), ['a', '1', 'b', '1']);
  });

  test('a delay schedules it', async () => {
    await fx.core.call(T, 'put', 'w', 'q', 'j', 'K', '{}', 30);
    assert.equal(await fx.core.redis.hget('ql:j:j', 'state'), 'scheduled');
    assert.deepEqual(await fx.core.redis.zrange('ql:q:q-scheduled', 0, -1, 'WITHSCORES'), ['j', String(T + 30)]);
    assert.equal(await fx.core.redis.exists('ql:q:q-work'), 0);
  });

  test('dependencies on live jobs block it; missing and complete ones are ignored', async () => {
    await fx.core.call(T, 'put', 'w', 'q', 'a', 'K', '{}', 0);
    await fx.core.call(T, 'put', 'w', 'q', 'done', 'K', '{}', 0);
    await fx.core.call(T, 'pop', 'q', 'w', 5);
    await fx.core.call(T, 'complete', 'done', 'w', 'q', '{}');
    await fx.core.call(T, 'put', 'w', 'q', 'j', 'K', '{}', 0, 'depends', '["a","done","ghost"]');
    assert.equal(await fx.core.redis.hget('ql:j:j', 'state'), 'depends');
    assert.deepEqual(await fx.core.redis.smembers('ql:j:j-dependencies'), ['a']);
    assert.deepEqual(await fx.core.redis.smembers('ql:j:a-dependents'), ['j']);
    assert.equal(await fx.core.redis.exists('ql:j:done-dependents'), 0);
    assert.deepEqual(await fx.core.redis.zrange('ql:q:q-depends', 0, -1, 'WITHSCORES'), ['j', String(T)]);

    await fx.core.call(T, 'put', 'w', 'q', 'k', 'K', '{}', 0, 'depends', '["done","ghost"]');
    assert.equal(await fx.core.redis.hget('ql:j:k', 'state'), 'waiting');
  });

  test('delay with live dependencies: -depends now, `scheduled` field = now + delay', async () => {
    await fx.core.call(T, 'put', 'w', 'q', 'a', 'K', '{}', 0);
    await fx.core.call(T, 'put', 'w', 'q', 'j', 'K', '{}', 20, 'depends', '["a"]');
    assert.deepEqual(await fx.core.redis.hmget('ql:j:j', 'state', 'scheduled'), ['depends', String(T + 20)]);
    assert.deepEqual(await fx.core.redis.zrange('ql:q:q-depends', 0, -1, 'WITHSCORES'), ['j', String(T)]);
    assert.equal(await fx.core.redis.exists('ql:q:q-scheduled'), 0);
  });

  test('tracked jobs publish ql:put after the log event', async () => {
    await fx.core.call(T, 'put', 'w', 'q', 'j', 'K', '{}', 0);
    await fx.core.call(T, 'track', 'track', 'j');
    const messages = await fx.core.listen('ql:*');
    await fx.core.call(T, 'put', 'w', 'q', 'j', 'K', '{}', 0);
    assert.deepEqual(await messages.take(), [
      ['ql:log', '{"jid":"j","event":"put","queue":"q"}'],
      ['ql:put', 'j'],
    ]);
    await messages.close();
  });
});

describe('put of an existing job', () => {
  test('options default to the stored values; remaining resets; history grows', async () => {
    await fx.core.call(T, 'put', 'w', 'q', 'j', 'K', '{}', 0, 'priority', 7, 'tags', '["t"]', 'retries', 3);
    await fx.core.call(T, 'pop', 'q', 'w', 1);
    await fx.core.call(T + 1, 'retry', 'j', 'q', 'w');
    assert.equal(await fx.core.redis.hget('ql:j:j', 'remaining'), '2');
    await fx.core.call(T + 2, 'put', 'w', 'q', 'j', 'K2', '{"b":2}', 0);
    assert.deepEqual(
      await fx.core.redis.hmget('ql:j:j', 'klass', 'data', 'priority', 'tags', 'retries', 'remaining', 'state'),
      ['K2', '{"b":2}', '7', '["t"]', '3', '3', 'waiting'],
    );
    assert.equal((await history('j')).length, 3);
    assert.deepEqual(await fx.core.redis.zrange('ql:tags', 0, -1, 'WITHSCORES'), ['t', '1']);
    assert.equal(await fx.core.redis.zscore('ql:t:t', 'j'), String(T + 2));
  });

  test('moving to another queue leaves every set of the old one', async () => {
    await fx.core.call(T, 'put', 'w', 'a', 'j', 'K', '{}', 0);
    await fx.core.call(T, 'pop', 'a', 'w1', 1);
    const messages = await fx.core.listen('ql:*');
    await fx.core.call(T + 1, 'put', 'w2', 'b', 'j', 'K', '{}', 0);
    assert.deepEqual(await messages.take(), [
      ['ql:log', '{"jid":"j","event":"put","queue":"b"}'],
      ['ql:w:w1', '{"jid":"j","event":"lock_lost","worker":"w1"}'],
      ['ql:log', '{"jid":"j","event":"lock_lost","worker":"w1"}'],
    ]);
    await messages.close();
    for (const set of ['work', 'locks', 'scheduled', 'depends']) {
      assert.equal(await fx.core.redis.exists(`ql:q:a-${set}`), 0, set);
    }
    assert.equal(await fx.core.redis.exists('ql:w:w1:jobs'), 0);
    assert.deepEqual(await fx.core.redis.hmget('ql:j:j', 'queue', 'state', 'worker', 'expires'), [
      'b',
      'waiting',
      '',
      '0',
    ]);
    assert.deepEqual(await fx.core.redis.zrange('ql:queues', 0, -1), ['a', 'b']);
  });

  test('the owner moving its own job gets no lock_lost', async () => {
    await fx.core.call(T, 'put', 'w', 'a', 'j', 'K', '{}', 0);
    await fx.core.call(T, 'pop', 'a', 'w1', 1);
    const messages = await fx.core.listen('ql:*');
    await fx.core.call(T + 1, 'put', 'w1', 'b', 'j', 'K', '{}', 0);
    assert.deepEqual(await messages.take(), [['ql:log', '{"jid":"j","event":"put","queue":"b"}']]);
    await messages.close();
    assert.equal(await fx.core.redis.exists('ql:w:w1:jobs'), 0);
  });

  test('a complete job leaves ql:completed', async () => {
    await fx.core.call(T, 'put', 'w', 'q', 'j', 'K', '{}', 0);
    await fx.core.call(T, 'pop', 'q', 'w', 1);
    await fx.core.call(T, 'complete', 'j', 'w', 'q', '{}');
    assert.equal(await fx.core.redis.zscore('ql:completed', 'j'), String(T));
    await fx.core.call(T + 1, 'put', 'w', 'q', 'j', 'K', '{}', 0);
    assert.equal(await fx.core.redis.exists('ql:completed'), 0);
  });

  test('a failed job leaves its group; failed −1 on its failure day under the NEW queue', async () => {
    await fx.core.call(T, 'put', 'w', 'q', 'j', 'K', '{}', 0);
    await fx.core.call(T, 'pop', 'q', 'w', 1);
    await fx.core.call(T, 'fail', 'j', 'w', 'grp', 'boom');
    await fx.core.call(T + 86400, 'put', 'w', 'other', 'j', 'K', '{}', 0);
    assert.equal(await fx.core.redis.exists('ql:f:grp'), 0);
    assert.equal(await fx.core.redis.exists('ql:failures'), 0);
    assert.deepEqual(await fx.core.redis.hgetall('ql:s:stats:1699920000:q'), { failures: '1', failed: '1' });
    assert.deepEqual(await fx.core.redis.hgetall('ql:s:stats:1699920000:other'), { failed: '-1' });
    // The failure record is kept.
    assert.equal(
      await fx.core.redis.hget('ql:j:j', 'failure'),
      '{"group":"grp","message":"boom","when":1700000000,"worker":"w"}',
    );
  });

  test('a non-empty depends list replaces the old dependencies; an empty one keeps them', async () => {
    for (const jid of ['a', 'b', 'c']) await fx.core.call(T, 'put', 'w', 'q', jid, 'K', '{}', 0);
    await fx.core.call(T, 'put', 'w', 'q', 'j', 'K', '{}', 0, 'depends', '["a","b"]');
    await fx.core.call(T, 'put', 'w', 'q', 'j', 'K', '{}', 0, 'depends', '["b","c"]');
    assert.deepEqual((await fx.core.redis.smembers('ql:j:j-dependencies')).sort(), ['b', 'c']);
    assert.equal(await fx.core.redis.exists('ql:j:a-dependents'), 0);
    await fx.core.call(T, 'put', 'w', 'q', 'j', 'K', '{}', 0);
    assert.deepEqual((await fx.core.redis.smembers('ql:j:j-dependencies')).sort(), ['b', 'c']);
    assert.equal(await fx.core.redis.hget('ql:j:j', 'state'), 'depends');
  });
});

describe('put refusals', () => {
  test('checked before any write: nothing changes', async () => {
    await fx.core.call(T, 'put', 'w', 'q', 'old', 'K', '{}', 0, 'tags', '["t"]');
    const before = await fx.core.snapshot();
    const cases: [string, (string | number)[]][] = [
      ['Queue(): no queue name provided', ['w']],
      ['Put(): Arg "jid" missing', ['w', 'q']],
      ['Put(): Arg "klass" missing', ['w', 'q', 'j']],
      ["bad argument #1 to 'decode' (string expected, got nil)", ['w', 'q', 'j', 'K']],
      ['Expected value but found invalid token at character 1', ['w', 'q', 'j', 'K', 'x', 0]],
      ['Expected object key string but found invalid token at character 2', ['w', 'q', 'j', 'K', '{x', 0]],
      ['Put(): Arg "data" missing or not JSON: false', ['w', 'q', 'j', 'K', 'false', 0]],
      ['Put(): Arg "delay" not a number: nil', ['w', 'q', 'j', 'K', '{}']],
      ['Put(): Arg "delay" not a number: soon', ['w', 'q', 'j', 'K', '{}', 'soon']],
      // Old tags are removed first, but a new job has none: these change nothing either.
      ['Put(): Arg "priority" not a numberhigh', ['w', 'q', 'j', 'K', '{}', 0, 'priority', 'high']],
      ['Put(): Arg "retries" not a number: many', ['w', 'q', 'j', 'K', '{}', 0, 'retries', 'many']],
      ['Put(): Arg "tags" not JSONfalse', ['w', 'q', 'j', 'K', '{}', 0, 'tags', 'false']],
      ['Put(): Arg "depends" not JSON: false', ['w', 'q', 'j', 'K', '{}', 0, 'depends', 'false']],
      ['Put(): Arg "delay" not a number: x', ['w', 'q', 'old', 'K', '{}', 'x', 'priority', 1]],
    ];
    for (const [message, args] of cases) {
      assert.equal(await fx.core.error(T, 'put', ...args), message);
    }
    assert.match(
      await fx.core.error(T, 'put', 'w', 'q', 'j', 'K', '{}', 0, 'priority'),
      /^Odd number of additional args: table: 0x[0-9a-f]+$/,
    );
    assert.deepEqual(await fx.core.snapshot(), before);
  });

  test('JSON null, strings and arrays are accepted as data', async () => {
    for (const data of ['null', '"text"', '[1,2]']) {
      assert.equal(await fx.core.call(T, 'put', 'w', 'q', 'j', 'K', data, 0), 'j');
      assert.equal(await fx.core.redis.hget('ql:j:j', 'data'), data);
    }
  });

  test('bad options for an existing tagged running job change nothing either', async () => {
    await fx.core.call(T, 'put', 'w', 'q', 'j', 'K', '{}', 0, 'tags', '["t"]', 'depends', '[]');
    await fx.core.call(T, 'pop', 'q', 'w1', 1);
    const before = await fx.core.snapshot();
    assert.equal(
      await fx.core.error(T + 1, 'put', 'w2', 'q', 'j', 'K', '{}', 0, 'priority', 'x'),
      'Put(): Arg "priority" not a numberx',
    );
    assert.equal(
      await fx.core.error(T + 1, 'put', 'w2', 'q', 'j', 'K', '{}', 0, 'retries', 'x'),
      'Put(): Arg "retries" not a number: x',
    );
    assert.equal(
      await fx.core.error(T + 1, 'put', 'w2', 'q', 'j', 'K', '{}', 0, 'tags', 'false'),
      'Put(): Arg "tags" not JSONfalse',
    );
    assert.equal(
      await fx.core.error(T + 1, 'put', 'w2', 'q', 'j', 'K', '{}', 0, 'depends', 'false'),
      'Put(): Arg "depends" not JSON: false',
    );
    assert.deepEqual(await fx.core.snapshot(), before);
  });

  test('priority nan: published, history and hash written, then ZADD fails', async () => {
    const messages = await fx.core.listen('ql:*');
    const error = await fx.core.call(T, 'put', 'w', 'q', 'j', 'K', '{}', 0, 'priority', 'nan').catch((e: unknown) => e);
    assert.ok(error instanceof Error);
    assert.match(error.message, /^ERR value is not a valid float script: /);
    assert.deepEqual(await messages.take(), [['ql:log', '{"jid":"j","event":"put","queue":"q"}']]);
    await messages.close();
    assert.equal(await fx.core.redis.hget('ql:j:j', 'state'), 'waiting');
    assert.match((await fx.core.redis.hget('ql:j:j', 'priority')) ?? '', /nan/);
    assert.deepEqual(await history('j'), ['[1700000000,"put",{"q":"q"}]']);
    assert.equal(await fx.core.redis.exists('ql:q:q-work'), 0);
    assert.equal(await fx.core.redis.exists('ql:queues'), 0);
  });

  test('priority inf is stored, but the job can no longer be encoded', async () => {
    assert.equal(await fx.core.call(T, 'put', 'w', 'q', 'j', 'K', '{}', 0, 'priority', 'inf'), 'j');
    assert.equal(await fx.core.redis.zscore('ql:q:q-work', 'j'), 'inf');
    assert.equal(await fx.core.error(T, 'get', 'j'), 'Cannot serialise number: must not be NaN or Inf');
  });
});

describe('requeue', () => {
  test('refuses a missing job without writing', async () => {
    assert.equal(await fx.core.error(T, 'requeue', 'w', 'q'), 'Job(): no jid provided');
    assert.equal(
      await fx.core.error(T, 'requeue', 'w', 'q', 'ghost', 'K', '{}', 0),
      'Requeue(): Job ghost does not exist',
    );
    assert.deepEqual(await fx.core.snapshot(), {});
  });

  test('moves an existing job like put', async () => {
    await fx.core.call(T, 'put', 'w', 'a', 'j', 'K', '{}', 0);
    assert.equal(await fx.core.call(T + 1, 'requeue', 'w', 'b', 'j', 'K', '{}', 5), 'j');
    assert.deepEqual(await fx.core.redis.hmget('ql:j:j', 'queue', 'state'), ['b', 'scheduled']);
    assert.equal(await fx.core.redis.zscore('ql:q:b-scheduled', 'j'), String(T + 6));
    assert.equal(await fx.core.redis.exists('ql:q:a-work'), 0);
  });
});

describe('get and multiget', () => {
  test('get: the job JSON, nil for a missing job, error without a jid', async () => {
    await fx.core.call(T, 'put', 'w', 'q', 'a/b', 'K', '{"x":[1,2]}', 0, 'tags', '["t1","t2"]', 'priority', 5);
    assert.equal(
      await fx.core.call(T, 'get', 'a/b'),
      '{"jid":"a\\/b","retries":5,"data":"{\\"x\\":[1,2]}","failure":{},"expires":0,"remaining":5,' +
        '"spawned_from_jid":false,"dependencies":{},"klass":"K","tracked":false,"tags":["t1","t2"],' +
        '"queue":"q","state":"waiting","history":[{"when":1700000000,"q":"q","what":"put"}],' +
        '"dependents":{},"priority":5,"worker":""}',
    );
    assert.equal(await fx.core.call(T, 'get', 'ghost'), null);
    assert.equal(await fx.core.error(T, 'get'), 'Job(): no jid provided');
  });

  test('multiget skips missing jids; nothing found is {}', async () => {
    await fx.core.call(T, 'put', 'w', 'q', 'a', 'K', '{}', 0);
    await fx.core.call(T, 'put', 'w', 'q', 'b', 'K', '{}', 0);
    const reply = JSON.parse(String(await fx.core.call(T, 'multiget', 'a', 'missing', 'b'))) as { jid: string }[];
    assert.deepEqual(
      reply.map((job) => job.jid),
      ['a', 'b'],
    );
    assert.equal(await fx.core.call(T, 'multiget', 'x', 'y'), '{}');
    assert.equal(await fx.core.call(T, 'multiget'), '{}');
  });
});

describe('history', () => {
  async function appendMany(n: number): Promise<void> {
    await fx.core.call(T, 'put', 'w', 'q', 'j', 'K', '{}', 0);
    for (let i = 1; i < n; i++) await fx.core.call(T + i, 'log', 'j', `e${i}`);
  }

  test('max-job-history n ≥ 3 keeps the first entry and the newest n − 1', async () => {
    await fx.core.call(T, 'config.set', 'max-job-history', 3);
    await appendMany(6);
    assert.deepEqual(await history('j'), ['[1700000000,"put",{"q":"q"}]', '[1700000004,"e4"]', '[1700000005,"e5"]']);
  });

  test('n = 2 never trims', async () => {
    await fx.core.call(T, 'config.set', 'max-job-history', 2);
    await appendMany(5);
    assert.equal((await history('j')).length, 5);
  });

  test('n = 1 keeps the first and the newest', async () => {
    await fx.core.call(T, 'config.set', 'max-job-history', 1);
    await appendMany(5);
    assert.deepEqual(await history('j'), ['[1700000000,"put",{"q":"q"}]', '[1700000004,"e4"]']);
  });

  test('n ≤ 0 never trims; the default is 100', async () => {
    await fx.core.call(T, 'config.set', 'max-job-history', 0);
    await appendMany(5);
    assert.equal((await history('j')).length, 5);
    await fx.core.call(T, 'config.set', 'max-job-history', -3);
    await fx.core.call(T + 9, 'log', 'j', 'more');
    assert.equal((await history('j')).length, 6);
    await fx.core.call(T, 'config.unset', 'max-job-history');
    for (let i = 0; i < 100; i++) await fx.core.call(T + 10, 'log', 'j', 'x');
    const kept = await history('j');
    assert.equal(kept.length, 100);
    assert.equal(kept[0], '[1700000000,"put",{"q":"q"}]');
  });

  test('a legacy `history` field is migrated on the first read, then deleted', async () => {
    await fx.core.call(T, 'put', 'w', 'q', 'j', 'K', '{}', 0);
    await fx.core.redis.del('ql:j:j-history');
    await fx.core.redis.hset(
      'ql:j:j',
      'history',
      JSON.stringify([
        { q: 'q', put: 1600000000.7, popped: 1600000001.2, worker: 'w1', failed: 1600000002.9 },
        { q: 'q2', put: 1600000003, popped: 1600000004, worker: 'w2', done: 1600000005.5 },
      ]),
    );
    const job = JSON.parse(String(await fx.core.call(T, 'get', 'j'))) as { history: unknown[] };
    assert.deepEqual(job.history, [
      { when: 1600000000, q: 'q', what: 'put' },
      { when: 1600000001, what: 'popped', worker: 'w1' },
      { when: 1600000002, what: 'failed' },
      { when: 1600000003, q: 'q2', what: 'put' },
      { when: 1600000004, what: 'popped', worker: 'w2' },
      { when: 1600000005, what: 'done' },
    ]);
    assert.equal(await fx.core.redis.hexists('ql:j:j', 'history'), 0);
    assert.equal((await history('j')).length, 6);
  });

  test('a legacy `history` field is migrated before an append', async () => {
    await fx.core.call(T, 'put', 'w', 'q', 'j', 'K', '{}', 0);
    await fx.core.redis.del('ql:j:j-history');
    await fx.core.redis.hset('ql:j:j', 'history', JSON.stringify([{ q: 'q', put: 1600000000 }]));
    await fx.core.call(T, 'log', 'j', 'note', '{"k":1}');
    assert.deepEqual(await history('j'), ['[1600000000,"put",{"q":"q"}]', '[1700000000,"note",{"k":1}]']);
    assert.equal(await fx.core.redis.hexists('ql:j:j', 'history'), 0);
  });
});
