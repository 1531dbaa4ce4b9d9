// Conformance: what the §6 algorithms leave in the §2 keys — recurring spawn (backlog, fractions),
// put/cancel/unfail of a failed job, dependency release, advancing with a delay, retry with a
// delay, the priority command — read directly from Redis.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { useCore } from '../helpers/client-suite.ts';

const T = 1700000000;
const DAY = 1699920000;

const fx = useCore();

async function zset(key: string): Promise<[string, number][]> {
  const flat = await fx.core.redis.zrange(key, 0, -1, 'WITHSCORES');
  const pairs: [string, number][] = [];
  // Redis prints infinite scores as inf / -inf, which Number() does not read.
  const score = (text: string): number =>
    /^[+-]?inf$/i.test(text) ? (text.startsWith('-') ? -Infinity : Infinity) : Number(text);
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i], score(flat[i + 1])]);
  return pairs;
}

/** put j (tags t1), pop by w1 at T, fail at T+4 in group grp; returns nothing. */
async function failedJob(jid: string, queue = 'q'): Promise<void> {
  await fx.core.call(T, 'put', 'w0', queue, jid, 'K', '{}', 0, 'tags', '["t1"]', 'retries', 3);
  await fx.core.call(T, 'pop', queue, 'w1', 1);
  await fx.core.call(T + 4, 'fail', jid, 'w1', 'grp', 'msg');
}

describe('§6 pop step 6: recurring spawn', () => {
  test('children: hash, history dated at the spawn time, work score priority − score/1e10, tags at now', async () => {
    await fx.core.call(
      T,
      'recur',
      'q',
      'r',
      'K',
      '{"k":1}',
      'interval',
      60,
      0,
      'priority',
      2,
      'tags',
      '["rt"]',
      'retries',
      3,
    );
    const peeked = JSON.parse(String(await fx.core.call(T + 250, 'peek', 'q', 10))) as { jid: string }[];
    assert.deepEqual(peeked.map((job) => job.jid).sort(), ['r-1', 'r-2', 'r-3', 'r-4', 'r-5']);
    // doc-ambiguity: §2 says `time` is "set to the spawn time" for children without restating the
    // format; §1.1 gives %.20f for the `time` field, so that is expected here.
    assert.deepEqual(await fx.core.redis.hgetall('ql:j:r-1'), {
      jid: 'r-1',
      klass: 'K',
      data: '{"k":1}',
      priority: '2',
      tags: '["rt"]',
      state: 'waiting',
      worker: '',
      expires: '0',
      queue: 'q',
      retries: '3',
      remaining: '3',
      time: '1700000000.00000000000000000000',
      spawned_from_jid: 'r',
    });
    assert.equal(await fx.core.redis.hget('ql:j:r-5', 'time'), '1700000240.00000000000000000000');
    assert.deepEqual(await fx.core.redis.lrange('ql:j:r-5-history', 0, -1), ['[1700000240,"put",{"q":"q"}]']);
    const work = new Map(await zset('ql:q:q-work'));
    for (let n = 1; n <= 5; n++) assert.equal(work.get(`r-${n}`), 2 - (T + 60 * (n - 1)) / 1e10, `r-${n}`);
    assert.deepEqual(
      await zset('ql:t:rt'),
      [1, 2, 3, 4, 5].map((n) => [`r-${n}`, T + 250]),
    );
    assert.deepEqual(await zset('ql:tags'), [['rt', 5]]);
    assert.equal(await fx.core.redis.hget('ql:r:r', 'count'), '5');
    assert.deepEqual(await zset('ql:q:q-recur'), [['r', T + 300]]);
    // No ql:queues update by spawning: still the recur's own registration.
    assert.deepEqual(await zset('ql:queues'), [['q', T]]);
  });

  test('backlog 2: at +250 s with interval 60, 2 children; at exactly +240 s, 3', async () => {
    await fx.core.call(T, 'recur', 'q', 'a', 'K', '{}', 'interval', 60, 0, 'backlog', 2);
    await fx.core.call(T, 'recur', 'q2', 'b', 'K', '{}', 'interval', 60, 0, 'backlog', 2);
    await fx.core.call(T + 250, 'peek', 'q', 10);
    await fx.core.call(T + 240, 'peek', 'q2', 10);
    const times = async (jids: string[]): Promise<(string | null)[]> =>
      Promise.all(jids.map((jid) => fx.core.redis.hget(`ql:j:${jid}`, 'time')));
    assert.deepEqual(await times(['a-1', 'a-2', 'a-3']), [
      '1700000180.00000000000000000000',
      '1700000240.00000000000000000000',
      null,
    ]);
    assert.deepEqual(await times(['b-1', 'b-2', 'b-3', 'b-4']), [
      '1700000120.00000000000000000000',
      '1700000180.00000000000000000000',
      '1700000240.00000000000000000000',
      null,
    ]);
  });

  test('a fractional template score loses its fraction: recur at …0.7 with offset 10.5', async () => {
    await fx.core.call('1700000000.7', 'recur', 'q', 'r', 'K', '{}', 'interval', 60, 10.5);
    await fx.core.call(T + 12, 'peek', 'q', 10);
    assert.deepEqual(await fx.core.redis.lrange('ql:j:r-1-history', 0, -1), ['[1700000011,"put",{"q":"q"}]']);
    assert.equal(await fx.core.redis.exists('ql:j:r-2'), 0);
    assert.deepEqual(await zset('ql:q:q-recur'), [['r', T + 71]]);
  });

  test('pop spawns at most `count` children', async () => {
    await fx.core.call(T, 'recur', 'q', 'r', 'K', '{}', 'interval', 60, 0);
    const popped = JSON.parse(String(await fx.core.call(T + 250, 'pop', 'q', 'w1', 2))) as { jid: string }[];
    assert.equal(popped.length, 2);
    assert.equal(await fx.core.redis.hget('ql:r:r', 'count'), '2');
    assert.deepEqual(await zset('ql:q:q-recur'), [['r', T + 120]]);
  });
});

