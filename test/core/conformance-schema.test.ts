// Conformance: the Redis key schema of the protocol document §2, read directly with TYPE,
// HGETALL/HKEYS, ZRANGE WITHSCORES, LRANGE and SMEMBERS after put → pop → complete, put → pop →
// fail, a lock expiry, and the scheduled/depends/recurring sets. The whole key set is compared
// after each step, so a renamed, extra or missing key fails here loudly.
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startCore, type Core } from '../helpers/qless.ts';

const T = 1700000000;
const DAY = 1699920000; // §2: T - (T % 86400)

let core: Core;
before(async () => {
  core = await startCore();
});
after(async () => {
  await core.close();
});

async function keyTypes(): Promise<Record<string, string>> {
  const keys = (await core.redis.keys('*')).sort();
  const types: Record<string, string> = {};
  for (const key of keys) types[key] = await core.redis.type(key);
  return types;
}

/** A sorted set as [member, score] pairs, lowest score first; scores compared as numbers. */
async function zset(key: string): Promise<[string, number][]> {
  const flat = await core.redis.zrange(key, 0, -1, 'WITHSCORES');
  const pairs: [string, number][] = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i], Number(flat[i + 1])]);
  return pairs;
}

const sorted = (types: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(types).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

describe('§2 put → pop → complete', () => {
  before(async () => {
    await core.flush();
  });

  test('after put: key set, job hash fields in put order, work score priority − now/1e10, tags', async () => {
    assert.equal(await core.call(T, 'put', 'w0', 'q', 'j', 'K', '{"a":1}', 0, 'priority', 2, 'tags', '["t1"]'), 'j');
    assert.deepEqual(
      await keyTypes(),
      sorted({
        'ql:j:j': 'hash',
        'ql:j:j-history': 'list',
        'ql:q:q-work': 'zset',
        'ql:queues': 'zset',
        'ql:t:t1': 'zset',
        'ql:tags': 'zset',
      }),
    );
    // §2 "Fields written by put (in this order)"
    assert.deepEqual(await core.redis.hkeys('ql:j:j'), [
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
    assert.deepEqual(await core.redis.hgetall('ql:j:j'), {
      jid: 'j',
      klass: 'K',
      data: '{"a":1}',
      priority: '2',
      tags: '["t1"]',
      state: 'waiting',
      worker: '',
      expires: '0',
      queue: 'q',
      retries: '5',
      remaining: '5',
      time: '1700000000.00000000000000000000',
    });
    assert.deepEqual(await core.redis.lrange('ql:j:j-history', 0, -1), ['[1700000000,"put",{"q":"q"}]']);
    assert.deepEqual(await zset('ql:q:q-work'), [['j', 2 - T / 1e10]]);
    assert.deepEqual(await zset('ql:queues'), [['q', T]]);
    assert.deepEqual(await zset('ql:t:t1'), [['j', T]]);
    assert.deepEqual(await zset('ql:tags'), [['t1', 1]]);
  });

  test('after pop at T+1 by w1: lock, worker set, ql:workers, wait stats', async () => {
    const popped = JSON.parse(String(await core.call(T + 1, 'pop', 'q', 'w1', 1))) as { jid: string }[];
    assert.deepEqual(
      popped.map((job) => job.jid),
      ['j'],
    );
    assert.deepEqual(
      await keyTypes(),
      sorted({
        'ql:j:j': 'hash',
        'ql:j:j-history': 'list',
        'ql:q:q-locks': 'zset',
        'ql:queues': 'zset',
        [`ql:s:wait:${DAY}:q`]: 'hash',
        'ql:t:t1': 'zset',
        'ql:tags': 'zset',
        'ql:w:w1:jobs': 'zset',
        'ql:workers': 'zset',
      }),
    );
    assert.deepEqual(await core.redis.hgetall('ql:j:j'), {
      jid: 'j',
      klass: 'K',
      data: '{"a":1}',
      priority: '2',
      tags: '["t1"]',
      state: 'running',
      worker: 'w1',
      expires: '1700000061',
      queue: 'q',
      retries: '5',
      remaining: '5',
      time: '1700000001.00000000000000000000',
    });
    assert.deepEqual(await core.redis.lrange('ql:j:j-history', 0, -1), [
      '[1700000000,"put",{"q":"q"}]',
      '[1700000001,"popped",{"worker":"w1"}]',
    ]);
    assert.deepEqual(await zset('ql:q:q-locks'), [['j', T + 61]]);
    assert.deepEqual(await zset('ql:w:w1:jobs'), [['j', T + 61]]);
    assert.deepEqual(await zset('ql:workers'), [['w1', T + 1]]);
    // One wait sample of 1 s: §2 stats hash fields total, mean, vk and the histogram bin s1.
    assert.deepEqual(await core.redis.hgetall(`ql:s:wait:${DAY}:q`), { total: '1', mean: '1', vk: '0', s1: '1' });
  });

  test('after complete at T+3.5: ql:completed, run stats, job fields reset, locks gone', async () => {
    assert.equal(await core.call(T + 3.5, 'complete', 'j', 'w1', 'q', '{"b":2}'), 'complete');
    assert.deepEqual(
      await keyTypes(),
      sorted({
        'ql:completed': 'zset',
        'ql:j:j': 'hash',
        'ql:j:j-history': 'list',
        'ql:queues': 'zset',
        [`ql:s:run:${DAY}:q`]: 'hash',
        [`ql:s:wait:${DAY}:q`]: 'hash',
        'ql:t:t1': 'zset',
        'ql:tags': 'zset',
        'ql:workers': 'zset',
      }),
    );
    assert.deepEqual(await core.redis.hgetall('ql:j:j'), {
      jid: 'j',
      klass: 'K',
      data: '{"b":2}',
      priority: '2',
      tags: '["t1"]',
      state: 'complete',
      worker: '',
      expires: '0',
      queue: '',
      retries: '5',
      remaining: '5',
      time: '1700000003.50000000000000000000',
      failure: '{}',
    });
    assert.deepEqual(await core.redis.lrange('ql:j:j-history', 0, -1), [
      '[1700000000,"put",{"q":"q"}]',
      '[1700000001,"popped",{"worker":"w1"}]',
      '[1700000003,"done"]',
    ]);
    assert.deepEqual(await zset('ql:completed'), [['j', T + 3.5]]);
    assert.deepEqual(await zset('ql:workers'), [['w1', T + 1]]);
    assert.deepEqual(await core.redis.hgetall(`ql:s:run:${DAY}:q`), { total: '1', mean: '2.5', vk: '0', s2: '1' });
    assert.deepEqual(await zset('ql:t:t1'), [['j', T]]);
    assert.deepEqual(await zset('ql:tags'), [['t1', 1]]);
  });
});

describe('§2 put → pop → fail', () => {
  before(async () => {
    await core.flush();
    await core.call(T, 'put', 'w0', 'q', 'f', 'K', '{}', 0, 'retries', 2);
    await core.call(T + 1, 'pop', 'q', 'w1', 1);
  });

  test('after fail at T+4.5: failure group list/set, stats hash, job fields', async () => {
    assert.equal(await core.call(T + 4.5, 'fail', 'f', 'w1', 'grp', 'msg', '{"z":1}'), 'f');
    assert.deepEqual(
      await keyTypes(),
      sorted({
        'ql:f:grp': 'list',
        'ql:failures': 'set',
        'ql:j:f': 'hash',
        'ql:j:f-history': 'list',
        'ql:queues': 'zset',
        [`ql:s:stats:${DAY}:q`]: 'hash',
        [`ql:s:wait:${DAY}:q`]: 'hash',
        'ql:workers': 'zset',
      }),
    );
    const job = await core.redis.hgetall('ql:j:f');
    // doc-ambiguity: §2 names the failure object's keys but not the key order of the stored
    // string (§3b only gives the order emitted by `get`), so it is compared decoded.
    assert.deepEqual(JSON.parse(job.failure), { group: 'grp', message: 'msg', when: 1700000004, worker: 'w1' });
    delete job.failure;
    assert.deepEqual(job, {
      jid: 'f',
      klass: 'K',
      data: '{"z":1}',
      priority: '0',
      tags: '{}',
      state: 'failed',
      worker: '',
      expires: '',
      queue: 'q',
      retries: '2',
      remaining: '2',
      time: '1700000001.00000000000000000000',
    });
    const history = await core.redis.lrange('ql:j:f-history', 0, -1);
    assert.deepEqual(history.slice(0, 2), ['[1700000000,"put",{"q":"q"}]', '[1700000001,"popped",{"worker":"w1"}]']);
    // Same doc-ambiguity for the key order of the `failed` extra.
    assert.equal(history.length, 3);
    assert.deepEqual(JSON.parse(history[2]), [1700000004, 'failed', { worker: 'w1', group: 'grp' }]);
    assert.deepEqual(await core.redis.smembers('ql:failures'), ['grp']);
    assert.deepEqual(await core.redis.lrange('ql:f:grp', 0, -1), ['f']);
    assert.deepEqual(await core.redis.hgetall(`ql:s:stats:${DAY}:q`), { failures: '1', failed: '1' });
    assert.deepEqual(await core.redis.hgetall(`ql:s:wait:${DAY}:q`), { total: '1', mean: '1', vk: '0', s1: '1' });
  });
});

describe('§2/§6 lock expiry in pop: courtesy step, then hand-on', () => {
  before(async () => {
    await core.flush();
    await core.call(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0);
    await core.call(T, 'pop', 'q', 'w1', 1); // lock T+60
  });

  test('courtesy at T+61: grace flag, lock = now + grace-period, stats retries, worker set entry gone', async () => {
    assert.equal(await core.call(T + 61, 'pop', 'q', 'w2', 1), '{}');
    assert.deepEqual(
      await keyTypes(),
      sorted({
        'ql:j:j': 'hash',
        'ql:j:j-history': 'list',
        'ql:q:q-locks': 'zset',
        'ql:queues': 'zset',
        [`ql:s:stats:${DAY}:q`]: 'hash',
        [`ql:s:wait:${DAY}:q`]: 'hash',
        'ql:workers': 'zset',
      }),
    );
    const job = await core.redis.hgetall('ql:j:j');
    assert.equal(job.grace, '1');
    assert.equal(job.state, 'running');
    assert.equal(job.worker, 'w1');
    assert.equal(job.expires, '1700000060');
    assert.equal(job.remaining, '5');
    assert.deepEqual(await zset('ql:q:q-locks'), [['j', T + 71]]);
    assert.deepEqual(await zset('ql:workers'), [
      ['w1', T],
      ['w2', T + 61],
    ]);
    assert.deepEqual(await core.redis.hgetall(`ql:s:stats:${DAY}:q`), { retries: '1' });
    assert.deepEqual((await core.redis.lrange('ql:j:j-history', 0, -1)).slice(2), ['[1700000061,"timed-out"]']);
  });

  test('hand-on at T+72: grace deleted, remaining − 1, new owner, wait sample counted from put time', async () => {
    const popped = JSON.parse(String(await core.call(T + 72, 'pop', 'q', 'w2', 1))) as { jid: string }[];
    assert.deepEqual(
      popped.map((job) => job.jid),
      ['j'],
    );
    const job = await core.redis.hgetall('ql:j:j');
    assert.equal(job.grace, undefined);
    assert.equal(job.remaining, '4');
    assert.equal(job.worker, 'w2');
    assert.equal(job.state, 'running');
    assert.equal(job.expires, '1700000132');
    assert.equal(job.time, '1700000072.00000000000000000000');
    assert.deepEqual(await zset('ql:q:q-locks'), [['j', T + 132]]);
    assert.deepEqual(await zset('ql:w:w2:jobs'), [['j', T + 132]]);
    assert.equal(await core.redis.exists('ql:w:w1:jobs'), 0);
    // Samples 0 (first pop) and 72 (time was still the first pop's): s0 and m1; Welford mean 36, vk 2592.
    assert.deepEqual(await core.redis.hgetall(`ql:s:wait:${DAY}:q`), {
      total: '2',
      mean: '36',
      vk: '2592',
      s0: '1',
      m1: '1',
    });
    assert.deepEqual((await core.redis.lrange('ql:j:j-history', 0, -1)).slice(2), [
      '[1700000061,"timed-out"]',
      '[1700000072,"popped",{"worker":"w2"}]',
    ]);
  });
});

describe('§2 scheduled, depends and recurring sets', () => {
  beforeEach(async () => {
    await core.flush();
  });

  test('delayed put: -scheduled at now+delay, state scheduled, not in work', async () => {
    await core.call(T, 'put', 'w0', 'q', 's', 'K', '{}', 30);
    assert.deepEqual(await zset('ql:q:q-scheduled'), [['s', T + 30]]);
    assert.equal(await core.redis.exists('ql:q:q-work'), 0);
    assert.equal(await core.redis.hget('ql:j:s', 'state'), 'scheduled');
  });

  test('dependencies: -depends scored by entry time, both link sets, scheduled field when also delayed', async () => {
    await core.call(T, 'put', 'w0', 'q', 'a', 'K', '{}', 0);
    await core.call(T + 1, 'put', 'w0', 'q', 'd', 'K', '{}', 0, 'depends', '["a"]');
    await core.call(T + 2, 'put', 'w0', 'q', 'sd', 'K', '{}', 30, 'depends', '["a","missing"]');
    assert.deepEqual(await zset('ql:q:q-depends'), [
      ['d', T + 1],
      ['sd', T + 2],
    ]);
    assert.deepEqual(await zset('ql:q:q-work'), [['a', 0 - T / 1e10]]);
    assert.equal(await core.redis.exists('ql:q:q-scheduled'), 0);
    assert.deepEqual((await core.redis.smembers('ql:j:a-dependents')).sort(), ['d', 'sd']);
    assert.deepEqual(await core.redis.smembers('ql:j:d-dependencies'), ['a']);
    // §6 put step 10: only jids that exist are linked.
    assert.deepEqual(await core.redis.smembers('ql:j:sd-dependencies'), ['a']);
    assert.equal(await core.redis.hget('ql:j:d', 'state'), 'depends');
    assert.equal(await core.redis.hget('ql:j:sd', 'state'), 'depends');
    assert.equal(await core.redis.hget('ql:j:sd', 'scheduled'), '1700000032');
    assert.equal(await core.redis.hget('ql:j:d', 'scheduled'), null);
  });

  test('recur: template hash with defaults, -recur scored by next spawn time, queue registered', async () => {
    assert.equal(await core.call(T, 'recur', 'q', 'r', 'K', '{"k":1}', 'interval', 60, 10), 'r');
    assert.deepEqual(await keyTypes(), sorted({ 'ql:q:q-recur': 'zset', 'ql:queues': 'zset', 'ql:r:r': 'hash' }));
    assert.deepEqual(await core.redis.hgetall('ql:r:r'), {
      jid: 'r',
      klass: 'K',
      data: '{"k":1}',
      priority: '0',
      tags: '{}',
      state: 'recur',
      queue: 'q',
      type: 'interval',
      count: '0',
      interval: '60',
      retries: '0',
      backlog: '0',
    });
    assert.deepEqual(await zset('ql:q:q-recur'), [['r', T + 10]]);
    assert.deepEqual(await zset('ql:queues'), [['q', T]]);
  });

  test('pause: ql:paused_queues set', async () => {
    await core.call(T, 'pause', 'q', 'q2');
    assert.deepEqual(await keyTypes(), { 'ql:paused_queues': 'set' });
    assert.deepEqual((await core.redis.smembers('ql:paused_queues')).sort(), ['q', 'q2']);
  });

  test('config.set: ql:config hash of strings; track: ql:tracked scored by start time', async () => {
    await core.call(T, 'config.set', 'heartbeat', 30);
    assert.deepEqual(await core.redis.hgetall('ql:config'), { heartbeat: '30' });
    await core.call(T, 'put', 'w0', 'q', 'j', 'K', '{}', 0);
    await core.call(T + 5, 'track', 'track', 'j');
    assert.deepEqual(await zset('ql:tracked'), [['j', T + 5]]);
  });
});
