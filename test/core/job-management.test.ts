// cancel, timeout, priority, depends, log, track, tag (§4, §5).
import { test, describe, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { useCore } from '../helpers/client-suite.ts';

const T = 1700000000;
const fx = useCore();

async function put(jid: string, ...options: (string | number)[]): Promise<void> {
  await fx.core.call(T, 'put', 'w0', 'q', jid, 'K', '{}', 0, ...options);
}

async function running(jid: string, worker = 'w1', ...options: (string | number)[]): Promise<void> {
  await put(jid, ...options);
  await fx.core.call(T, 'pop', 'q', worker, 1);
  assert.equal(await fx.core.redis.hget(`ql:j:${jid}`, 'worker'), worker);
}

describe('cancel', () => {
  test('removes every trace of running, waiting and failed jobs; skips complete ones', async () => {
    await running('run', 'w1', 'tags', '["t"]');
    await running('fl', 'w2');
    await fx.core.call(T + 86400, 'fail', 'fl', 'w2', 'grp', 'boom');
    await running('done', 'w3');
    await fx.core.call(T, 'complete', 'done', 'w3', 'q', '{}');
    await put('wait');
    await fx.core.call(T, 'track', 'track', 'run');
    const messages = await fx.core.listen('ql:*');
    assert.deepEqual(await fx.core.call(T + 86400, 'cancel', 'run', 'fl', 'done', 'wait', 'ghost'), [
      'run',
      'fl',
      'done',
      'wait',
      'ghost',
    ]);
    assert.deepEqual(await messages.take(), [
      ['ql:log', '{"jid":"run","queue":"q","event":"canceled","worker":"w1"}'],
      ['ql:w:w1', '{"jid":"run","queue":"q","event":"canceled","worker":"w1"}'],
      ['ql:canceled', 'run'],
      ['ql:log', '{"jid":"fl","queue":"q","event":"canceled","worker":""}'],
      ['ql:log', '{"jid":"wait","queue":"q","event":"canceled","worker":""}'],
      ['ql:log', '{"jid":"ghost","queue":false,"event":"canceled","worker":false}'],
    ]);
    await messages.close();
    const left = await fx.core.snapshot();
    assert.deepEqual(Object.keys(left).sort(), [
      'ql:completed',
      'ql:j:done',
      'ql:j:done-history',
      'ql:queues',
      'ql:s:run:1699920000:q',
      'ql:s:stats:1700006400:q',
      'ql:s:wait:1699920000:q',
      'ql:tags',
      'ql:tracked',
      'ql:workers',
    ]);
    // failed −1 on the failure's day under the job's queue; the tag counter went back down.
    assert.deepEqual(left['ql:s:stats:1700006400:q'], { failures: '1', failed: '0' });
    assert.deepEqual(left['ql:tags'], ['t', '0']);
  });

  test('breaking a dependency is refused and nothing changes; canceling both ends works', async () => {
    await put('a');
    await put('b', 'depends', '["a"]');
    const before = await fx.core.snapshot();
    assert.equal(
      await fx.core.error(T, 'cancel', 'a'),
      'Cancel(): a is a dependency of b but is not mentioned to be canceled',
    );
    assert.deepEqual(await fx.core.snapshot(), before);
    assert.deepEqual(await fx.core.call(T, 'cancel', 'b', 'a'), ['b', 'a']);
    assert.deepEqual(Object.keys(await fx.core.snapshot()), ['ql:queues']);
  });

  test('a canceled dependent leaves its dependencies; no jids is an empty reply', async () => {
    await put('a');
    await put('b', 'depends', '["a"]');
    await fx.core.call(T, 'cancel', 'b');
    assert.equal(await fx.core.redis.exists('ql:j:a-dependents', 'ql:j:b-dependencies', 'ql:q:q-depends'), 0);
    assert.deepEqual(await fx.core.call(T, 'cancel'), []);
  });
});

describe('timeout', () => {
  test('stalls a running job: +inf work score, worker kept, lock_lost events', async () => {
    await running('j', 'w2');
    await fx.core.call(T, 'track', 'track', 'j');
    const messages = await fx.core.listen('ql:*');
    assert.equal(await fx.core.call(T + 1, 'timeout', 'j'), null);
    assert.deepEqual(await messages.take(), [
      ['ql:w:w2', '{"jid":"j","event":"lock_lost","worker":"w2"}'],
      ['ql:log', '{"jid":"j","event":"lock_lost","worker":"w2"}'],
    ]);
    await messages.close();
    assert.deepEqual(await fx.core.redis.hmget('ql:j:j', 'state', 'expires', 'worker', 'remaining'), [
      'stalled',
      '0',
      'w2',
      '5',
    ]);
    assert.equal(await fx.core.redis.zscore('ql:q:q-work', 'j'), 'inf');
    assert.equal(await fx.core.redis.exists('ql:q:q-locks'), 0);
    assert.deepEqual(await fx.core.redis.zrange('ql:w:w2:jobs', 0, -1), ['j']);
    assert.equal((await fx.core.redis.lrange('ql:j:j-history', -1, -1))[0], '[1700000001,"timed-out"]');
    // Popped first, ahead of any priority; not listed as running or stalled.
    await put('urgent', 'priority', 100);
    assert.deepEqual(await fx.core.call(T + 1, 'jobs', 'stalled', 'q'), []);
    const [first] = JSON.parse(String(await fx.core.call(T + 1, 'pop', 'q', 'w3', 1))) as { jid: string }[];
    assert.equal(first.jid, 'j');
  });

  test('an error midway leaves the earlier jobs timed out', async () => {
    await running('a');
    await put('w');
    assert.equal(await fx.core.error(T, 'timeout', 'a', 'missing'), 'Timeout(): Job missing does not exist');
    assert.equal(await fx.core.redis.hget('ql:j:a', 'state'), 'stalled');
    const before = await fx.core.snapshot();
    assert.equal(await fx.core.error(T, 'timeout', 'w'), 'Timeout(): Job w not running');
    assert.deepEqual(await fx.core.snapshot(), before);
    assert.equal(await fx.core.call(T, 'timeout'), null);
  });
});

describe('priority', () => {
  test('a waiting job gets exactly the priority as its score; the reply is truncated', async () => {
    await put('j');
    assert.equal(await fx.core.call(T, 'priority', 'j', 7.8), 7);
    assert.equal(await fx.core.redis.hget('ql:j:j', 'priority'), '7.7999999999999998');
    assert.equal(await fx.core.redis.zscore('ql:q:q-work', 'j'), '7.7999999999999998');
    assert.equal(await fx.core.call(T, 'priority', 'j', -7.8), -7);
  });

  test('a timed-out job loses its +inf; running and complete jobs only change the hash', async () => {
    await running('stalled');
    await fx.core.call(T, 'timeout', 'stalled');
    await fx.core.call(T, 'priority', 'stalled', 3);
    assert.equal(await fx.core.redis.zscore('ql:q:q-work', 'stalled'), '3');
    await running('run', 'w1', 'priority', 10);
    await fx.core.call(T, 'priority', 'run', 9);
    assert.equal(await fx.core.redis.hget('ql:j:run', 'priority'), '9');
    assert.equal(await fx.core.redis.zscore('ql:q:q-work', 'run'), null);
    await fx.core.call(T, 'complete', 'run', 'w1', 'q', '{}');
    assert.equal(await fx.core.call(T, 'priority', 'run', 1), 1);
    assert.equal(await fx.core.redis.hget('ql:j:run', 'priority'), '1');
  });

  test('refusals change nothing; no events', async () => {
    await put('j');
    const before = await fx.core.snapshot();
    assert.equal(await fx.core.error(T, 'priority'), 'Job(): no jid provided');
    assert.equal(await fx.core.error(T, 'priority', 'j'), 'Priority(): Arg "priority" missing or not a number: nil');
    assert.equal(
      await fx.core.error(T, 'priority', 'j', 'high'),
      'Priority(): Arg "priority" missing or not a number: high',
    );
    assert.equal(await fx.core.error(T, 'priority', 'ghost', 1), 'Priority(): Job ghost does not exist');
    assert.deepEqual(await fx.core.snapshot(), before);
  });
});

describe('depends', () => {
  beforeEach(async () => {
    await put('a');
    await put('b');
    await fx.core.call(T, 'put', 'w0', 'q', 'j', 'K', '{}', 30, 'depends', '["a"]', 'priority', 2);
  });

  test('on: links live jobs only, never releases', async () => {
    await running('c');
    await fx.core.call(T, 'complete', 'c', 'w1', 'q', '{}');
    assert.equal(await fx.core.call(T, 'depends', 'j', 'on', 'b', 'c', 'ghost'), 1);
    assert.deepEqual((await fx.core.redis.smembers('ql:j:j-dependencies')).sort(), ['a', 'b']);
    assert.deepEqual(await fx.core.redis.smembers('ql:j:b-dependents'), ['j']);
    assert.equal(await fx.core.call(T, 'depends', 'j', 'on'), 1);
    assert.equal(await fx.core.redis.hget('ql:j:j', 'state'), 'depends');
  });

  test('off <jids>: waiting once none remain; the scheduled field is ignored and kept', async () => {
    await fx.core.call(T, 'depends', 'j', 'on', 'b');
    assert.equal(await fx.core.call(T + 1, 'depends', 'j', 'off', 'a'), 1);
    assert.equal(await fx.core.redis.hget('ql:j:j', 'state'), 'depends');
    assert.equal(await fx.core.call(T + 2, 'depends', 'j', 'off', 'b'), 1);
    assert.deepEqual(await fx.core.redis.hmget('ql:j:j', 'state', 'scheduled'), ['waiting', String(T + 30)]);
    assert.equal(Number(await fx.core.redis.zscore('ql:q:q-work', 'j')), 2 - (T + 2) / 1e10);
    assert.equal(await fx.core.redis.exists('ql:q:q-depends', 'ql:j:a-dependents', 'ql:j:b-dependents'), 0);
  });

  test('off all', async () => {
    await fx.core.call(T, 'depends', 'j', 'on', 'b');
    assert.equal(await fx.core.call(T + 1, 'depends', 'j', 'off', 'all'), 1);
    assert.equal(await fx.core.redis.hget('ql:j:j', 'state'), 'waiting');
    assert.equal(await fx.core.redis.exists('ql:j:j-dependencies', 'ql:j:a-dependents', 'ql:j:b-dependents'), 0);
  });

  test('refusals change nothing', async () => {
    const before = await fx.core.snapshot();
    assert.equal(await fx.core.error(T, 'depends'), 'Job(): no jid provided');
    assert.equal(await fx.core.error(T, 'depends', 'j'), 'Depends(): Arg "command" missing');
    assert.equal(
      await fx.core.error(T, 'depends', 'a', 'on', 'b'),
      'Depends(): Job a not in the depends state: waiting',
    );
    assert.equal(
      await fx.core.error(T, 'depends', 'ghost', 'sideways'),
      'Depends(): Job ghost not in the depends state: false',
    );
    assert.equal(
      await fx.core.error(T, 'depends', 'j', 'sideways'),
      'Depends(): Argument "command" must be "on" or "off"',
    );
    assert.deepEqual(await fx.core.snapshot(), before);
  });
});

describe('log', () => {
  test('appends to the history, no event', async () => {
    await put('j');
    const messages = await fx.core.listen('ql:*');
    assert.equal(await fx.core.call(T + 1.9, 'log', 'j', 'note', '{"k":"v"}'), null);
    assert.equal(await fx.core.call(T + 2, 'log', 'j', 'bare'), null);
    assert.equal(await fx.core.call(T + 3, 'log', 'j', 'list', '["x","y"]'), null);
    assert.deepEqual(await messages.take(), []);
    await messages.close();
    assert.deepEqual(await fx.core.redis.lrange('ql:j:j-history', 1, -1), [
      '[1700000001,"note",{"k":"v"}]',
      '[1700000002,"bare"]',
      '[1700000003,"list",["x","y"]]',
    ]);
    const job = JSON.parse(String(await fx.core.call(T, 'get', 'j'))) as { history: unknown[] };
    assert.deepEqual(job.history.slice(1), [
      { k: 'v', when: 1700000001, what: 'note' },
      { when: 1700000002, what: 'bare' },
      { 1: 'x', 2: 'y', when: 1700000003, what: 'list' },
    ]);
  });

  test('a JSON string as data makes later reads of the job fail', async () => {
    await put('j');
    await fx.core.call(T, 'log', 'j', 'oops', '"text"');
    assert.equal(await fx.core.error(T, 'get', 'j'), "attempt to index local 'dict' (a string value)");
  });

  test('refusals change nothing', async () => {
    await put('j');
    const before = await fx.core.snapshot();
    assert.equal(await fx.core.error(T, 'log'), "Log(): Argument 'jid' missing");
    assert.equal(await fx.core.error(T, 'log', 'j'), "Log(): Argument 'message' missing");
    assert.equal(await fx.core.error(T, 'log', 'j', 'm', 'false'), "Log(): Argument 'data' not cjson: false");
    assert.equal(
      await fx.core.error(T, 'log', 'j', 'm', '{'),
      'Expected object key string but found T_END at character 2',
    );
    assert.equal(await fx.core.error(T, 'log', 'ghost', 'm'), 'Log(): Job ghost does not exist');
    assert.deepEqual(await fx.core.snapshot(), before);
  });
});

describe('track', () => {
  test('track / untrack: "1" / "0", published every time, case-insensitive', async () => {
    await put('j');
    const messages = await fx.core.listen('ql:*');
    assert.equal(await fx.core.call(T, 'track', 'track', 'j'), '1');
    assert.equal(await fx.core.call(T + 5, 'track', 'TRACK', 'j'), '0');
    assert.deepEqual(await fx.core.redis.zrange('ql:tracked', 0, -1, 'WITHSCORES'), ['j', String(T + 5)]);
    assert.equal(await fx.core.call(T, 'track', 'Untrack', 'j'), '1');
    assert.equal(await fx.core.call(T, 'track', 'untrack', 'j'), '0');
    assert.deepEqual(await messages.take(), [
      ['ql:track', 'j'],
      ['ql:track', 'j'],
      ['ql:untrack', 'j'],
      ['ql:untrack', 'j'],
    ]);
    await messages.close();
  });

  test('the listing: live tracked jobs (tracked: true) and the expired jids', async () => {
    assert.equal(await fx.core.call(T, 'track'), '{"expired":{},"jobs":{}}');
    await put('j');
    await put('gone');
    await fx.core.call(T, 'track', 'track', 'j');
    await fx.core.call(T, 'track', 'track', 'gone');
    await fx.core.call(T, 'cancel', 'gone');
    const listing = JSON.parse(String(await fx.core.call(T, 'track'))) as {
      expired: string[];
      jobs: { jid: string; tracked: boolean }[];
    };
    assert.deepEqual(listing.expired, ['gone']);
    assert.deepEqual(
      listing.jobs.map((job) => [job.jid, job.tracked]),
      [['j', true]],
    );
  });

  test('refusals change nothing', async () => {
    await put('j');
    const before = await fx.core.snapshot();
    assert.equal(await fx.core.error(T, 'track', 'track'), 'Track(): Arg "jid" missing');
    assert.equal(await fx.core.error(T, 'track', 'track', 'ghost'), 'Track(): Job does not exist');
    assert.equal(await fx.core.error(T, 'track', 'follow', 'j'), 'Track(): Unknown action "follow"');
    assert.deepEqual(await fx.core.snapshot(), before);
  });
});

describe('tag', () => {
  test('add: new tags once on the job, every argument counted', async () => {
    await put('j', 'tags', '["a"]');
    assert.equal(await fx.core.call(T + 1, 'tag', 'add', 'j', 'a', 'b', 'b'), '["a","b"]');
    assert.equal(await fx.core.redis.hget('ql:j:j', 'tags'), '["a","b"]');
    assert.deepEqual(await fx.core.redis.zrange('ql:tags', 0, -1, 'WITHSCORES'), ['a', '2', 'b', '2']);
    assert.equal(await fx.core.redis.zscore('ql:t:a', 'j'), String(T + 1));
    assert.equal(await fx.core.call(T, 'tag', 'add', 'j'), '["a","b"]');
  });

  test('remove: every argument un-counted, present or not', async () => {
    await put('j', 'tags', '["a","b"]');
    assert.equal(await fx.core.call(T, 'tag', 'remove', 'j', 'a', 'zz'), '["b"]');
    assert.deepEqual(await fx.core.redis.zrange('ql:tags', 0, -1, 'WITHSCORES'), ['zz', '-1', 'a', '0', 'b', '1']);
    assert.equal(await fx.core.redis.exists('ql:t:a'), 0);
    assert.equal(await fx.core.call(T, 'tag', 'remove', 'j', 'b'), '{}');
    assert.equal(await fx.core.redis.hget('ql:j:j', 'tags'), '{}');
  });

  test('get: oldest tagging first, paged; count 0 means everything', async () => {
    for (const [i, jid] of ['x', 'y', 'z'].entries()) {
      await fx.core.call(T + 3 - i, 'put', 'w0', 'q', jid, 'K', '{}', 0, 'tags', '["t"]');
    }
    assert.equal(await fx.core.call(T, 'tag', 'get', 't'), '{"jobs":["z","y","x"],"total":3}');
    assert.equal(await fx.core.call(T, 'tag', 'get', 't', 1, 1), '{"jobs":["y"],"total":3}');
    assert.equal(await fx.core.call(T, 'tag', 'get', 't', 0, 0), '{"jobs":["z","y","x"],"total":3}');
    assert.equal(await fx.core.call(T, 'tag', 'get', 'none'), '{"jobs":{},"total":0}');
  });

  test('top: counters ≥ 2, highest first, ties reverse-lex; {} if none', async () => {
    assert.equal(await fx.core.call(T, 'tag', 'top'), '{}');
    await put('a', 'tags', '["one","two","three"]');
    await put('b', 'tags', '["two","three","alpha"]');
    await put('c', 'tags', '["two","alpha"]');
    assert.equal(await fx.core.call(T, 'tag', 'top'), '["two","three","alpha"]');
    assert.equal(await fx.core.call(T, 'tag', 'top', 1, 1), '["three"]');
    assert.equal(await fx.core.call(T, 'tag', 'top', 0, 0), '{}');
  });

  test('refusals change nothing', async () => {
    await put('j');
    const before = await fx.core.snapshot();
    assert.equal(await fx.core.error(T, 'tag'), 'Tag(): Arg "command" must be "add", "remove", "get" or "top"');
    assert.equal(await fx.core.error(T, 'tag', 'list'), 'Tag(): First argument must be "add", "remove" or "get"');
    assert.equal(await fx.core.error(T, 'tag', 'add'), 'Tag(): Arg "jid" missing');
    assert.equal(await fx.core.error(T, 'tag', 'remove'), 'Tag(): Arg "jid" missing');
    assert.equal(await fx.core.error(T, 'tag', 'add', 'ghost', 'a'), 'Tag(): Job ghost does not exist');
    assert.equal(await fx.core.error(T, 'tag', 'remove', 'ghost', 'a'), 'Tag(): Job ghost does not exist');
    assert.equal(await fx.core.error(T, 'tag', 'get'), 'Tag(): Arg "tag" missing');
    assert.equal(await fx.core.error(T, 'tag', 'get', 't', 'x'), 'Tag(): Arg "offset" not a number: x');
    assert.equal(await fx.core.error(T, 'tag', 'get', 't', 0, 'y'), 'Tag(): Arg "count" not a number: y');
    assert.equal(await fx.core.error(T, 'tag', 'top', 'x'), 'Tag(): Arg "offset" not a number: x');
    assert.equal(await fx.core.error(T, 'tag', 'top', 0, 'y'), 'Tag(): Arg "count" not a number: y');
    assert.equal(await fx.core.error(T, 'tag', 'get', 't', 0.5), 'value is not an integer or out of range');
    assert.deepEqual(await fx.core.snapshot(), before);
  });
});