describe('§6 a failed job put back, cancelled, or unfailed', () => {
  test('put of a failed job: LREM/SREM its group, stats failed −1 under the NEW queue (failure day)', async () => {
    await failedJob('f');
    assert.equal(await fx.core.call(T + 90000, 'put', 'w0', 'q3', 'f', 'K', '{}', 0), 'f');
    assert.equal(await fx.core.redis.exists('ql:f:grp'), 0);
    assert.equal(await fx.core.redis.exists('ql:failures'), 0);
    assert.deepEqual(await fx.core.redis.hgetall(`ql:s:stats:${DAY}:q`), { failures: '1', failed: '1' });
    assert.deepEqual(await fx.core.redis.hgetall(`ql:s:stats:${DAY}:q3`), { failed: '-1' });
    const job = await fx.core.redis.hgetall('ql:j:f');
    assert.equal(job.state, 'waiting');
    assert.equal(job.queue, 'q3');
    assert.equal(job.remaining, '3');
    // §2 failure is not cleared by put.
    assert.deepEqual(JSON.parse(job.failure), { group: 'grp', message: 'msg', when: T + 4, worker: 'w1' });
  });

  test('cancel of a failed tagged tracked job: group, stats failed −1, tags, hash and history', async () => {
    // The ql:tracked entry stays.
    await failedJob('f');
    await failedJob('g');
    await fx.core.call(T, 'track', 'track', 'f');
    assert.deepEqual(await fx.core.call(T + 5, 'cancel', 'f'), ['f']);
    assert.deepEqual(await fx.core.redis.lrange('ql:f:grp', 0, -1), ['g']);
    assert.deepEqual(await fx.core.redis.smembers('ql:failures'), ['grp']);
    assert.deepEqual(await fx.core.redis.hgetall(`ql:s:stats:${DAY}:q`), { failures: '2', failed: '1' });
    assert.equal(await fx.core.redis.exists('ql:j:f'), 0);
    assert.equal(await fx.core.redis.exists('ql:j:f-history'), 0);
    assert.deepEqual(await zset('ql:t:t1'), [['g', T]]);
    assert.deepEqual(await zset('ql:tags'), [['t1', 1]]);
    assert.deepEqual(await zset('ql:tracked'), [['f', T]]);
  });

  test('cancel of a job with a dependency: unlinked from the dependency, its -dependencies deleted', async () => {
    await fx.core.call(T, 'put', 'w0', 'q', 'a', 'K', '{}', 0);
    await fx.core.call(T, 'put', 'w0', 'q', 'c', 'K', '{}', 0, 'depends', '["a"]');
    await fx.core.call(T + 1, 'cancel', 'c');
    assert.equal(await fx.core.redis.exists('ql:j:a-dependents'), 0);
    assert.equal(await fx.core.redis.exists('ql:j:c-dependencies'), 0);
    assert.equal(await fx.core.redis.exists('ql:q:q-depends'), 0);
    // Both ends listed: allowed.
    await fx.core.call(T, 'put', 'w0', 'q', 'd', 'K', '{}', 0, 'depends', '["a"]');
    assert.deepEqual(await fx.core.call(T + 2, 'cancel', 'a', 'd'), ['a', 'd']);
    assert.deepEqual(await fx.core.redis.keys('ql:j:*'), []);
  });

  test('unfail: the oldest of the group back to waiting in the given queue', async () => {
    // Untouched: its failure, its time, ql:queues.
    await failedJob('f1');
    await fx.core.call(T + 5, 'put', 'w0', 'q', 'f2', 'K', '{}', 0);
    await fx.core.call(T + 5, 'pop', 'q', 'w1', 1);
    await fx.core.call(T + 6, 'fail', 'f2', 'w1', 'grp', 'msg');
    assert.deepEqual(await fx.core.redis.lrange('ql:f:grp', 0, -1), ['f2', 'f1']);
    assert.equal(await fx.core.call(T + 20, 'unfail', 'q9', 'grp', 1), 1);
    assert.deepEqual(await fx.core.redis.lrange('ql:f:grp', 0, -1), ['f2']);
    const job = await fx.core.redis.hgetall('ql:j:f1');
    assert.equal(job.state, 'waiting');
    assert.equal(job.queue, 'q9');
    assert.equal(job.worker, '');
    assert.equal(job.expires, '0');
    assert.equal(job.remaining, '3');
    assert.equal(job.time, '1700000000.00000000000000000000');
    assert.equal(JSON.parse(job.failure).group, 'grp');
    assert.deepEqual((await fx.core.redis.lrange('ql:j:f1-history', 0, -1)).slice(-1), [
      '[1700000020,"put",{"q":"q9"}]',
    ]);
    assert.deepEqual(await zset('ql:q:q9-work'), [['f1', 0 - (T + 20) / 1e10]]);
    assert.deepEqual(await zset('ql:queues'), [['q', T]]);
    assert.equal(await fx.core.call(T + 21, 'unfail', 'q9', 'grp'), 1);
    assert.equal(await fx.core.redis.exists('ql:f:grp'), 0);
    assert.equal(await fx.core.redis.exists('ql:failures'), 0);
  });
});

describe('§6 dependencies, advancing, retry, priority', () => {
  test('release by a plain complete: a stored `scheduled` field → -scheduled (even if past), else work', async () => {
    await fx.core.call(T, 'put', 'w0', 'q', 'a', 'K', '{}', 0, 'priority', 9);
    await fx.core.call(T, 'put', 'w0', 'q', 'sd', 'K', '{}', 30, 'depends', '["a"]');
    await fx.core.call(T, 'put', 'w0', 'q', 'd', 'K', '{}', 0, 'depends', '["a"]');
    await fx.core.call(T + 1, 'pop', 'q', 'w1', 1);
    await fx.core.call(T + 100, 'complete', 'a', 'w1', 'q', '{}');
    assert.deepEqual(await zset('ql:q:q-scheduled'), [['sd', T + 30]]);
    assert.equal(await fx.core.redis.hget('ql:j:sd', 'state'), 'scheduled');
    assert.equal(await fx.core.redis.hget('ql:j:sd', 'scheduled'), null);
    assert.deepEqual(await zset('ql:q:q-work'), [['d', 0 - (T + 100) / 1e10]]);
    assert.equal(await fx.core.redis.hget('ql:j:d', 'state'), 'waiting');
    assert.equal(await fx.core.redis.exists('ql:q:q-depends'), 0);
    assert.equal(await fx.core.redis.exists('ql:j:a-dependents'), 0);
    assert.equal(await fx.core.redis.exists('ql:j:d-dependencies'), 0);
    // No history entry for the release.
    assert.equal(await fx.core.redis.llen('ql:j:d-history'), 1);
  });

  test('complete with next and delay: -scheduled in the next queue, state left waiting, reply scheduled', async () => {
    await fx.core.call(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0);
    await fx.core.call(T, 'pop', 'q', 'w1', 1);
    assert.equal(await fx.core.call(T + 1, 'complete', 'j', 'w1', 'q', '{}', 'next', 'q2', 'delay', 10), 'scheduled');
    assert.deepEqual(await zset('ql:q:q2-scheduled'), [['j', T + 11]]);
    const job = await fx.core.redis.hgetall('ql:j:j');
    assert.equal(job.state, 'waiting');
    assert.equal(job.queue, 'q2');
    assert.equal(job.failure, '{}');
    assert.deepEqual((await fx.core.redis.lrange('ql:j:j-history', 0, -1)).slice(-2), [
      '[1700000001,"done"]',
      '[1700000001,"put",{"q":"q2"}]',
    ]);
    assert.deepEqual(await zset('ql:queues'), [
      ['q', T],
      ['q2', T + 1],
    ]);
    // Advancing is not a completion: nothing in ql:completed.
    assert.equal(await fx.core.redis.exists('ql:completed'), 0);
  });

  test('retry with a delay: -scheduled at now+delay, state scheduled, lock and worker-set entry gone', async () => {
    await fx.core.call(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0);
    await fx.core.call(T, 'pop', 'q', 'w1', 1);
    assert.equal(await fx.core.call(T + 1, 'retry', 'j', 'q', 'w1', 20), 4);
    assert.deepEqual(await zset('ql:q:q-scheduled'), [['j', T + 21]]);
    assert.equal(await fx.core.redis.hget('ql:j:j', 'state'), 'scheduled');
    assert.equal(await fx.core.redis.exists('ql:q:q-locks'), 0);
    assert.equal(await fx.core.redis.exists('ql:w:w1:jobs'), 0);
    assert.equal(await fx.core.redis.llen('ql:j:j-history'), 2);
  });

  test('priority: the work score becomes exactly the priority, also replacing +inf after timeout', async () => {
    await fx.core.call(T, 'put', 'w0', 'q', 'a', 'K', '{}', 0);
    await fx.core.call(T, 'put', 'w0', 'q', 'b', 'K', '{}', 0);
    await fx.core.call(T, 'priority', 'a', 4);
    const popped = JSON.parse(String(await fx.core.call(T, 'pop', 'q', 'w1', 1))) as { jid: string }[];
    assert.deepEqual(
      popped.map((job) => job.jid),
      ['a'],
    );
    await fx.core.call(T, 'timeout', 'a');
    assert.deepEqual(await zset('ql:q:q-work'), [
      ['b', 0 - T / 1e10],
      ['a', Infinity],
    ]);
    await fx.core.call(T, 'priority', 'a', 1);
    assert.deepEqual(await zset('ql:q:q-work'), [
      ['b', 0 - T / 1e10],
      ['a', 1],
    ]);
    assert.equal(await fx.core.redis.hget('ql:j:a', 'priority'), '1');
  });
});

describe('§5/§4 remaining event and reply forms', () => {
  test('track lists tracked jids whose job is gone as expired', async () => {
    await fx.core.call(T, 'put', 'w0', 'q', 'x', 'K', '{}', 0);
    await fx.core.call(T, 'track', 'track', 'x');
    await fx.core.call(T, 'cancel', 'x');
    assert.equal(await fx.core.call(T, 'track'), '{"expired":["x"],"jobs":{}}');
  });

  test('exhaustion at pop of an untracked job: only ql:w/ql:log lock_lost and ql:log failed', async () => {
    const events = await fx.core.listen('*');
    try {
      await fx.core.call(T, 'config.set', 'grace-period', 0);
      await fx.core.call(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0, 'retries', 0);
      await fx.core.call(T, 'pop', 'q', 'w1', 1);
      await events.take();
      await fx.core.call(T + 61, 'pop', 'q', 'w2', 1);
      assert.deepEqual(await events.take(), [
        ['ql:w:w1', '{"jid":"j","event":"lock_lost","worker":"w1"}'],
        ['ql:log', '{"jid":"j","event":"lock_lost","worker":"w1"}'],
        [
          'ql:log',
          '{"message":"Job exhausted retries in queue \\"q\\"","jid":"j","group":"failed-retries-q",' +
            '"event":"failed","worker":"w1"}',
        ],
      ]);
      const job = await fx.core.redis.hgetall('ql:j:j');
      assert.equal(job.state, 'failed');
      assert.equal(job.worker, '');
      assert.equal(job.expires, '');
      assert.equal(job.remaining, '-1');
      assert.deepEqual(JSON.parse(job.failure), {
        group: 'failed-retries-q',
        message: 'Job exhausted retries in queue "q"',
        when: T + 61,
        worker: '',
      });
      assert.deepEqual(await fx.core.redis.hgetall(`ql:s:stats:${DAY}:q`), {
        retries: '1',
        failures: '1',
        failed: '1',
      });
      assert.deepEqual(await fx.core.redis.lrange('ql:f:failed-retries-q', 0, -1), ['j']);
      assert.deepEqual(
        (await fx.core.redis.lrange('ql:j:j-history', 0, -1)).slice(-2).map((entry) => JSON.parse(entry)),
        [
          [T + 61, 'timed-out'],
          [T + 61, 'failed', { group: 'failed-retries-q' }],
        ],
      );
    } finally {
      await events.close();
    }
  });
});
